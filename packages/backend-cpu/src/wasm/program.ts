/**
 * A kernel program as one WebAssembly module over one linear memory: the
 * memory plan (every buffer at a fixed, 64-byte aligned offset, the chunk
 * counters and gather fault slots, then one scratch area per thread), the runtime library, and one exported function
 * per kernel that has a wasm form. Kernels without one keep the JS
 * backend's code and run on views of the same memory.
 */
import { TesseraError, byteSize } from '@tessera/ir';
import { type BufferDecl, type Kernel, type KernelProgram, assertBufferElements, describeBuffer, formatBytes, gatherSites, legalizeKernel, siteNumbers } from '@tessera/kernel';
import { FAULT_SLOT_BYTES, faultSlotBytes } from '../gather-fault-slots.ts';
import { type JsKernelSource, emitJsKernel } from '../js/emit-kernel.ts';
import { F64, type FunctionBuilder, ModuleBuilder } from './binary.ts';
import { PARALLEL_MIN_WORK } from './kernel-common.ts';
import { emitAttentionKernel } from './attention-kernel.ts';
import { emitMapKernel } from './map-kernel.ts';
import { WASM_MATMUL_BLOCKING, emitMatmulKernel } from './matmul-kernel.ts';
import { type PackedB, type WeightPlan, packedBytes, planWeights } from './packed-weights.ts';
import { addMicroKernel } from './micro-kernel.ts';
import { type Int8Layout, addInt8MicroKernel, emitInt8Prepare, emitMatmulInt8Kernel, int8Layout, int8RegionBytes, weightBuffers } from './matmul-int8-kernel.ts';
import { relaxedSimdAvailable, relaxedSimdByDefault } from './relaxed-simd.ts';
import { emitReduceKernel } from './reduce-kernel.ts';
import { RUNTIME_IMPORT_SIGNATURES } from './runtime-imports.ts';
import { type MatmulBlocking, type ProgramFacts, type WasmLib } from './scope.ts';
import { WASM_SUPPORT } from './support.ts';
import { decomposedOnDemand } from './decomposed-functions.ts';
import { intMathOnDemand } from './intmath.ts';
import { addVectorMath } from './vmath.ts';

export { WASM_SUPPORT } from './support.ts';

/** How one kernel runs. */
export type WasmKernelPlan =
  | { readonly kind: 'wasm'; readonly name: string; readonly exportName: string }
  | { readonly kind: 'js'; readonly name: string; readonly source: JsKernelSource; readonly reason: string };

/** Where everything lives in the linear memory. */
export interface MemoryPlan {
  /** Byte offset of each buffer. */
  readonly offsets: readonly number[];
  /** Byte offset of thread 0's scratch area; thread t's is at scratchBase + t * scratchBytes. */
  readonly scratchBase: number;
  readonly scratchBytes: number;
  /** Byte offset of the chunk counters, one i32 per kernel, zeroed before every run (see forEachChunk). */
  readonly countersBase: number;
  /** Byte offset of the gather fault slots (see GatherFaultSlots), cleared before every run. */
  readonly faultsBase: number;
  readonly threads: number;
  /** Total size in 64 KiB pages. */
  readonly pages: number;
}

/** A compiled program: the module's bytes, its memory plan and how each kernel runs. */
export interface WasmProgram {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly memory: MemoryPlan;
  readonly shared: boolean;
  /** Whether the micro-kernel uses fused multiply-adds (relaxed SIMD). */
  readonly relaxedSimd: boolean;
  readonly kernels: readonly WasmKernelPlan[];
  /**
   * Int8 weights prepared when bound (see packed-weights.ts): the export
   * that quantizes and packs them, and the parameter buffers it reads. The
   * executable runs it before the first run after any of those buffers is
   * bound (setInputs, or a run given them anew), never at every run; for a
   * staged buffer, right after it is written.
   */
  readonly preparations: readonly { readonly exportName: string; readonly buffers: readonly number[] }[];
  /** f32 weights packed into panels when bound: the executable packs each from the values it is given. */
  readonly packs: readonly PackedB[];
  /** Parameters with no buffer of their own (read only through their packs): their views are empty. */
  readonly unstored: readonly number[];
  /** Parameters held in the shared staging area only until their preparations have run. */
  readonly staged: readonly number[];
}

/** Options of the wasm emitter. */
export interface WasmEmitOptions {
  /** Threads the program will run on (scratch areas are sized for them). */
  readonly threads: number;
  /** Kernel kinds to leave to the JS code (for tests and comparisons). */
  readonly jsKinds?: readonly Kernel['kind'][];
  /** Kernels with less work run on thread 0 alone (default PARALLEL_MIN_WORK; 0 splits every kernel, for tests). */
  readonly minParallelWork?: number;
  /** Matmul cache blocking (default WASM_MATMUL_BLOCKING; tests use tiny blocks to reach every edge with small shapes). */
  readonly blocking?: MatmulBlocking;
  /**
   * Fused multiply-adds (relaxed SIMD) in the matmul and attention
   * micro-kernel: by default where the engine has relaxed SIMD, unless env
   * TESSERA_WASM_RELAXED_SIMD is 0; false never; true where the engine
   * lacks it is an error.
   */
  readonly relaxedSimd?: boolean;
}

