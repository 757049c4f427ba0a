/** Hand-built programs for the text-format tests: together they use every op and every attribute kind. */
import { type Program, ProgramBuilder, tensorType } from '../src/index.ts';

const f32 = (...s: number[]) => tensorType('f32', s);
const i32 = (...s: number[]) => tensorType('i32', s);
const bool = (...s: number[]) => tensorType('bool', s);

/** Elementwise, comparison, select, cast and reduction ops. */
export function elementwiseProgram(): Program {
  const b = new ProgramBuilder('elementwise');
  const x = b.input('x', f32(2, 3));
  const y = b.input('y', f32(1, 3));
  const i = b.input('i', i32(2, 3));
  const c = b.input('c', bool(2, 1));
  for (const op of ['neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sin', 'cos', 'recip'] as const) b.output(op, b.emit(op, [x], {}, { name: op }));
  b.output('neg_i', b.emit('neg', [i]));
  b.output('abs_i', b.emit('abs', [i]));
  for (const op of ['floor', 'ceil', 'round', 'sign', 'isnan', 'isinf'] as const) b.output(op, b.emit(op, [x], {}, { name: op }));
  b.output('floor_div', b.emit('floor_div', [i, i]));
  b.output('mod', b.emit('mod', [i, i]));
  for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'] as const) b.output(op, b.emit(op, [x, y], {}, { name: op }));
  b.output('add_i', b.emit('add', [i, i]));
  for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) b.output(op, b.emit(op, [x, y], {}, { name: op }));
  b.output('eq_b', b.emit('eq', [c, c]));
  b.output('where', b.emit('where', [c, x, y], {}, { name: 'sel' }));
  b.output('to_i32', b.emit('cast', [x], { to: 'i32' }));
  b.output('to_bool', b.emit('cast', [i], { to: 'bool' }));
  b.output('sum', b.emit('reduce_sum', [x], { axes: [-1] }));
  b.output('max_keep', b.emit('reduce_max', [i], { axes: [1, 0], keepdims: true }));
  b.output('mean', b.emit('reduce_mean', [x], { axes: [0], keepdims: false }));
  return b.build();
}

/** Contraction, movement and source ops, with awkward numbers in float attributes. */
export function movementProgram(): Program {
  const b = new ProgramBuilder('blocks.0.movement');
  const x = b.input('x', f32(2, 3));
  const w = b.param('encoder.layers.0.w', f32(3, 4));
  const table = b.param('embed.table', f32(5, 3));
  const idx = b.input('tokens', i32(4));
  const s = b.input('s', f32());
  b.output('mm', b.emit('matmul', [x, w]));
  b.output('mm_int8', b.emit('matmul_int8', [x, w], { activation_max: 127, weight_max: 63 }));
  b.output('flat', b.emit('reshape', [x], { shape: [-1] }));
  b.output('t', b.emit('transpose', [x], { perm: [1, 0] }));
  b.output('bc', b.emit('broadcast_to', [s], { shape: [4, 2, 3] }));
  b.output('sl', b.emit('slice', [x], { start: [0, -2], stop: [2, 3], step: [1, 2] }));
  b.output('cat', b.emit('concat', [x, x, x], { axis: -1 }));
  b.output('pad_ninf', b.emit('pad', [x], { low: [1, 0], high: [0, 2], value: -Infinity }));
  b.output('pad_nan', b.emit('pad', [x], { low: [0, 0], high: [1, 1], value: NaN }));
  b.output('pad_negzero', b.emit('pad', [x], { low: [0, 1], high: [0, 0], value: -0 }));
  b.output('pad_default', b.emit('pad', [x], { low: [0, 0], high: [0, 0] }));
  b.output('emb', b.emit('gather', [table, idx]));
  b.output('emb1', b.emit('gather', [table, idx], { axis: -1 }));
  b.output('iota_f', b.emit('iota', [], { shape: [2, 3], axis: -1, dtype: 'f32' }));
  b.output('iota_i', b.emit('iota', [], { shape: [4], axis: 0 }));
  const values = [Infinity, -Infinity, NaN, -0, 0, 1e-7, 0.1, 1.5e30, -3.4028234663852886e38, 1.401298464324817e-45].map(Math.fround);
  b.output('consts', b.emit('constant', [], { shape: [values.length], dtype: 'f32', value: values }));
  b.output('scalar', b.emit('constant', [], { shape: [], value: [0.5] }));
  b.output('ints', b.emit('constant', [], { shape: [2, 2], dtype: 'i32', value: [-2147483648, 2147483647, 0, -1] }));
  b.output('flags', b.emit('constant', [], { shape: [3], dtype: 'bool', value: [1] }));
  return b.build();
}

/** Composite ops, with default and explicit attributes. */
export function compositeProgram(): Program {
  const b = new ProgramBuilder('composites');
  const x = b.input('x', f32(2, 3));
  const g = b.param('ln.weight', f32(3));
  const beta = b.param('ln.bias', f32(3));
  const q = b.input('q', f32(2, 3, 4));
  const k = b.input('k', f32(2, 5, 4));
  const v = b.input('v', f32(2, 5, 2));
  const m = b.input('mask', bool(3, 5));
  const fm = b.input('fmask', f32(1, 5));
  b.output('sm', b.emit('softmax', [x]));
  b.output('sm0', b.emit('softmax', [x], { axis: 0 }));
  b.output('ln', b.emit('layer_norm', [x, g, beta]));
  b.output('ln_eps', b.emit('layer_norm', [x, g, beta], { eps: 1e-12 }));
  b.output('gelu', b.emit('gelu', [x]));
  b.output('gelu_tanh', b.emit('gelu', [x], { approximate: 'tanh' }));
  for (const op of ['sigmoid', 'silu', 'relu'] as const) b.output(op, b.emit(op, [x]));
  b.output('clamp', b.emit('clamp', [x, g, beta]));
  b.output('xor', b.emit('logical_xor', [fm, m]));
  b.output('att', b.emit('attention', [q, k, v]));
  b.output('att_mask', b.emit('attention', [q, k, v, m], { scale: 0.125 }));
  b.output('att_fmask', b.emit('attention', [q, k, v, fm]));
  // Attention probes: output names may have `/` between parts.
  b.output('attn/probs', b.emit('attention_probs', [q, k, m], { scale: 0.125 }));
  b.output('attn/layers.0/2', b.emit('attention_probs', [q, k]));
  return b.build();
}

