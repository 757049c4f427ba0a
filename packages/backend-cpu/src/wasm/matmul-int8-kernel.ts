/**
 * The int8 matmul in wasm (MatmulKernel.quant, the graph's matmul_int8):
 * integer SIMD dot products on quantized panels.
 *
 * Two layouts, chosen when the module is emitted:
 * - relaxed (the engine has relaxed SIMD, and weightMax or activationMax is
 *   at most 63): `i16x8.relaxed_dot_i8x16_i7x16_s`, then its
 *   pair sums widened (`i32x4.dot_i16x8_s` with ones) and an add. The operand bounded by 63 is
 *   the 7-bit one, offset by 64 (q + 64 in [1, 127]), so it never has its
 *   top bit set and every engine gives the same sums (x86's pmaddubsw reads
 *   that operand unsigned, arm's sdot signed; the i16 pair sums stay within
 *   2 * 127 * 127 < 2^15, so none saturates). The offset adds 64 * (sum of
 *   the other operand's integers) to each sum: per column (64 * colsum(qb))
 *   or per row (64 * rowsum(qa)), subtracted in the epilogue. Depth groups
 *   of 4 (one i32 lane is 4 products). Not the fused
 *   `i32x4.relaxed_dot_i8x16_i7x16_add_s`: Node 20's V8 (11.3, relaxed SIMD
 *   behind a flag) computed rows 2 and 3 of the 4 x 8 block wrong with it.
 * - i16: `i32x4.dot_i16x8_s`, values widened to i16, depth groups of 2.
 *
 * Weights (readB, quantized per column) are packed into NR-column panels:
 * per depth group, NR words (a word = one column's group of values), so one
 * v128 load gives 4 columns and a 4-byte splat of an activation row's group
 * multiplies all 4. When readB reads parameters only, the panels, scales
 * and column sums are prepared once, when the weights are bound, by the
 * program's exported `prepN` function (see the executable); otherwise each
 * chunk prepares its own columns at every run. Activations (readA) are
 * quantized per row into the thread's scratch once per run (batch entry).
 *
 * Threads take chunks of NR-wide column panels. The micro-kernel holds an
 * MR x NR block of i32 sums over the whole depth in 8 registers; the
 * epilogue reads them dequantized: acc = f32(sum - correction) * sa * sb.
 */
import { INT8_SEVEN_BIT_MAX, numel } from '@tessera/ir';
import { type BufferRole, type Expr, type MatmulKernel, loadedBuffers } from '@tessera/kernel';
import { F32, FunctionBuilder, I32, type ModuleBuilder, V128 } from './binary.ts';
import { SCRATCH, align64, decompose, forEachChunk, kernelFunction, onlyThreadZero, roundUp, setMin } from './kernel-common.ts';
import { emitBlockEpilogue } from './matmul-kernel.ts';
import { OP, SIMD } from './opcodes.ts';
import { WasmScalarRenderer } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';

/** Register block of the int8 micro-kernel: 4 rows x 8 columns = 8 i32x4 accumulators. */
const MR = 4;
const NR = 8;
/** Rows and columns of one C block (i32 sums in scratch) before its epilogue runs. */
const MC = 64;
const NC = 256;
/** The activation offset of the relaxed layout (qa + 64 in [1, 127]). */
const OFFSET = 64;
/** Column chunks per thread (dynamic schedule, as the f32 matmul's column split). */
const CHUNKS_PER_THREAD = 8;

/** How an int8 kernel's operands are laid out (see the module comment). */
export interface Int8Layout {
  readonly relaxed: boolean;
  /** Relaxed: the operand offset by 64 into 7 bits: 'b' the weights, 'a' the activations. */
  readonly offset: 'a' | 'b';
  /** Depth steps per group (per i32 lane). */
  readonly group: 2 | 4;
  /** Bytes per quantized value. */
  readonly elem: 1 | 2;
  /** Depth padded to a multiple of 16 bytes of values. */
  readonly kpad: number;
  /** Bytes of one quantized row (kpad * elem). */
  readonly rowBytes: number;
}

