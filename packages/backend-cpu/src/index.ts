/** @tessera/backend-cpu: JavaScript and WebAssembly (SIMD128, worker threads) kernels generated from the kernel program. */
export * from './cpu-backend.ts';
export * from './js/module.ts';
export { emitJsKernel, type JsKernelSource } from './js/emit-kernel.ts';
export { JS_HELPERS } from './js/scalar.ts';
export { compileWasm, type WasmCompileOptions, type WasmExecutable } from './wasm/executable.ts';
export { enableRelaxedSimd, relaxedSimdAvailable, relaxedSimdByDefault } from './wasm/relaxed-simd.ts';
export { type HostExecutable, hostExecutable } from './host-executable.ts';
export { uleb, utf8 } from './wasm/binary.ts';
export { emitWasmProgram, type WasmProgram, type WasmKernelPlan, type WasmEmitOptions, type MemoryPlan } from './wasm/program.ts';
