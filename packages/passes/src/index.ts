/** @tessera/passes: the pass pipeline (canonicalisation, decomposition, fusion and lowering, memory planning) and its statistics. */
export * from './lower/view.ts';
export * from './lower/affine.ts';
export * from './lower/plan.ts';
export * from './lower/rules.ts';
export * from './lower/mask-folding.ts';
export * from './lower/probes.ts';
export * from './lower/lower.ts';
export * from './graph/canonicalize.ts';
export * from './memory/plan-memory.ts';
export * from './pipeline/pipeline.ts';
export * from './pipeline/stats.ts';
export * from './pipeline/compile.ts';