/** The layout of an int8 kernel: relaxed where the engine has relaxed SIMD and the activations fit 7 bits. */
export function int8Layout(k: MatmulKernel, relaxedSimd: boolean): Int8Layout {
  const { activationMax, weightMax } = k.quant!;
  const offset = weightMax <= INT8_SEVEN_BIT_MAX ? 'b' : 'a';
  const relaxed = relaxedSimd && Math.min(activationMax, weightMax) <= INT8_SEVEN_BIT_MAX;
  const elem = relaxed ? 1 : 2;
  const kpad = roundUp(k.k, 16 / elem);
  return { relaxed, offset, group: relaxed ? 4 : 2, elem, kpad, rowBytes: kpad * elem };
}

/** Bytes of the prepared-weights region of a kernel: per batch entry, the panels, then the scales, then the column corrections. */
export function int8RegionBytes(k: MatmulKernel, layout: Int8Layout): number {
  return numel(k.batch) * perBatchBytes(k, layout);
}

function perBatchBytes(k: MatmulKernel, L: Int8Layout): number {
  const npad = roundUp(k.n, NR);
  return align64(npad * L.rowBytes + npad * 8);
}

/** The micro-kernel of a layout and row length: micro(pa, pb, c, ldc, groups) writes the MR x NR i32 sums at c (row stride ldc bytes). */
export function addInt8MicroKernel(m: ModuleBuilder, L: Int8Layout): number {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32], []);
  const [pa, pb, c, ldc, groups] = [0, 1, 2, 3, 4];
  const NV = NR / 4;
  const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, () => f.local(V128)));
  const b = Array.from({ length: NV }, () => f.local(V128));
  const a = f.local(V128);
  const end = f.local(I32);
  // Pair sums of the i16 products widened by a dot product with ones (as extadd_pairwise does): V8 keeps the ones
  // in a register, where its extadd_pairwise reads a constant from memory through an address it loads each time.
  const ones = f.local(V128);
  f.i32x4(0x00010001).set(ones);
  acc.forEach((row) => row.forEach((l) => f.i32x4(0).set(l)));
  f.get(groups).i32(NR * 4).op(OP.i32_mul).get(pb).op(OP.i32_add).set(end);
  f.block((exit) => {
    f.get(pb).get(end).op(OP.i32_ge_u).brIf(exit);
    f.loop((top) => {
      b.forEach((l, v) => f.get(pb).simdMem(SIMD.v128_load, 4, v * 16).set(l));
      for (let r = 0; r < MR; r++) {
        f.get(pa).simdMem(SIMD.v128_load32_splat, 2, r * L.rowBytes).set(a);
        for (let v = 0; v < NV; v++) {
          // The second operand of the relaxed dot is the 7-bit one.
          if (L.relaxed && L.offset === 'a') f.get(acc[r]![v]!).get(b[v]!).get(a).simd(SIMD.i16x8_relaxed_dot_i8x16_i7x16_s).get(ones).simd(SIMD.i32x4_dot_i16x8_s).simd(SIMD.i32x4_add).set(acc[r]![v]!);
          else if (L.relaxed) f.get(acc[r]![v]!).get(a).get(b[v]!).simd(SIMD.i16x8_relaxed_dot_i8x16_i7x16_s).get(ones).simd(SIMD.i32x4_dot_i16x8_s).simd(SIMD.i32x4_add).set(acc[r]![v]!);
          else f.get(acc[r]![v]!).get(b[v]!).get(a).simd(SIMD.i32x4_dot_i16x8_s).simd(SIMD.i32x4_add).set(acc[r]![v]!);
        }
      }
      f.get(pa).i32(4).op(OP.i32_add).set(pa);
      f.get(pb).i32(NR * 4).op(OP.i32_add).set(pb);
      f.get(pb).get(end).op(OP.i32_lt_u).brIf(top);
    });
  });
  f.get(c).set(end);
  for (let r = 0; r < MR; r++) {
    acc[r]!.forEach((l, v) => f.get(end).get(l).simdMem(SIMD.v128_store, 4, v * 16));
    if (r < MR - 1) f.get(end).get(ldc).op(OP.i32_add).set(end);
  }
  return m.addFunc(f);
}

