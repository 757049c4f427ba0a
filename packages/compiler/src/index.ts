/**
 * tessera: the public API. Compile a graph program (or a traced model) for a
 * backend and run it: `const exe = await compile(program, { backend: 'cpu' });
 * const out = await exe.run({ x })`.
 */
export * from './compile.ts';
export * from './backends.ts';
export * from './reexports.ts';
export type { Executable, TensorData, Backend, BackendLimits } from '@tessera/kernel';
/** Node 20 only: turns on relaxed SIMD (fused multiply-adds in the CPU backend's matmuls) for this process; see @tessera/backend-cpu. */
export { enableRelaxedSimd } from '@tessera/backend-cpu';