const ALIGN = 64;
const PAGE = 65536;
const align = (n: number, a = ALIGN) => Math.ceil(n / a) * a;
/** A wasm32 memory holds at most 65536 pages (4 GiB): every engine's limit too. */
export const WASM32_MAX_BYTES = 65536 * PAGE;
/** Who refuses a program too large for it. */
const BACKEND = 'cpu backend (wasm)';

/** The error for a memory plan over WASM32_MAX_BYTES, naming what takes the most. */
function memoryTooLarge(p: KernelProgram, total: number, scratch: number, threads: number): TesseraError {
  const bytes = (b: BufferDecl) => b.size * byteSize(b.dtype);
  const temps = p.buffers.filter((b) => b.arenaOffset !== undefined).sort((a, b) => bytes(b) - bytes(a));
  const parts = [
    ...p.buffers.filter((b) => b.arenaOffset === undefined).map((b) => ({ bytes: bytes(b), text: `buffer ${describeBuffer(b)}` })),
    ...(temps.length ? [{ bytes: p.arenaBytes ?? 0, text: `the arena of temporaries (its largest, ${describeBuffer(temps[0]!)}, ${formatBytes(bytes(temps[0]!))})` }] : []),
    { bytes: scratch * threads, text: `the kernels' scratch for ${threads} thread(s)` },
  ].sort((a, b) => b.bytes - a.bytes);
  const largest = parts.filter((x) => x.bytes > 0).slice(0, 3).map((x) => `${x.text}: ${formatBytes(x.bytes)}`);
  return new TesseraError(`${BACKEND}: program @${p.name} needs ${formatBytes(total)} of memory, more than the 4 GiB a wasm32 memory holds; the largest parts: ${largest.join('; ')}`);
}

/** A kernel's wasm function and the scratch bytes per thread it needs, or why it has none. */
type Emitted = { readonly fn: FunctionBuilder; readonly scratch: number } | { readonly reason: string };

/** What an int8 kernel needs besides the facts: its layout, micro-kernel, prepared-weights region and whether that is filled ahead of the runs. */
interface Int8Plan {
  readonly layout: Int8Layout;
  readonly micro: number;
  readonly region: number;
  readonly prepared: boolean;
}

function emitKernel(kernel: Kernel, facts: ProgramFacts, micro: number, int8?: Int8Plan, packedB?: number): Emitted {
  // Legalised first: ops without wasm code become their decompositions.
  const k = legalizeKernel(kernel, WASM_SUPPORT);
  switch (k.kind) {
    case 'map':
      return { fn: emitMapKernel(k, facts), scratch: 0 };
    case 'matmul':
      if (int8) return emitMatmulInt8Kernel(k, facts, int8.layout, int8.micro, int8.region, int8.prepared);
      return emitMatmulKernel(k, facts, micro, packedB);
    case 'reduce':
      return { fn: emitReduceKernel(k, facts), scratch: 0 };
    case 'attention':
      return emitAttentionKernel(k, facts, micro, facts.lib.vexp);
  }
}

/** Whether to emit relaxed SIMD: the option, else the default (relaxedSimdByDefault). */
function useRelaxedSimd(requested: boolean | undefined): boolean {
  if (requested === undefined) return relaxedSimdByDefault();
  if (requested && !relaxedSimdAvailable()) {
    throw new TesseraError('wasm: relaxedSimd: true, but this engine has no relaxed SIMD (Node 20 needs enableRelaxedSimd() or --experimental-wasm-relaxed-simd; Node 22, Chrome 114 and Firefox 120 have it)');
  }
  return requested;
}

