/**
 * @tessera/harness: what property tests share. Random well-typed programs
 * over the whole op set and values for their inputs (fast-check
 * arbitraries), the one tolerance policy for comparing results with the
 * reference interpreter, counterexample printing, and comparing backends
 * on a user's model (compareBackends, expectBackendsAgree) with the first
 * divergent kernel localised.
 */
export { arbProgram, arbRecipe } from './gen/arbitrary.ts';
export { MODEL_CASE_OPTIONS, arbModelWithInputs, arbProgramWithInputs, type ProgramCase } from './gen/cases.ts';
export { buildProgram, generatedOps, missingGenerators, type ProgramRecipe } from './gen/recipe.ts';
export { type ProgramGenOptions, TAME_LIMIT, resolveGenOptions } from './gen/options.ts';
export { generatorFor, type OpGenerator } from './gen/op-generators.ts';
export { Choices, makeRng } from './gen/choices.ts';
export { opCoverage, REQUIRED_VARIANTS } from './gen/coverage.ts';
export { inputsFor, type HostInputs, type InputValueOptions } from './inputs.ts';
export { arbInputs } from './gen/arb-inputs.ts';
export {
  allClose,
  compareClose,
  describeMismatch,
  multiIndex,
  effectiveTolerance,
  elementClose,
  toleranceFor,
  EXACT_TOLERANCE,
  F32_TOLERANCE,
  type CloseOptions,
  type Comparison,
  type Mismatch,
  type Tolerance,
} from './tolerance.ts';
export { formatCounterexample, formatValues, type InputValues } from './counterexample.ts';
export { printable } from './gen/printable.ts';
export { interpretInF32, roundingAllowance, roundingLeeway, SPREAD_FACTOR, type RoundingLeeway } from './rounding-spread.ts';
export { longestReduction, sumLength } from './sum-length.ts';
export { mismatchVsInterpreter, assertMatchesInterpreter, type ActualOutput, type ReferenceOptions } from './differential.ts';
export { type AttentionCase, attentionInputs, buildAttentionCase, maskedProbabilityMismatch } from './attention-cases.ts';
export { broadcastProgram, matmulProgram, specialValuesCase } from './edge-programs.ts';
export { EDGE_CASES, EDGE_MATMUL_SHAPES, type EdgeCase } from './edge-cases.ts';
export { gatherIndexInputs, modelInputsFor } from './model-inputs.ts';
export * from './compare/index.ts';
export { CONFORMANCE_CASES, type CompileFor, type ConformanceCase, type ErrorRecord, type Outcome } from './conformance.ts';
export { type ErrorVerdict, type FuzzBudget, type FuzzFailure, type FuzzReport, type FuzzTarget, FuzzRng, caseSeed, expectCleanFuzz, formatFuzzReport, fuzzBudget, fuzzTestTimeout, runFuzz } from './fuzz.ts';
