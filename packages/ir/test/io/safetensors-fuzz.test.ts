/**
 * Fuzz target "safetensors": valid files of random tensors (every dtype,
 * scalars and zero extents, metadata), then mutated: bytes flipped, the file
 * cut or extended, the header length rewritten, header entries given
 * values of every wrong JSON type (nested 100,000 deep, a million long,
 * past 2^53, ...), names that are prototype keys. Every case is either read
 * (and then the tensors written and read back are the same, and the
 * streaming reader `tessera bench` uses agrees) or rejected by a
 * SafetensorsError naming the file. See packages/harness/src/fuzz.ts for
 * the budget.
 */
import { type ErrorVerdict, type FuzzRng, type FuzzTarget, expectCleanFuzz, fuzzBudget, fuzzTestTimeout } from '@tessera/harness';
import { describe, it } from 'vitest';
import {
  SAFETENSORS_DTYPES,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsTensor,
  TesseraError,
  decodeSafetensorsData,
  parseSafetensorsHeader,
  readSafetensors,
  safetensorsHeaderLength,
  writeSafetensors,
} from '../../src/index.ts';

const SOURCE = 'f.safetensors';

/** Random data of a dtype, as the reader holds it. */
function dataOf(rng: FuzzRng, dtype: SafetensorsTensor['dtype'], n: number): SafetensorsTensor['data'] {
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
      return Float32Array.from({ length: n }, () => rng.pick([0, -0, 1, -2.5, 65504, 1e-8, Infinity, NaN, rng.float() * 100 - 50]));
    case 'I64':
      return BigInt64Array.from({ length: n }, () => BigInt(rng.range(-5, 5)) * rng.pick([1n, 1n << 40n]));
    case 'I32':
      return Int32Array.from({ length: n }, () => rng.range(-1000, 1000));
    case 'U8':
      return Uint8Array.from({ length: n }, () => rng.int(256));
    case 'BOOL':
      return Uint8Array.from({ length: n }, () => rng.int(2));
  }
}

/** A valid file of 0..4 random tensors (and maybe metadata). */
function validFile(rng: FuzzRng): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (let k = rng.int(5); k > 0; k--) {
    const dtype = rng.pick(SAFETENSORS_DTYPES);
    const shape = Array.from({ length: rng.int(4) }, () => rng.int(5));
    tensors[rng.pick(['w', 'b', 'x', 'layers.0.weight', 'é', '0', 'a b'])] = { dtype, shape, data: dataOf(rng, dtype, shape.reduce((a, b) => a * b, 1)) };
  }
  return writeSafetensors(tensors, rng.chance(0.3) ? { format: 'pt', note: rng.pick(['x', '', '{}']) } : undefined);
}

