/**
 * Naive, independent re-implementations of the IR's op semantics, used only
 * as a second opinion on the reference interpreter. Written on purpose unlike
 * ops/*.ts: tensors are nested JS arrays built by recursion, broadcasting and
 * indexing are spelled out here, i32 wrapping goes through BigInt, erf is
 * computed in BigInt fixed point. Nothing here imports from src/ops.
 */

/** A nested-array tensor: a number for a scalar, an array of sub-tensors otherwise. */
export type Nd = number | Nd[];

/** A flat tensor as the tests pass it around: shape plus row-major values. */
export interface Flat {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

// ---------------------------------------------------------------- nested arrays

/** Builds a nested array of `shape` whose element at `idx` is `f(idx)`. */
export function tabulate(shape: readonly number[], f: (idx: number[]) => number): Nd {
  const rec = (prefix: number[]): Nd => {
    if (prefix.length === shape.length) return f(prefix);
    const out: Nd[] = [];
    for (let i = 0; i < shape[prefix.length]!; i++) out.push(rec([...prefix, i]));
    return out;
  };
  return rec([]);
}

/** Nests row-major `data` into `shape`. */
export function nest(shape: readonly number[], data: readonly number[]): Nd {
  let next = 0;
  const out = tabulate(shape, () => data[next++]!);
  if (next !== data.length) throw new Error(`nest: ${data.length} values for shape [${shape}]`);
  return out;
}

/** Flattens a nested array in row-major order. */
export function flatten(x: Nd): number[] {
  if (typeof x === 'number') return [x];
  const out: number[] = [];
  for (const sub of x) out.push(...flatten(sub));
  return out;
}

/** The shape of a (rectangular) nested array. */
export function shapeOf(x: Nd): number[] {
  const out: number[] = [];
  let cur: Nd = x;
  while (Array.isArray(cur)) {
    out.push(cur.length);
    cur = cur[0]!;
  }
  return out;
}

/** Reads the element at a full index. */
export function at(x: Nd, idx: readonly number[]): number {
  let cur: Nd = x;
  for (const i of idx) {
    if (!Array.isArray(cur) || i < 0 || i >= cur.length) throw new Error(`at: index [${idx}] is out of bounds`);
    cur = cur[i]!;
  }
  if (typeof cur !== 'number') throw new Error(`at: index [${idx}] is not a full index`);
  return cur;
}

/** Numpy's broadcast of shapes, written as an explicit right-to-left walk. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let fromRight = 1; fromRight <= rank; fromRight++) {
    let d = 1;
    for (const s of shapes) {
      const e = fromRight <= s.length ? s[s.length - fromRight]! : 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) throw new Error(`shapes do not broadcast: ${shapes.map((x) => `[${x}]`).join(' ')}`);
      d = e;
    }
    out.unshift(d);
  }
  return out;
}

/** Reads `x` (of `shape`) at an output index of a broadcast result: drop leading axes, size-1 axes read 0. */
export function atBroadcast(x: Nd, shape: readonly number[], outIdx: readonly number[]): number {
  const lead = outIdx.length - shape.length;
  const idx: number[] = [];
  for (let a = 0; a < shape.length; a++) idx.push(shape[a] === 1 ? 0 : outIdx[lead + a]!);
  return at(x, idx);
}

/** Row-major enumeration of every index of `shape` (a scalar shape has one, empty index). */
export function allIndices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  tabulate(shape, (idx) => {
    out.push([...idx]);
    return 0;
  });
  return out;
}

// ---------------------------------------------------------------- scalar semantics

const I32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

/** i32 arithmetic through BigInt, then two's-complement wrapping. */
export const i32Ops = {
  add: (a: number, b: number) => I32(BigInt(a) + BigInt(b)),
  sub: (a: number, b: number) => I32(BigInt(a) - BigInt(b)),
  mul: (a: number, b: number) => I32(BigInt(a) * BigInt(b)),
  neg: (a: number) => I32(-BigInt(a)),
  abs: (a: number) => I32(a < 0 ? -BigInt(a) : BigInt(a)),
};

