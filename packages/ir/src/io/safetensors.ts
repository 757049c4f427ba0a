/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes
 * of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
 * {string: string}}`, then the data buffer (offsets relative to its start).
 * The reader checks everything the reference implementation checks (tensors
 * tile the buffer exactly: no overlaps, no holes) so a malformed file is an
 * error that names the file and tensor, never a wrong tensor.
 */
import { TesseraError } from '../errors.ts';
import { previewJson } from '../json-preview.ts';
import { bfloat16BitsToNumber, halfBitsToNumber, numberToBfloat16Bits, numberToHalfBits } from './half.ts';

/** The safetensors dtypes Tessera reads. F16 and BF16 widen to Float32Array. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

/** Every dtype the reader accepts, in the order messages list them. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16', 'I64', 'I32', 'U8', 'BOOL'];

/** Valid in the format but not readable here: named as such in errors, so a user knows to convert. */
const OTHER_FORMAT_DTYPES = ['F64', 'I8', 'I16', 'U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64'];

/** Element data as held in memory: floats widened to f32, I64 as bigint, U8/BOOL as bytes. */
export type SafetensorsData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** One tensor of a safetensors file. `dtype` is the stored dtype (F16 data is held as Float32Array). */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/** A parsed safetensors file: tensors by name, in file order, and the free-form string metadata. */
export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Record<string, string>;
}

/** Tensors to write, by name. */
export type SafetensorsInput = ReadonlyMap<string, SafetensorsTensor> | Readonly<Record<string, SafetensorsTensor>>;

/** A safetensors file (or tensor for one) that cannot be read or written; names the file and tensor. */
export class SafetensorsError extends TesseraError {
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** The largest header accepted, as in the reference implementation: anything bigger is a corrupt length. */
export const MAX_HEADER_BYTES = 100_000_000;

const ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };

/** Bytes per element of a safetensors dtype. */
export function safetensorsItemSize(dtype: SafetensorsDType): number {
  return ITEM_SIZE[dtype];
}

/** True when `s` is a dtype this module reads. */
export function isSafetensorsDType(s: string): s is SafetensorsDType {
  return (SAFETENSORS_DTYPES as readonly string[]).includes(s);
}

// Typed-array views share the host's byte order; the format is little-endian.
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One tensor of a validated safetensors header: its stored dtype, shape and byte range in the data buffer. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Offsets in the data buffer (after the header), as data_offsets gives them. */
  readonly begin: number;
  readonly end: number;
}

/** A validated safetensors header: its tensors in file order and its string metadata. */
export interface SafetensorsHeader {
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Record<string, string>;
}

type Fail = (message: string, tensor?: string) => never;

const shapeStr = (s: readonly number[]) => `[${s.join(',')}]`;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const failer =
  (source: string): Fail =>
  (message, tensor) => {
    throw new SafetensorsError(source, message, tensor);
  };

/**
 * Parses safetensors bytes. Tensor data may share memory with `bytes` when
 * it is aligned (a zero-copy view); otherwise it is copied. `source` names
 * the file in error messages.
 */
export function readSafetensors(input: Uint8Array, source = '<safetensors bytes>'): SafetensorsFile {
  // A plain view: Node's Buffer (from readFile) has a `slice` that shares memory and would leak into results.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const headerLen = safetensorsHeaderLength(bytes, bytes.length, source);
  const dataStart = 8 + headerLen;
  const { entries, metadata } = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, source);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeSafetensorsData(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), source) });
  }
  return { tensors, metadata };
}

/**
 * The header length a safetensors file's first 8 bytes declare, checked
 * against the format's limit and against the file's size (so a reader that
 * streams the file can trust it before reading the header).
 */
export function safetensorsHeaderLength(first: Uint8Array, fileSize: number, source: string): number {
  const fail = failer(source);
  if (!LITTLE_ENDIAN_HOST) fail('reading safetensors needs a little-endian host');
  if (first.length < 8 || fileSize < 8) fail(`file is ${fileSize} bytes, shorter than the 8-byte header length (not a safetensors file?)`);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file?)`);
  const headerLen = Number(n);
  if (8 + headerLen > fileSize) fail(`header length ${headerLen} runs past the end of the file (${fileSize} bytes, so at most ${fileSize - 8})`);
  return headerLen;
}

