import { type KernelShader, type ShaderModuleBuilder, entryHead, gridFor, kernelBindings } from './module.ts';
import { wgslConst } from './scalar.ts';
import { emitHook, emitStores } from './stores.ts';
import { type AttentionKernel, numelOf } from './util.ts';
import { WgslWriter, decomposeIndex } from './writer.ts';

/** Query rows per workgroup. */
const ATTENTION_WORKGROUP = 64;

/**
 * Fused attention, one invocation per query row (flash-attention's online
 * softmax): q is cached in registers, each visible key updates the running
 * max `m`, the normaliser `l` and the output row; the causal bound ends the
 * key loop, masked keys are skipped, keys scoring -inf add nothing (so a
 * row with some visible keys never sees exp(-inf - -inf)). A row with no
 * visible key ends with l = 0 and gives 0/0 = NaN, as the graph's softmax.
 */
export function emitAttention(k: AttentionKernel, mb: ShaderModuleBuilder): KernelShader {
  const nb = k.batch.length;
  const rank = nb + 3;
  const names = mb.names;
  emitHook(mb, 'read_q', k.readQ, rank);
  emitHook(mb, 'read_k', k.readK, rank);
  emitHook(mb, 'read_v', k.readV, rank);
  if (k.keep) emitHook(mb, 'keep', k.keep, rank);
  if (k.bias) emitHook(mb, 'bias', k.bias, rank);
  const ew = new WgslWriter(1);
  emitStores(ew, mb, k.stores, 'e');
  const params = Array.from({ length: rank }, (_, a) => `${names.axis(a)}: i32`);
  mb.declare(`fn write_o(${[...params, `${names.ref('out')}: f32`].join(', ')}) {`, ew.toString(), '}');
  mb.use('inf_f32');

  const rows = numelOf(k.batch) * k.tq;
  const grid = gridFor(Math.ceil(rows / ATTENTION_WORKGROUP), mb.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  w.line(`let row = wg * ${ATTENTION_WORKGROUP}i + i32(lid);`, `if (row >= ${rows}i) { return; }`);
  decomposeIndex(w, 'row', [...k.batch, k.tq], names.axis);
  const ai = names.axis(nb);
  const at = (j: string, c: string) => [...k.batch.map((_, a) => names.axis(a)), ai, j, c].join(', ');
  w.line(`var q: array<f32, ${k.d}>;`);
  w.block(`for (var c = 0i; c < ${k.d}i; c++)`, () => w.line(`q[c] = read_q(${at('0i', 'c')});`));
  w.line(`var o: array<f32, ${k.dv}>;`, 'var m = -inf_f32();', 'var l = 0.0f;');
  const end = k.causalOffset === undefined ? `${k.tk}i` : `min(${k.tk}i, ${ai} + ${k.causalOffset + 1}i)`;
  w.block(`for (var j = 0i; j < ${end}; j++)`, () => {
    if (k.keep) w.line(`if (!keep(${at('j', '0i')})) { continue; }`);
    w.line('var s = 0.0f;');
    w.block(`for (var c = 0i; c < ${k.d}i; c++)`, () => w.line(`s += q[c] * read_k(${at('j', 'c')});`));
    w.line(`s = s * ${wgslConst('f32', k.scale, mb.use)}${k.bias ? ` + bias(${at('j', '0i')})` : ''};`);
    w.line('if (s == -inf_f32()) { continue; }');
    w.block('if (s > m)', () => {
      w.line('let corr = exp(m - s);', 'l *= corr;');
      w.line(`for (var c = 0i; c < ${k.dv}i; c++) { o[c] *= corr; }`);
      w.line('m = s;');
    });
    w.line('let p = exp(s - m);', 'l += p;');
    w.block(`for (var c = 0i; c < ${k.dv}i; c++)`, () => w.line(`o[c] += p * read_v(${at('j', 'c')});`));
  });
  w.block(`for (var c = 0i; c < ${k.dv}i; c++)`, () => w.line(`write_o(${at('0i', 'c')}, o[c] / l);`));
  const bindings = kernelBindings(k);
  const wgsl = mb.assemble('attention:row', bindings, `${entryHead(ATTENTION_WORKGROUP, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'attention', variant: 'attention:row', wgsl, bindings, dispatch: grid, workgroupSize: ATTENTION_WORKGROUP };
}
