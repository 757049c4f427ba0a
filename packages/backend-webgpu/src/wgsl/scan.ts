/**
 * Scan kernels (cumsum): rows in parallel, each row an inclusive scan along
 * the kernel's last axis. Short rows, or many rows on a CPU adapter, are
 * scanned by one invocation each, in order. A long row gets a workgroup:
 * each invocation folds a contiguous chunk, the chunk totals are scanned in
 * workgroup memory (Hillis-Steele, log2 steps), and each invocation then
 * walks its chunk again from the total of the chunks before it, storing the
 * running values. Stage folds are associative (sum, prod, max, min), so the
 * chunked order changes f32 sums only by rounding.
 */
import { walkExpr } from '@tessera/kernel';
import type { KernelShader, ShaderModuleBuilder } from './module.ts';
import { beginRows, chooseReduceVariant, combineOf, foldStage, initOf, rowsShader } from './reduce.ts';
import { emitStores } from './stores.ts';
import { type ReduceKernel, numelOf } from './util.ts';
import { WgslWriter } from './writer.ts';

/** Emits a scan kernel (reduceRank 1, row stores only). */
export function emitScan(k: ReduceKernel, mb: ShaderModuleBuilder): KernelShader {
  const rank = k.shape.length;
  const outer = k.shape.slice(0, rank - 1);
  const P = numelOf(outer);
  const R = k.shape[rank - 1]!;
  const j = mb.names.axis(rank - 1);
  // A stage reading another's running value needs that value before its own chunk total: such scans stay sequential.
  const independent = k.stages.every((st) => {
    let refs = false;
    walkExpr(st.value, (x) => (refs ||= x.k === 'ref'));
    return !refs;
  });
  const variant = independent ? chooseReduceVariant(P, R, mb.target) : 'thread';
  const w = new WgslWriter(1);
  const accs = k.stages.map((_, si) => `acc${si}`);
  const declareAccs = (init: (si: number) => string) => k.stages.forEach((st, si) => w.line(`var ${accs[si]}: ${st.dtype === 'i32' ? 'i32' : 'f32'} = ${init(si)};`));
  /** Folds every stage at point `j`, names the running values, and stores. */
  const scanPoint = () => {
    k.stages.forEach((st, si) => {
      foldStage(w, mb, st, si, accs[si]!);
      w.line(`let ${mb.names.ref(st.name)} = ${accs[si]};`);
    });
    emitStores(w, mb, k.rowStores, 'w');
  };
  const size = beginRows(w, mb, variant, outer, R);
  declareAccs((si) => initOf(k.stages[si]!, mb.use));
  if (variant === 'thread') {
    w.block(`for (var ${j} = 0i; ${j} < ${R}i; ${j}++)`, scanPoint);
  } else {
    const { wgSize } = size;
    const chunk = Math.ceil(R / wgSize);
    k.stages.forEach((st, si) => mb.declare(`var<workgroup> scan${si}: array<${st.dtype === 'i32' ? 'i32' : 'f32'}, ${wgSize}>;`));
    w.line(`let c0 = i32(lid) * ${chunk}i;`, `let c1 = min(c0 + ${chunk}i, ${R}i);`);
    w.block(`for (var ${j} = c0; ${j} < c1; ${j}++)`, () => k.stages.forEach((st, si) => foldStage(w, mb, st, si, accs[si]!)));
    k.stages.forEach((_, si) => w.line(`scan${si}[lid] = ${accs[si]};`));
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
    k.stages.forEach((st, si) => w.line(`${accs[si]} = select(${initOf(st, mb.use)}, scan${si}[max(lid, 1u) - 1u], lid > 0u);`));
    w.block(`for (var ${j} = c0; ${j} < c1; ${j}++)`, scanPoint);
  }
  return rowsShader(k, mb, `scan:${variant}`, w, size);
}
