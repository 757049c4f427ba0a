import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  SafetensorsError,
  type SafetensorsTensor,
  TesseraError,
  bfloat16BitsToNumber,
  decodeSafetensorsData,
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  halfBitsToNumber,
  numberToBfloat16Bits,
  numberToHalfBits,
  readSafetensors,
  safetensorsItemSize,
  writeSafetensors,
} from '../../src/index.ts';

/** Assembles a file from a header given verbatim (string) or as JSON, and raw data bytes. No padding. */
function rawFile(header: string | object, data: Uint8Array | readonly number[] = []): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** Expects reading `bytes` to fail with a SafetensorsError naming the file and matching every pattern. */
function expectBad(bytes: Uint8Array, ...patterns: RegExp[]): SafetensorsError {
  let err: unknown;
  try {
    readSafetensors(bytes, 'bad.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SafetensorsError);
  expect(err).toBeInstanceOf(TesseraError);
  const msg = (err as Error).message;
  expect(msg.startsWith('bad.safetensors: ')).toBe(true);
  for (const p of patterns) expect(msg).toMatch(p);
  return err as SafetensorsError;
}

describe('safetensors: byte compatibility with the reference implementation', () => {
  // Byte vectors from the reference implementation's own serialisation tests
  // (huggingface/safetensors, tensor.rs): our writer must produce them exactly.
  const f32Data = (vals: number[]) => new Float32Array(vals);

  it('writes a single F32 tensor exactly as the reference does (64-byte header, no padding needed)', () => {
    const expected = [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115,
      104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50,
      52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];
    const out = writeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: f32Data([0, 1, 2, 3, 4, 5]) } });
    expect([...out]).toEqual(expected);
    const back = readSafetensors(Uint8Array.from(expected));
    expect([...back.tensors.keys()]).toEqual(['attn.0']);
    expect(back.tensors.get('attn.0')!.shape).toEqual([1, 2, 3]);
    expect([...back.tensors.get('attn.0')!.data]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('pads the header with spaces to a multiple of 8, as the reference does', () => {
    const expected = [
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104,
      97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44,
      50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];
    const out = writeSafetensors(new Map([['attn0', { dtype: 'F32', shape: [1, 1, 2, 3], data: f32Data([0, 1, 2, 3, 4, 5]) } as SafetensorsTensor]]));
    expect([...out]).toEqual(expected);
    expect([...readSafetensors(out).tensors.get('attn0')!.data]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('writes an empty file and a metadata-only file as the reference does', () => {
    expect([...writeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = [
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114,
      107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ];
    expect([...writeSafetensors({}, { framework: 'pt' })]).toEqual(withMeta);
    const back = readSafetensors(Uint8Array.from(withMeta));
    expect(back.tensors.size).toBe(0);
    expect(back.metadata).toEqual({ framework: 'pt' });
  });

  it('reads the reference documentation example (unpadded 60-byte header, I32 zeros)', () => {
    const bytes = Uint8Array.from([60, 0, 0, 0, 0, 0, 0, 0, ...ascii('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}'), ...new Array(16).fill(0)]);
    const t = readSafetensors(bytes).tensors.get('test')!;
    expect(t.dtype).toBe('I32');
    expect(t.data).toBeInstanceOf(Int32Array);
    expect([...t.data]).toEqual([0, 0, 0, 0]);
  });

  it('reads a hand-made multi-dtype file (the layout torch + the reference writer produce)', () => {
    // b: I64 [2] = [1, -2]; a: F16 [1,2] = [1.0, -2.0]; m: BOOL [3] = [true, false, true].
    // Widest dtype first, then name, as the reference writer orders them.
    const header =
      '{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"a":{"dtype":"F16","shape":[1,2],"data_offsets":[16,20]},"m":{"dtype":"BOOL","shape":[3],"data_offsets":[20,23]}}';
    expect(header.length).toBe(199); // 199 % 8 = 7: one space of padding
    const bytes = Uint8Array.from([
      200, 0, 0, 0, 0, 0, 0, 0,
      ...ascii(header), 32,
      1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // I64 1, -2
      0x00, 0x3c, 0x00, 0xc0, // F16 1.0 = 0x3c00, -2.0 = 0xc000
      1, 0, 1,
    ]);
    const f = readSafetensors(bytes, 'hand.safetensors');
    expect(f.metadata).toEqual({ format: 'pt' });
    expect([...f.tensors.keys()]).toEqual(['b', 'a', 'm']);
    const b = f.tensors.get('b')!;
    expect(b.dtype).toBe('I64');
    expect(b.data).toBeInstanceOf(BigInt64Array);
    expect([...b.data]).toEqual([1n, -2n]);
    const a = f.tensors.get('a')!;
    expect(a.dtype).toBe('F16');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.shape).toEqual([1, 2]);
    expect([...a.data]).toEqual([1, -2]);
    expect([...f.tensors.get('m')!.data]).toEqual([1, 0, 1]);
    // Our writer lays the same tensors out byte for byte the same way.
    expect([...writeSafetensors(f.tensors, f.metadata)]).toEqual([...bytes]);
  });
});

describe('safetensors: F16 and BF16 bits', () => {
  const finiteHalves = (): { bits: number; value: number }[] => {
    const out: { bits: number; value: number }[] = [];
    for (let h = 0; h < 0x7c00; h++) out.push({ bits: h, value: halfBitsToNumber(h) });
    return out;
  };

  it('decodes hand-computed F16 values: zeros, subnormals, normals, extremes, inf, nan', () => {
    expect(Object.is(halfBitsToNumber(0x0000), 0)).toBe(true);
    expect(Object.is(halfBitsToNumber(0x8000), -0)).toBe(true);
    expect(halfBitsToNumber(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfBitsToNumber(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(halfBitsToNumber(0x0400)).toBe(2 ** -14); // smallest normal
    expect(halfBitsToNumber(0x3c00)).toBe(1);
    expect(halfBitsToNumber(0x3555)).toBe(0.333251953125);
    expect(halfBitsToNumber(0xc000)).toBe(-2);
    expect(halfBitsToNumber(0x7bff)).toBe(65504);
    expect(halfBitsToNumber(0x7c00)).toBe(Infinity);
    expect(halfBitsToNumber(0xfc00)).toBe(-Infinity);
    expect(halfBitsToNumber(0x7e00)).toBeNaN();
    expect(halfBitsToNumber(0xfc01)).toBeNaN();
  });

  it('F16 encode(decode(bits)) is the identity on all 65536 patterns (NaNs stay NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfBitsToNumber(h);
      const back = numberToHalfBits(v);
      if (Number.isNaN(v)) expect(Number.isNaN(halfBitsToNumber(back))).toBe(true);
      else if (back !== h) expect(back.toString(16)).toBe(h.toString(16));
    }
  });

  it('F16 encoding rounds to nearest, ties to even, overflowing to infinity (hand-computed cases)', () => {
    expect(numberToHalfBits(65519)).toBe(0x7bff);
    expect(numberToHalfBits(65520)).toBe(0x7c00);
    expect(numberToHalfBits(-1e9)).toBe(0xfc00);
    expect(numberToHalfBits(2 ** -25)).toBe(0x0000); // half of the smallest subnormal: tie to even (0)
    expect(numberToHalfBits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulps: tie to even (2)
    expect(numberToHalfBits(-(2 ** -26))).toBe(0x8000); // underflow keeps the sign
    expect(numberToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2^-10: even is 1
    expect(numberToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: even mantissa is 2
    expect(numberToHalfBits(2047.5 * 2 ** -24)).toBe(0x0800); // rounding carries into the exponent
  });

  it('F16 encoding picks the nearest half (ties to even) for random doubles, against a brute-force search', () => {
    const table = finiteHalves().filter((h) => h.value >= 0 && !Object.is(h.value, -0));
    const nearest = (a: number): number => {
      let lo = 0;
      let hi = table.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (table[mid]!.value <= a) lo = mid;
        else hi = mid;
      }
      const [l, h] = [table[lo]!, table[hi]!];
      if (a >= 65520) return 0x7c00;
      if (a <= l.value) return l.bits;
      if (a >= h.value) return h.bits;
      const dl = a - l.value;
      const dh = h.value - a;
      return dl < dh ? l.bits : dh < dl ? h.bits : l.bits % 2 === 0 ? l.bits : h.bits;
    };
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -70000, max: 70000, noNaN: true }), fc.double({ min: -1e-3, max: 1e-3, noNaN: true })), (x) => {
        const want = nearest(Math.abs(x)) | (x < 0 || Object.is(x, -0) ? 0x8000 : 0);
        expect(numberToHalfBits(x)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('BF16 decode/encode: hand-computed values and identity on all 65536 patterns', () => {
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(bfloat16BitsToNumber(0xc040)).toBe(-3);
    expect(bfloat16BitsToNumber(0x7f80)).toBe(Infinity);
    expect(bfloat16BitsToNumber(0xff80)).toBe(-Infinity);
    expect(bfloat16BitsToNumber(0x7fc0)).toBeNaN();
    expect(Object.is(bfloat16BitsToNumber(0x8000), -0)).toBe(true);
    expect(bfloat16BitsToNumber(0x0001)).toBe(2 ** -133); // subnormal
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie: even is 1
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie: even mantissa 2
    expect(numberToBfloat16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81); // above the tie
    expect(numberToBfloat16Bits(3.4028234663852886e38)).toBe(0x7f80); // max f32 rounds up to inf
    for (let h = 0; h < 0x10000; h++) {
      const v = bfloat16BitsToNumber(h);
      const back = numberToBfloat16Bits(v);
      if (Number.isNaN(v)) expect(Number.isNaN(bfloat16BitsToNumber(back))).toBe(true);
      else if (back !== h) expect(back.toString(16)).toBe(h.toString(16));
    }
  });
});

describe('safetensors: round trips', () => {
  const specials = [0, -0, 1, -1.5, Infinity, -Infinity, NaN, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, -65504, 0.1];

  const sameFloat = (a: number, b: number) => (Number.isNaN(a) ? Number.isNaN(b) : Object.is(a, b));

  it('F16 and BF16 keep inf, nan, subnormals and -0 through a file', () => {
    const f16 = new Float32Array(specials);
    const bf16 = new Float32Array([0, -0, 1, -1.5, Infinity, -Infinity, NaN, 2 ** -133, 2 ** -126, 3.3895313892515355e38, -2]);
    const out = readSafetensors(
      writeSafetensors({ h: { dtype: 'F16', shape: [specials.length], data: f16 }, b: { dtype: 'BF16', shape: [bf16.length], data: bf16 } }),
    );
    const h = out.tensors.get('h')!;
    const b = out.tensors.get('b')!;
    expect(h.dtype).toBe('F16');
    expect(b.dtype).toBe('BF16');
    specials.forEach((v, i) => {
      // 0.1 is not a half: it comes back as the nearest one (0x2e66).
      const want = v === 0.1 ? halfBitsToNumber(0x2e66) : v;
      expect(sameFloat(h.data[i] as number, want), `F16 element ${i}: ${v} -> ${h.data[i]}`).toBe(true);
    });
    bf16.forEach((v, i) => expect(sameFloat(b.data[i] as number, v), `BF16 element ${i}`).toBe(true));
  });

  const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 });
  const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const tensorArb = fc.oneof(
    shapeArb.chain((s) => fc.array(fc.float({ noDefaultInfinity: false }), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'F32' as const, shape: s, data: new Float32Array(v) }))),
    shapeArb.chain((s) =>
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'F16' as const, shape: s, data: new Float32Array(v.map(halfBitsToNumber)) })),
    ),
    shapeArb.chain((s) =>
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'BF16' as const, shape: s, data: new Float32Array(v.map(bfloat16BitsToNumber)) })),
    ),
    shapeArb.chain((s) => fc.array(fc.integer(), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'I32' as const, shape: s, data: new Int32Array(v) }))),
    shapeArb.chain((s) => fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'I64' as const, shape: s, data: new BigInt64Array(v) }))),
    shapeArb.chain((s) => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'U8' as const, shape: s, data: new Uint8Array(v) }))),
    shapeArb.chain((s) => fc.array(fc.integer({ min: 0, max: 1 }), { minLength: count(s), maxLength: count(s) }).map((v) => ({ dtype: 'BOOL' as const, shape: s, data: new Uint8Array(v) }))),
  );

  it('every dtype round-trips (random tensors, shapes incl. scalars and zero extents, metadata)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__metadata__'), tensorArb, { maxKeys: 6 }),
        fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
        (tensors, metadata) => {
          const bytes = writeSafetensors(tensors, metadata);
          const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(headerLen % 8).toBe(0);
          const back = readSafetensors(bytes);
          expect(back.metadata).toEqual(metadata);
          expect(new Set(back.tensors.keys())).toEqual(new Set(Object.keys(tensors)));
          for (const [name, t] of Object.entries(tensors)) {
            const r = back.tensors.get(name)!;
            expect(r.dtype).toBe(t.dtype);
            expect(r.shape).toEqual(t.shape);
            expect(r.data.constructor).toBe(t.data.constructor);
            expect(r.data.length).toBe(t.data.length);
            for (let i = 0; i < t.data.length; i++) {
              const [a, b] = [t.data[i]!, r.data[i]!];
              if (typeof a === 'number') expect(sameFloat(a, b as number)).toBe(true);
              else expect(b).toBe(a);
            }
            // The writer aligns every tensor to its element size in the file.
            const [begin] = (JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)))[name] as { data_offsets: number[] }).data_offsets;
            expect(begin! % safetensorsItemSize(t.dtype)).toBe(0);
          }
          // Writing is deterministic: the same tensors in another order give the same bytes.
          expect(writeSafetensors(Object.fromEntries(Object.entries(tensors).reverse()), metadata)).toEqual(bytes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads unaligned data (a file at an odd byte offset) by copying, with the same values', () => {
    const bytes = writeSafetensors({
      f: { dtype: 'F32', shape: [3], data: new Float32Array([1.5, -2, 3]) },
      i: { dtype: 'I32', shape: [2], data: new Int32Array([7, -9]) },
      l: { dtype: 'I64', shape: [2], data: new BigInt64Array([2n ** 40n, -3n]) },
    });
    for (const shift of [1, 2, 3, 5]) {
      const host = new Uint8Array(bytes.length + shift);
      host.set(bytes, shift);
      const f = readSafetensors(host.subarray(shift));
      expect([...f.tensors.get('f')!.data]).toEqual([1.5, -2, 3]);
      expect([...f.tensors.get('i')!.data]).toEqual([7, -9]);
      expect([...f.tensors.get('l')!.data]).toEqual([2n ** 40n, -3n]);
    }
    // The same through a Node Buffer (what readFile gives), whose `slice` shares memory.
    const buf = Buffer.alloc(bytes.length + 3, 0xaa);
    buf.set(bytes, 3);
    const fb = readSafetensors(buf.subarray(3));
    expect(fb.tensors.get('f')!.data).toEqual(new Float32Array([1.5, -2, 3]));
    expect(fb.tensors.get('l')!.data).toEqual(new BigInt64Array([2n ** 40n, -3n]));
    // An I32 tensor after a 3-byte U8 tensor at an unaligned offset (an older writer's name order).
    const odd = rawFile({ a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, b: { dtype: 'I32', shape: [1], data_offsets: [3, 7] } }, [9, 8, 7, 0x01, 0x02, 0, 0]);
    const r = readSafetensors(odd);
    expect(r.tensors.get('a')!.data).toEqual(new Uint8Array([9, 8, 7]));
    expect(readSafetensors(Buffer.from(odd)).tensors.get('a')!.data).toEqual(new Uint8Array([9, 8, 7]));
    expect([...r.tensors.get('b')!.data]).toEqual([0x0201]);
  });

  it('writer rejects tensors it cannot write, naming them', () => {
    const w = (t: Record<string, unknown>) => () => writeSafetensors(t as Record<string, SafetensorsTensor>);
    expect(w({ x: { dtype: 'F32', shape: [2], data: new Float32Array(3) } })).toThrow(/tensor 'x' \(F32 \[2\]\): shape needs 2 elements, data has 3/);
    expect(w({ x: { dtype: 'I32', shape: [2], data: new Float32Array(2) } })).toThrow(/tensor 'x' \(I32 \[2\]\): data must be a Int32Array, got Float32Array/);
    expect(w({ x: { dtype: 'F64', shape: [1], data: new Float64Array(1) } })).toThrow(/tensor 'x': dtype 'F64' cannot be written/);
    expect(w({ x: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 2]) } })).toThrow(/tensor 'x' \(BOOL \[2\]\): element 1 is 2, expected 0 or 1/);
    expect(w({ x: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } })).toThrow(/extent -1 at axis 0/);
    expect(w({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/reserved/);
    expect(() => writeSafetensors({}, { k: 3 as unknown as string })).toThrow(/metadata value for key 'k' must be a string/);
  });
});