/** max/min that propagate NaN (as torch.maximum), written with comparisons. */
export function nanMax(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  return a >= b ? a : b;
}
/** See nanMax. */
export function nanMin(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  return a <= b ? a : b;
}

/** Float binary ops on float64. */
export const f64Binary: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: nanMax,
  min: nanMin,
  // IEEE 754 pow (as C and PyTorch): 1^y = 1 for every y, (-1)^(+-inf) = 1; JS ** gives NaN there.
  pow: (a, b) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : a ** b),
};

/** floor through the remainder (not Math.floor); zeros, infinities and NaN are their own floor. */
function naiveFloor(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const frac = x % 1; // has the sign of x
  return frac === 0 ? x : frac > 0 ? x - frac : x - frac - 1;
}

/** Round half to even, by the fraction above the floor; a zero result keeps the sign of x (as C's nearbyint). */
function naiveRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = naiveFloor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
}

/** Float unary ops on float64 (erf at full precision, see preciseErf). */
export const f64Unary: Record<string, (x: number) => number> = {
  neg: (x) => 0 - x,
  abs: (x) => (x < 0 ? -x : x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  erf: (x) => preciseErf(x),
  sin: Math.sin,
  cos: Math.cos,
  recip: (x) => 1 / x,
  floor: naiveFloor,
  ceil: (x) => -naiveFloor(-x),
  round: naiveRound,
  // torch.sign: NaN gives 0, and so does -0.
  sign: (x) => (Number.isNaN(x) || x === 0 ? 0 : x < 0 ? -1 : 1),
};

/** Unary predicates (bool results). */
export const predicates = {
  isnan: (x) => x !== x,
  isinf: (x) => Math.abs(x) === Infinity,
} satisfies Record<string, (x: number) => boolean>;

/** i32 floor division and remainder through BigInt (which truncates): Python semantics, x // 0 = x % 0 = 0. */
export const intBinary = {
  floor_div: (a, b) => {
    if (b === 0) return 0;
    const [x, y] = [BigInt(a), BigInt(b)];
    const q = x / y;
    return I32(x % y !== 0n && x < 0n !== y < 0n ? q - 1n : q);
  },
  mod: (a, b) => {
    if (b === 0) return 0;
    const [x, y] = [BigInt(a), BigInt(b)];
    const r = x % y;
    return I32(r !== 0n && r < 0n !== y < 0n ? r + y : r);
  },
} satisfies Record<string, (a: number, b: number) => number>;

/** Comparisons; NaN is unequal to everything. */
export const compares: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => !(a === b),
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => b < a,
  ge: (a, b) => b <= a,
};

/** cast, spelled out case by case: f32->i32 truncates toward zero, saturates, NaN->0; ->bool is x != 0. */
export function naiveCast(v: number, to: 'f32' | 'i32' | 'bool'): number {
  if (to === 'bool') return v === 0 ? 0 : 1; // NaN !== 0 -> true
  if (to === 'f32') return v;
  if (v !== v) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return v < 0 ? Math.ceil(v) : Math.floor(v);
}

// ---------------------------------------------------------------- ops on nested arrays

/** Elementwise op over any number of broadcast operands. */
export function naiveMap(operands: readonly Flat[], f: (xs: number[]) => number): Flat {
  const shape = broadcastShape(...operands.map((o) => o.shape));
  const nested = operands.map((o) => nest(o.shape, o.data));
  const out = tabulate(shape, (idx) => f(nested.map((n, i) => atBroadcast(n, operands[i]!.shape, idx))));
  return { shape, data: flatten(out) };
}

/** What naiveReduce folds with. */
export type ReduceKind = 'sum' | 'max' | 'mean' | 'min' | 'prod' | 'any' | 'all';

