import { byteSize } from '@tessera/ir';
import { type KernelProgram, type MapKernel, kernelExprs, kernelStores, loadedBuffers, walkExpr } from '@tessera/kernel';

/** Arena offsets are multiples of this many bytes (a SIMD vector, and WebGPU's storage offset alignment divides 256). */
export const ARENA_ALIGNMENT = 256;

/** The kernel interval during which a temporary holds a value. */
export interface Lifetime {
  readonly buffer: number;
  /** Index of the first kernel that writes it. */
  readonly first: number;
  /** Index of the last kernel that reads it (or writes it, when never read). */
  readonly last: number;
  readonly bytes: number;
}

/** Lifetimes of every temporary from the kernel schedule. */
export function lifetimes(p: KernelProgram): Lifetime[] {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  p.kernels.forEach((k, i) => {
    const touched = new Set<number>();
    for (const e of kernelExprs(k)) loadedBuffers(e, touched);
    for (const s of kernelStores(k)) touched.add(s.buffer);
    for (const b of touched) {
      if (p.buffers[b]!.role !== 'temp') continue;
      if (!first.has(b)) first.set(b, i);
      last.set(b, i);
    }
  });
  return [...first.keys()].map((b) => ({ buffer: b, first: first.get(b)!, last: last.get(b)!, bytes: p.buffers[b]!.size * byteSize(p.buffers[b]!.dtype) }));
}

/**
 * Whether map kernel `k` may write buffer `out` over `input` in place: every
 * load of `input` reads exactly the element its store writes (same map), so
 * each element is read before it is overwritten and never read again.
 */
function inPlaceSafe(k: MapKernel, input: number, out: number): boolean {
  if (k.stores.length !== 1 || k.stores[0]!.buffer !== out) return false;
  const store = k.stores[0]!.map;
  let ok = true;
  walkExpr(k.stores[0]!.value, (e) => {
    if (e.k === 'load' && e.buffer === input && (e.indirect || e.map.offset !== store.offset || e.map.strides.some((s, a) => s !== store.strides[a]))) ok = false;
  });
  return ok;
}

const align = (n: number) => Math.ceil(n / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;

/**
 * Packs every temporary into one arena by liveness: temporaries whose
 * lifetimes do not overlap share bytes; an elementwise kernel may write its
 * result over an operand that dies in it when the access is elementwise (in
 * place). Placement is greedy, largest first, at the lowest offset that
 * conflicts with no placed temporary. Returns the program with `arenaOffset`
 * on each temporary and `arenaBytes`, the plan's peak.
 */
export function planMemory(p: KernelProgram): KernelProgram {
  const lives = lifetimes(p);
  // Pairs allowed to overlap at their shared kernel: (dying operand, result written in place).
  const inPlace = new Set<string>();
  for (const l of lives) {
    const k = p.kernels[l.first];
    if (k?.kind !== 'map') continue;
    for (const other of lives) {
      if (other.buffer !== l.buffer && other.last === l.first && other.bytes === l.bytes && inPlaceSafe(k, other.buffer, l.buffer)) inPlace.add(`${other.buffer}:${l.buffer}`);
    }
  }
  const overlaps = (a: Lifetime, b: Lifetime) => a.first <= b.last && b.first <= a.last && !inPlace.has(`${a.buffer}:${b.buffer}`) && !inPlace.has(`${b.buffer}:${a.buffer}`);
  const placed: { life: Lifetime; offset: number }[] = [];
  const offsets = new Map<number, number>();
  for (const life of [...lives].sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
    const busy = placed.filter((q) => overlaps(q.life, life)).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const q of busy) {
      if (offset + life.bytes <= q.offset) break;
      offset = Math.max(offset, align(q.offset + q.life.bytes));
    }
    placed.push({ life, offset });
    offsets.set(life.buffer, offset);
  }
  const arenaBytes = placed.reduce((m, q) => Math.max(m, q.offset + q.life.bytes), 0);
  return {
    ...p,
    buffers: p.buffers.map((b, i) => (offsets.has(i) ? { ...b, arenaOffset: offsets.get(i)! } : b)),
    arenaBytes,
  };
}