/** Reductions, argmax/argmin, logsumexp, log_softmax and cumsum, with default and explicit attributes. */
export function reductionProgram(): Program {
  const b = new ProgramBuilder('reductions');
  const x = b.input('x', f32(2, 3));
  const i = b.input('i', i32(2, 3));
  const c = b.input('c', bool(2, 3));
  b.output('min', b.emit('reduce_min', [x], { axes: [1] }));
  b.output('prod', b.emit('reduce_prod', [i], { axes: [0, 1], keepdims: true }));
  b.output('any', b.emit('reduce_any', [x], { axes: [-1] }));
  b.output('all', b.emit('reduce_all', [c], { axes: [0] }));
  b.output('bmax', b.emit('reduce_max', [c], { axes: [1] }));
  b.output('amax', b.emit('argmax', [x], { axis: -1 }));
  b.output('amin', b.emit('argmin', [i], { axis: 0, keepdims: true }));
  b.output('lse', b.emit('logsumexp', [x], { axes: [0, 1] }));
  b.output('ls', b.emit('log_softmax', [x]));
  b.output('ls0', b.emit('log_softmax', [x], { axis: 0 }));
  b.output('cs', b.emit('cumsum', [x], { axis: 1 }));
  b.output('csi', b.emit('cumsum', [i], { axis: -2 }));
  return b.build();
}

/** Convolutions (groups 1 with bias and defaults, strided, padded, dilated, depthwise), RMS normalisation, triangles. */
export function structureProgram(): Program {
  const b = new ProgramBuilder('structure');
  const x = b.input('x', f32(1, 4, 7, 9));
  const w = b.param('conv.weight', f32(2, 4, 3, 3));
  const bias = b.param('conv.bias', f32(2));
  const dw = b.param('dw.weight', f32(8, 1, 3, 3));
  b.output('conv', b.emit('conv2d', [x, w, bias]));
  b.output('odd', b.emit('conv2d', [x, w], { stride: [2, 1], padding: [1, 2], dilation: [2, 1] }));
  b.output('depthwise', b.emit('conv2d', [x, dw], { padding: [1, 1], groups: 4 }));
  const rw = b.param('norm.weight', f32(9));
  b.output('rms', b.emit('rms_norm', [x, rw]));
  b.output('rms_eps', b.emit('rms_norm', [x], { eps: 1e-6 }));
  b.output('tril', b.emit('tril', [x]));
  b.output('triu', b.emit('triu', [x], { diagonal: -2 }));
  b.output('max_pool', b.emit('max_pool', [x], { kernel: [3, 2], stride: [2, 2], padding: [1, 0, 1, 1], ceil_mode: true }));
  b.output('avg_pool', b.emit('avg_pool', [x], { kernel: [2, 2], padding: [1, 1], count_include_pad: false }));
  const gw = b.param('gn.weight', f32(4));
  b.output('group_norm', b.emit('group_norm', [x, gw, gw], { groups: 2, eps: 1e-3 }));
  b.output('instance_norm', b.emit('group_norm', [x], { groups: 4 }));
  const tw = b.param('up.weight', f32(4, 3, 3, 2));
  b.output('up', b.emit('conv_transpose2d', [x, tw], { stride: [2, 1], padding: [1, 0, 0, 1], output_padding: [1, 0], groups: 1 }));
  b.output('resized', b.emit('resize', [x], { sizes: [1, 4, 14, 5], mode: 'cubic', coordinate_transformation_mode: 'align_corners', antialias: true }));
  b.output('cropped', b.emit('resize', [x], { sizes: [1, 4, 3, 3], scales: [1, 1, 0.5, 0.4], coordinate_transformation_mode: 'tf_crop_and_resize', roi: [0, 0, 0.1, 0.2, 1, 1, 0.9, 1.1], extrapolation_value: -1.5 }));
  return b.build();
}

/** Every fixture program. */
export const FIXTURES: ReadonlyArray<readonly [string, () => Program]> = [
  ['elementwise', elementwiseProgram],
  ['movement', movementProgram],
  ['composite', compositeProgram],
  ['reduction', reductionProgram],
  ['structure', structureProgram],
];

/** A program without source locations, for comparing a parsed program with a built one. */
export function withoutLocs(p: Program): Program {
  const strip = <T extends { loc?: unknown }>(x: T): T => {
    const { loc: _loc, ...rest } = x;
    return rest as T;
  };
  return { name: p.name, inputs: p.inputs.map(strip), nodes: p.nodes.map(strip), outputs: p.outputs.map(strip) };
}

/**
 * A key that tells apart every difference toEqual might blur: -0 from 0,
 * numbers from strings, attribute order.
 */
export function exactKey(p: Program): string {
  return JSON.stringify(withoutLocs(p), (_k, v: unknown) => (typeof v === 'number' ? `num:${Object.is(v, -0) ? '-0' : String(v)}` : v));
}
