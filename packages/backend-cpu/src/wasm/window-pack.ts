/**
 * Packing a convolution's A operand straight from the image (an implicit
 * GEMM: no im2col buffer). A block of rows ic.. (output positions) by depth
 * pc.. (kernel taps) is packed into MR-wide panels as emitPack does, but
 * each element is read through the window: depth p is the tap (c, kh, kw),
 * row i the output position (oh, ow), and the element is the input at
 * (c, oh*sh + kh*dh - ph, ow*sw + kw*dw - pw), 0 in the padding.
 *
 * The depth loop is outside: a tap's channel and offsets are computed once
 * (two divisions) and the rows walk (oh, ow) incrementally, so an element
 * costs two adds, a bounds check and a copy. A plain f32 load of the image
 * (the usual case: the convolution reads a stored value) is addressed
 * incrementally too; any other prologue is evaluated at the point.
 */
import type { ConvWindow, Expr } from '@tessera/kernel';
import { F32, type FunctionBuilder, I32 } from './binary.ts';
import { OP } from './opcodes.ts';
import { type PanelWidth, panelAddress, zeroPaddingRows } from './pack.ts';
import { WasmScalarRenderer } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';
import { byteSize } from '@tessera/ir';

/** What to pack and where (locals of the function being emitted). */
export interface WindowPackSpec {
  /** readA, over [...batch, c, y, x]. */
  readonly value: Expr;
  readonly window: ConvWindow;
  /** Sources of the batch axes. */
  readonly batch: readonly AxisSource[];
  /** First row (output position) and first depth step (tap) of the block. */
  readonly rowStart: number;
  readonly depthStart: number;
  /** Valid rows R, depth kc, destination byte address, panel width. */
  readonly rows: number;
  readonly kc: number;
  readonly dst: number;
  readonly width: PanelWidth;
}

/** Emits the packing loops for one block of a windowed A. */
export function emitWindowPack(f: FunctionBuilder, facts: ProgramFacts, s: WindowPackSpec): void {
  const w = s.window;
  const nb = s.batch.length;
  const [kh, kw] = w.kernel;
  const [H, W] = w.input;
  const [sh, sw] = w.stride;
  const OW = w.output[1];
  const [r, p, d, c, tap, dy, dx, y, x, yb, xb, oh0, panelBytes] = f.locals(I32, 13);
  f.get(s.kc).i32(s.width * 4).op(OP.i32_mul).set(panelBytes);
  const axes: AxisSource[] = [...s.batch, { local: c }, { local: y }, { local: x }];
  const addr = new Addresser(f, facts, axes);
  const load = s.value.k === 'load' && !s.value.indirect && s.value.dtype === 'f32' ? s.value : undefined;
  // A plain load: its address is base(batch) + c * SC + y * SY + x * SX bytes; base + c * SC + dy * SY + dx * SX per tap (tapBase), then + yb * SY + xb * SX.
  const [tapBase, rowOffset] = f.locals(I32, 2);
  const es = load ? byteSize(facts.dtypes[load.buffer]!) : 4;
  const [SC, SY, SX] = load ? [nb, nb + 1, nb + 2].map((a) => load.map.strides[a]! * es) : [0, 0, 0];
  const base = f.local(I32);
  if (load) addr.push(load.buffer, { offset: load.map.offset, strides: load.map.strides.map((st, a) => (a < nb ? st : 0)) });
  if (load) f.set(base);
  // The first row's output position: oh0 = ic / OW, and xb = (ic % OW) * sw.
  f.get(s.rowStart).i32(OW).op(OP.i32_div_u).set(oh0);

  f.for(p, () => f.i32(0), () => f.get(s.kc), 1, () => {
    // The tap of depth d = pc + p: channel c, offsets dy = kh * dh - ph and dx = kw * dw - pw.
    f.get(s.depthStart).get(p).op(OP.i32_add).set(d);
    f.get(d).i32(kh * kw).op(OP.i32_div_u).set(c);
    f.get(d).get(c).i32(kh * kw).op(OP.i32_mul, OP.i32_sub).set(tap);
    f.get(tap).i32(kw).op(OP.i32_div_u).i32(w.dilation[0]).op(OP.i32_mul).i32(w.padding[0]).op(OP.i32_sub).set(dy);
    f.get(tap).i32(kw).op(OP.i32_rem_u).i32(w.dilation[1]).op(OP.i32_mul).i32(w.padding[1]).op(OP.i32_sub).set(dx);
    if (load) {
      f.get(base).get(c).i32(SC).op(OP.i32_mul, OP.i32_add);
      f.get(dy).i32(SY).op(OP.i32_mul, OP.i32_add).get(dx).i32(SX).op(OP.i32_mul, OP.i32_add).set(tapBase);
    }
    f.get(oh0).i32(sh).op(OP.i32_mul).set(yb);
    f.get(s.rowStart).get(oh0).i32(OW).op(OP.i32_mul, OP.i32_sub).i32(sw).op(OP.i32_mul).set(xb);
    if (load) f.get(yb).i32(SY).op(OP.i32_mul).get(xb).i32(SX).op(OP.i32_mul, OP.i32_add).set(rowOffset);
    f.for(r, () => f.i32(0), () => f.get(s.rows), 1, () => {
      f.get(yb).get(dy).op(OP.i32_add).set(y);
      f.get(xb).get(dx).op(OP.i32_add).set(x);
      panelAddress(f, s.dst, r, p, panelBytes, s.width);
      // Unsigned compares: a negative coordinate is out of range too.
      f.get(y).i32(H).op(OP.i32_lt_u).get(x).i32(W).op(OP.i32_lt_u).op(OP.i32_and);
      f.if(
        () => {
          if (load) {
            f.get(tapBase).get(rowOffset).op(OP.i32_add).mem(OP.f32_load, 2);
            return;
          }
          const ex = new WasmScalarRenderer(f, facts, addr, (name: string) => {
            throw new Error(`wasm emitter: convolution prologue refers to '${name}'`);
          });
          ex.count(s.value);
          ex.emit(s.value);
          f.op(OP.f32_demote_f64);
        },
        () => f.f32(0),
        F32,
      );
      f.mem(OP.f32_store, 2);
      // Next output position: ow + 1, or the next output row.
      f.get(xb).i32(sw).op(OP.i32_add).set(xb);
      if (load) f.get(rowOffset).i32(sw * SX).op(OP.i32_add).set(rowOffset);
      f.get(xb).i32(OW * sw).op(OP.i32_eq).if(() => {
        f.i32(0).set(xb);
        f.get(yb).i32(sh).op(OP.i32_add).set(yb);
        if (load) f.get(rowOffset).i32(sh * SY - OW * sw * SX).op(OP.i32_add).set(rowOffset);
      });
    });
  });
  zeroPaddingRows(f, s);
}
