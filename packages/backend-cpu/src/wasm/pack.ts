/**
 * Packing a matmul operand into micro-panels: rows r in [0, R) of the
 * block (A rows or B columns), depth p in [0, kc), are stored panel by
 * panel, W rows wide: element (r, p) at
 * dst + ((r / W) * kc * W + p * W + r % W) * 4, and rows R..roundUp(R, W)
 * are zero, so the micro-kernel never needs an edge case.
 *
 * The value is the kernel's prologue hook (readA / readB), any expression,
 * evaluated element by element. A plain f32 load takes a fast path when it
 * is contiguous along the rows (row-major B: v128 copies) or along the
 * depth (row-major A, transposed B such as a Linear weight: 4x4 transposes
 * with shuffles); edges fall back to the element path.
 */
import type { Expr, IndexMap } from '@tessera/kernel';
import { type FunctionBuilder, I32, V128 } from './binary.ts';
import { OP, SIMD } from './opcodes.ts';
import { WasmScalarRenderer } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';

/** Panel widths: the micro-kernels' register blocks (4 or 6 rows of A, 8 columns of B). */
export type PanelWidth = 4 | 6 | 8;

/** Pushes the panel index of row `r` (a local): r / W. */
function panelOf(f: FunctionBuilder, r: number, W: PanelWidth): void {
  if (W === 6) f.get(r).i32(W).op(OP.i32_div_u);
  else f.get(r).i32(Math.log2(W)).op(OP.i32_shr_u);
}

/** Pushes the row's lane in its panel: r % W. */
function laneOf(f: FunctionBuilder, r: number, W: PanelWidth): void {
  if (W === 6) f.get(r).i32(W).op(OP.i32_rem_u);
  else f.get(r).i32(W - 1).op(OP.i32_and);
}

/** Pushes local `x` rounded up to a multiple of W. */
export function roundUpTo(f: FunctionBuilder, x: number, W: number): void {
  if ((W & (W - 1)) === 0) f.get(x).i32(W - 1).op(OP.i32_add).i32(-W).op(OP.i32_and);
  else f.get(x).i32(W - 1).op(OP.i32_add).i32(W).op(OP.i32_div_u).i32(W).op(OP.i32_mul);
}

/**
 * The full panels of a block contiguous along the depth (row r, depth p at
 * base + r * rowBytes + p * 4): W rows at a time, 4 depth steps at a time,
 * each 4x4 group loaded as 4 v128 rows and stored transposed (a panel 6
 * wide: rows 4 and 5 as pairs, interleaved by shuffles and stored 8 bytes
 * per depth step). Rows from `full` on and depth steps from `kc4` on are
 * left to the caller's element path. `r`, `p`, `src`, `to` are scratch i32
 * locals.
 */
