import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { createWebgpuBackend } from '../src/index.ts';
const [m, k, n] = [197, 768, 3072];
const b = new ProgramBuilder('mm');
b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.input('b', tensorType('f32', [k, n]))]));
const kp = lowerToKernels(b.build());
const be = await createWebgpuBackend();
const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
const bb = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
for (const v of (process.argv[2] ?? 'register,tiled,naive').split(',')) {
  const exe = await be.compile(kp, { matmul: v as 'register' });
  await exe.run({ a, b: bb });
  const times: number[] = [];
  for (let r = 0; r < 5; r++) { const t0 = performance.now(); await exe.run({ a, b: bb }); times.push(performance.now() - t0); }
  times.sort((x, y) => x - y);
  console.log(v, exe.shaders[0]!.variant, times[2]!.toFixed(1), 'ms', (2 * m * n * k / times[2]! / 1e6).toFixed(2), 'GFLOP/s');
  exe.dispose();
}
be.destroy();
