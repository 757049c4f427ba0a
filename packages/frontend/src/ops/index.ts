/** The `ops` namespace: every IR op (and a few compositions) as a function. */
export * from './math.ts';
export * from './shape.ts';
export * from './create.ts';
export * from './nn.ts';
export * from './conv.ts';
export * from './pool.ts';
