import { numel } from '@tessera/ir';
import { type AttentionVariant, type BufferBinding, type KernelShader, type ShaderModuleBuilder, type WgslTarget, entryHead, gridFor, kernelBindings } from './module.ts';
import { wgslConst } from './scalar.ts';
import { emitHook, emitStores, emitVec4Hook } from './stores.ts';
import { type AttentionKernel } from './util.ts';
import { WgslWriter, decomposeIndex, emitWorkgroupTree } from './writer.ts';

/** Largest d and dv kept in registers (unrolled channel loops); past it, private arrays in loops. */
const UNROLL_CHANNELS = 128;

/** Query rows per workgroup. */
const ATTENTION_WORKGROUP = 64;

/** Bytes of workgroup memory the workgroup variant needs for `tk` keys. */
const workgroupBytes = (tk: number) => 4 * (tk + ATTENTION_WORKGROUP);

/**
 * The attention algorithm: on CPU adapters one invocation per query row
 * (llvmpipe runs a workgroup's invocations as SIMD lanes, and the row
 * variant keeps key loads uniform across them); on GPUs one workgroup per
 * query row, whose scores fit in workgroup memory (a few hundred query rows
 * are far too few threads for a GPU). Override first.
 */
export function chooseAttentionVariant(k: AttentionKernel, target: WgslTarget): AttentionVariant {
  const fits = workgroupBytes(k.tk) <= target.maxWorkgroupStorageSize && ATTENTION_WORKGROUP <= target.maxInvocationsPerWorkgroup;
  const wanted = target.attention ?? (target.cpu ? 'row' : 'workgroup');
  return wanted === 'workgroup' && fits ? 'workgroup' : 'row';
}

/** Declares the kernel's hooks (read_q, read_k, read_v, keep, bias over every axis), the epilogue `write_o(axes, out)` and with stat stores `write_stats(axes, max, sum)`. */
function declareAttentionHooks(k: AttentionKernel, mb: ShaderModuleBuilder): void {
  const rank = k.batch.length + 3;
  emitHook(mb, 'read_q', k.readQ, rank);
  emitHook(mb, 'read_k', k.readK, rank);
  emitHook(mb, 'read_v', k.readV, rank);
  if (k.keep) emitHook(mb, 'keep', k.keep, rank);
  if (k.bias) emitHook(mb, 'bias', k.bias, rank);
  const ew = new WgslWriter(1);
  emitStores(ew, mb, k.stores, 'e');
  const params = Array.from({ length: rank }, (_, a) => `${mb.names.axis(a)}: i32`);
  mb.declare(`fn write_o(${[...params, `${mb.names.ref('out')}: f32`].join(', ')}) {`, ew.toString(), '}');
  if (k.statStores) {
    const sw = new WgslWriter(1);
    emitStores(sw, mb, k.statStores, 'st');
    mb.declare(`fn write_stats(${[...params, `${mb.names.ref('max')}: f32`, `${mb.names.ref('sum')}: f32`].join(', ')}) {`, sw.toString(), '}');
  }
  mb.use('inf_f32');
}

/** The call storing a row's softmax statistics (attention probes), or nothing when the kernel has no stat stores. */
function writeStats(k: AttentionKernel, at: (j: string, c: string) => string, max: string, sum: string): string[] {
  return k.statStores ? [`write_stats(${at('0i', '0i')}, ${max}, ${sum});`] : [];
}

/** Whether key `j` is visible to the current query (axis `ai`), given its score `s`: not -inf, within the causal bound, kept by the mask. */
function visibility(k: AttentionKernel, at: (j: string, c: string) => string, ai: string): string {
  const conds = ['s != -inf_f32()', ...(k.causalOffset === undefined ? [] : [`j <= ${ai} + ${k.causalOffset}i`]), ...(k.keep ? [`keep(${at('j', '0i')})`] : [])];
  // `&`, not `&&`: no short-circuit branch around the keep mask's load (llvmpipe loads uniform addresses once per SIMD batch only outside branches).
  return conds.map((c) => `(${c})`).join(' & ');
}