/**
 * Parses and validates a safetensors header (the JSON after the length) for
 * a data buffer of `dataLen` bytes: every entry well-formed, the tensors
 * tiling the buffer exactly. Errors name `source` and the tensor.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLen: number, source: string): SafetensorsHeader {
  const fail = failer(source);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail(`header (bytes 8..${8 + headerBytes.length}) is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isPlainObject(header)) return fail(`header must be a JSON object, got ${Array.isArray(header) ? 'an array' : header === null ? 'null' : typeof header}`);

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) fail(`"__metadata__" must be an object of strings, got ${previewJson(raw)}`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__" value for key '${k}' must be a string, got ${previewJson(v)}`);
        // defineProperty, not assignment: a key named "__proto__" must stay data.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(parseEntry(name, raw, dataLen, fail));
  }
  checkTiling(entries, dataLen, fail);
  return { entries, metadata };
}

function parseEntry(name: string, raw: unknown, dataLen: number, fail: Fail): SafetensorsEntry {
  const where = `tensor '${name}'`;
  if (!isPlainObject(raw)) return fail(`${where}: entry must be an object {dtype, shape, data_offsets}, got ${previewJson(raw)}`, name);
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!(key in raw)) fail(`${where}: entry is missing "${key}" (expected {dtype, shape, data_offsets})`, name);
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') return fail(`${where}: "dtype" must be a string, got ${previewJson(dtype)}`, name);
  if (!isSafetensorsDType(dtype)) {
    const why = OTHER_FORMAT_DTYPES.includes(dtype) ? 'is not supported by Tessera' : 'is not a safetensors dtype';
    return fail(`${where}: dtype '${dtype}' ${why} (expected one of ${SAFETENSORS_DTYPES.join(', ')})`, name);
  }
  if (!Array.isArray(shape)) return fail(`${where}: "shape" must be an array of integers, got ${previewJson(shape)}`, name);
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`${where} (${dtype}): extent ${previewJson(d)} at axis ${i} of shape ${previewJson(shape)} must be a non-negative integer`, name);
    }
  });
  const dims = shape as number[];
  const desc = `${where} (${dtype} ${shapeStr(dims)})`;
  if (!Array.isArray(offsets) || offsets.length !== 2) return fail(`${desc}: "data_offsets" must be [begin, end], got ${previewJson(offsets)}`, name);
  const [begin, end] = offsets as unknown[];
  for (const v of [begin, end]) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail(`${desc}: data_offsets ${previewJson(offsets)} must be non-negative integers`, name);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (b > e) fail(`${desc}: data_offsets [${b},${e}] have begin > end`, name);
  if (e > dataLen) fail(`${desc}: data_offsets [${b},${e}] run past the end of the ${dataLen}-byte data buffer`, name);
  let count = 1;
  for (const d of dims) count *= d;
  const want = count * ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(want)) fail(`${desc}: shape is too large (${count} elements)`, name);
  if (e - b !== want) {
    fail(`${desc}: data_offsets [${b},${e}] span ${e - b} bytes, expected ${want} (${count} elements x ${ITEM_SIZE[dtype]} bytes)`, name);
  }
  return { name, dtype, shape: [...dims], begin: b, end: e };
}

/** The format forbids overlaps and uncovered bytes: sorted by offset, each tensor starts where the last ended. */
function checkTiling(entries: readonly SafetensorsEntry[], dataLen: number, fail: Fail): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      fail(`tensors '${prev!.name}' (bytes [${prev!.begin},${prev!.end}]) and '${e.name}' (bytes [${e.begin},${e.end}]) overlap`, e.name);
    }
    if (e.begin > pos) {
      const after = prev ? ` between '${prev.name}' and '${e.name}'` : ` before '${e.name}'`;
      fail(`data bytes [${pos},${e.begin}]${after} belong to no tensor (the format forbids holes)`, e.name);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) {
    fail(`data bytes [${pos},${dataLen}]${prev ? ` after '${prev.name}'` : ''} belong to no tensor (the format forbids trailing bytes)`);
  }
}

/**
 * The elements of one validated header entry from exactly its data bytes:
 * a view sharing memory with `data` where the element type's alignment
 * holds, else a copy; F16/BF16 widened to f32; BOOL bytes checked to be 0 or 1.
 */
export function decodeSafetensorsData(e: SafetensorsEntry, data: Uint8Array, source: string): SafetensorsData {
  const fail = failer(source);
  const len = e.end - e.begin;
  if (data.length !== len) fail(`tensor '${e.name}': got ${data.length} data bytes, expected ${len}`, e.name);
  const count = len / ITEM_SIZE[e.dtype];
  const abs = data.byteOffset;
  // Zero-copy when the element type's alignment holds; else copy into a fresh (aligned) buffer.
  const aligned = (size: number) => {
    if (abs % size === 0) return { buf: data.buffer, off: abs };
    const copy = new Uint8Array(len);
    copy.set(data);
    return { buf: copy.buffer, off: 0 };
  };
  switch (e.dtype) {
    case 'F32': {
      const { buf, off } = aligned(4);
      return new Float32Array(buf, off, count);
    }
    case 'I32': {
      const { buf, off } = aligned(4);
      return new Int32Array(buf, off, count);
    }
    case 'I64': {
      const { buf, off } = aligned(8);
      return new BigInt64Array(buf, off, count);
    }
    case 'U8':
      return data;
    case 'BOOL': {
      const bad = data.findIndex((v) => v > 1);
      if (bad >= 0) fail(`tensor '${e.name}' (BOOL ${shapeStr(e.shape)}): element ${bad} is byte ${data[bad]}, expected 0 or 1`, e.name);
      return data;
    }
    case 'F16':
    case 'BF16': {
      const dv = new DataView(data.buffer, abs, len);
      const out = new Float32Array(count);
      const conv = e.dtype === 'F16' ? halfBitsToNumber : bfloat16BitsToNumber;
      for (let i = 0; i < count; i++) out[i] = conv(dv.getUint16(2 * i, true));
      return out;
    }
  }
}

