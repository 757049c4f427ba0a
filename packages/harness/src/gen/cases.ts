import fc from 'fast-check';
import type { Program } from '@tessera/ir';
import { formatCounterexample, printable } from '../counterexample.ts';
import { type HostInputs, type InputValueOptions, arbInputs } from '../inputs.ts';
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