/** Reduction of `axes` (any order, possibly negative) with sum, max, mean, min, prod, any or all; i32 sums and products wrap. */
export function naiveReduce(x: Flat, axes: readonly number[], keepdims: boolean, kind: ReduceKind, i32 = false): Flat {
  const rank = x.shape.length;
  const red = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const keptAxes = x.shape.map((_, a) => a).filter((a) => !red.has(a));
  const redAxes = x.shape.map((_, a) => a).filter((a) => red.has(a));
  const outShape = keepdims ? x.shape.map((d, a) => (red.has(a) ? 1 : d)) : keptAxes.map((a) => x.shape[a]!);
  const nx = nest(x.shape, x.data);
  const combos = allIndices(redAxes.map((a) => x.shape[a]!));
  const out = tabulate(outShape, (oi) => {
    const kept = keepdims ? keptAxes.map((a) => oi[a]!) : oi;
    const vals = combos.map((ri) => {
      const full = new Array<number>(rank);
      keptAxes.forEach((a, k) => (full[a] = kept[k]!));
      redAxes.forEach((a, k) => (full[a] = ri[k]!));
      return at(nx, full);
    });
    if (kind === 'max') return vals.reduce(nanMax);
    if (kind === 'min') return vals.reduce(nanMin);
    // NaN is truthy for any/all (it is not 0).
    if (kind === 'any') return vals.some((v) => v !== 0) ? 1 : 0;
    if (kind === 'all') return vals.every((v) => v !== 0) ? 1 : 0;
    if (kind === 'prod') return vals.reduce((p, v) => (i32 ? i32Ops.mul(p, v) : p * v), 1);
    let s = 0;
    for (const v of vals) s = i32 ? i32Ops.add(s, v) : s + v;
    return kind === 'mean' ? s / vals.length : s;
  });
  return { shape: outShape, data: flatten(out) };
}

/** Batched matmul with broadcast batch axes, as explicit loops over matrices of nested arrays. */
export function naiveMatmul(a: Flat, b: Flat): Flat {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error('naiveMatmul: K differs');
  const aB = a.shape.slice(0, -2);
  const bB = b.shape.slice(0, -2);
  const batch = broadcastShape(aB, bB);
  const na = nest(a.shape, a.data);
  const nb = nest(b.shape, b.data);
  const out = tabulate([...batch, m, n], (idx) => {
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2) as [number, number];
    const ai = bi.slice(bi.length - aB.length).map((v, t) => (aB[t] === 1 ? 0 : v));
    const bj = bi.slice(bi.length - bB.length).map((v, t) => (bB[t] === 1 ? 0 : v));
    let s = 0;
    for (let p = 0; p < k; p++) s += at(na, [...ai, i, p]) * at(nb, [...bj, p, j]);
    return s;
  });
  return { shape: [...batch, m, n], data: flatten(out) };
}

/** Transpose: result axis i is operand axis perm[i]. */
export function naiveTranspose(x: Flat, perm: readonly number[]): Flat {
  const shape = perm.map((p) => x.shape[p]!);
  const nx = nest(x.shape, x.data);
  const out = tabulate(shape, (idx) => {
    const src = new Array<number>(perm.length);
    perm.forEach((p, i) => (src[p] = idx[i]!));
    return at(nx, src);
  });
  return { shape, data: flatten(out) };
}