/** The typed array each dtype is held in, for checks and messages. */
const ARRAY_OF: Readonly<Record<SafetensorsDType, { ctor: abstract new (...args: never[]) => SafetensorsData; name: string }>> = {
  F32: { ctor: Float32Array, name: 'Float32Array' },
  F16: { ctor: Float32Array, name: 'Float32Array' },
  BF16: { ctor: Float32Array, name: 'Float32Array' },
  I64: { ctor: BigInt64Array, name: 'BigInt64Array' },
  I32: { ctor: Int32Array, name: 'Int32Array' },
  U8: { ctor: Uint8Array, name: 'Uint8Array' },
  BOOL: { ctor: Uint8Array, name: 'Uint8Array' },
};

/**
 * The reference writer's layout order (its dtype enum, which increases with
 * alignment): tensors go in descending rank, then by name, so every tensor
 * is aligned to its element size and our bytes equal the reference's.
 */
const WRITE_RANK: Readonly<Record<SafetensorsDType, number>> = { BOOL: 0, U8: 1, F16: 7, BF16: 8, I32: 9, F32: 11, I64: 13 };

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Serialises tensors (and optional string metadata) to safetensors bytes.
 * Deterministic and byte-identical to the reference implementation: tensors
 * laid out by dtype (widest first) then name, the header compact JSON with
 * "__metadata__" first, padded with spaces to a multiple of 8. F16/BF16 data (Float32Array) is rounded to nearest even.
 */
export function writeSafetensors(tensors: SafetensorsInput, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const list: [string, SafetensorsTensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, SafetensorsTensor>);
  const fail = (message: string, tensor?: string): never => {
    throw new SafetensorsError('writing safetensors', message, tensor);
  };
  for (const [name, t] of list) checkWritable(name, t, fail);
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') fail(`metadata value for key '${k}' must be a string, got ${typeof v}`);
  }
  const utf8 = new TextEncoder();
  const keyed = list.map(([name, t]) => ({ name, t, key: utf8.encode(name) }));
  keyed.sort((a, b) => WRITE_RANK[b.t.dtype] - WRITE_RANK[a.t.dtype] || compareBytes(a.key, b.key));

  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const keys = Object.keys(metadata).sort();
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  const placed: { t: SafetensorsTensor; offset: number }[] = [];
  for (const { name, t } of keyed) {
    const len = t.data.length * ITEM_SIZE[t.dtype];
    // Entries are written by hand so integer-like names keep their place (object key order would not).
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] })}`);
    placed.push({ t, offset });
    offset += len;
  }
  let header = utf8.encode(`{${parts.join(',')}}`);
  const pad = (8 - (header.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(header.length + pad).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  const base = 8 + header.length;
  for (const { t, offset: off } of placed) {
    const at = base + off;
    if (t.dtype === 'F16' || t.dtype === 'BF16') {
      const conv = t.dtype === 'F16' ? numberToHalfBits : numberToBfloat16Bits;
      const src = t.data as Float32Array;
      for (let i = 0; i < src.length; i++) dv.setUint16(at + 2 * i, conv(src[i]!), true);
    } else {
      if (!LITTLE_ENDIAN_HOST) throw new SafetensorsError('writing safetensors', 'writing safetensors needs a little-endian host');
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    }
  }
  return out;
}

function checkWritable(name: string, t: SafetensorsTensor, fail: (m: string, t?: string) => never): void {
  if (name === '__metadata__') fail(`'__metadata__' is reserved and cannot name a tensor`, name);
  if (!isSafetensorsDType(t.dtype)) fail(`tensor '${name}': dtype '${String(t.dtype)}' cannot be written (expected one of ${SAFETENSORS_DTYPES.join(', ')})`, name);
  t.shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) fail(`tensor '${name}' (${t.dtype}): extent ${d} at axis ${i} of shape ${shapeStr(t.shape)} must be a non-negative integer`, name);
  });
  const want = ARRAY_OF[t.dtype];
  if (!(t.data instanceof want.ctor)) fail(`tensor '${name}' (${t.dtype} ${shapeStr(t.shape)}): data must be a ${want.name}, got ${t.data?.constructor?.name ?? typeof t.data}`, name);
  let count = 1;
  for (const d of t.shape) count *= d;
  if (t.data.length !== count) fail(`tensor '${name}' (${t.dtype} ${shapeStr(t.shape)}): shape needs ${count} elements, data has ${t.data.length}`, name);
  if (t.dtype === 'BOOL') {
    const bad = (t.data as Uint8Array).findIndex((v) => v > 1);
    if (bad >= 0) fail(`tensor '${name}' (BOOL ${shapeStr(t.shape)}): element ${bad} is ${t.data[bad]}, expected 0 or 1`, name);
  }
}