/** Scratch layout of one thread: an f32 line, one quantized line, the quantized A rows, their scales and (weights offset) 64 * row sums, the C block. */
function scratchLayout(k: MatmulKernel, L: Int8Layout): { line: number; qline: number; qa: number; sa: number; ca: number; c: number; bytes: number } {
  const mpad = roundUp(k.m, MR);
  const line = 0;
  const qline = align64(line + L.kpad * 4);
  const qa = align64(qline + L.rowBytes);
  const sa = align64(qa + mpad * L.rowBytes);
  const ca = align64(sa + mpad * 4);
  const c = align64(ca + mpad * 4);
  return { line, qline, qa, sa, ca, c, bytes: align64(c + MC * NC * 4) };
}

/** Pushes 64 * (the sum of the i8 integers of a quantized line at local `q`, rowBytes long): the offset's correction. */
function emitOffsetCorrection(f: FunctionBuilder, L: Int8Layout, q: number): void {
  const g = f.local(I32);
  const sum = f.local(V128);
  f.i32x4(0).set(sum);
  f.for(g, () => f.i32(0), () => f.i32(L.rowBytes), 16, () => {
    f.get(sum).get(q).get(g).op(OP.i32_add).simdMem(SIMD.v128_load, 4);
    f.simd(SIMD.i16x8_extadd_pairwise_i8x16_s).simd(SIMD.i32x4_extadd_pairwise_i16x8_s).simd(SIMD.i32x4_add).set(sum);
  });
  [0, 1, 2, 3].forEach((lane, t) => {
    f.get(sum).simdLane(SIMD.i32x4_extract_lane, lane);
    if (t) f.op(OP.i32_add);
  });
  f.i32(OFFSET).op(OP.i32_mul);
}

/** A plain f32 load contiguous along the depth axis (the fast path of a line), or undefined. */
function contiguousLoad(e: Expr, depthAxis: number): { buffer: number; map: Extract<Expr, { k: 'load' }>['map'] } | undefined {
  return e.k === 'load' && !e.indirect && e.dtype === 'f32' && e.map.strides[depthAxis] === 1 ? { buffer: e.buffer, map: e.map } : undefined;
}

/**
 * Quantizes one line of `value` along the depth axis (the others as `axes`
 * give them) with bound `qmax`: the values (rounded to f32) into the f32
 * line at local `line`, zero-padded to kpad; the largest |value|; the scale
 * f32(absMax / qmax) into local `scale`; the integers, clamped, into the
 * quantized line at local `dst` (offset by 64 when `offset`).
 */
