/**
 * Weights prepared once, when they are bound, instead of at every run.
 *
 * An f32 matmul whose B operand is a plain load of a parameter (a Linear
 * weight, read transposed, or a [k, n] matrix) reads B from panels packed
 * once: NR-column panels over the whole depth, panel j / NR at
 * region + j * k * 4, depth p of it at + p * NR * 4 (the layout emitPack
 * writes with kc = k), columns past n zero. The kernel then only packs A.
 * The executable packs them from the values it is given (packPanels), as
 * they are bound.
 *
 * A parameter read only that way needs no f32 buffer of its own: it is
 * "unstored", the panels are the weights' only copy. One read as int8
 * weights (quantized by the module's `prepN` from f32 values in memory)
 * and nothing else is "staged": every such parameter shares one staging
 * area, sized for the largest, over the arena of temporaries (dead between
 * runs, when weights are bound); binding one writes it there and runs its
 * preparations at once, before the next is written. Any other parameter
 * keeps its buffer (and its int8 preparations run before the next run
 * after it is bound).
 */
import type { BufferDecl, Expr, Kernel, KernelProgram, MatmulKernel } from '@tessera/kernel';
import { kernelReads, loadedBuffers } from '@tessera/kernel';
import { roundUp } from './kernel-common.ts';
import { NR } from './micro-kernel.ts';

/** A parameter packed into B panels, read by one or more f32 matmul kernels. */
export interface PackedB {
  readonly buffer: number;
  readonly n: number;
  readonly k: number;
  /** Where element (p, j) of B is in the parameter: offset + p * sp + j * sj. */
  readonly offset: number;
  readonly sj: number;
  readonly sp: number;
  /** Byte address of the packed panels (set when memory is laid out). */
  region: number;
}

/** Which kernels read prepared weights, and which parameters are unstored or staged. */
export interface WeightPlan {
  /** Kernel index -> its packed B (f32 matmuls only). */
  readonly packedB: ReadonlyMap<number, PackedB>;
  /** Every packed B, one per parameter and way of reading it. */
  readonly packs: readonly PackedB[];
  /** Parameters read only as packed f32 panels: no buffer of their own. */
  readonly unstored: ReadonlySet<number>;
  /** Parameters read as int8 weights (and maybe f32 panels), nothing else: their f32 values live in the staging area only while their preparations run. */
  readonly staged: ReadonlySet<number>;
}

/** Bytes of a packed B's panels. */
export function packedBytes(pb: PackedB): number {
  return roundUp(pb.n, NR) * pb.k * 4;
}

/**
 * Packs B's values (the parameter's array as bound) into its panels in
 * `memory` (an f32 view of the whole memory): element (p, j) of B, at
 * offset + p * sp + j * sj in `values`, to panel j / NR, row p, lane j % NR.
 * Panel by panel, row by row: the writes are contiguous.
 */
export function packPanels(pb: PackedB, values: Float32Array, memory: Float32Array): void {
  const { n, k, offset, sj, sp } = pb;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const lanes = Math.min(NR, n - j0);
    let to = pb.region / 4 + j0 * k;
    let row = offset + j0 * sj;
    for (let p = 0; p < k; p++, to += NR, row += sp) {
      for (let r = 0, from = row; r < lanes; r++, from += sj) memory[to + r] = values[from]!;
    }
  }
}

/** B as a plain f32 load of a parameter that does not vary with the batch axes or i: what can be packed once. */
function packableLoad(k: MatmulKernel, buffers: readonly BufferDecl[]): Extract<Expr, { k: 'load' }> | undefined {
  const e = k.readB;
  if (e.k !== 'load' || e.indirect || e.dtype !== 'f32' || buffers[e.buffer]?.role !== 'param') return undefined;
  const nb = k.batch.length;
  if (e.map.strides.slice(0, nb + 1).some((s) => s !== 0)) return undefined;
  return e;
}

/**
 * Plans the prepared weights of a program. `wasm(i)`: kernel i runs as
 * wasm; `int8Prepared(i)`: kernel i is an int8 matmul whose weights are
 * prepared when bound (its readB reads parameters only).
 */
export function planWeights(p: KernelProgram, wasm: (i: number) => boolean, int8Prepared: (i: number) => boolean): WeightPlan {
  const packedB = new Map<number, PackedB>();
  const packs: PackedB[] = [];
  p.kernels.forEach((k, i) => {
    if (k.kind !== 'matmul' || k.quant || !wasm(i)) return;
    const load = packableLoad(k, p.buffers);
    if (!load) return;
    const nb = k.batch.length;
    const read = { buffer: load.buffer, n: k.n, k: k.k, offset: load.map.offset, sj: load.map.strides[nb + 1]!, sp: load.map.strides[nb + 2]! };
    const same = (pb: PackedB) => pb.buffer === read.buffer && pb.n === read.n && pb.k === read.k && pb.offset === read.offset && pb.sj === read.sj && pb.sp === read.sp;
    const shared = packs.find(same);
    const pb = shared ?? { ...read, region: 0 };
    if (!shared) packs.push(pb);
    packedB.set(i, pb);
  });

  // Unstored or staged: every reader reads this parameter as prepared weights alone (an f32 pack or int8), nowhere else.
  const outputs = new Set(p.outputs.map((o) => o.buffer));
  const readers = new Map<number, number[]>();
  p.kernels.forEach((k, i) => {
    for (const b of kernelReads(k)) readers.set(b, [...(readers.get(b) ?? []), i]);
  });
  const readsOnlyAsB = (k: Kernel, b: number): boolean => {
    if (k.kind !== 'matmul') return false;
    const elsewhere = new Set<number>();
    for (const e of [k.readA, ...k.stores.map((s) => s.value)]) loadedBuffers(e, elsewhere);
    const inB = loadedBuffers(k.readB);
    return !elsewhere.has(b) && inB.size === 1 && inB.has(b);
  };
  const unstored = new Set<number>();
  const staged = new Set<number>();
  for (const [b, kernels] of readers) {
    if (p.buffers[b]!.role !== 'param' || p.buffers[b]!.dtype !== 'f32' || outputs.has(b)) continue;
    if (!kernels.every((i) => (packedB.has(i) || int8Prepared(i)) && readsOnlyAsB(p.kernels[i]!, b))) continue;
    if (kernels.some(int8Prepared)) staged.add(b);
    else unstored.add(b);
  }
  return { packedB, packs, unstored, staged };
}
