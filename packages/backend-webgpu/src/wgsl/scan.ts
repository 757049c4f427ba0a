/**
 * Scan kernels (cumsum): rows in parallel, each row an inclusive scan along
 * the kernel's last axis.
 *
 * - `thread`: one invocation walks a row in order, folding each point into
 *   its running values and storing. Short rows, and every row on a CPU
 *   adapter: on llvmpipe a sequential walk took 4.8 ms on one row of 2^20
 *   and 8.8 ms on 4 rows of 2^18, the workgroup scan below 54 and 21 ms.
 * - `workgroup`: one workgroup per long row (GPUs): invocation t folds a
 *   contiguous chunk of the row, the chunk totals are scanned in workgroup
 *   memory (Hillis-Steele, log2 steps, two barriers each), and each
 *   invocation walks its chunk again from the fold of the chunks before it,
 *   storing the running values. O(row) work and 2 log2(size) barriers per
 *   row, where scanning tile by tile would barrier 2 log2(size) times per
 *   tile (six times slower again on llvmpipe).
 *
 * Stage folds are associative (sum, prod, max, min), so the chunked order
 * changes f32 sums only by rounding. A stage that reads another's running
 * value needs it point by point: such scans stay `thread`.
 */
import { walkExpr } from '@tessera/kernel';
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
  /** Folds every stage at point `j`, names the running values, and stores. */
  const scanPoint = () => {
    k.stages.forEach((st, si) => {
      foldStage(w, mb, st, si, `acc${si}`);
      w.line(`let ${mb.names.ref(st.name)} = acc${si};`);
    });
    emitStores(w, mb, k.rowStores, 'w');
  };
  const size = beginRows(w, mb, variant, outer, R);
  k.stages.forEach((st, si) => w.line(`var acc${si}: ${type(si)} = ${initOf(st, mb.use)};`));
  if (variant === 'thread') {
    w.block(`for (var ${j} = 0i; ${j} < ${R}i; ${j}++)`, scanPoint);
    return rowsShader(k, mb, 'scan:thread', w, size);
  }
  const { wgSize } = size;
  const chunk = Math.ceil(R / wgSize);
  k.stages.forEach((_, si) => mb.declare(`var<workgroup> scan${si}: array<${type(si)}, ${wgSize}>;`));
  w.line(`let c0 = i32(lid) * ${chunk}i;`, `let c1 = min(c0 + ${chunk}i, ${R}i);`);
  // Past the row's end a chunk is empty and its total the fold's identity.
  w.block(`for (var ${j} = c0; ${j} < c1; ${j}++)`, () => k.stages.forEach((st, si) => foldStage(w, mb, st, si, `acc${si}`)));
  k.stages.forEach((_, si) => w.line(`scan${si}[lid] = acc${si};`));
  w.line('workgroupBarrier();');
  // Inclusive scan of the chunk totals: after it, scan[t] folds chunks 0..t.
  w.block(`for (var o = 1u; o < ${wgSize}u; o <<= 1u)`, () => {
    k.stages.forEach((st, si) => {
      w.line(`var v${si} = scan${si}[lid];`);
      w.line(`if (lid >= o) { v${si} = ${combineOf(st, `scan${si}[lid - o]`, `v${si}`, mb.use)}; }`);
    });
    w.line('workgroupBarrier();');
    k.stages.forEach((_, si) => w.line(`scan${si}[lid] = v${si};`));
    w.line('workgroupBarrier();');
  });
  // Each chunk starts from the fold of the chunks before it.
  k.stages.forEach((st, si) => w.line(`acc${si} = select(${initOf(st, mb.use)}, scan${si}[max(lid, 1u) - 1u], lid > 0u);`));
  w.block(`for (var ${j} = c0; ${j} < c1; ${j}++)`, scanPoint);
  return rowsShader(k, mb, 'scan:workgroup', w, size);
}
