/**
 * What expression emitters need from the kernel being emitted: the function
 * under construction, the runtime library's function indices, where each
 * buffer lives, where each iteration axis is held, and the addresses of
 * affine loads and stores (with per-row bases hoisted out of inner loops).
 */
import { type DType, byteSize } from '@tessera/ir';
import type { FaultSlotLayout } from '../gather-fault-slots.ts';
import { type Expr, type IndexMap, walkExpr } from '@tessera/kernel';
import { type FunctionBuilder, I32 } from './binary.ts';
import { OP } from './opcodes.ts';

/** Function indices of the runtime library every module carries. */
export interface WasmLib {
  /** Imported f64 -> f64 math (Math.exp, ...), so scalar wasm matches the JS backend. */
  readonly exp: number;
  readonly log: number;
  readonly sin: number;
  readonly cos: number;
  readonly tanh: number;
  /** (f64, f64) -> f64, IEEE pow. */
  readonly pow: number;
  /** Module-defined f32x4 -> f32x4 approximations (see vmath.ts). */
  readonly vexp: number;
  readonly vtanh: number;
  /** Module-defined (i32, i32) -> i32 floor division and remainder that never trap (see intmath.ts). */
  readonly floorDiv: number;
  readonly mod: number;
  /** Module-defined erf, f64 -> f64 and f32x4 -> f32x4: the registry decomposition rendered once (see decomposed-functions.ts). */
  readonly erf: number;
  readonly verf: number;
}

/** Where an iteration axis's current value is: an i32 local, or a constant. */
export type AxisSource = { readonly local: number } | { readonly value: number };

/** Matmul cache blocking: rows, depth and columns per packed block, and the most bytes a thread keeps packed A in. */
export interface MatmulBlocking {
  readonly mc: number;
  readonly kc: number;
  readonly nc: number;
  /** Largest packed copy of A's rows x whole depth that a thread keeps for reuse (0: pack A for every block). */
  readonly packedA?: number;
  /** Depth slices when B was packed when bound (no block of B in scratch); default kc. */
  readonly kcPacked?: number;
}

/** Program-level facts emitters need. */
export interface ProgramFacts {
  readonly lib: WasmLib;
  /** Byte offset of each buffer in the memory. */
  readonly offsets: readonly number[];
  readonly dtypes: readonly DType[];
  /** Kernels with less work than this run on thread 0 alone (tests set 0 to split everything). */
  readonly minParallelWork: number;
  /** Threads the program runs on. */
  readonly threads: number;
  /** Matmul cache blocking (rows, depth and columns per packed block; packedA: see WASM_MATMUL_BLOCKING). */
  readonly blocking: MatmulBlocking;
  /** Byte address of this kernel's chunk counter (forEachChunk). */
  readonly counter: number;
  /** Where gathers record an index out of range (see GatherFaultSlots). */
  readonly faults: FaultSlotLayout;
}

function log2(n: number): number {
  return n > 0 && (n & (n - 1)) === 0 ? Math.log2(n) : -1;
}

/** Pushes `local * k` (i32), by a shift when k is a power of two. */
export function pushScaled(f: FunctionBuilder, push: () => void, k: number): void {
  push();
  if (k === 1) return;
  const s = log2(k);
  if (s > 0) f.i32(s).op(OP.i32_shl);
  else f.i32(k).op(OP.i32_mul);
}

/**
 * Computes byte addresses of affine accesses. Axes in `outer` are fixed for
 * a stretch of code (a row): `hoist` computes each access's base over those
 * axes once into a local, and `push` then adds only the inner axes' terms.
 */
export class Addresser {
  private readonly bases = new Map<string, number>();

  constructor(
    private readonly f: FunctionBuilder,
    private readonly facts: ProgramFacts,
    private readonly axes: readonly (AxisSource | undefined)[],
    private readonly outer: ReadonlySet<number> = new Set(),
  ) {}

  private key(buffer: number, map: IndexMap): string {
    return `${buffer}:${map.offset}:${map.strides.map((s, a) => (this.outer.has(a) ? s : '_')).join(',')}`;
  }

  /** Pushes the value of axis `a`. */
  axis(a: number): void {
    const src = this.axes[a];
    if (!src) throw new Error(`wasm emitter: axis ${a} has no value here`);
    if ('local' in src) this.f.get(src.local);
    else this.f.i32(src.value);
  }

  /** Emits base locals for every access in `exprs` and `stores` (call where the outer axes are set). */
  hoist(exprs: readonly Expr[], stores: readonly { buffer: number; map: IndexMap }[] = []): void {
    const visit = (buffer: number, map: IndexMap) => {
      const k = this.key(buffer, map);
      if (this.bases.has(k)) return;
      const l = this.f.local(I32);
      this.pushTerms(buffer, map, (a) => this.outer.has(a), true);
      this.f.set(l);
      this.bases.set(k, l);
    };
    for (const e of exprs) walkExpr(e, (x) => x.k === 'load' && visit(x.buffer, x.map));
    for (const s of stores) visit(s.buffer, s.map);
  }

  /** Pushes constant + sum of stride*axis terms over the axes `which` selects (in bytes). */
  private pushTerms(buffer: number, map: IndexMap, which: (a: number) => boolean, withConstant: boolean): void {
    const es = byteSize(this.facts.dtypes[buffer]!);
    let pushed = false;
    let constant = withConstant ? this.facts.offsets[buffer]! + map.offset * es : 0;
    map.strides.forEach((s, a) => {
      if (s === 0 || !which(a)) return;
      const src = this.axes[a];
      if (src && 'value' in src) {
        constant += src.value * s * es;
        return;
      }
      pushScaled(this.f, () => this.axis(a), s * es);
      if (pushed) this.f.op(OP.i32_add);
      pushed = true;
    });
    if (!pushed) this.f.i32(constant);
    else if (constant !== 0) this.f.i32(constant).op(OP.i32_add);
  }

  /** Pushes the byte address of `map` into `buffer` at the current point. */
  push(buffer: number, map: IndexMap): void {
    const base = this.bases.get(this.key(buffer, map));
    if (base === undefined) return this.pushTerms(buffer, map, () => true, true);
    const inner = map.strides.some((s, a) => s !== 0 && !this.outer.has(a));
    this.f.get(base);
    if (inner) {
      this.pushTerms(buffer, map, (a) => !this.outer.has(a), false);
      this.f.op(OP.i32_add);
    }
  }

  /** Whether the base of this access was hoisted (the inner part is then the only per-point work). */
  hoisted(buffer: number, map: IndexMap): number | undefined {
    return this.bases.get(this.key(buffer, map));
  }
}
