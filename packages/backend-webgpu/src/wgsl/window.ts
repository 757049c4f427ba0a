import type { MatmulKernel } from '@tessera/kernel';
import type { ShaderModuleBuilder } from './module.ts';
import { emitHook } from './stores.ts';

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
