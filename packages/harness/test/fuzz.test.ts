/** The fuzz driver: budgets from the environment, reproducible cases, and every way a case can end, counted. */
import { describe, expect, it } from 'vitest';
import { type FuzzTarget, FuzzRng, caseSeed, expectCleanFuzz, formatFuzzReport, fuzzBudget, fuzzTestTimeout, runFuzz } from '../src/index.ts';

class Located extends Error {}
class Unlocated extends Error {}

/** A target whose case `n` (0..5) ends in a known way. */
const target: FuzzTarget<number> = {
  name: 'known',
  generate: (rng) => rng.int(6),
  run: async (n) => {
    if (n === 1) throw new Located('at 1:1');
    if (n === 2) throw new Unlocated('somewhere');
    if (n === 3) throw new TypeError('x is undefined');
    if (n === 4) await new Promise(() => undefined); // never settles
    if (n === 5) {
      const until = performance.now() + 60;
      while (performance.now() < until); // synchronous, over the bound
    }
  },
  classify: (e) => (e instanceof Located ? 'located' : e instanceof Unlocated ? 'unlocated' : 'crash'),
  show: (n) => `case ${n}`,
};

describe('fuzz driver', () => {
  it('counts accepted, located, unlocated, crashing and hanging cases (async and synchronous hangs)', async () => {
    const r = await runFuzz(target, { seed: 7, cases: 60, caseTimeoutMs: 40 });
    // Recount from the cases themselves: the same seed rebuilds them.
    const kinds = Array.from({ length: 60 }, (_, i) => target.generate(new FuzzRng(caseSeed(7, i))));
    const n = (k: number) => kinds.filter((x) => x === k).length;
    expect(r).toMatchObject({ target: 'known', seed: 7, cases: 60, accepted: n(0), rejected: n(1), unlocated: n(2), crashes: n(3), hangs: n(4) + n(5) });
    for (const k of [0, 1, 2, 3, 4, 5]) expect(n(k)).toBeGreaterThan(0);
    expect(r.failures.find((f) => f.kind === 'crash')!.error).toMatch(/^TypeError: x is undefined/);
    expect(r.failures.filter((f) => f.kind === 'hang').map((f) => f.error)).toEqual(expect.arrayContaining([expect.stringMatching(/no answer within 40 ms/), expect.stringMatching(/over the 40 ms bound/)]));
    const text = formatFuzzReport(r);
    expect(text).toContain(`fuzz known: 60 cases in `);
    expect(text).toMatch(/crash in case \d+ \(TESSERA_FUZZ_SEED=7\): TypeError: x is undefined/);
  });

  it('expectCleanFuzz passes a clean run and throws the report on a failure, or when no case is accepted or none rejected', async () => {
    const only = (n: number): FuzzTarget<number> => ({ ...target, generate: () => n });
    const clean: FuzzTarget<number> = { ...target, generate: (rng) => rng.int(2) };
    expect((await expectCleanFuzz(clean, { seed: 1, cases: 20, caseTimeoutMs: 1000 })).cases).toBe(20);
    await expect(expectCleanFuzz(only(3), { seed: 1, cases: 3, caseTimeoutMs: 1000 })).rejects.toThrow(/3 crashes[\s\S]*TypeError: x is undefined/);
    await expect(expectCleanFuzz(only(2), { seed: 1, cases: 3, caseTimeoutMs: 1000 })).rejects.toThrow(/3 unlocated/);
    await expect(expectCleanFuzz(only(0), { seed: 1, cases: 3, caseTimeoutMs: 1000 })).rejects.toThrow(/must reach both sides/);
  });

  it('runs for a time budget when one is given', async () => {
    const quick: FuzzTarget<number> = { ...target, generate: () => 0 };
    const r = await runFuzz(quick, { seed: 1, seconds: 0.05, caseTimeoutMs: 1000 });
    expect(r.cases).toBeGreaterThan(0);
    expect(r.accepted).toBe(r.cases);
  });

  it('reads the budget from the environment: a fixed CI run by default, seconds and a seed when asked', () => {
    expect(fuzzBudget(200, 5000, {})).toEqual({ seed: 1, cases: 200, caseTimeoutMs: 5000 });
    expect(fuzzBudget(200, 5000, { TESSERA_FUZZ_BUDGET: '600', TESSERA_FUZZ_SEED: '42' })).toEqual({ seed: 42, seconds: 600, caseTimeoutMs: 5000 });
    expect(fuzzBudget(200, 5000, { TESSERA_FUZZ_BUDGET: '60' }).seconds).toBe(60);
    expect(fuzzTestTimeout(fuzzBudget(200, 5000, {}))).toBe(120_000);
    expect(fuzzTestTimeout(fuzzBudget(200, 5000, { TESSERA_FUZZ_BUDGET: '600' }))).toBe(720_000);
  });

  it('makes the same cases from the same seed, and independent ones per index', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, (_, i) => new FuzzRng(caseSeed(seed, i)).int(1 << 30));
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    expect(new Set(draw(3)).size).toBe(5);
  });
});