/** The indices start, start+step, ... below stop, listed one by one. */
export function sliceIndices(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

/** Slice with explicit per-axis index lists. */
export function naiveSlice(x: Flat, start: readonly number[], stop: readonly number[], step: readonly number[]): Flat {
  const lists = x.shape.map((_, a) => sliceIndices(start[a]!, stop[a]!, step[a]!));
  const shape = lists.map((l) => l.length);
  const nx = nest(x.shape, x.data);
  const out = tabulate(shape, (idx) => at(nx, idx.map((v, a) => lists[a]![v]!)));
  return { shape, data: flatten(out) };
}

/** Concat by recursion on nested arrays: at the join axis, append the lists. */
export function naiveConcat(xs: readonly Flat[], axis: number): Flat {
  const join = (parts: Nd[], depth: number): Nd => {
    if (depth === axis) return parts.flatMap((p) => p as Nd[]);
    const first = parts[0] as Nd[];
    return first.map((_, i) => join(parts.map((p) => (p as Nd[])[i]!), depth + 1));
  };
  const out = join(
    xs.map((x) => nest(x.shape, x.data)),
    0,
  );
  return { shape: shapeOf(out), data: flatten(out) };
}

/** Pad by recursion on nested arrays: each level gets low/high copies of a filled block. */
export function naivePad(x: Flat, low: readonly number[], high: readonly number[], value: number): Flat {
  const shape = x.shape.map((d, a) => d + low[a]! + high[a]!);
  const filled = (depth: number): Nd => tabulate(shape.slice(depth + 1), () => value);
  const rec = (n: Nd, depth: number): Nd => {
    if (depth === x.shape.length) return n;
    const inner = (n as Nd[]).map((s) => rec(s, depth + 1));
    const before = Array.from({ length: low[depth]! }, () => filled(depth));
    const after = Array.from({ length: high[depth]! }, () => filled(depth));
    return [...before, ...inner, ...after];
  };
  const out = rec(nest(x.shape, x.data), 0);
  return { shape, data: flatten(out) };
}

/** Gather along `axis`: result index = table prefix, indices index, table suffix. */
export function naiveGather(table: Flat, indices: Flat, axis: number): Flat {
  const shape = [...table.shape.slice(0, axis), ...indices.shape, ...table.shape.slice(axis + 1)];
  const nt = nest(table.shape, table.data);
  const ni = nest(indices.shape, indices.data);
  const r = indices.shape.length;
  const out = tabulate(shape, (idx) => {
    const row = at(ni, idx.slice(axis, axis + r));
    return at(nt, [...idx.slice(0, axis), row, ...idx.slice(axis + r)]);
  });
  return { shape, data: flatten(out) };
}

/** Softmax of one row: exp(x - max) / sum, max taken with NaN propagation. */
export function softmaxRow(row: readonly number[]): number[] {
  const m = row.reduce(nanMax);
  const e = row.map((v) => Math.exp(v - m));
  let s = 0;
  for (const v of e) s += v;
  return e.map((v) => v / s);
}

/** Applies a row function along `axis` by transposing it last, mapping rows, transposing back. */
export function alongAxis(x: Flat, axis: number, f: (row: number[]) => number[]): Flat {
  const rank = x.shape.length;
  const perm = [...x.shape.keys()].filter((a) => a !== axis).concat([axis]);
  const t = naiveTranspose(x, perm);
  const n = x.shape[axis]!;
  const data: number[] = [];
  for (let r = 0; r < t.data.length; r += n) data.push(...f(t.data.slice(r, r + n)));
  const inv = new Array<number>(rank);
  perm.forEach((p, i) => (inv[p] = i));
  return naiveTranspose({ shape: t.shape, data }, inv);
}

/** Layer norm of one row: biased variance, then scale and shift. eps is held as an f32, as the op defines it. */
export function layerNormRow(row: readonly number[], w: readonly number[], b: readonly number[], eps: number): number[] {
  const n = row.length;
  const mean = row.reduce((s, v) => s + v, 0) / n;
  const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const sd = Math.sqrt(variance + Math.fround(eps));
  return row.map((v, j) => ((v - mean) / sd) * w[j]! + b[j]!);
}

/** gelu, tanh form, from the formula with its constants held as f32 (as the op defines them). */
export function geluTanh(x: number): number {
  const c = Math.fround(Math.sqrt(2 / Math.PI));
  const k = Math.fround(0.044715);
  return (x / 2) * (1 + Math.tanh(c * (x + k * x ** 3)));
}

/** Attention written as explicit score matrices per broadcast batch index; the scale is held as an f32, as the op defines it. */
export function naiveAttention(q: Flat, k: Flat, v: Flat, scaleAttr: number, mask?: Flat & { dtype: 'bool' | 'f32' }): Flat {
  const scale = Math.fround(scaleAttr);
  const [tq, d] = q.shape.slice(-2) as [number, number];
  const tk = k.shape[k.shape.length - 2]!;
  const dv = v.shape[v.shape.length - 1]!;
  const batch = broadcastShape(q.shape.slice(0, -2), k.shape.slice(0, -2), v.shape.slice(0, -2));
  const [nq, nk, nv] = [q, k, v].map((t) => nest(t.shape, t.data));
  const nm = mask ? nest(mask.shape, mask.data) : undefined;
  const pick = (t: Flat, bi: number[]) => {
    const bs = t.shape.slice(0, -2);
    return bi.slice(bi.length - bs.length).map((x, a) => (bs[a] === 1 ? 0 : x));
  };
  const data: number[] = [];
  for (const bi of allIndices(batch)) {
    const [qi, ki, vi] = [q, k, v].map((t) => pick(t, bi));
    for (let i = 0; i < tq; i++) {
      const scores: number[] = [];
      for (let j = 0; j < tk; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += at(nq!, [...qi!, i, c]) * at(nk!, [...ki!, j, c]);
        s *= scale;
        if (mask && nm !== undefined) {
          const mv = atBroadcast(nm, mask.shape, [...bi, i, j]);
          s = mask.dtype === 'bool' ? (mv !== 0 ? s : -Infinity) : s + mv;
        }
        scores.push(s);
      }
      const p = softmaxRow(scores);
      for (let c = 0; c < dv; c++) {
        let acc = 0;
        for (let j = 0; j < tk; j++) acc += p[j]! * at(nv!, [...vi!, j, c]);
        data.push(acc);
      }
    }
  }
  return { shape: [...batch, tq, dv], data };
}

// ---------------------------------------------------------------- erf in BigInt fixed point

/** Fraction bits of the fixed-point arithmetic: far more than any cancellation in the series can eat. */
const FB = 320n;
const ONE = 1n << FB;
const mulF = (a: bigint, b: bigint): bigint => (a * b) >> FB;

/** The exact value of a finite double as a fixed-point number. */
function fixedOf(x: number): bigint {
  if (!Number.isFinite(x)) throw new Error(`fixedOf: ${x} is not finite`);
  let m = x;
  let e = 0n;
  while (!Number.isInteger(m)) {
    m *= 2; // exact: only the exponent changes
    e++;
  }
  const bm = BigInt(m);
  return e <= FB ? bm << (FB - e) : bm >> (e - FB);
}

/** The double nearest a fixed-point number. */
function doubleOf(f: bigint): number {
  const neg = f < 0n;
  const a = neg ? -f : f;
  const drop = FB - 100n; // keep 100 fraction bits; BigInt -> Number rounds to nearest
  const r = Number(a >> drop) / 2 ** 100;
  return neg ? -r : r;
}

/** arctan(1/n) by its Taylor series. */
function atanInv(n: bigint): bigint {
  let pow = ONE / n;
  let sum = 0n;
  for (let k = 0n; pow !== 0n; k++) {
    sum += (k % 2n === 0n ? pow : -pow) / (2n * k + 1n);
    pow /= n * n;
  }
  return sum;
}

function isqrt(n: bigint): bigint {
  let x = n;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2n;
  }
  return x;
}

