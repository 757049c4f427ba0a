/** @tessera/passes: graph-to-kernel lowering and (later) the optimisation pipeline. */
export * from './lower/view.ts';
export * from './lower/lower.ts';
