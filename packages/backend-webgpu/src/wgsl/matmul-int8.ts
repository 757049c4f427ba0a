/**
 * The int8 matmul in WGSL (MatmulKernel.quant, the graph's matmul_int8):
 * one invocation per output (batch, i, j). It finds the largest |value| of
 * its row of A and its column of B through the hooks (a non-finite value
 * makes the output NaN, as the IR defines), derives both scales (the f32
 * divisions of the IR's quantizeVector), and sums the quantized products in
 * i32: four at a time with `dot4I8Packed` on values packed by `pack4xI8`
 * where the adapter has the `packed_4x8_integer_dot_product` language
 * feature (`packed`), else one product at a time (`i32`). The epilogue then
 * runs on the dequantized sum, as the f32 matmul's does.
 *
 * Every invocation quantizes its own row and column: correct and simple,
 * not fast (a tiled variant that quantizes each operand once is what is
 * left to do). WGSL's f32 division is accurate to 2.5 ulp, not correctly
 * rounded: on a device whose division is not exact a value within that of
 * a rounding tie can quantize one step away from the interpreter's.
 */
import { numel } from '@tessera/ir';
import { type KernelShader, type ShaderModuleBuilder, entryHead, gridFor, kernelBindings } from './module.ts';
import { emitHook, emitStores } from './stores.ts';
import type { MatmulKernel } from './util.ts';
import { WgslWriter, decomposeIndex } from './writer.ts';

/** How the int8 products are summed: packed dot products of four, or one i32 product at a time. */
export type Int8Variant = 'packed' | 'i32';

const WORKGROUP = 64;

/** Emits an int8 matmul kernel (see the module comment). */
export function emitMatmulInt8(k: MatmulKernel, mb: ShaderModuleBuilder): KernelShader {
  const nb = k.batch.length;
  const rank = nb + 3;
  const { activationMax, weightMax } = k.quant!;
  const variant: Int8Variant = mb.target.int8 ?? (mb.target.packedDot4 ? 'packed' : 'i32');
  const names = mb.names;
  const ew = new WgslWriter(1);
  emitStores(ew, mb, k.stores, 'e');
  const params = Array.from({ length: rank }, (_, a) => `${names.axis(a)}: i32`);
  mb.declare(`fn write_c(${[...params, `${names.ref('acc')}: f32`].join(', ')}) {`, ew.toString(), '}');
  emitHook(mb, 'read_a', k.readA, rank);
  emitHook(mb, 'read_b', k.readB, rank);
  mb.use('is_nan');
  mb.use('is_finite');
  mb.use('nan_f32');
  // The IR's quantValue: round half to even (WGSL's round), saturate, NaN (0/0 when the scale is 0) -> 0.
  mb.declare('fn quant(v: f32, s: f32, q: f32) -> i32 {', '  let x = round(v / s);', '  if (is_nan(x)) { return 0i; }', '  return i32(clamp(x, -q, q));', '}');
  const total = numel(k.batch) * k.m * k.n;
  const groups = Math.ceil(total / WORKGROUP);
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const batch = k.batch.map((_, a) => names.axis(a));
  const at = (i: string, j: string, p: string) => [...batch, i, j, p].join(', ');
  const w = new WgslWriter(1);
  w.line(`let g = wg * ${WORKGROUP}i + i32(lid);`, `if (g >= ${total}i) { return; }`);
  w.line(`let j = g % ${k.n}i;`, `let i = (g / ${k.n}i) % ${k.m}i;`, `let bflat = g / ${k.m * k.n}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  w.line('var amax = 0.0f;', 'var bmax = 0.0f;', 'var finite = true;');
  w.block(`for (var p = 0i; p < ${k.k}i; p++)`, () => {
    w.line(`let x = read_a(${at('i', '0i', 'p')});`, `let y = read_b(${at('0i', 'j', 'p')});`);
    w.line('finite = finite && is_finite(x) && is_finite(y);', 'amax = max(amax, abs(x));', 'bmax = max(bmax, abs(y));');
  });
  w.line(`let sa = amax / ${activationMax}.0f;`, `let sb = bmax / ${weightMax}.0f;`, 'var acc = 0i;');
  const qa = (p: string) => `quant(read_a(${at('i', '0i', p)}), sa, ${activationMax}.0f)`;
  const qb = (p: string) => `quant(read_b(${at('0i', 'j', p)}), sb, ${weightMax}.0f)`;
  const k4 = k.k - (k.k % 4);
  if (variant === 'packed' && k4 > 0) {
    w.block(`for (var p = 0i; p < ${k4}i; p += 4i)`, () => {
      const four = (q: (p: string) => string) => `pack4xI8(vec4<i32>(${[0, 1, 2, 3].map((t) => q(t ? `p + ${t}i` : 'p')).join(', ')}))`;
      w.line(`acc += dot4I8Packed(${four(qa)}, ${four(qb)});`);
    });
  }
  const from = variant === 'packed' ? k4 : 0;
  if (from < k.k) w.block(`for (var p = ${from}i; p < ${k.k}i; p++)`, () => w.line(`acc += ${qa('p')} * ${qb('p')};`));
  w.line('write_c(' + at('i', 'j', '0i') + ', select(nan_f32(), f32(acc) * sa * sb, finite));');
  const bindings = kernelBindings(k);
  const label = `matmul_int8:${variant}`;
  const wgsl = mb.assemble(label, bindings, `${entryHead(WORKGROUP, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'matmul', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: WORKGROUP };
}