function emitQuantizeLine(
  f: FunctionBuilder,
  facts: ProgramFacts,
  k: MatmulKernel,
  L: Int8Layout,
  s: { value: Expr; axes: readonly (AxisSource | undefined)[]; depthAxis: number; qmax: number; offset: boolean; line: number; dst: number; scale: number },
): void {
  const p = f.local(I32);
  const axes = [...s.axes];
  axes[s.depthAxis] = { local: p };
  const addr = new Addresser(f, facts, axes);
  const load = contiguousLoad(s.value, s.depthAxis);
  const k4 = k.k & ~3;
  const element = () => {
    f.get(s.line).get(p).i32(2).op(OP.i32_shl, OP.i32_add);
    if (load) {
      addr.push(load.buffer, load.map);
      f.mem(OP.f32_load, 2);
    } else {
      const ex = new WasmScalarRenderer(f, facts, addr, (name) => {
        throw new Error(`wasm emitter: int8 matmul prologue refers to '${name}'`);
      });
      ex.count(s.value);
      ex.emit(s.value);
      f.op(OP.f32_demote_f64);
    }
    f.mem(OP.f32_store, 2);
  };
  if (load) {
    const base = f.local(I32);
    f.i32(0).set(p);
    addr.push(load.buffer, load.map);
    f.set(base);
    f.for(p, () => f.i32(0), () => f.i32(k4), 4, () => {
      f.get(s.line).get(p).i32(2).op(OP.i32_shl, OP.i32_add);
      f.get(base).get(p).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2);
      f.simdMem(SIMD.v128_store, 2);
    });
    f.for(p, () => f.i32(k4), () => f.i32(k.k), 1, element);
  } else f.for(p, () => f.i32(0), () => f.i32(k.k), 1, element);
  f.for(p, () => f.i32(k.k), () => f.i32(L.kpad), 1, () => f.get(s.line).get(p).i32(2).op(OP.i32_shl, OP.i32_add).f32(0).mem(OP.f32_store, 2));

  // The largest |value|: f32x4.max keeps a NaN, so a NaN anywhere makes the scale NaN.
  const m = f.local(V128);
  f.f32x4(0).set(m);
  f.for(p, () => f.i32(0), () => f.i32(L.kpad), 4, () => {
    f.get(m).get(s.line).get(p).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2).simd(SIMD.f32x4_abs).simd(SIMD.f32x4_max).set(m);
  });
  f.get(m).simdLane(SIMD.f32x4_extract_lane, 0).get(m).simdLane(SIMD.f32x4_extract_lane, 1).op(OP.f32_max);
  f.get(m).simdLane(SIMD.f32x4_extract_lane, 2).get(m).simdLane(SIMD.f32x4_extract_lane, 3).op(OP.f32_max).op(OP.f32_max);
  f.f32(s.qmax).op(OP.f32_div).set(s.scale);

  // q = clamp(nearest(v / scale)), NaN -> 0 (trunc_sat): 16 bytes of integers per step.
  const sv = f.local(V128);
  f.get(s.scale).simd(SIMD.f32x4_splat).set(sv);
  const lanes = 16 / L.elem;
  const quad = (t: number) => {
    f.get(s.line).get(p).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2, t * 16);
    f.get(sv).simd(SIMD.f32x4_div).simd(SIMD.f32x4_nearest).simd(SIMD.i32x4_trunc_sat_f32x4_s);
    f.i32x4(s.qmax).simd(SIMD.i32x4_min_s).i32x4(-s.qmax).simd(SIMD.i32x4_max_s);
  };
  f.for(p, () => f.i32(0), () => f.i32(L.kpad), lanes, () => {
    f.get(s.dst).get(p).i32(L.elem - 1).op(OP.i32_shl, OP.i32_add);
    if (L.elem === 2) {
      quad(0);
      quad(1);
      f.simd(SIMD.i16x8_narrow_i32x4_s);
    } else {
      quad(0);
      quad(1);
      f.simd(SIMD.i16x8_narrow_i32x4_s);
      quad(2);
      quad(3);
      f.simd(SIMD.i16x8_narrow_i32x4_s);
      f.simd(SIMD.i8x16_narrow_i16x8_s);
      if (s.offset) f.i32(OFFSET).simd(SIMD.i8x16_splat).simd(SIMD.i8x16_add);
    }
    f.simdMem(SIMD.v128_store, 4);
  });
}

/** Locals and addresses shared by the pieces of one int8 kernel. */
interface Int8Emit {
  readonly f: FunctionBuilder;
  readonly facts: ProgramFacts;
  readonly k: MatmulKernel;
  readonly L: Int8Layout;
  readonly batchLocals: readonly number[];
  /** Local: byte address of this batch entry's prepared weights (panels, then scales at +npad*rowBytes, corrections after). */
  readonly region: number;
  /** Locals: this thread's f32 line and quantized line. */
  readonly line: number;
  readonly qline: number;
}

