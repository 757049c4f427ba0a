/**
 * @tessera/harness/compare: comparing backends on a model, with the first
 * divergent kernel localised (what `tessera compare` runs). It loads no
 * fast-check: a program that only compares, such as the CLI, needs none.
 */
export { type Probe, type ProbedProgram, insertProbes } from './probes.ts';
export { type Divergence, type KernelSite, type LocaliseOptions, type NodeSite, bufferValues, interpretAll, localiseDivergence } from './localise.ts';
export { type CompareOptions, type CompareReport, type CompareRow, type Localisation, compareBackends } from './compare-backends.ts';
export { describeInputs, formatCompareReport, formatDisagreement, formatDivergence, formatNode } from './format.ts';
export { BackendsDisagreeError, expectBackendsAgree } from './expect.ts';
export { type Fault, corruptStore, faultyBackend, misplace, strayStore } from './faults.ts';
/** Seeded inputs for a model's program (token ids in range of the tables they index): what `tessera bench` runs a model file on. */
export { gatherIndexInputs, modelInputsFor } from '../model-inputs.ts';