/** Emits the wasm module of a kernel program. */
export function emitWasmProgram(p: KernelProgram, options: WasmEmitOptions): WasmProgram {
  // Kernels index elements with i32 arithmetic: no buffer may have more than 2^31 - 1 elements.
  assertBufferElements(p, BACKEND);
  const threads = Math.max(1, Math.floor(options.threads));
  // Address 0 stays unused. Temporaries the memory plan placed share one arena (their lifetimes
  // do not overlap, or an elementwise kernel writes in place); every other buffer has its own bytes.
  const arenaBase = 256;
  // Weights packed or quantized when bound; the parameters only they read share one staging area.
  const relaxedSimd = useRelaxedSimd(options.relaxedSimd);
  const roles = p.buffers.map((b) => b.role);
  const wasm = (i: number) => !options.jsKinds?.includes(p.kernels[i]!.kind);
  const int8Prepared = (i: number) => {
    const k = p.kernels[i]!;
    return k.kind === 'matmul' && !!k.quant && wasm(i) && weightBuffers(k, roles) !== undefined;
  };
  const weights: WeightPlan = planWeights(p, wasm, int8Prepared);
  const stagingBytes = Math.max(0, ...[...weights.staged].map((b) => p.buffers[b]!.size * byteSize(p.buffers[b]!.dtype)));
  // Staging is used between runs only, when no temporary is live: it shares the arena's bytes.
  let end = align(arenaBase + Math.max(p.arenaBytes ?? 0, stagingBytes));
  const offsets = p.buffers.map((b, i) => {
    if (b.arenaOffset !== undefined) return arenaBase + b.arenaOffset;
    if (weights.staged.has(i) || weights.unstored.has(i)) return arenaBase;
    const at = end;
    end = align(end + b.size * byteSize(b.dtype));
    return at;
  });
  const shared = threads > 1;
  const m = new ModuleBuilder();
  const sig = new Map<string, number>();
  for (const { name, arity } of RUNTIME_IMPORT_SIGNATURES) {
    sig.set(name, m.importFunc('m', name, arity === 2 ? [F64, F64] : [F64], [F64]));
  }
  // The memory size is only known after the kernels (scratch); imports are encoded at the end, so set it then.
  // Getters, not a spread: the integer division functions are added only when a kernel calls them.
  const intMath = intMathOnDemand(m);
  // Rendered with the program's facts (declared below) when a kernel first calls them.
  const decomposed = decomposedOnDemand(m, () => facts);
  const lib: WasmLib = {
    ...(Object.fromEntries(sig) as Omit<WasmLib, 'vexp' | 'vtanh' | 'floorDiv' | 'mod' | 'erf' | 'verf'>),
    ...addVectorMath(m),
    get floorDiv() {
      return intMath.floorDiv;
    },
    get mod() {
      return intMath.mod;
    },
    get erf() {
      return decomposed.erf;
    },
    get verf() {
      return decomposed.verf;
    },
  };
  const micro = addMicroKernel(m, relaxedSimd);
  // Int8 kernels: one micro-kernel per layout, 7-bit operand and row length, and a region of prepared weights each, after the buffers.
  const int8Micros = new Map<string, number>();
  const int8Plans = p.kernels.map((k, i): Int8Plan | undefined => {
    if (k.kind !== 'matmul' || !k.quant) return undefined;
    const layout = int8Layout(k, relaxedSimd);
    const key = `${layout.relaxed}:${layout.offset}:${layout.rowBytes}`;
    if (!int8Micros.has(key)) int8Micros.set(key, addInt8MicroKernel(m, layout));
    const region = end;
    end = align(end + int8RegionBytes(k, layout));
    return { layout, micro: int8Micros.get(key)!, region, prepared: int8Prepared(i) };
  });
  for (const pb of weights.packs) {
    pb.region = end;
    end = align(end + packedBytes(pb));
  }
  const countersBase = end;
  end = align(end + 4 * p.kernels.length);
  const sites = siteNumbers(gatherSites(p));
  const faults = { base: end, threadBytes: sites.size * FAULT_SLOT_BYTES, sites };
  end = align(end + faultSlotBytes(p, threads));
  const facts: ProgramFacts = {
    lib, offsets, dtypes: p.buffers.map((b) => b.dtype), minParallelWork: options.minParallelWork ?? PARALLEL_MIN_WORK, threads,
    blocking: options.blocking ?? WASM_MATMUL_BLOCKING, counter: countersBase, faults,
  };
  let scratchBytes = 0;
  const kernels: WasmKernelPlan[] = p.kernels.map((k, i) => {
    const jsReason = options.jsKinds?.includes(k.kind) ? `${k.kind} kernels left to JS by option` : undefined;
    const e: Emitted = jsReason ? { reason: jsReason } : emitKernel(k, { ...facts, counter: countersBase + 4 * i }, micro, int8Plans[i], weights.packedB.get(i)?.region);
    if ('reason' in e) return { kind: 'js', name: k.name, source: emitJsKernel(k), reason: e.reason };
    const exportName = `k${i}`;
    m.addFunc(e.fn, exportName);
    scratchBytes = Math.max(scratchBytes, align(e.scratch));
    return { kind: 'wasm', name: k.name, exportName };
  });
  const preparations: WasmProgram['preparations'][number][] = [];
  p.kernels.forEach((k, i) => {
    const plan = int8Plans[i];
    if (!plan?.prepared || k.kind !== 'matmul' || kernels[i]!.kind !== 'wasm') return;
    const prep = emitInt8Prepare(legalizeKernel(k, WASM_SUPPORT) as typeof k, facts, plan.layout, plan.region);
    m.addFunc(prep.fn, `prep${i}`);
    scratchBytes = Math.max(scratchBytes, align(prep.scratch));
    preparations.push({ exportName: `prep${i}`, buffers: weightBuffers(k, roles)! });
  });
  const scratchBase = end;
  end += scratchBytes * threads;
  // Checked here, before the executable allocates the memory.
  if (end > WASM32_MAX_BYTES) throw memoryTooLarge(p, end, scratchBytes, threads);
  const pages = Math.max(1, Math.ceil(end / PAGE));
  m.importMemory('env', 'memory', pages, shared ? pages : undefined, shared);
  return { bytes: m.encode(), memory: { offsets, scratchBase, scratchBytes, countersBase, faultsBase: faults.base, threads, pages }, shared, relaxedSimd, kernels, preparations, packs: weights.packs, unstored: [...weights.unstored], staged: [...weights.staged] };
}
