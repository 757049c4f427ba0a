import fc from 'fast-check';
import { interpret } from '@tessera/ir';
import { describe, expect, it } from 'vitest';
import { Module, type Tensor, nn, trace } from '../src/index.ts';
import { expectClose, randoms, rng } from './helpers.ts';

/** One attention scenario: sizes, which inputs differ, and which masks (PyTorch conventions). */
interface Case {
  b: number;
  l: number;
  s: number;
  h: number;
  d: number;
  /**
   * self: one tensor is query, key and value (packed projection); cross: distinct
   * key and value tensors; memory: key and value are one tensor (encoder memory).
   */
  mode: 'self' | 'cross' | 'memory';
  /** Key and value feature sizes differ from E (cross only): separate q/k/v projection weights. */
  ownKvDims: boolean;
  causal: boolean;
  keyPadding: 'none' | 'bool' | 'f32';
  attnMask: 'none' | 'bool2d' | 'f32_3d';
  /** Run unbatched ([T, E] inputs) when b is 1. */
  unbatched: boolean;
  seed: number;
}

/** Wraps one nn.MultiHeadAttention so trace() names its parameters; inputs arrive in the order of `keys`. */
class Harness extends Module {
  constructor(
    readonly attn: nn.MultiHeadAttention,
    readonly keys: readonly string[],
    readonly causal: boolean,
  ) {
    super();
  }
  forward(...xs: Tensor[]): Tensor {
    const by = Object.fromEntries(this.keys.map((k, i) => [k, xs[i]!]));
    const q = by.query!;
    return this.attn.forward(q, by.key ?? q, by.value ?? by.key ?? q, {
      ...(by.kpm ? { keyPaddingMask: by.kpm } : {}),
      ...(by.am ? { attnMask: by.am } : {}),
      isCausal: this.causal,
    });
  }
}

/** A straightforward PyTorch-semantics multi-head attention over flat row-major arrays. */
function naive(c: Case, e: number, kdim: number, vdim: number, v: Record<string, number[]>): number[] {
  const { b: B, l: L, s: S, h: H, d: D } = c;
  const query = v.query!;
  const key = v.key ?? query;
  const value = v.value ?? key;
  const weight = (i: number, cols: number) =>
    v.in_proj_weight ? v.in_proj_weight.slice(i * e * e, (i + 1) * e * e) : v[['q_proj_weight', 'k_proj_weight', 'v_proj_weight'][i]!]!.slice(0, e * cols);
  const bias = (i: number) => v.in_proj_bias!.slice(i * e, (i + 1) * e);
  const project = (x: number[], t: number, cols: number, w: number[], bs: number[]) => {
    const out = new Array<number>(B * t * e).fill(0);
    for (let r = 0; r < B * t; r++) for (let o = 0; o < e; o++) {
      let acc = bs[o]!;
      for (let k = 0; k < cols; k++) acc += x[r * cols + k]! * w[o * cols + k]!;
      out[r * e + o] = acc;
    }
    return out;
  };
  const Q = project(query, L, e, weight(0, e), bias(0));
  const K = project(key, S, kdim, weight(1, kdim), bias(1));
  const V = project(value, S, vdim, weight(2, vdim), bias(2));
  const O = new Array<number>(B * L * e).fill(0);
  for (let bi = 0; bi < B; bi++) for (let hi = 0; hi < H; hi++) for (let i = 0; i < L; i++) {
    const scores = [];
    for (let j = 0; j < S; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += Q[(bi * L + i) * e + hi * D + k]! * K[(bi * S + j) * e + hi * D + k]!;
      // The IR scales by the f32 nearest 1/sqrt(D), as an f32 backend holds it.
      s *= Math.fround(1 / Math.sqrt(D));
      if (c.causal && j > i) s = -Infinity;
      if (c.attnMask === 'bool2d' && v.am![i * S + j]) s = -Infinity;
      if (c.attnMask === 'f32_3d') s += v.am![((bi * H + hi) * L + i) * S + j]!;
      if (c.keyPadding === 'bool' && v.kpm![bi * S + j]) s = -Infinity;
      if (c.keyPadding === 'f32') s += v.kpm![bi * S + j]!;
      scores.push(s);
    }
    const m = Math.max(...scores);
    const ex = scores.map((s) => Math.exp(s - m));
    const z = ex.reduce((a, x) => a + x, 0);
    for (let k = 0; k < D; k++) {
      let acc = 0;
      for (let j = 0; j < S; j++) acc += (ex[j]! / z) * V[(bi * S + j) * e + hi * D + k]!;
      O[(bi * L + i) * e + hi * D + k] = acc;
    }
  }
  return project(O, L, e, v['out_proj.weight']!, v['out_proj.bias']!);
}

