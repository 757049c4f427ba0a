/**
 * @tessera/compiler: the public API. Compile a graph program (or a traced
 * model) for a backend and run it on tensors:
 * `using exe = await compile(program, { backend: 'cpu' });
 * const { y } = await exe.run({ x: hostTensor(data, [2, 3]) })`.
 */
export * from './compile.ts';
export * from './backends.ts';
export * from './reexports.ts';
export type { Executable, Inputs, InputValue, Outputs, TensorData, TensorInfo, InputInfo, BackendInfo, AdapterInfo, Backend, BackendLimits, TensorLike, TensorArray, HostDType } from '@tessera/kernel';
/** The runtime tensor (named apart from the DSL's symbolic `Tensor`) and its factory. */
export { HostTensor, hostTensor } from '@tessera/kernel';
/** Node 20 only: turns on relaxed SIMD (fused multiply-adds in the CPU backend's matmuls) for this process; see @tessera/backend-cpu. */
export { enableRelaxedSimd } from '@tessera/backend-cpu';