function transposeFullPanels(
  f: FunctionBuilder,
  s: { base: number; rowBytes: number; dst: number; full: number; kc4: number; panelBytes: number; width: PanelWidth; r: number; p: number; src: number; to: number },
): void {
  const W = s.width;
  const rv = [0, 1, 2, 3].map(() => f.local(V128));
  const cv = [0, 1, 2, 3].map(() => f.local(V128));
  const tv = [0, 1, 2, 3].map(() => f.local(V128));
  const loadRow = (row: number, into: number) => {
    f.get(s.src);
    const off = row * s.rowBytes;
    if (off !== 0) f.i32(off).op(OP.i32_add);
    f.simdMem(SIMD.v128_load, 2).set(into);
  };
  f.for(s.r, () => f.i32(0), () => f.get(s.full), W, () => {
    f.get(s.dst);
    panelOf(f, s.r, W);
    f.get(s.panelBytes).op(OP.i32_mul, OP.i32_add).set(s.to);
    f.get(s.base).get(s.r).i32(s.rowBytes).op(OP.i32_mul, OP.i32_add).set(s.src);
    f.for(s.p, () => f.i32(0), () => f.get(s.kc4), 4, () => {
      for (let g = 0; g < Math.floor(W / 4); g++) {
        rv.forEach((l, t) => loadRow(g * 4 + t, l));
        transpose4(f, rv, cv, tv);
        cv.forEach((l, t) => f.get(s.to).get(l).simdMem(SIMD.v128_store, 2, t * W * 4 + g * 16));
      }
      if (W % 4 === 2) {
        // The last two rows: (a0 b0 a1 b1) and (a2 b2 a3 b3), each half one depth step's pair.
        loadRow(W - 2, rv[0]!);
        loadRow(W - 1, rv[1]!);
        f.get(rv[0]!).get(rv[1]!).shuffle(lanes32(0, 4, 1, 5)).set(tv[0]!);
        f.get(rv[0]!).get(rv[1]!).shuffle(lanes32(2, 6, 3, 7)).set(tv[1]!);
        for (let t = 0; t < 4; t++) f.get(s.to).get(tv[t >> 1]!).simdMem(SIMD.v128_store64_lane, 2, t * W * 4 + (W - 2) * 4).op(t & 1);
      }
      f.get(s.src).i32(16).op(OP.i32_add).set(s.src);
      f.get(s.to).i32(4 * W * 4).op(OP.i32_add).set(s.to);
    });
  });
}

/** What to pack and where. Locals are i32 locals of the function being emitted. */
export interface PackSpec {
  /** The prologue expression. */
  readonly value: Expr;
  /** Values of the axes the expression may read, except the row and depth axes. */
  readonly axes: readonly (AxisSource | undefined)[];
  /** The iteration axis rows walk, and the local holding the first row's axis value. */
  readonly rowAxis: number;
  readonly rowStart: number;
  /** The depth axis, and the local holding its first value (pc). */
  readonly depthAxis: number;
  readonly depthStart: number;
  /** Locals: valid rows R, depth kc, destination byte address. */
  readonly rows: number;
  readonly kc: number;
  readonly dst: number;
  /** Panel width. */
  readonly width: PanelWidth;
}

function plainLoad(e: Expr): { buffer: number; map: IndexMap } | undefined {
  return e.k === 'load' && !e.indirect && e.dtype === 'f32' ? { buffer: e.buffer, map: e.map } : undefined;
}

/** Byte lanes of i8x16.shuffle picking 32-bit lanes (0-3 of the first operand, 4-7 of the second). */
function lanes32(...l: number[]): number[] {
  return l.flatMap((x) => [x * 4, x * 4 + 1, x * 4 + 2, x * 4 + 3]);
}

/** Transposes the 4x4 block in locals r0..r3 (rows) into c0..c3 (columns). */
function transpose4(f: FunctionBuilder, r: readonly number[], c: readonly number[], t: readonly number[]): void {
  f.get(r[0]!).get(r[1]!).shuffle(lanes32(0, 4, 1, 5)).set(t[0]!);
  f.get(r[0]!).get(r[1]!).shuffle(lanes32(2, 6, 3, 7)).set(t[1]!);
  f.get(r[2]!).get(r[3]!).shuffle(lanes32(0, 4, 1, 5)).set(t[2]!);
  f.get(r[2]!).get(r[3]!).shuffle(lanes32(2, 6, 3, 7)).set(t[3]!);
  f.get(t[0]!).get(t[2]!).shuffle(lanes32(0, 1, 4, 5)).set(c[0]!);
  f.get(t[0]!).get(t[2]!).shuffle(lanes32(2, 3, 6, 7)).set(c[1]!);
  f.get(t[1]!).get(t[3]!).shuffle(lanes32(0, 1, 4, 5)).set(c[2]!);
  f.get(t[1]!).get(t[3]!).shuffle(lanes32(2, 3, 6, 7)).set(c[3]!);
}

