import fc from 'fast-check';
import type { Program } from '@tessera/ir';
import { formatCounterexample } from '../counterexample.ts';
import { printable } from './printable.ts';
import type { HostInputs, InputValueOptions } from '../inputs.ts';
import { arbInputs } from './arb-inputs.ts';
import { arbProgram } from './arbitrary.ts';
import type { ProgramGenOptions } from './options.ts';

/** A program with values for its inputs: one case of a differential test. */
export interface ProgramCase {
  readonly program: Program;
  readonly inputs: HostInputs;
}

/**
 * Random programs (see arbProgram) with random values for their inputs (see
 * arbInputs). fast-check shrinks the program first, then the values; a
 * failing case prints as IR text with its inputs.
 */
export function arbProgramWithInputs(options: ProgramGenOptions & InputValueOptions = {}): fc.Arbitrary<ProgramCase> {
  return arbProgram(options).chain((program) =>
    arbInputs(program, options).map((inputs) => printable<ProgramCase>({ program, inputs }, (c) => formatCounterexample(c.program, c.inputs))),
  );
}

/**
 * What model-shaped cases are drawn with: stacked blocks (see the `model`
 * generator option) over streams of up to 512 elements, so temporaries
 * span several arena alignment steps, weights of trained size, tame values.
 */
export const MODEL_CASE_OPTIONS = { model: true, maxNodes: 6, maxElements: 1024, paramMax: 0.1, tame: true } as const satisfies ProgramGenOptions & InputValueOptions;

/** Model-shaped programs with input values (MODEL_CASE_OPTIONS, overridable). */
export function arbModelWithInputs(options: ProgramGenOptions & InputValueOptions = {}): fc.Arbitrary<ProgramCase> {
  return arbProgramWithInputs({ ...MODEL_CASE_OPTIONS, ...options });
}
