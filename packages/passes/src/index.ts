/** @tessera/passes: graph-to-kernel lowering with fusion, and the optimisation pipeline. */
export * from './lower/view.ts';
export * from './lower/affine.ts';
export * from './lower/plan.ts';
export * from './lower/mask-folding.ts';
export * from './lower/elementwise-expr.ts';
export * from './lower/lower.ts';