/** pi by Machin's formula, 2/sqrt(pi) and 1/sqrt(2), all in fixed point. */
const PI = 16n * atanInv(5n) - 4n * atanInv(239n);
const TWO_OVER_SQRT_PI = (2n * ONE * ONE) / isqrt(PI * ONE);
const INV_SQRT2 = isqrt((ONE * ONE) / 2n);

/** erf of a fixed-point argument by the Maclaurin series, exact to far below double precision for |x| <= 8. */
function erfFixed(x: bigint): bigint {
  const x2 = mulF(x, x);
  let term = x;
  let sum = x;
  for (let n = 1n; ; n++) {
    term = -mulF(term, x2) / n;
    if (term === 0n) break;
    sum += term / (2n * n + 1n);
  }
  return mulF(sum, TWO_OVER_SQRT_PI);
}

/** erf(x) correctly rounded (up to a 2^-100 relative doubt), for any double x. */
export function preciseErf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  // erfc(6) = 2.2e-17 is below half an ulp of 1, so erf rounds to +-1 from there on.
  if (Math.abs(x) >= 6) return Math.sign(x);
  return doubleOf(erfFixed(fixedOf(x)));
}

/**
 * gelu(x) = x/2 (1 + erf(x c)) evaluated entirely in fixed point, then rounded
 * once (|x| <= 11). c is 1/sqrt(2) held as an f32, as the op defines it, or
 * the exact 1/sqrt(2) with `exact`.
 */
