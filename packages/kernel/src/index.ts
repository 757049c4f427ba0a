/**
 * @tessera/kernel: the kernel program, the lower IR every backend consumes:
 * kernels over iteration spaces with affine loads and stores, a buffer list,
 * a verifier, a printer, the kernel evaluator (the second oracle) and the
 * Backend interface.
 */
export * from './expr.ts';
export * from './kernel.ts';
export * from './window.ts';
export * from './space.ts';
export * from './evaluate.ts';
export * from './verify.ts';
export * from './memory-plan.ts';
export * from './print.ts';
export * from './backend.ts';
export * from './evaluator-backend.ts';
export * from './host-tensor.ts';
export * from './input-value.ts';
export * from './inputs.ts';
export * from './dispose-symbol.ts';
export * from './host-copy-executable.ts';
export * from './gather-faults.ts';
export * from './code-writer.ts';
export * from './profile.ts';
export * from './buffer-limits.ts';
export * from './render/expr-ids.ts';
export * from './render/fold.ts';
export * from './render/renderer.ts';
export * from './render/string-renderer.ts';
export * from './render/decompose-expr.ts';
export * from './render/legalize.ts';
