import { ARENA_ALIGNMENT, type KernelProgram, KernelVerifyError, type Lifetime, inPlacePair, lifetimes, verifyMemoryPlan } from '@tessera/kernel';

const align = (n: number) => Math.ceil(n / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;

interface Placement {
  readonly life: Lifetime;
  readonly offset: number;
}

/**
 * Packs every temporary into one arena by liveness: temporaries whose
 * lifetimes do not overlap share bytes; a map kernel may write its result
 * exactly over an operand that dies in it when every access is elementwise
 * (in place: see inPlaceSafe). Placement is greedy, largest first: a
 * temporary goes over an in-place partner when nothing else conflicts
 * there, else at the lowest offset that shares no byte with any placed
 * temporary live at the same time (partners included: a partial overlap
 * would let the kernel overwrite elements it has not read yet). Returns the
 * program with `arenaOffset` on each temporary and `arenaBytes`, the plan's
 * peak; the plan is verified (verifyMemoryPlan) before it is returned.
 */
export function planMemory(p: KernelProgram): KernelProgram {
  const placed: Placement[] = [];
  const offsets = new Map<number, number>();
  for (const life of lifetimes(p).sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
    const live = placed.filter((q) => q.life.first <= life.last && life.first <= q.life.last);
    const partners = live.filter((q) => inPlacePair(p, q.life, life));
    // Sharing bytes with a live temporary is allowed only exactly over an in-place partner.
    const fits = (offset: number) =>
      live.every((q) => offset + life.bytes <= q.offset || q.offset + q.life.bytes <= offset || (q.offset === offset && partners.includes(q)));
    const offset = partners.map((q) => q.offset).find(fits) ?? lowestFreeOffset(live, life.bytes);
    placed.push({ life, offset });
    offsets.set(life.buffer, offset);
  }
  const planned: KernelProgram = {
    ...p,
    buffers: p.buffers.map((b, i) => (offsets.has(i) ? { ...b, arenaOffset: offsets.get(i)! } : b)),
    arenaBytes: placed.reduce((m, q) => Math.max(m, q.offset + q.life.bytes), 0),
  };
  // A wrong plan is a wrong answer on every backend that honours it: never hand one on.
  const problems = verifyMemoryPlan(planned);
  if (problems.length) throw new KernelVerifyError(problems);
  return planned;
}

/** The lowest aligned offset where `bytes` share no byte with any of `busy`. */
function lowestFreeOffset(busy: readonly Placement[], bytes: number): number {
  let offset = 0;
  for (const q of [...busy].sort((a, b) => a.offset - b.offset)) {
    if (offset + bytes <= q.offset) break;
    offset = Math.max(offset, align(q.offset + q.life.bytes));
  }
  return offset;
}
