/** Fashion-MNIST reading: idx parsing (hand-made files), the bundled sample, the ViT's input convention. */
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdx, pixelValues } from '../src/index.ts';
import { readInstalledTestSet, readSample } from '../src/node.ts';
import { TRAINED } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An idx file of bytes with the given dimensions. */
function idx(dims: number[], data: number[]): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint8(2, 0x08);
  head.setUint8(3, dims.length);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  return Uint8Array.from([...new Uint8Array(head.buffer), ...data]);
}

describe('Fashion-MNIST files', () => {
  it('parses idx headers (big-endian dimensions) and data', () => {
    const { dims, data } = parseIdx(idx([2, 1, 3], [1, 2, 3, 4, 5, 6]), 'x');
    expect(dims).toEqual([2, 1, 3]);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects malformed idx files with the reason', () => {
    expect(() => parseIdx(Uint8Array.of(0, 0), 'f')).toThrow('f: 2 bytes, expected an idx header of at least 4');
    expect(() => parseIdx(Uint8Array.of(1, 0, 8, 0), 'f')).toThrow(/not an idx file/);
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 0), 'f')).toThrow(/element type 0x0d, expected 0x08/);
    expect(() => parseIdx(idx([2, 2], [1, 2, 3]), 'f')).toThrow('f: data has 3 bytes, expected 4 for dimensions [2, 2]');
  });

  it('reads an installed test set from gzipped idx files, and nothing when absent', async () => {
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(idx([2, 2, 2], [0, 51, 102, 153, 204, 255, 1, 2])));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([2], [9, 3])));
    const set = (await readInstalledTestSet(dir))!;
    expect([set.count, set.rows, set.cols, Array.from(set.labels)]).toEqual([2, 2, 2, [9, 3]]);
    expect(await readInstalledTestSet(join(dir, 'absent'))).toBeUndefined();
    // pixels / 255, the grey plane replicated to 3 channels.
    const x = pixelValues(set, 1, 1);
    expect(Array.from(x)).toEqual([204, 255, 1, 2, 204, 255, 1, 2, 204, 255, 1, 2].map((p) => Math.fround(p / 255)));
  });

  it('bundles 1,000 labelled test images with the trained ViT', async () => {
    const s = await readSample(join(TRAINED, 'fashion-mnist-sample.safetensors'));
    expect([s.count, s.rows, s.cols]).toEqual([1000, 28, 28]);
    expect(Math.max(...s.labels)).toBe(9);
    // Every class is present in the sample.
    expect(new Set(s.labels).size).toBe(10);
  });
});