/**
 * One workgroup per query row (GPUs): the invocations score the keys in a
 * strided loop into workgroup memory (-inf for a masked key: a key scoring
 * -inf is invisible anyway), a tree reduction finds the row's maximum, they
 * turn the scores into p = exp(s - max) (-1 marks an invisible key: a
 * visible p is >= 0 or NaN) and a second tree sums them; then invocation c
 * accumulates output channels c, c + 64, ... over all keys, value loads
 * coalesced across invocations. Invisible keys add exactly nothing, even
 * against an inf or NaN value; a row with no visible key gives 0/0 = NaN,
 * as the graph's softmax.
 */
function emitWorkgroupAttention(k: AttentionKernel, mb: ShaderModuleBuilder): KernelShader {
  const nb = k.batch.length;
  const names = mb.names;
  declareAttentionHooks(k, mb);
  const WG = ATTENTION_WORKGROUP;
  mb.declare(`var<workgroup> att_p: array<f32, ${k.tk}>;`, `var<workgroup> att_red: array<f32, ${WG}>;`);
  const groups = numel(k.batch) * k.tq;
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  // Uniform: the query depends on the workgroup only, so every invocation reaches the barriers below.
  if (grid[0] * grid[1] !== groups) w.line(`if (wg >= ${groups}i) { return; }`);
  const ai = names.axis(nb);
  w.line(`let ${ai} = wg % ${k.tq}i;`, `let bflat = wg / ${k.tq}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  const at = (j: string, c: string) => [...k.batch.map((_, a) => names.axis(a)), ai, j, c].join(', ');
  const end = k.causalOffset === undefined ? `${k.tk}i` : `min(${k.tk}i, ${ai} + ${k.causalOffset + 1}i)`;
  w.line(`let end = ${end};`, 'var m_loc = -inf_f32();');
  w.block(`for (var j = i32(lid); j < end; j += ${WG}i)`, () => {
    w.line('var s = 0.0f;');
    w.block(`for (var c = 0i; c < ${k.d}i; c++)`, () => w.line(`s += read_q(${at('0i', 'c')}) * read_k(${at('j', 'c')});`));
    w.line(`s = s * ${wgslConst('f32', k.scale, mb.use)}${k.bias ? ` + bias(${at('j', '0i')})` : ''};`);
    // NaN scores are visible and never the maximum (as in the row variant).
    w.line(`let vis = ${visibility(k, at, ai)};`, 'att_p[j] = select(-inf_f32(), s, vis);', 'm_loc = select(m_loc, s, vis & (s > m_loc));');
  });
  w.line('att_red[lid] = m_loc;', 'workgroupBarrier();');
  emitWorkgroupTree(w, 'att_red', WG, (a, b) => `select(${a}, ${b}, ${b} > ${a})`);
  w.line('let m = att_red[0];', 'workgroupBarrier();', 'var l_loc = 0.0f;');
  // Each invocation rewrites the scores it wrote itself.
  w.block(`for (var j = i32(lid); j < end; j += ${WG}i)`, () => {
    w.line('let s = att_p[j];', 'let vis = s != -inf_f32();', 'let p = exp(s - m);', 'att_p[j] = select(-1.0f, p, vis);', 'l_loc += select(0.0f, p, vis);');
  });
  w.line('att_red[lid] = l_loc;', 'workgroupBarrier();');
  emitWorkgroupTree(w, 'att_red', WG, (a, b) => `${a} + ${b}`);
  w.line('let l = att_red[0];');
  if (k.statStores) w.block('if (lid == 0u)', () => w.line(...writeStats(k, at, 'm', 'l')));
  w.block(`for (var c = i32(lid); c < ${k.dv}i; c += ${WG}i)`, () => {
    w.line('var o = 0.0f;');
    w.block('for (var j = 0i; j < end; j++)', () => w.line('let p = att_p[j];', `o += select(p * read_v(${at('j', 'c')}), 0.0f, p < 0.0f);`));
    w.line(`write_o(${at('0i', 'c')}, o / l);`);
  });
  const bindings = kernelBindings(k);
  const label = 'attention:workgroup';
  const wgsl = mb.assemble(label, bindings, `${entryHead(WG, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'attention', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: WG };
}

/**
 * Fused attention, one invocation per query row (flash-attention's online
 * softmax): q is cached in registers, each visible key updates the running
 * max `m`, the normaliser `l` and the output row. A workgroup holds queries
 * of one batch entry; the causal bound of its last query ends the key loop,
 * and keys past a lane's own bound, masked keys and keys scoring -inf add
 * nothing. A row with no visible key ends with l = 0 and gives 0/0 = NaN,
 * as the graph's softmax.
 */
export function emitAttention(k: AttentionKernel, mb: ShaderModuleBuilder): KernelShader {
  if (chooseAttentionVariant(k, mb.target) === 'workgroup') return emitWorkgroupAttention(k, mb);
  const rank = k.batch.length + 3;
  const nb = k.batch.length;
  const names = mb.names;
  declareAttentionHooks(k, mb);

  // Workgroups never straddle two batch entries (heads): every lane reads the same key and value at each step, so
  // those loads have uniform addresses (one load per SIMD batch on llvmpipe instead of one per lane).
  const blocks = Math.ceil(k.tq / ATTENTION_WORKGROUP);
  const groups = numel(k.batch) * blocks;
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  const extraBindings: BufferBinding[] = [];
  if (grid[0] * grid[1] !== groups) w.line(`if (wg >= ${groups}i) { return; }`);
  w.line(`let qblock = wg % ${blocks}i;`, `let bflat = wg / ${blocks}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  const ai = names.axis(nb);
  // Lanes past the last query compute a clamped copy and store nothing (no early return: the key loop stays uniform).
  w.line(`let i_raw = qblock * ${ATTENTION_WORKGROUP}i + i32(lid);`, `let ${ai} = min(i_raw, ${k.tq - 1}i);`);
  const at = (j: string, c: string) => [...k.batch.map((_, a) => names.axis(a)), ai, j, c].join(', ');
  const unrolled = k.d <= UNROLL_CHANNELS && k.dv <= UNROLL_CHANNELS;
  // The workgroup's loop bound (its last query's causal limit); each lane masks the keys past its own.
  const end = k.causalOffset === undefined ? `${k.tk}i` : `min(${k.tk}i, min(qblock * ${ATTENTION_WORKGROUP}i + ${ATTENTION_WORKGROUP - 1}i, ${k.tq - 1}i) + ${k.causalOffset + 1}i)`;
  // A masked key, or one scoring -inf, adds nothing (and keeps exp(-inf - -inf) = NaN out of rows with visible keys).
  // Branch-free, so every load stays outside divergent control flow (llvmpipe loads uniform addresses once per
  // SIMD batch only there); corr = 1 and p = 0 leave m, l and o exactly as they were. `&`, not `&&`: no
  // short-circuit branch around the keep mask's load.
  const update = () => {
    w.line(`s = s * ${wgslConst('f32', k.scale, mb.use)}${k.bias ? ` + bias(${at('j', '0i')})` : ''};`);
    w.line(`let vis = ${visibility(k, at, ai)};`, 'let up = vis & (s > m);', 'let m_new = select(m, s, up);');
    w.line('let corr = select(1.0f, exp(m - m_new), up);', 'let p = select(0.0f, exp(s - m_new), vis);', 'l = l * corr + p;', 'm = m_new;');
  };
  if (unrolled) {
    // q and the output row in registers (private arrays indexed in a loop live in per-lane scratch memory on
    // llvmpipe); channels in vec4 groups when d (dv) is a multiple of 4, read through vec4 views where aligned.
    const C = nb + 2;
    const written = new Set(k.stores.map((st) => st.buffer));
    const qw = k.d % 4 === 0 ? 4 : 1;
    const vw = k.dv % 4 === 0 ? 4 : 1;
    const vec4Buffers = new Set<number>();
    if (qw === 4) {
      emitVec4Hook(mb, 'read_q', k.readQ, C, rank, undefined, written, vec4Buffers);
      emitVec4Hook(mb, 'read_k', k.readK, C, rank, undefined, written, vec4Buffers);
    }
    if (vw === 4) emitVec4Hook(mb, 'read_v', k.readV, C, rank, undefined, written, vec4Buffers);
    extraBindings.push(...[...vec4Buffers].map((buffer) => ({ buffer, access: 'read' as const, vec4: true })));
    const qs = Array.from({ length: k.d / qw }, (_, g) => g * qw);
    const vs = Array.from({ length: k.dv / vw }, (_, g) => g * vw);
    const tv = vw === 4 ? 'vec4<f32>' : 'f32';
    const rq = qw === 4 ? 'read_q4' : 'read_q';
    const rk = qw === 4 ? 'read_k4' : 'read_k';
    const rv = vw === 4 ? 'read_v4' : 'read_v';
    for (const c of qs) w.line(`let q${c} = ${rq}(${at('0i', `${c}i`)});`);
    for (const c of vs) w.line(`var o${c} = ${tv}(0.0f);`);
    w.line('var m = -inf_f32();', 'var l = 0.0f;');
    w.block(`for (var j = 0i; j < ${end}; j++)`, () => {
      const dot = (c: number) => (qw === 4 ? `dot(q${c}, ${rk}(${at('j', `${c}i`)}))` : `q${c} * ${rk}(${at('j', `${c}i`)})`);
      w.line(`var s = ${qs.map(dot).join(' + ')};`);
      update();
      for (const c of vs) w.line(`o${c} = o${c} * corr + select(${tv}(0.0f), p * ${rv}(${at('j', `${c}i`)}), vis);`);
    });
    w.block(`if (i_raw < ${k.tq}i)`, () => {
      w.line(...writeStats(k, at, 'm', 'l'));
      for (const c of vs) {
        if (vw === 1) w.line(`write_o(${at('0i', `${c}i`)}, o${c} / l);`);
        else for (const [q, lane] of ['x', 'y', 'z', 'w'].entries()) w.line(`write_o(${at('0i', `${c + q}i`)}, o${c}.${lane} / l);`);
      }
    });
  } else {
    w.line(`var q: array<f32, ${k.d}>;`);
    w.block(`for (var c = 0i; c < ${k.d}i; c++)`, () => w.line(`q[c] = read_q(${at('0i', 'c')});`));
    w.line(`var o: array<f32, ${k.dv}>;`, 'var m = -inf_f32();', 'var l = 0.0f;');
    w.block(`for (var j = 0i; j < ${end}; j++)`, () => {
      w.line('var s = 0.0f;');
      w.block(`for (var c = 0i; c < ${k.d}i; c++)`, () => w.line(`s += q[c] * read_k(${at('j', 'c')});`));
      update();
      w.block(`for (var c = 0i; c < ${k.dv}i; c++)`, () => w.line(`o[c] = o[c] * corr + select(0.0f, p * read_v(${at('j', 'c')}), vis);`));
    });
    w.block(`if (i_raw < ${k.tq}i)`, () => {
      w.line(...writeStats(k, at, 'm', 'l'));
      w.block(`for (var c = 0i; c < ${k.dv}i; c++)`, () => w.line(`write_o(${at('0i', 'c')}, o[c] / l);`));
    });
  }
  const bindings = [...kernelBindings(k), ...extraBindings];
  const label = `attention:row${unrolled ? ' unrolled' : ''}${extraBindings.length ? ` vec4 loads of ${extraBindings.map((b) => names.buffer(b.buffer)).join(', ')}` : ''}`;
  const wgsl = mb.assemble(label, bindings, `${entryHead(ATTENTION_WORKGROUP, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'attention', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: ATTENTION_WORKGROUP };
}
