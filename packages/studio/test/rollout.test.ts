/**
 * The studio's attention rollout, against the definition computed here
 * with plain nested loops: per layer the head mean plus the residual
 * identity, rows renormalised; the layers multiplied last-to-first.
 */
import { describe, expect, it } from 'vitest';
import { type LayerAttention, attentionRollout, residualAttention, rowWithout } from '../src/rollout.ts';

/** A random layer whose rows (per head) are probability distributions. */
function randomLayer(heads: number, tokens: number, seed: number): LayerAttention {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const probs = new Float32Array(heads * tokens * tokens);
  for (let r = 0; r < heads * tokens; r++) {
    const row = Array.from({ length: tokens }, rand);
    const sum = row.reduce((a, b) => a + b, 0);
    row.forEach((v, c) => (probs[r * tokens + c] = v / sum));
  }
  return { heads, tokens, probs };
}

/** [t, t] matrices as arrays of rows. */
const rows = (m: ArrayLike<number>, t: number) => Array.from({ length: t }, (_, r) => Array.from({ length: t }, (_, c) => m[r * t + c]!));
const matmul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));

/** The definition: mean over heads, 0.5·A + 0.5·I, rows normalised. */
function expectedResidual(l: LayerAttention): number[][] {
  const t = l.tokens;
  const a = rows(new Float64Array(t * t).map((_, i) => Array.from({ length: l.heads }, (_, h) => l.probs[h * t * t + i]!).reduce((x, y) => x + y, 0) / l.heads), t);
  return a.map((row, r) => {
    const mixed = row.map((v, c) => 0.5 * v + (r === c ? 0.5 : 0));
    const sum = mixed.reduce((x, y) => x + y, 0);
    return mixed.map((v) => v / sum);
  });
}

const close = (got: ArrayLike<number>, want: number[][]) => Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(want[Math.floor(i / want.length)]![i % want.length]!, 12));

describe('attention rollout', () => {
  it('one layer: the head mean with the residual identity, rows summing to 1', () => {
    const l = randomLayer(3, 5, 7);
    close(residualAttention(l), expectedResidual(l));
    close(attentionRollout([l]), expectedResidual(l));
  });

  it('three layers: A3 · A2 · A1, the first layer applied first (the product does not commute)', () => {
    const layers = [randomLayer(4, 6, 1), randomLayer(4, 6, 2), randomLayer(4, 6, 3)];
    const [a1, a2, a3] = layers.map(expectedResidual) as [number[][], number[][], number[][]];
    close(attentionRollout(layers), matmul(a3, matmul(a2, a1)));
    const reversed = matmul(a1, matmul(a2, a3));
    expect(Math.abs(attentionRollout(layers)[1]! - reversed[0]![1]!)).toBeGreaterThan(1e-6);
    for (const row of rows(attentionRollout(layers), 6)) expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
  });

  it("the class token's row without itself is what the overlay draws", () => {
    const m = Float64Array.from({ length: 9 }, (_, i) => i);
    expect([...rowWithout(m, 3, 0, 1)]).toEqual([1, 2]);
    expect([...rowWithout(m, 3, 2, 1)]).toEqual([7, 8]);
  });

  it('rejects no layers and layers of different token counts', () => {
    expect(() => attentionRollout([])).toThrow(/at least one layer/);
    expect(() => attentionRollout([randomLayer(1, 3, 1), randomLayer(1, 4, 1)])).toThrow(/3 and 4 tokens/);
  });
});