const sbOffset = (k: MatmulKernel, L: Int8Layout) => roundUp(k.n, NR) * L.rowBytes;
const corrOffset = (k: MatmulKernel, L: Int8Layout) => sbOffset(k, L) + roundUp(k.n, NR) * 4;

/** Prepares weight columns [j0, j1) of the current batch entry: quantized, packed into panels, scales and (relaxed) 64 * column sums. */
function emitPrepareColumns(e: Int8Emit, j0: number, j1: number): void {
  const { f, k, L } = e;
  const nb = k.batch.length;
  const j = f.local(I32);
  const g = f.local(I32);
  const scale = f.local(F32);
  const to = f.local(I32);
  const axes: (AxisSource | undefined)[] = [...e.batchLocals.map((local) => ({ local })), { value: 0 }, { local: j }, undefined];
  f.for(j, () => f.get(j0), () => f.get(j1), 1, () => {
    emitQuantizeLine(f, e.facts, k, L, { value: k.readB, axes, depthAxis: nb + 2, qmax: k.quant!.weightMax, offset: L.relaxed && L.offset === 'b', line: e.line, dst: e.qline, scale });
    f.get(e.region).get(j).i32(2).op(OP.i32_shl, OP.i32_add).get(scale).mem(OP.f32_store, 2, sbOffset(k, L));
    // Column j's word of group g goes to panel j / NR at g * NR * 4 + (j % NR) * 4.
    f.get(e.region).get(j).i32(-NR).op(OP.i32_and).i32(L.rowBytes).op(OP.i32_mul, OP.i32_add);
    f.get(j).i32(NR - 1).op(OP.i32_and).i32(2).op(OP.i32_shl, OP.i32_add).set(to);
    f.for(g, () => f.i32(0), () => f.i32(L.kpad / L.group), 1, () => {
      f.get(to).get(e.qline).get(g).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.i32_load, 2).mem(OP.i32_store, 2);
      f.get(to).i32(NR * 4).op(OP.i32_add).set(to);
    });
    if (L.relaxed && L.offset === 'a') {
      f.get(e.region).get(j).i32(2).op(OP.i32_shl, OP.i32_add);
      emitOffsetCorrection(f, L, e.qline);
      f.mem(OP.i32_store, 2, corrOffset(k, L));
    }
  });
}

/** Quantizes the rows of A of the current batch entry into the thread's scratch (qa rows, sa scales, ca corrections when the weights are offset). */
function emitQuantizeRows(e: Int8Emit, qa: number, sa: number, ca: number): void {
  const { f, k, L } = e;
  const nb = k.batch.length;
  const i = f.local(I32);
  const scale = f.local(F32);
  const dst = f.local(I32);
  const axes: (AxisSource | undefined)[] = [...e.batchLocals.map((local) => ({ local })), { local: i }, { value: 0 }, undefined];
  f.for(i, () => f.i32(0), () => f.i32(k.m), 1, () => {
    f.get(qa).get(i).i32(L.rowBytes).op(OP.i32_mul, OP.i32_add).set(dst);
    emitQuantizeLine(f, e.facts, k, L, { value: k.readA, axes, depthAxis: nb + 2, qmax: k.quant!.activationMax, offset: L.relaxed && L.offset === 'a', line: e.line, dst, scale });
    f.get(sa).get(i).i32(2).op(OP.i32_shl, OP.i32_add).get(scale).mem(OP.f32_store, 2);
    if (L.relaxed && L.offset === 'b') {
      f.get(ca).get(i).i32(2).op(OP.i32_shl, OP.i32_add);
      emitOffsetCorrection(f, L, dst);
      f.mem(OP.i32_store, 2);
    }
  });
}