/** Emits the packing loops for one block. */
export function emitPack(f: FunctionBuilder, facts: ProgramFacts, s: PackSpec): void {
  const W = s.width;
  const r = f.local(I32);
  const p = f.local(I32);
  const i = f.local(I32);
  const d = f.local(I32);
  const panelBytes = f.local(I32);
  const full = f.local(I32);
  f.get(s.kc).i32(W * 4).op(OP.i32_mul).set(panelBytes);
  roundDownTo(f, s.rows, W);
  f.set(full);
  const axes = [...s.axes];
  axes[s.rowAxis] = { local: i };
  axes[s.depthAxis] = { local: d };
  const addr = new Addresser(f, facts, axes);
  const load = plainLoad(s.value);
  const rowStride = load?.map.strides[s.rowAxis] ?? 0;
  const depthStride = load?.map.strides[s.depthAxis] ?? 0;

  const dstOf = () => panelAddress(f, s.dst, r, p, panelBytes, W);
  const element = () => {
    f.get(s.rowStart).get(r).op(OP.i32_add).set(i);
    f.get(s.depthStart).get(p).op(OP.i32_add).set(d);
    dstOf();
    if (load) {
      addr.push(load.buffer, load.map);
      f.mem(OP.f32_load, 2).mem(OP.f32_store, 2);
      return;
    }
    const ex = new WasmScalarRenderer(f, facts, addr, (name) => {
      throw new Error(`wasm emitter: matmul prologue refers to '${name}'`);
    });
    ex.count(s.value);
    ex.emit(s.value);
    f.op(OP.f32_demote_f64).mem(OP.f32_store, 2);
  };
  const elements = (r0: () => void, r1: () => void, p0: () => void, p1: () => void) =>
    f.for(r, r0, r1, 1, () => f.for(p, p0, p1, 1, element));

  // Byte address of the source at (row 0, depth 0) of the block, for the fast paths.
  const base = f.local(I32);
  if (load) {
    f.get(s.rowStart).set(i);
    f.get(s.depthStart).set(d);
    addr.push(load.buffer, load.map);
    f.set(base);
  }
  const src = f.local(I32);
  const to = f.local(I32);
  if (load && rowStride === 1) {
    // Contiguous along the rows (row-major B): whole panels are W/4 v128 moves per depth step.
    f.for(p, () => f.i32(0), () => f.get(s.kc), 1, () => {
      f.get(base).get(p).i32(depthStride * 4).op(OP.i32_mul, OP.i32_add).set(src);
      f.get(s.dst).get(p).i32(W * 4).op(OP.i32_mul, OP.i32_add).set(to);
      f.for(r, () => f.i32(0), () => f.get(full), W, () => {
        for (let v = 0; v < Math.floor(W / 4); v++) f.get(to).get(src).simdMem(SIMD.v128_load, 2, v * 16).simdMem(SIMD.v128_store, 2, v * 16);
        // A pair of floats moved as one f64 (loads and stores keep every bit).
        if (W % 4 === 2) f.get(to).get(src).mem(OP.f64_load, 2, (W - 2) * 4).mem(OP.f64_store, 2, (W - 2) * 4);
        f.get(src).i32(W * 4).op(OP.i32_add).set(src);
        f.get(to).get(panelBytes).op(OP.i32_add).set(to);
      });
    });
    elements(() => f.get(full), () => f.get(s.rows), () => f.i32(0), () => f.get(s.kc));
  } else if (load && depthStride === 1) {
    // Contiguous along the depth (row-major A, transposed B): 4x4 transposes, 4 depth steps at a time.
    const kc4 = f.local(I32);
    f.get(s.kc).i32(-4).op(OP.i32_and).set(kc4);
    transposeFullPanels(f, { base, rowBytes: rowStride * 4, dst: s.dst, full, kc4, panelBytes, width: W, r, p, src, to });
    elements(() => f.i32(0), () => f.get(full), () => f.get(kc4), () => f.get(s.kc));
    elements(() => f.get(full), () => f.get(s.rows), () => f.i32(0), () => f.get(s.kc));
  } else {
    f.for(p, () => f.i32(0), () => f.get(s.kc), 1, () => f.for(r, () => f.i32(0), () => f.get(s.rows), 1, element));
  }
  zeroPaddingRows(f, s);
}

