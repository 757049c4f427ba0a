/**
 * Text for generated token ids when a Hugging Face folder has a
 * `tokenizer.json` (and `tokenizer_config.json`): decoded by
 * @huggingface/tokenizers, transformers' tokenizers in JavaScript. Optional:
 * a folder without one, or one the library cannot read, shows ids only
 * (the latter with a note saying why).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/** Decodes token ids to text. */
export type Decode = (ids: readonly number[]) => string;

/** The folder's tokenizer as a decoder, or undefined (with `note` told why when a tokenizer.json is there but unreadable). */
export async function readHfDecoder(dir: string, note: (message: string) => void): Promise<Decode | undefined> {
  let json: string;
  try {
    json = await readFile(join(dir, 'tokenizer.json'), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const config = await readFile(join(dir, 'tokenizer_config.json'), 'utf8').then(
      (t) => JSON.parse(t) as object,
      () => ({}),
    );
    const tokenizer = new Tokenizer(JSON.parse(json) as object, config);
    return (ids) => tokenizer.decode([...ids]);
  } catch (e) {
    note(`${join(dir, 'tokenizer.json')} cannot be read (${e instanceof Error ? e.message : String(e)}); tokens are shown as ids`);
    return undefined;
  }
}