/** The parameters a kernel's weights are read from, when it reads nothing else (then they are prepared once, when bound); else undefined. */
export function weightBuffers(k: MatmulKernel, roles: readonly BufferRole[]): number[] | undefined {
  const read = new Set<number>();
  loadedBuffers(k.readB, read);
  return read.size > 0 && [...read].every((b) => roles[b] === 'param') ? [...read] : undefined;
}

/** Emits `prepN`: every weight column of every batch entry, into the region at `regionBase` (run once when the weights are bound). */
export function emitInt8Prepare(k: MatmulKernel, facts: ProgramFacts, L: Int8Layout, regionBase: number): { fn: FunctionBuilder; scratch: number } {
  const f = kernelFunction();
  const S = scratchLayout(k, L);
  const batchLocals = k.batch.map(() => f.local(I32));
  const [bi, region, line, qline, j0, j1] = f.locals(I32, 6);
  const e: Int8Emit = { f, facts, k, L, batchLocals, region, line, qline };
  onlyThreadZero(f);
  f.get(SCRATCH).i32(S.line).op(OP.i32_add).set(line);
  f.get(SCRATCH).i32(S.qline).op(OP.i32_add).set(qline);
  f.i32(0).set(j0);
  f.i32(k.n).set(j1);
  f.for(bi, () => f.i32(0), () => f.i32(numel(k.batch)), 1, () => {
    decompose(f, bi, k.batch, batchLocals);
    f.get(bi).i32(perBatchBytes(k, L)).op(OP.i32_mul).i32(regionBase).op(OP.i32_add).set(region);
    emitPrepareColumns(e, j0, j1);
  });
  return { fn: f, scratch: S.bytes };
}

/** Emits an int8 matmul kernel; returns the function and its scratch bytes per thread. */
export function emitMatmulInt8Kernel(k: MatmulKernel, facts: ProgramFacts, L: Int8Layout, micro: number, regionBase: number, prepared: boolean): { fn: FunctionBuilder; scratch: number } {
  const f = kernelFunction();
  const nb = k.batch.length;
  const batchTotal = numel(k.batch);
  const S = scratchLayout(k, L);
  const mcMax = Math.min(MC, roundUp(facts.blocking.mc, MR));
  const ncMax = Math.min(NC, roundUp(facts.blocking.nc, NR));
  const batchLocals = k.batch.map(() => f.local(I32));
  const [bi, region, line, qline, qa, sa, ca, cb, j0, j1, haveA] = f.locals(I32, 11);
  const [jc, nc, ic, mc, jr, ir] = f.locals(I32, 6);
  const e: Int8Emit = { f, facts, k, L, batchLocals, region, line, qline };
  const at = (local: number, offset: number) => f.get(SCRATCH).i32(offset).op(OP.i32_add).set(local);
  at(line, S.line);
  at(qline, S.qline);
  at(qa, S.qa);
  at(sa, S.sa);
  at(ca, S.ca);
  at(cb, S.c);
  f.i32(0).set(haveA);
  const parallel = batchTotal * k.m * k.n * k.k >= facts.minParallelWork;
  if (!parallel) onlyThreadZero(f);
  const body = () => {
    f.for(bi, () => f.i32(0), () => f.i32(batchTotal), 1, () => {
      decompose(f, bi, k.batch, batchLocals);
      f.get(bi).i32(perBatchBytes(k, L)).op(OP.i32_mul).i32(regionBase).op(OP.i32_add).set(region);
      if (!prepared) emitPrepareColumns(e, j0, j1);
      // A's rows are quantized once per run by each thread (batch entry by batch entry when there are several).
      const quantizeA = () => emitQuantizeRows(e, qa, sa, ca);
      if (batchTotal === 1) {
        f.get(haveA).op(OP.i32_eqz).if(quantizeA);
        f.i32(1).set(haveA);
      } else quantizeA();
      f.for(jc, () => f.get(j0), () => f.get(j1), ncMax, () => {
        setMin(f, nc, () => f.i32(ncMax), () => f.get(j1).get(jc).op(OP.i32_sub));
        f.for(ic, () => f.i32(0), () => f.i32(k.m), mcMax, () => {
          setMin(f, mc, () => f.i32(mcMax), () => f.i32(k.m).get(ic).op(OP.i32_sub));
          f.for(jr, () => f.i32(0), () => f.get(nc), NR, () => {
            f.for(ir, () => f.i32(0), () => f.get(mc), MR, () => {
              f.get(qa).get(ic).get(ir).op(OP.i32_add).i32(L.rowBytes).op(OP.i32_mul, OP.i32_add);
              f.get(region).get(jc).get(jr).op(OP.i32_add).i32(L.rowBytes).op(OP.i32_mul, OP.i32_add);
              f.get(cb).get(ir).i32(ncMax * 4).op(OP.i32_mul, OP.i32_add).get(jr).i32(2).op(OP.i32_shl, OP.i32_add);
              f.i32(ncMax * 4);
              f.i32(L.kpad / L.group);
              f.call(micro);
            });
          });
          emitInt8Epilogue(e, { ic, mc, jc, nc, cb, sa, ca, ldc: ncMax * 4 });
        });
      });
    });
  };
  if (parallel) forEachChunk(f, facts.counter, k.n, NR, j0, j1, body, CHUNKS_PER_THREAD);
  else {
    f.i32(0).set(j0);
    f.i32(k.n).set(j1);
    body();
  }
  return { fn: f, scratch: S.bytes };
}

