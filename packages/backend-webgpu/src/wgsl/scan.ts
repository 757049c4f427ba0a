/**
 * Scan kernels (cumsum): rows in parallel, each row an inclusive scan along
 * the kernel's last axis.
 *
 * - `thread`: one invocation walks a row in order, folding each point into
 *   its running values and storing. Short rows, and every row on a CPU
 *   adapter (on llvmpipe a sequential walk beat the workgroup scan 4.8 ms to
 *   54 ms on one row of 2^20, 8.8 to 21 ms on 4 rows of 2^18).
 * - `workgroup`: one workgroup per row (GPUs), tile by tile: invocation t
 *   takes element tile + t (coalesced loads and stores), the tile is scanned
 *   in workgroup memory (Hillis-Steele, log2 steps), offset by the carry of
 *   the tiles before it, stored, and its total carried on.
 *
 * Stage folds are associative (sum, prod, max, min), so the tree order
 * changes f32 sums only by rounding. A stage that reads another's running
 * value needs it point by point: such scans stay `thread`.
 */
import { walkExpr } from '@tessera/kernel';
import { WgslExprEmitter } from './expr.ts';
import type { KernelShader, ReduceVariant, ShaderModuleBuilder, WgslTarget } from './module.ts';
import { beginRows, combineOf, foldStage, initOf, rowsShader } from './reduce.ts';
import { emitStores } from './stores.ts';
import type { ReduceKernel } from './util.ts';
import { WgslWriter } from './writer.ts';

/** Picks the scan algorithm: an override first; one invocation per row on CPU adapters and for rows under 32; else a workgroup per row. */
export function chooseScanVariant(rowLength: number, target: WgslTarget): ReduceVariant {
  if (target.reduce) return target.reduce;
  return target.cpu || rowLength < 32 ? 'thread' : 'workgroup';
}

/** Emits a scan kernel (reduceRank 1, row stores only). */
export function emitScan(k: ReduceKernel, mb: ShaderModuleBuilder): KernelShader {
  const rank = k.shape.length;
  const outer = k.shape.slice(0, rank - 1);
  const R = k.shape[rank - 1]!;
  const j = mb.names.axis(rank - 1);
  const independent = k.stages.every((st) => {
    let refs = false;
    walkExpr(st.value, (x) => (refs ||= x.k === 'ref'));
    return !refs;
  });
  const variant = independent ? chooseScanVariant(R, mb.target) : 'thread';
  const w = new WgslWriter(1);
  const type = (si: number) => (k.stages[si]!.dtype === 'i32' ? 'i32' : 'f32');
  const size = beginRows(w, mb, variant, outer, R);
  if (variant === 'thread') {
    k.stages.forEach((st, si) => w.line(`var acc${si}: ${type(si)} = ${initOf(st, mb.use)};`));
    w.block(`for (var ${j} = 0i; ${j} < ${R}i; ${j}++)`, () => {
      k.stages.forEach((st, si) => {
        foldStage(w, mb, st, si, `acc${si}`);
        w.line(`let ${mb.names.ref(st.name)} = acc${si};`);
      });
      emitStores(w, mb, k.rowStores, 'w');
    });
    return rowsShader(k, mb, 'scan:thread', w, size);
  }
  const { wgSize } = size;
  k.stages.forEach((st, si) => {
    mb.declare(`var<workgroup> scan${si}: array<${type(si)}, ${wgSize}>;`);
    w.line(`var carry${si}: ${type(si)} = ${initOf(st, mb.use)};`);
  });
  w.block(`for (var tile = 0i; tile < ${R}i; tile += ${wgSize}i)`, () => {
    w.line(`let ${j} = tile + i32(lid);`);
    // Past the row's end an invocation holds the fold's identity, so the tile's scan needs no bounds.
    k.stages.forEach((st, si) => w.line(`var v${si}: ${type(si)} = ${initOf(st, mb.use)};`));
    w.block(`if (${j} < ${R}i)`, () => {
      k.stages.forEach((st, si) => {
        const ex = new WgslExprEmitter(mb.names, mb.use, `s${si}_`);
        ex.count(st.value);
        const v = ex.emit(st.value);
        w.line(...ex.stmts, `v${si} = ${v};`);
      });
    });
    k.stages.forEach((_, si) => w.line(`scan${si}[lid] = v${si};`));
    w.line('workgroupBarrier();');
    // Inclusive scan of the tile: after it, scan[t] folds elements 0..t of the tile.
    w.block(`for (var o = 1u; o < ${wgSize}u; o <<= 1u)`, () => {
      k.stages.forEach((st, si) => w.line(`if (lid >= o) { v${si} = ${combineOf(st, `scan${si}[lid - o]`, `v${si}`, mb.use)}; }`));
      w.line('workgroupBarrier();');
      k.stages.forEach((_, si) => w.line(`scan${si}[lid] = v${si};`));
      w.line('workgroupBarrier();');
    });
    w.block(`if (${j} < ${R}i)`, () => {
      k.stages.forEach((st, si) => w.line(`let ${mb.names.ref(st.name)} = ${combineOf(st, `carry${si}`, `v${si}`, mb.use)};`));
      emitStores(w, mb, k.rowStores, 'w');
    });
    k.stages.forEach((st, si) => w.line(`carry${si} = ${combineOf(st, `carry${si}`, `scan${si}[${wgSize - 1}]`, mb.use)};`));
    // Every invocation has read the tile's total before the next tile overwrites it.
    w.line('workgroupBarrier();');
  });
  return rowsShader(k, mb, 'scan:workgroup', w, size);
}
