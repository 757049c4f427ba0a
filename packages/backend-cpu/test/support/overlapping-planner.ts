/**
 * A mutant of the memory planner, kept to prove the tests would catch it:
 * the placement before the fix of the Mixer bug, which treated an in-place
 * pair as never conflicting, so a result could be placed partly over the
 * operands it is computed from (the kernel then overwrites elements it has
 * not read yet). Used only by tests; never in the pipeline.
 */
import { ARENA_ALIGNMENT, type KernelProgram, type Lifetime, inPlacePair, lifetimes } from '@tessera/kernel';
import { type Pass, defaultPasses } from '@tessera/passes';

const align = (n: number) => Math.ceil(n / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;

/** The pre-fix plan: greedy, largest first, in-place partners ignored when looking for a free offset. */
export function overlappingPlan(p: KernelProgram): KernelProgram {
  const placed: { life: Lifetime; offset: number }[] = [];
  const offsets = new Map<number, number>();
  for (const life of lifetimes(p).sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
    const busy = placed.filter((q) => q.life.first <= life.last && life.first <= q.life.last && !inPlacePair(p, q.life, life)).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const q of busy) {
      if (offset + life.bytes <= q.offset) break;
      offset = Math.max(offset, align(q.offset + q.life.bytes));
    }
    placed.push({ life, offset });
    offsets.set(life.buffer, offset);
  }
  return {
    ...p,
    buffers: p.buffers.map((b, i) => (offsets.has(i) ? { ...b, arenaOffset: offsets.get(i)! } : b)),
    arenaBytes: placed.reduce((m, q) => Math.max(m, q.offset + q.life.bytes), 0),
  };
}

/** The default passes with plan-memory replaced by the mutant (no verification: run them without instruments). */
export function mutantPasses(): Pass[] {
  return defaultPasses().map((pass) => (pass.name === 'plan-memory' ? { ...pass, run: (s) => (s.kernels ? { ...s, kernels: overlappingPlan(s.kernels) } : s) } : pass));
}