/** Traces the scenario, runs it in the interpreter and compares with the naive implementation. */
function check(c: Case): void {
  const e = c.h * c.d;
  const kdim = c.ownKvDims ? e + 1 : e;
  const vdim = c.ownKvDims ? (c.mode === 'memory' ? kdim : Math.max(1, e - 1)) : e;
  const attn = new nn.MultiHeadAttention(e, c.h, c.ownKvDims ? { kdim, vdim } : {});
  const unbatched = c.unbatched && c.b === 1;
  const lead = unbatched ? [] : [c.b];
  const specs: Record<string, string> = { query: `f32[${[...lead, c.l, e]}]` };
  if (c.mode !== 'self') specs.key = `f32[${[...lead, c.s, kdim]}]`;
  if (c.mode === 'cross') specs.value = `f32[${[...lead, c.s, vdim]}]`;
  if (c.keyPadding !== 'none') specs.kpm = `${c.keyPadding}[${[...lead, c.s]}]`;
  if (c.attnMask === 'bool2d') specs.am = `bool[${c.l},${c.s}]`;
  if (c.attnMask === 'f32_3d') specs.am = `f32[${c.b * c.h},${c.l},${c.s}]`;
  const p = trace(new Harness(attn, Object.keys(specs), c.causal), specs);

  const r = rng(c.seed);
  const values: Record<string, number[]> = {};
  for (const i of p.inputs) {
    const n = i.type.shape.reduce((a, x) => a * x, 1);
    // Bool masks never hide key 0, so no query row is fully masked (that row would be NaN, as in PyTorch).
    if (i.type.dtype === 'bool') values[i.name] = Array.from({ length: n }, (_, k) => (k % c.s === 0 ? 0 : r() > 0 ? 1 : 0));
    // f32 inputs are rounded to f32 by the interpreter; the naive side gets the same values.
    else values[i.name] = randoms(r, n).map((x) => Math.fround(i.name === 'kpm' || i.name === 'am' ? 3 * x : x));
  }
  const out = interpret(p, values).output!;
  const paramNames = p.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name.replace(/^attn\./, ''));
  const naiveValues = Object.fromEntries(Object.entries(values).map(([k, x]) => [k.replace(/^attn\./, ''), x]));
  expect(paramNames.every((n) => n in naiveValues)).toBe(true);
  expect(out.type.shape).toEqual([...lead, c.l, e]);
  expectClose(Array.from(out.data), naive(c, e, kdim, vdim, naiveValues));
}

const base: Case = { b: 2, l: 3, s: 3, h: 2, d: 2, mode: 'self', ownKvDims: false, causal: false, keyPadding: 'none', attnMask: 'none', unbatched: false, seed: 1 };

describe('nn.MultiHeadAttention against a naive implementation', () => {
  it('self-attention (packed in_proj_weight, one projection matmul)', () => {
    check(base);
    const p = trace(new Harness(new nn.MultiHeadAttention(4, 2), ['query'], false), { query: 'f32[2,3,4]' });
    expect(p.nodes.filter((n) => n.op === 'matmul')).toHaveLength(2);
    expect(p.nodes.filter((n) => n.op === 'attention')).toHaveLength(1);
  });
  it('cross-attention with distinct key/value tensors, same and different feature sizes', () => {
    check({ ...base, mode: 'cross', s: 5, seed: 2 });
    check({ ...base, mode: 'cross', s: 4, l: 2, ownKvDims: true, seed: 3 });
  });
  it('cross-attention to one memory tensor used as key and value', () => {
    check({ ...base, mode: 'memory', s: 5, seed: 10 });
    check({ ...base, mode: 'memory', s: 2, ownKvDims: true, seed: 11 });
  });
  it('causal mask', () => check({ ...base, causal: true, l: 4, s: 4, h: 3, d: 1, seed: 4 }));
  it('key padding mask, bool and additive', () => {
    check({ ...base, mode: 'cross', s: 4, keyPadding: 'bool', seed: 5 });
    check({ ...base, keyPadding: 'f32', seed: 6 });
  });
  it('attention masks: bool [L, S] and additive [B*H, L, S], combined with the others', () => {
    check({ ...base, attnMask: 'bool2d', keyPadding: 'bool', causal: true, seed: 7 });
    check({ ...base, attnMask: 'f32_3d', keyPadding: 'bool', causal: true, seed: 8 });
  });
  it('unbatched [T, E] inputs', () => check({ ...base, b: 1, unbatched: true, keyPadding: 'bool', mode: 'cross', s: 2, seed: 9 }));

  it('random sizes, modes and masks', () => {
    const arbCase = fc
      .record({
        b: fc.integer({ min: 1, max: 2 }),
        l: fc.integer({ min: 1, max: 4 }),
        s: fc.integer({ min: 1, max: 4 }),
        h: fc.integer({ min: 1, max: 3 }),
        d: fc.integer({ min: 1, max: 3 }),
        mode: fc.constantFrom('self' as const, 'cross' as const, 'memory' as const),
        ownKvDims: fc.boolean(),
        causal: fc.boolean(),
        keyPadding: fc.constantFrom('none' as const, 'bool' as const, 'f32' as const),
        attnMask: fc.constantFrom('none' as const, 'bool2d' as const, 'f32_3d' as const),
        unbatched: fc.boolean(),
        seed: fc.integer(),
      })
      .map((c): Case => {
        const self = c.mode === 'self';
        // Self-attention has S = L and E-sized keys; causal masks need S = L so no row is empty.
        return { ...c, s: self || c.causal ? c.l : c.s, ownKvDims: !self && c.ownKvDims };
      });
    fc.assert(fc.property(arbCase, (c) => check(c)), { numRuns: 40 });
  });

  it('rejects inputs and masks of the wrong shape at the user call site', () => {
    const attn = new nn.MultiHeadAttention(4, 2);
    class M extends Module {
      readonly attn = attn;
      forward(x: Tensor, m: Tensor): Tensor {
        return this.attn.forward(x, x, x, { attnMask: m });
      }
    }
    expect(() => trace(new M(), { x: 'f32[2,3,4]', m: 'bool[3,2]' })).toThrow(/multi-head-attention\.test\.ts:\d+:\d+: MultiHeadAttention: attnMask has shape \[3,2\], expected \[3,3\] or \[4,3,3\]/);
    expect(() => trace(new M(), { x: 'f32[2,3,5]', m: 'bool[3,3]' })).toThrow(/query has shape \[2,3,5\], expected \[B, T, 4\]/);
    expect(() => new nn.MultiHeadAttention(5, 2)).toThrow(/embedDim 5 must be divisible by numHeads 2/);
  });
});
