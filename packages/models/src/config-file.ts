/** Reading a model config from a file (Node): the parsing itself is config.ts, which runs anywhere. */
import { readFile } from 'node:fs/promises';
import { ConfigError, type ModelConfig, parseModelConfigText } from './config.ts';

/** Reads and parses a config file. */
export async function readModelConfig(path: string): Promise<ModelConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(path, undefined, `cannot read the config: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`);
  }
  return parseModelConfigText(text, path);
}
