import fc from 'fast-check';
import type { Program } from '@tessera/ir';
import { formatCounterexample } from '../counterexample.ts';
import { printable } from './printable.ts';
import { type ProgramGenOptions, resolveGenOptions } from './options.ts';
import { type ProgramRecipe, buildProgram, generatedOps } from './recipe.ts';

/** Choices per step: enough for the hungriest generator (slice of rank 4 plus adapters). */
const CHOICES_PER_STEP = 40;
const CHOICES_PER_INPUT = 8;

const stream = (n: number) => fc.array(fc.nat({ max: 0xffff }), { minLength: n, maxLength: n });

/** Random recipes (see ProgramRecipe); what fast-check generates and shrinks. */
export function arbRecipe(options: ProgramGenOptions = {}): fc.Arbitrary<ProgramRecipe> {
  const opts = resolveGenOptions(options);
  return fc.record({
    inputs: fc.array(stream(CHOICES_PER_INPUT), { minLength: 1, maxLength: opts.maxInputs }),
    steps: fc.array(fc.record({ op: fc.nat({ max: 0xffff }), choices: stream(CHOICES_PER_STEP) }), { minLength: 1, maxLength: opts.maxNodes }),
    outputs: fc.array(fc.nat({ max: 0xffff }), { minLength: 0, maxLength: opts.maxOutputs - 1 }),
  });
}

/**
 * Random well-typed programs over the whole op set (or `options.ops`): 1-4
 * inputs of small odd shapes, a DAG of generated ops whose operands are
 * picked among all earlier values, 1-3 outputs. Built from recipes, so
 * shrinking gives smaller valid programs. A failing program prints as IR text.
 */
export function arbProgram(options: ProgramGenOptions = {}): fc.Arbitrary<Program> {
  generatedOps(options); // fail now, naming the op, rather than inside a property
  return arbRecipe(options).map((r) => printable(buildProgram(r, options), (p) => formatCounterexample(p)));
}
