/**
 * The facts a memory plan rests on, and its verifier: when each temporary
 * holds a value, when a kernel may write one temporary over another (in
 * place), and whether a plan's arena offsets keep every live value intact.
 * The planner (passes) and the verifier share the liveness and in-place
 * rules but not the placement, so a placement bug is caught here.
 */
import { byteSize } from '@tessera/ir';
import { type IndexMap, walkExpr } from './expr.ts';
import { type Kernel, kernelBuffers, type KernelProgram, type MapKernel } from './kernel.ts';

/** Arena offsets are multiples of this many bytes (a SIMD vector, and WebGPU's storage offset alignment divides 256). */
export const ARENA_ALIGNMENT = 256;

/** The kernel interval during which a temporary holds a value. */
export interface Lifetime {
  readonly buffer: number;
  /** Index of the first kernel that touches it (its first writer, in a valid program). */
  readonly first: number;
  /** Index of the last kernel that reads it (or writes it, when never read). */
  readonly last: number;
  readonly bytes: number;
}

/** Lifetimes of every temporary from the kernel schedule, in order of first use. */
export function lifetimes(p: KernelProgram): Lifetime[] {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  p.kernels.forEach((k, i) => {
    for (const b of kernelBuffers(k)) {
      if (p.buffers[b]?.role !== 'temp') continue;
      if (!first.has(b)) first.set(b, i);
      last.set(b, i);
    }
  });
  return [...first.keys()].map((b) => ({ buffer: b, first: first.get(b)!, last: last.get(b)!, bytes: p.buffers[b]!.size * byteSize(p.buffers[b]!.dtype) }));
}

/**
 * Whether an affine map sends distinct points of `extents` to distinct
 * offsets. Sufficient test: with axes sorted by |stride|, each stride
 * exceeds the largest offset the smaller-stride axes can span (axes of
 * extent 1 do not count).
 */
export function mapIsInjective(map: IndexMap, extents: readonly number[]): boolean {
  const axes = map.strides.map((s, a) => ({ s: Math.abs(s), e: extents[a]! })).filter((x) => x.e > 1).sort((a, b) => a.s - b.s);
  let span = 0;
  for (const { s, e } of axes) {
    if (s <= span) return false;
    span += s * (e - 1);
  }
  return true;
}

/**
 * Whether map kernel `k` may write buffer `out` over buffer `input` (same
 * arena bytes, same element size): `out` is its only store, every point
 * writes a distinct element, and every load of `input` reads exactly the
 * element its point writes (same map, no gather), so each element of
 * `input` is read before it is overwritten and never read after.
 */
export function inPlaceSafe(p: KernelProgram, k: Kernel, input: number, out: number): k is MapKernel {
  if (k.kind !== 'map' || k.stores.length !== 1 || k.stores[0]!.buffer !== out) return false;
  const [a, b] = [p.buffers[input]!, p.buffers[out]!];
  if (byteSize(a.dtype) !== byteSize(b.dtype) || a.size !== b.size) return false;
  const store = k.stores[0]!.map;
  if (!mapIsInjective(store, k.shape)) return false;
  let ok = true;
  walkExpr(k.stores[0]!.value, (e) => {
    if (e.k === 'load' && e.buffer === input && (e.indirect || e.map.offset !== store.offset || e.map.strides.some((s, ax) => s !== store.strides[ax]))) ok = false;
  });
  return ok;
}

/**
 * Whether two temporaries may be placed at the same offset although both
 * are live at one kernel: one dies in the kernel that first writes the
 * other, in place.
 */
export function inPlacePair(p: KernelProgram, a: Lifetime, b: Lifetime): boolean {
  const [dying, born] = a.first <= b.first ? [a, b] : [b, a];
  return dying.last === born.first && dying.first < born.first && inPlaceSafe(p, p.kernels[born.first]!, dying.buffer, born.buffer);
}

const describe = (p: KernelProgram, l: Lifetime, offset: number) =>
  `%${p.buffers[l.buffer]!.name} (bytes ${offset}..${offset + l.bytes}, live in kernels ${p.kernels[l.first]!.name}..${p.kernels[l.last]!.name})`;

/**
 * Checks a program's memory plan: every arena offset aligned and inside
 * `arenaBytes`, and no two temporaries whose lifetimes overlap share a byte,
 * except an in-place pair at the same offset. Returns the problems found,
 * each naming the buffers involved (empty when the plan is sound or absent).
 */
export function verifyMemoryPlan(p: KernelProgram): string[] {
  const problems: string[] = [];
  const placed: { life: Lifetime; offset: number }[] = [];
  const byBuffer = new Map(lifetimes(p).map((l) => [l.buffer, l]));
  p.buffers.forEach((b, i) => {
    if (b.arenaOffset === undefined) return;
    if (b.role !== 'temp') return void problems.push(`memory plan: %${b.name} is ${b.role}, but only temporaries live in the arena`);
    const life = byBuffer.get(i) ?? { buffer: i, first: -1, last: -1, bytes: b.size * byteSize(b.dtype) };
    const end = b.arenaOffset + life.bytes;
    if (!Number.isSafeInteger(b.arenaOffset) || b.arenaOffset < 0 || b.arenaOffset % ARENA_ALIGNMENT !== 0) problems.push(`memory plan: %${b.name} has arena offset ${b.arenaOffset}, not a multiple of ${ARENA_ALIGNMENT}`);
    if (p.arenaBytes === undefined || end > p.arenaBytes) problems.push(`memory plan: %${b.name} ends at byte ${end}, beyond the arena's ${p.arenaBytes ?? 0} bytes`);
    if (life.first >= 0) placed.push({ life, offset: b.arenaOffset });
  });
  for (let x = 0; x < placed.length; x++) {
    for (let y = x + 1; y < placed.length; y++) {
      const [a, b] = [placed[x]!, placed[y]!];
      const liveTogether = a.life.first <= b.life.last && b.life.first <= a.life.last;
      const shareBytes = a.offset < b.offset + b.life.bytes && b.offset < a.offset + a.life.bytes;
      if (!liveTogether || !shareBytes) continue;
      if (a.offset === b.offset && inPlacePair(p, a.life, b.life)) continue;
      problems.push(`memory plan: ${describe(p, a.life, a.offset)} and ${describe(p, b.life, b.offset)} share bytes while both are live`);
    }
  }
  return problems;
}