/** The stores over a finished C block (rows ic..ic+mc, columns jc..jc+nc), `acc` dequantized from its i32 sums. */
function emitInt8Epilogue(e: Int8Emit, b: { ic: number; mc: number; jc: number; nc: number; cb: number; sa: number; ca: number; ldc: number }): void {
  const { f, k, L } = e;
  const rowScale = f.local(F32);
  const rowCorr = f.local(I32);
  const columnAt = (j: number) => f.get(e.region).get(j).i32(2).op(OP.i32_shl, OP.i32_add);
  emitBlockEpilogue(f, e.facts, k, { batchLocals: e.batchLocals, ic: b.ic, mc: b.mc, jc: b.jc, nc: b.nc, cb: b.cb, ldc: b.ldc }, {
    row: (i) => {
      f.get(b.sa).get(i).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.f32_load, 2).set(rowScale);
      if (L.relaxed && L.offset === 'b') f.get(b.ca).get(i).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.i32_load, 2).set(rowCorr);
    },
    scalar: (sumAt, j) => {
      sumAt(j);
      f.mem(OP.i32_load, 2);
      if (L.relaxed && L.offset === 'a') {
        columnAt(j);
        f.mem(OP.i32_load, 2, corrOffset(k, L)).op(OP.i32_sub);
      } else if (L.relaxed) f.get(rowCorr).op(OP.i32_sub);
      f.op(OP.f32_convert_i32_s).get(rowScale).op(OP.f32_mul);
      columnAt(j);
      f.mem(OP.f32_load, 2, sbOffset(k, L)).op(OP.f32_mul, OP.f64_promote_f32);
    },
    vector: (sumAt, j) => {
      sumAt(j);
      f.simdMem(SIMD.v128_load, 2);
      if (L.relaxed && L.offset === 'a') {
        columnAt(j);
        f.simdMem(SIMD.v128_load, 2, corrOffset(k, L)).simd(SIMD.i32x4_sub);
      } else if (L.relaxed) f.get(rowCorr).simd(SIMD.i32x4_splat).simd(SIMD.i32x4_sub);
      f.simd(SIMD.f32x4_convert_i32x4_s).get(rowScale).simd(SIMD.f32x4_splat).simd(SIMD.f32x4_mul);
      columnAt(j);
      f.simdMem(SIMD.v128_load, 2, sbOffset(k, L)).simd(SIMD.f32x4_mul);
    },
  });
}
