/**
 * Weights prepared once, when they are bound, instead of at every run.
 *
 * An f32 matmul whose B operand is a plain load of a parameter (a Linear
 * weight, read transposed, or a [k, n] matrix) reads B from panels packed
 * once: NR-column panels over the whole depth, panel j / NR at
 * region + j * k * 4, depth p of it at + p * NR * 4 (the layout emitPack
 * writes with kc = k), columns past n zero. The kernel then only packs A.
 *
 * The parameter's own f32 buffer is then needed only while it is packed:
 * every such parameter ("staged") shares one staging area, sized for the
 * largest, over the arena of temporaries (dead between runs, when weights
 * are bound). Binding one writes it there and runs its preparations at once
 * (see the executable), before the next is written; the packed panels (and
 * int8 weights' quantized panels) are the weights' only copy in memory.
 * A parameter is staged only when every kernel that reads it reads it as a
 * prepared B operand and nothing else; otherwise it keeps its own buffer
 * (and int8 preparations run before the next run after it is bound).
 */
import type { BufferDecl, Expr, Kernel, KernelProgram, MatmulKernel } from '@tessera/kernel';
import { kernelReads, loadedBuffers } from '@tessera/kernel';
import { roundUp } from './kernel-common.ts';
import { NR } from './micro-kernel.ts';

/** A parameter packed into B panels, read by one or more f32 matmul kernels. */
export interface PackedB {
  readonly buffer: number;
  /** The B load every reader shares (map along the kernel's j and p axes). */
  readonly load: Extract<Expr, { k: 'load' }>;
  /** The kernel the preparation's code is emitted from (any reader). */
  readonly kernel: number;
  readonly n: number;
  readonly k: number;
  /** Byte address of the packed panels (set when memory is laid out). */
  region: number;
}

/** Which kernels read prepared weights, and which parameters are staged. */
export interface WeightPlan {
  /** Kernel index -> its packed B (f32 matmuls only). */
  readonly packedB: ReadonlyMap<number, PackedB>;
  /** Every packed B, one per parameter and way of reading it. */
  readonly packs: readonly PackedB[];
  /** Parameters whose f32 values live in the staging area only while their preparations run. */
  readonly staged: ReadonlySet<number>;
}

/** Bytes of a packed B's panels. */
export function packedBytes(pb: PackedB): number {
  return roundUp(pb.n, NR) * pb.k * 4;
}

/** B as a plain f32 load of a parameter that does not vary with the batch axes or i: what can be packed once. */
function packableLoad(k: MatmulKernel, buffers: readonly BufferDecl[]): Extract<Expr, { k: 'load' }> | undefined {
  const e = k.readB;
  if (e.k !== 'load' || e.indirect || e.dtype !== 'f32' || buffers[e.buffer]?.role !== 'param') return undefined;
  const nb = k.batch.length;
  if (e.map.strides.slice(0, nb + 1).some((s) => s !== 0)) return undefined;
  return e;
}

const sameRead = (a: Extract<Expr, { k: 'load' }>, ka: MatmulKernel, b: Extract<Expr, { k: 'load' }>, kb: MatmulKernel) =>
  a.map.offset === b.map.offset &&
  a.map.strides[ka.batch.length + 1] === b.map.strides[kb.batch.length + 1] &&
  a.map.strides[ka.batch.length + 2] === b.map.strides[kb.batch.length + 2] &&
  ka.n === kb.n &&
  ka.k === kb.k;

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
    const shared = packs.find((pb) => pb.buffer === load.buffer && sameRead(pb.load, p.kernels[pb.kernel] as MatmulKernel, load, k));
    const pb = shared ?? { buffer: load.buffer, load, kernel: i, n: k.n, k: k.k, region: 0 };
    if (!shared) packs.push(pb);
    packedB.set(i, pb);
  });

  // Staged: every reader is a prepared B reading this parameter alone, and reads it nowhere else.
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
  const staged = new Set<number>();
  for (const [b, kernels] of readers) {
    if (p.buffers[b]!.role !== 'param' || p.buffers[b]!.dtype !== 'f32' || outputs.has(b)) continue;
    if (kernels.every((i) => (packedB.has(i) || int8Prepared(i)) && readsOnlyAsB(p.kernels[i]!, b))) staged.add(b);
  }
  return { packedB, packs, staged };
}