/** Pushes local `x` rounded down to a multiple of W. */
function roundDownTo(f: FunctionBuilder, x: number, W: PanelWidth): void {
  if (W === 6) f.get(x).get(x).i32(W).op(OP.i32_rem_u).op(OP.i32_sub);
  else f.get(x).i32(-W).op(OP.i32_and);
}

/** Zeroes rows R..roundUp(R, W) of the last panel of a packed block (locals: rows R, depth kc, destination). */
export function zeroPaddingRows(f: FunctionBuilder, s: { readonly rows: number; readonly kc: number; readonly dst: number; readonly width: PanelWidth }): void {
  const W = s.width;
  const [r, p, padEnd, panelBytes] = f.locals(I32, 4);
  f.get(s.kc).i32(W * 4).op(OP.i32_mul).set(panelBytes);
  roundUpTo(f, s.rows, W);
  f.set(padEnd);
  f.for(r, () => f.get(s.rows), () => f.get(padEnd), 1, () => {
    f.for(p, () => f.i32(0), () => f.get(s.kc), 1, () => {
      panelAddress(f, s.dst, r, p, panelBytes, W);
      f.f32(0).mem(OP.f32_store, 2);
    });
  });
}

/** Pushes the byte address of element (row r, depth p) of a block packed W rows wide at dst, panelBytes (kc * W * 4) per panel (locals). */
export function panelAddress(f: FunctionBuilder, dst: number, r: number, p: number, panelBytes: number, W: PanelWidth): void {
  f.get(dst);
  panelOf(f, r, W);
  f.get(panelBytes).op(OP.i32_mul, OP.i32_add);
  f.get(p).i32(W * 4).op(OP.i32_mul, OP.i32_add);
  laneOf(f, r, W);
  f.i32(2).op(OP.i32_shl, OP.i32_add);
}

/** A block of f32 memory contiguous along the depth: row r, depth p at base + r * rowBytes + p * 4. */
export interface RawPackSpec {
  /** Local: byte address of (row 0, depth 0). */
  readonly base: number;
  readonly rowBytes: number;
  /** Locals: valid rows R, depth kc, destination byte address. */
  readonly rows: number;
  readonly kc: number;
  readonly dst: number;
  readonly width: PanelWidth;
}

/** Packs raw f32 memory (an intermediate in scratch) into panels, as emitPack does for a plain load contiguous along the depth. */
export function emitPackRaw(f: FunctionBuilder, s: RawPackSpec): void {
  const W = s.width;
  const [r, p, full, kc4, panelBytes, src, to] = f.locals(I32, 7);
  f.get(s.kc).i32(W * 4).op(OP.i32_mul).set(panelBytes);
  roundDownTo(f, s.rows, W);
  f.set(full);
  f.get(s.kc).i32(-4).op(OP.i32_and).set(kc4);
  transposeFullPanels(f, { base: s.base, rowBytes: s.rowBytes, dst: s.dst, full, kc4, panelBytes, width: W, r, p, src, to });
  // Edges (depth tail of full panels, then the partial panel) element by element; padding rows zero.
  const copy = () => {
    panelAddress(f, s.dst, r, p, panelBytes, W);
    f.get(s.base).get(r).i32(s.rowBytes).op(OP.i32_mul, OP.i32_add).get(p).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.f32_load, 2);
    f.mem(OP.f32_store, 2);
  };
  f.for(r, () => f.i32(0), () => f.get(full), 1, () => f.for(p, () => f.get(kc4), () => f.get(s.kc), 1, copy));
  f.for(r, () => f.get(full), () => f.get(s.rows), 1, () => f.for(p, () => f.i32(0), () => f.get(s.kc), 1, copy));
  zeroPaddingRows(f, s);
}
