/**
 * IEEE binary16 (F16) and bfloat16 (BF16) bit conversions. Checkpoints store
 * weights in both; the IR computes in f32, so these widen on read and round
 * (to nearest, ties to even, as torch does) on write.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Decodes 16 F16 bits to a number (exact: every half is a float32). */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals; sign * 0 keeps -0
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Rounds a number to the nearest F16 (ties to even; overflow to infinity) and returns its 16 bits. */
export function numberToHalfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 is halfway between the largest half (65504) and 2^16; ties-to-even goes up, to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal; 1024 is the smallest normal's bits
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // log2 can be off by one ulp near powers of two
  else if (2 ** (e + 1) <= a) e++;
  const q = roundHalfEven(a * 2 ** (10 - e)); // in [1024, 2048]; 2048 carries into the exponent below
  return sign | (((e + 15) << 10) + (q - 1024));
}

/** Decodes 16 BF16 bits (the top half of a float32) to a number. */
export function bfloat16BitsToNumber(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** Rounds a number to the nearest BF16 (via float32, ties to even) and returns its 16 bits. */
export function numberToBfloat16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0]!;
  if (Number.isNaN(f32Scratch[0]!)) return ((bits >>> 16) | 0x0040) & 0xffff; // keep it a (quiet) NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
