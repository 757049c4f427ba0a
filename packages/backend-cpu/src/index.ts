/** @tessera/backend-cpu: JavaScript kernels generated from the kernel program. */
export * from './cpu-backend.ts';
export * from './js/module.ts';
export { emitJsKernel, type JsKernelSource } from './js/emit-kernel.ts';
export { JS_HELPERS } from './js/scalar.ts';
