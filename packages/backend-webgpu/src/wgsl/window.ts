import type { ConvWindow, MatmulKernel } from '@tessera/kernel';
import type { ShaderModuleBuilder } from './module.ts';
import { emitHook } from './stores.ts';
import type { WgslWriter } from './writer.ts';

/**
 * Declares `fn read_a(axes) -> f32`, the matmul's A hook. Under a window (a
 * convolution as an implicit GEMM) it reads the image in place: row i is
 * the output position (oh, ow), depth p the tap (c, kh, kw), and the value
 * is readA (declared as `read_a_window`) at the input point (c, y, x), or 0
 * in the padding. Every matmul variant reads A through this hook, so none
 * stages an im2col copy of the image.
 */
export function emitReadA(mb: ShaderModuleBuilder, k: MatmulKernel): void {
  const rank = k.batch.length + 3;
  const w = k.window;
  if (!w) return emitHook(mb, 'read_a', k.readA, rank);
  emitHook(mb, 'read_a_window', k.readA, rank);
  const axis = (a: number) => mb.names.axis(a);
  const nb = k.batch.length;
  const [i, p] = [axis(nb), axis(nb + 2)];
  const [kh, kw] = w.kernel;
  const params = Array.from({ length: rank }, (_, a) => `${axis(a)}: i32`).join(', ');
  const batch = k.batch.map((_, a) => axis(a));
  mb.declare(
    `fn read_a(${params}) -> f32 {`,
    `  let oh = ${i} / ${w.output[1]}i;`,
    `  let c = ${p} / ${kh * kw}i;`,
    `  let tap = ${p} - c * ${kh * kw}i;`,
    `  let th = tap / ${kw}i;`,
    `  let y = oh * ${w.stride[0]}i + th * ${w.dilation[0]}i - ${w.padding[0]}i;`,
    `  let x = (${i} - oh * ${w.output[1]}i) * ${w.stride[1]}i + (tap - th * ${kw}i) * ${w.dilation[1]}i - ${w.padding[1]}i;`,
    `  if (u32(y) >= ${w.input[0]}u || u32(x) >= ${w.input[1]}u) { return 0.0f; }`,
    `  return read_a_window(${[...batch, 'c', 'y', 'x'].join(', ')});`,
    '}',
  );
}

/**
 * For kernels that walk A by rows and taps themselves (the texture matmul):
 * declares `fn read_window(batch..., c, y, x, ok) -> f32`, readA at the input
 * point, 0 in the padding or when `ok` is false (a depth step past k), and
 * returns the WGSL that sets a row's window origin and a tap's offsets, so
 * the divisions run once per row and once per tap rather than per element.
 */
export function windowReader(mb: ShaderModuleBuilder, k: MatmulKernel): { row: (w: WgslWriter, i: string, name: string) => void; tap: (w: WgslWriter, p: string, name: string) => void; read: (row: string, tap: string) => string } {
  const w = k.window!;
  const rank = k.batch.length + 3;
  emitHook(mb, 'read_a_window', k.readA, rank);
  const batch = k.batch.map((_, a) => mb.names.axis(a));
  const params = [...batch.map((b) => `${b}: i32`), 'c: i32', 'y: i32', 'x: i32', 'ok: bool'].join(', ');
  mb.declare(`fn read_window(${params}) -> f32 {`, `  if (!ok || u32(y) >= ${w.input[0]}u || u32(x) >= ${w.input[1]}u) { return 0.0f; }`, `  return read_a_window(${[...batch, 'c', 'y', 'x'].join(', ')});`, '}');
  return {
    row: (out, i, name) => out.line(`let ${name}_y = (${i} / ${w.output[1]}i) * ${w.stride[0]}i - ${w.padding[0]}i;`, `let ${name}_x = (${i} % ${w.output[1]}i) * ${w.stride[1]}i - ${w.padding[1]}i;`),
    tap: (out, p, name) => tapLines(out, w, p, name, k.k),
    read: (row, tap) => `read_window(${[...batch, `${tap}_c`, `${row}_y + ${tap}_y`, `${row}_x + ${tap}_x`, `${tap}_ok`].join(', ')})`,
  };
}

/** The tap of depth `p`: its channel, offsets from the row's window origin, and whether p < k. */
function tapLines(out: WgslWriter, w: ConvWindow, p: string, name: string, k: number): void {
  const [kh, kw] = w.kernel;
  out.line(`let ${name}_p = ${p};`, `let ${name}_c = ${name}_p / ${kh * kw}i;`, `let ${name}_t = ${name}_p - ${name}_c * ${kh * kw}i;`, `let ${name}_h = ${name}_t / ${kw}i;`);
  out.line(`let ${name}_y = ${name}_h * ${w.dilation[0]}i;`, `let ${name}_x = (${name}_t - ${name}_h * ${kw}i) * ${w.dilation[1]}i;`, `let ${name}_ok = ${name}_p < ${k}i;`);
}