describe('safetensors: malformed files are clear errors', () => {
  const f32 = (name: string, shape: number[], offsets: number[]) => ({ [name]: { dtype: 'F32', shape, data_offsets: offsets } });

  it('file shorter than 8 bytes', () => {
    expectBad(new Uint8Array(5), /file is 5 bytes, shorter than the 8-byte header length/);
    expectBad(new Uint8Array(0), /file is 0 bytes/);
  });

  it('header length past the end of the file, or over the cap', () => {
    const b = rawFile('{}');
    new DataView(b.buffer).setBigUint64(0, 50n, true);
    expectBad(b, /header length 50 runs past the end of the file \(10 bytes, so at most 2\)/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expectBad(huge, /header length 9223372036854775808 exceeds the 100000000-byte limit/);
    new DataView(huge.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expectBad(huge, /header length 100000001 exceeds/);
  });

  it('header not valid UTF-8, not JSON, or not an object', () => {
    const b = rawFile('{"a"}');
    b[9] = 0xff;
    expectBad(b, /header \(bytes 8\.\.13\) is not valid UTF-8/);
    expectBad(rawFile('{"a": '), /header is not valid JSON/);
    expectBad(rawFile('[1,2]'), /header must be a JSON object, got an array/);
    expectBad(rawFile('null'), /header must be a JSON object, got null/);
    expectBad(rawFile('42'), /header must be a JSON object, got number/);
  });

  it('entry missing dtype, shape or data_offsets', () => {
    expectBad(rawFile({ w: { shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'w': entry is missing "dtype"/);
    expectBad(rawFile({ w: { dtype: 'F32', data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'w': entry is missing "shape"/);
    const e = expectBad(rawFile({ w: { dtype: 'F32', shape: [1] } }, [0, 0, 0, 0]), /tensor 'w': entry is missing "data_offsets"/);
    expect(e.tensor).toBe('w');
    expect(e.file).toBe('bad.safetensors');
  });

  it('entry with wrong JSON types', () => {
    expectBad(rawFile({ w: [1, 2] }), /tensor 'w': entry must be an object/);
    expectBad(rawFile({ w: { dtype: 32, shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'w': "dtype" must be a string, got 32/);
    expectBad(rawFile({ w: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor 'w': "shape" must be an array of integers, got "1"/);
    expectBad(rawFile({ w: { dtype: 'F32', shape: ['1'], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /extent "1" at axis 0 of shape \["1"\] must be a non-negative integer/);
    expectBad(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, [0, 0, 0, 0]), /tensor 'w' \(F32 \[1\]\): "data_offsets" must be \[begin, end\], got \[0,4,8\]/);
    expectBad(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: { begin: 0 } } }, [0, 0, 0, 0]), /"data_offsets" must be \[begin, end\]/);
    expectBad(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: ['0', 4] } }, [0, 0, 0, 0]), /data_offsets \["0",4\] must be non-negative integers/);
    expectBad(rawFile({ __metadata__: ['x'] }), /"__metadata__" must be an object of strings/);
    expectBad(rawFile({ __metadata__: { step: 3 } }), /"__metadata__" value for key 'step' must be a string, got 3/);
  });

  it('unknown or unsupported dtype', () => {
    expectBad(rawFile({ w: { dtype: 'Q7', shape: [1], data_offsets: [0, 1] } }, [0]), /tensor 'w': dtype 'Q7' is not a safetensors dtype \(expected one of F32, F16, BF16, I64, I32, U8, BOOL\)/);
    expectBad(rawFile({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'w': dtype 'F64' is not supported by Tessera/);
  });

  it('negative or non-integer extents', () => {
    expectBad(rawFile(f32('w', [2, -1], [0, 4]), [0, 0, 0, 0]), /tensor 'w' \(F32\): extent -1 at axis 1 of shape \[2,-1\] must be a non-negative integer/);
    expectBad(rawFile(f32('w', [1.5], [0, 4]), [0, 0, 0, 0]), /extent 1.5 at axis 0/);
  });

  it('negative or non-integer offsets', () => {
    expectBad(rawFile(f32('w', [1], [-4, 0]), [0, 0, 0, 0]), /tensor 'w' \(F32 \[1\]\): data_offsets \[-4,0\] must be non-negative integers/);
    expectBad(rawFile(f32('w', [1], [0, 4.5]), [0, 0, 0, 0]), /data_offsets \[0,4.5\] must be non-negative integers/);
  });

  it('offsets out of range', () => {
    expectBad(rawFile(f32('w', [2], [0, 8]), [0, 0, 0, 0]), /tensor 'w' \(F32 \[2\]\): data_offsets \[0,8\] run past the end of the 4-byte data buffer/);
  });

  it('begin > end', () => {
    expectBad(rawFile(f32('w', [1], [4, 0]), [0, 0, 0, 0]), /tensor 'w' \(F32 \[1\]\): data_offsets \[4,0\] have begin > end/);
  });

  it('byte length different from numel * itemsize', () => {
    expectBad(rawFile(f32('w', [2, 3], [0, 20]), new Uint8Array(20)), /tensor 'w' \(F32 \[2,3\]\): data_offsets \[0,20\] span 20 bytes, expected 24 \(6 elements x 4 bytes\)/);
    expectBad(rawFile({ w: { dtype: 'BF16', shape: [3], data_offsets: [0, 4] } }, new Uint8Array(4)), /span 4 bytes, expected 6 \(3 elements x 2 bytes\)/);
  });

  it('overlapping tensors', () => {
    const h = { ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) };
    const e = expectBad(rawFile(h, new Uint8Array(12)), /tensors 'a' \(bytes \[0,8\]\) and 'b' \(bytes \[4,12\]\) overlap/);
    expect(e.tensor).toBe('b');
    // Two tensors on the same bytes.
    expectBad(rawFile({ ...f32('a', [1], [0, 4]), ...f32('b', [1], [0, 4]) }, new Uint8Array(4)), /tensors '[ab]' \(bytes \[0,4\]\) and '[ab]' \(bytes \[0,4\]\) overlap/);
  });

  it('bytes between, before or after tensors that no tensor covers', () => {
    expectBad(rawFile({ ...f32('a', [1], [0, 4]), ...f32('b', [1], [8, 12]) }, new Uint8Array(12)), /data bytes \[4,8\] between 'a' and 'b' belong to no tensor \(the format forbids holes\)/);
    expectBad(rawFile(f32('a', [1], [4, 8]), new Uint8Array(8)), /data bytes \[0,4\] before 'a' belong to no tensor/);
    expectBad(rawFile(f32('a', [1], [0, 4]), new Uint8Array(6)), /data bytes \[4,6\] after 'a' belong to no tensor \(the format forbids trailing bytes\)/);
    expectBad(rawFile('{}', [1, 2, 3]), /data bytes \[0,3\] belong to no tensor/);
  });

  it('BOOL bytes other than 0 and 1', () => {
    expectBad(rawFile({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, [1, 0, 7]), /tensor 'm' \(BOOL \[3\]\): element 2 is byte 7, expected 0 or 1/);
  });

  it('values nested 100,000 deep or a million long are reported in a short message, without overflowing the stack', () => {
    const deep = (open: string, close: string, inner = '') => `${open.repeat(100_000)}${inner}${close.repeat(100_000)}`;
    expectBad(rawFile(`{"w":${deep('[', ']')}}`), /tensor 'w': entry must be an object \{dtype, shape, data_offsets\}, got \[\[\[.*\.\.\.$/);
    expectBad(rawFile(`{"w":{"dtype":${deep('{"a":', '}', '1')},"shape":[],"data_offsets":[0,0]}}`), /"dtype" must be a string, got \{"a":\{"a":.*\.\.\.$/);
    expectBad(rawFile(`{"__metadata__":${deep('[', ']')}}`), /"__metadata__" must be an object of strings, got \[\[/);
    const e = expectBad(rawFile({ w: { dtype: 'F32', shape: 'x'.repeat(1_000_000), data_offsets: [0, 0] } }), /"shape" must be an array of integers, got "xxx/);
    expect(e.message.length).toBeLessThan(300);
  });

  it('the header can be read and checked apart from the data (a streaming reader), with the same errors', () => {
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }, m: { dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) } }, { k: 'v' });
    const len = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length, 'f');
    const header = parseSafetensorsHeader(bytes.subarray(8, 8 + len), bytes.length - 8 - len, 'f');
    expect(header.metadata).toEqual({ k: 'v' });
    expect(header.entries.map((e) => [e.name, e.dtype, e.shape, e.end - e.begin])).toEqual([['a', 'F32', [2], 8], ['m', 'BOOL', [1], 1]]);
    const a = header.entries[0]!;
    expect([...decodeSafetensorsData(a, bytes.subarray(8 + len + a.begin, 8 + len + a.end), 'f')]).toEqual([1, 2]);
    expect(() => safetensorsHeaderLength(bytes.subarray(0, 8), 8 + len - 1, 'f')).toThrow(/^f: header length \d+ runs past the end of the file/);
    expect(() => parseSafetensorsHeader(bytes.subarray(8, 8 + len), 3, 'f')).toThrow(/^f: tensor 'a' \(F32 \[2\]\): data_offsets \[0,8\] run past the end of the 3-byte data buffer/);
    expect(() => decodeSafetensorsData(a, new Uint8Array(4), 'f')).toThrow(/^f: tensor 'a': got 4 data bytes, expected 8/);
  });

  it('names the source in messages, with a default when none is given', () => {
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(/^<safetensors bytes>: file is 3 bytes/);
  });

  it('never crashes on random corruption of a valid file: either parses or throws SafetensorsError', () => {
    const good = writeSafetensors({
      a: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      b: { dtype: 'F16', shape: [3], data: new Float32Array([1, 2, 3]) },
      c: { dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(good.length), (edits, cut) => {
        const b = good.slice(0, Math.max(cut, good.length - 3));
        for (const [i, v] of edits) if (i < b.length) b[i] = v;
        try {
          readSafetensors(b, 'x');
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
