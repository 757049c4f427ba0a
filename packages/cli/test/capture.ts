import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, vi } from 'vitest';

/** What a command wrote and returned. */
export interface Captured {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a command in process, capturing what it writes to stdout and stderr (errors it throws pass through). */
export async function capture(command: () => Promise<number>): Promise<Captured> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await command();
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** A temporary folder for one test file (removed after it), and a writer of files in it that returns their paths. */
export function tempFolder(prefix: string): { dir: string; put(name: string, contents: string | Uint8Array): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    put(name, contents) {
      const path = join(dir, name);
      writeFileSync(path, contents);
      return path;
    },
  };
}

/** The user's model of the fixtures (Linear + an MLP-Mixer block on x: f32[2,16,32]), as the CLI shows its path (relative to the working directory). */
export const MIXER = relative(process.cwd(), resolve(import.meta.dirname, 'fixtures/mixer.ts'));

/** A program of the fixtures in the IR text format: a gather from an 11-row table (tokens: i32[2,5]), a matmul and a tanh (output y). */
export const EMBED = relative(process.cwd(), resolve(import.meta.dirname, 'fixtures/embed.tir'));