/** JSON text of a wrong value for a header field: every type, extremes, deep nesting, huge arrays. */
function weirdJson(rng: FuzzRng): string {
  const depth = rng.pick([2, 1000, 100_000]);
  return rng.pick([
    'null',
    'true',
    '-1',
    '1.5',
    '1e300',
    '9007199254740993',
    '"F32"',
    '"x"',
    '[]',
    '{}',
    '[0]',
    '[0,1,2]',
    '[-4,0]',
    '[1e400,0]',
    '["0",4]',
    `[${Array(100_000).fill(1).join(',')}]`,
    `"${'x'.repeat(100_000)}"`,
    `${'['.repeat(depth)}${']'.repeat(depth)}`,
    `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  ]);
}

const PLACEHOLDER = '"\u0000weird\u0000"';

/** The file with its header JSON changed: a field of an entry set to a wrong value or removed, an entry added or renamed. */
function mutateHeader(rng: FuzzRng, bytes: Uint8Array): Uint8Array {
  let n: number;
  let header: Record<string, Record<string, unknown>>;
  try {
    n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    if (n > bytes.length - 8) return bytes;
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Record<string, unknown>>;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return bytes;
  } catch {
    return bytes; // An earlier mutation broke the header already.
  }
  const names = Object.keys(header);
  const name = names.length && rng.chance(0.8) ? rng.pick(names) : rng.pick(['new', '__metadata__', '__proto__', 'constructor', '']);
  if (typeof header[name] !== 'object' || header[name] === null) header[name] = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
  const entry = header[name];
  switch (rng.int(4)) {
    case 0:
      entry[rng.pick(['dtype', 'shape', 'data_offsets', 'extra'])] = PLACEHOLDER;
      break;
    case 1:
      delete entry[rng.pick(['dtype', 'shape', 'data_offsets'])];
      break;
    case 2:
      header[name] = PLACEHOLDER as unknown as Record<string, unknown>;
      break;
    default:
      entry.dtype = rng.pick(['F64', 'I8', 'Q7', 'f32', ...SAFETENSORS_DTYPES]);
  }
  let text: string;
  try {
    text = JSON.stringify(Object.fromEntries(Object.entries(header))).replace(JSON.stringify(PLACEHOLDER), weirdJson(rng));
  } catch {
    return bytes; // An earlier mutation nested the header too deep to print.
  }
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + (bytes.length - 8 - n));
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(bytes.subarray(8 + n), 8 + h.length);
  return out;
}

/** One mutation of a file's bytes. */
function mutate(rng: FuzzRng, bytes: Uint8Array): Uint8Array {
  switch (rng.int(5)) {
    case 0: {
      const b = bytes.slice();
      for (let k = rng.range(1, 4); k > 0; k--) if (b.length) b[rng.int(b.length)] = rng.int(256);
      return b;
    }
    case 1:
      return bytes.slice(0, rng.int(bytes.length + 1));
    case 2: {
      const out = new Uint8Array(bytes.length + rng.range(1, 16));
      out.set(bytes);
      out.set(rng.bytes(out.length - bytes.length), bytes.length);
      return out;
    }
    case 3: {
      const b = bytes.slice();
      if (b.length >= 8) new DataView(b.buffer).setBigUint64(0, rng.pick([0n, 1n, 7n, 100_000_001n, 1n << 63n, BigInt(b.length), BigInt(rng.int(b.length))]), true);
      return b;
    }
    default:
      return mutateHeader(rng, bytes);
  }
}

/** What a reader made of the bytes: the tensors, or the error message. */
type Reading = { file: SafetensorsFile } | { error: unknown };

/** Reads the bytes the way `tessera bench` streams a checkpoint: length, header, then each tensor's bytes alone. */
function readStreaming(bytes: Uint8Array): Reading {
  try {
    const len = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length, SOURCE);
    const header = parseSafetensorsHeader(bytes.subarray(8, 8 + len), bytes.length - 8 - len, SOURCE);
    const tensors = new Map<string, SafetensorsTensor>();
    for (const e of header.entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeSafetensorsData(e, bytes.slice(8 + len + e.begin, 8 + len + e.end), SOURCE) });
    return { file: { tensors, metadata: header.metadata } };
  } catch (error) {
    return { error };
  }
}

/** Element-wise identity of two tensors' data (NaNs equal, -0 apart from 0). */
function sameData(a: SafetensorsTensor['data'], b: SafetensorsTensor['data']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Throws (a plain Error: a failed check, counted as a crash) unless two readings hold the same tensors. */
function expectSameTensors(a: SafetensorsFile, b: SafetensorsFile, what: string): void {
  const names = [...a.tensors.keys()].sort();
  if (JSON.stringify(names) !== JSON.stringify([...b.tensors.keys()].sort())) throw new Error(`${what}: tensor names differ`);
  for (const n of names) {
    const [x, y] = [a.tensors.get(n)!, b.tensors.get(n)!];
    if (x.dtype !== y.dtype || JSON.stringify(x.shape) !== JSON.stringify(y.shape) || !sameData(x.data, y.data)) throw new Error(`${what}: tensor '${n}' differs`);
  }
}

const target: FuzzTarget<Uint8Array> = {
  name: 'safetensors',
  generate(rng) {
    let bytes = validFile(rng);
    for (let k = rng.range(rng.chance(0.1) ? 0 : 1, 3); k > 0; k--) bytes = mutate(rng, bytes);
    return bytes;
  },
  run(bytes) {
    let file: SafetensorsFile;
    try {
      file = readSafetensors(bytes, SOURCE);
    } catch (e) {
      const streamed = readStreaming(bytes);
      if (!('error' in streamed) || !(streamed.error instanceof Error) || streamed.error.message !== (e as Error).message) {
        throw new Error(`the streaming reader disagrees: ${'error' in streamed ? String(streamed.error) : 'it accepts the file'} vs ${String(e)}`);
      }
      throw e;
    }
    const streamed = readStreaming(bytes);
    if ('error' in streamed) throw new Error(`the streaming reader rejects what readSafetensors accepts: ${String(streamed.error)}`);
    expectSameTensors(file, streamed.file, 'streaming reader');
    expectSameTensors(file, readSafetensors(writeSafetensors(file.tensors, file.metadata), 'rewritten'), 'written and read back');
  },
  classify(e): ErrorVerdict {
    if (e instanceof SafetensorsError) return e.message.startsWith(`${SOURCE}: `) ? 'located' : 'unlocated';
    return e instanceof TesseraError ? 'unlocated' : 'crash';
  },
  show: (bytes) => `${bytes.length} bytes: ${JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 300)))}`,
};

describe('fuzz: safetensors', () => {
  const budget = fuzzBudget(3000, 5000);
  it(
    'mutated files: read and written back the same, or a SafetensorsError naming the file; no crash, hang or unlocated error',
    () => expectCleanFuzz(target, budget),
    fuzzTestTimeout(budget),
  );
});
