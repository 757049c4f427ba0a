/**
 * Loading a model file where TypeScript is not installed (an optional peer):
 * the file loads and traces all the same, the skipped check is said once per
 * process with the package to install, and an explicit typeCheckFile() is an
 * error saying the same. (The CLI's side: user-project.test.ts in packages/cli.)
 */
import { join, resolve } from 'node:path';
import { TesseraError } from '@tessera/ir';
import { describe, expect, it, vi } from 'vitest';
import { loadModelFile, typeCheckFile } from '../src/node.ts';

vi.mock('../src/load/typescript.ts', async (original) => ({ ...(await original<object>()), locateTypeScript: () => undefined, loadTypeScript: () => undefined }));

const MLP = join(resolve(import.meta.dirname, '../../..'), 'examples', 'mlp.ts');

describe('without TypeScript', () => {
  it('loads the model; the skipped type check is said once, naming the package to install', async () => {
    const notes: string[] = [];
    const note = (m: string) => notes.push(m);
    const unchecked = await loadModelFile(MLP, { typeCheck: false, note });
    expect(notes).toEqual([]);
    const a = await loadModelFile(MLP, { note });
    const b = await loadModelFile(MLP, { note });
    expect([a.inputs, b.inputs]).toEqual([unchecked.inputs, unchecked.inputs]);
    expect(notes).toEqual(['note: model files are not type-checked: the typescript package is not installed (npm install --save-dev typescript)']);
  });

  it('typeCheckFile() asked directly is a TesseraError naming the file and the package', () => {
    expect(() => typeCheckFile(MLP)).toThrow(TesseraError);
    expect(() => typeCheckFile(MLP)).toThrow(/mlp\.ts: cannot type-check: the typescript package is not installed \(npm install --save-dev typescript\)$/);
  });
});
