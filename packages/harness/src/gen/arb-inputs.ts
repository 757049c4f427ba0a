/** Program inputs as fast-check arbitraries (the seeded values without fast-check are in ../inputs.ts). */
import fc from 'fast-check';
import { type DType, type Program, numel } from '@tessera/ir';
import { type HostInputs, type InputValueOptions, floatRange, hostArray, normalOrZero } from '../inputs.ts';

/** The fast-check arbitrary of one element of a dtype; shrinks toward 0. */
function arbElement(dtype: DType, max: number, options: InputValueOptions): fc.Arbitrary<number> {
  const zero = options.zeroChance ?? 0.1;
  const zeros = Math.max(1, Math.round(zero * 100));
  if (dtype === 'bool') return fc.constantFrom(0, 1);
  const intMax = options.intMax ?? 4;
  const subnormals = options.subnormals ?? true;
  const value = dtype === 'i32' ? fc.integer({ min: -intMax, max: intMax }) : fc.float({ min: -Math.fround(max), max: Math.fround(max), noNaN: true, noDefaultInfinity: true }).map((v) => normalOrZero(v, subnormals));
  return fc.oneof({ weight: zeros, arbitrary: fc.constant(0) }, { weight: 100 - zeros, arbitrary: value });
}

/**
 * Values for every input of a program as a fast-check arbitrary (same ranges
 * as inputsFor); fast-check shrinks failing values toward 0.
 */
export function arbInputs(program: Program, options: InputValueOptions = {}): fc.Arbitrary<HostInputs> {
  const fields: Record<string, fc.Arbitrary<Float32Array | Int32Array | Uint8Array>> = {};
  for (const inp of program.inputs) {
    const n = numel(inp.type.shape);
    fields[inp.name] = fc.array(arbElement(inp.type.dtype, floatRange(inp.kind, options), options), { minLength: n, maxLength: n }).map((vs) => hostArray(inp.type.dtype, vs));
  }
  return fc.record(fields);
}