export function preciseGelu(x: number, exact = false): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) > 11) throw new Error(`preciseGelu: |${x}| > 11 is outside the series' comfortable range`);
  const fx = fixedOf(x);
  const c = exact ? INV_SQRT2 : fixedOf(Math.fround(Math.SQRT1_2));
  const e = erfFixed(mulF(fx, c));
  return doubleOf(mulF(fx, ONE + e) / 2n);
}

/**
 * The index argmax (or argmin) picks in a row, by sorting the indices: NaNs
 * first, then by value, largest (smallest) first; the sort is stable, so
 * among equals the lowest index comes first.
 */
export function argExtremeRow(row: readonly number[], kind: 'max' | 'min'): number {
  const order = row.map((_, i) => i);
  order.sort((i, j) => {
    const [a, b] = [row[i]!, row[j]!];
    if (a !== a || b !== b) return (b !== b ? 1 : 0) - (a !== a ? 1 : 0);
    return kind === 'max' ? b - a || 0 : a - b || 0;
  });
  return order[0]!;
}

/** Inclusive prefix sums of a row; i32 wraps. */
export function cumsumRow(row: readonly number[], i32 = false): number[] {
  const out: number[] = [];
  let s = 0;
  for (const v of row) out.push((s = i32 ? i32Ops.add(s, v) : s + v));
  return out;
}

/**
 * log(exp(a) + exp(b)) without overflow, case by case: NaN poisons, -inf is
 * the identity, +inf absorbs, else max + log1p(exp(-|a - b|)).
 */
export function logAddExp(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  if (a === Infinity || b === Infinity) return Infinity;
  return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** Convolution geometry for naiveConv2d: (height, width) pairs and the group count. */
export interface NaiveConvAttrs {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/**
 * conv2d as im2col then matmul, unlike the interpreter's direct loops: the
 * input is zero-padded with naivePad, every output position's window is
 * copied out as one row per group (channel, kh, kw order), and each group's
 * rows are multiplied by that group's weights reshaped to [in/groups*kh*kw, out/groups].
 */
export function naiveConv2d(x: Flat, w: Flat, bias: Flat | undefined, a: NaiveConvAttrs): Flat {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  const [ph, pw] = a.padding;
  const xp = nest([n, c, h + 2 * ph, wd + 2 * pw], naivePad(x, [0, 0, ph, pw], [0, 0, ph, pw], 0).data);
  const nw = nest(w.shape, w.data);
  const oh = Math.floor((h + 2 * ph - a.dilation[0] * (kh - 1) - 1) / a.stride[0]) + 1;
  const ow = Math.floor((wd + 2 * pw - a.dilation[1] * (kw - 1) - 1) / a.stride[1]) + 1;
  const og = o / a.groups;
  const k = cg * kh * kw;
  const out = tabulate([n, o, oh, ow], () => 0) as Nd[][][][];
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < a.groups; g++) {
      const rows: number[] = [];
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          for (let ci = 0; ci < cg; ci++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) rows.push(at(xp, [b, g * cg + ci, y * a.stride[0] + i * a.dilation[0], xx * a.stride[1] + j * a.dilation[1]]));
            }
          }
        }
      }
      const cols: number[] = [];
      for (let p = 0; p < k; p++) {
        for (let q = 0; q < og; q++) cols.push(at(nw, [g * og + q, Math.floor(p / (kh * kw)), Math.floor(p / kw) % kh, p % kw]));
      }
      const prod = naiveMatmul({ shape: [oh * ow, k], data: rows }, { shape: [k, og], data: cols });
      for (let r = 0; r < oh * ow; r++) {
        for (let q = 0; q < og; q++) out[b]![g * og + q]![Math.floor(r / ow)]![r % ow] = prod.data[r * og + q]! + (bias ? bias.data[g * og + q]! : 0);
      }
    }
  }
  return { shape: [n, o, oh, ow], data: flatten(out) };
}
