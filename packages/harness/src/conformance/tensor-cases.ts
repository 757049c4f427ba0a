/**
 * Conformance cases of the tensor API: inputs given as tensors (a shape
 * that is not the input's is refused, naming the input and both shapes),
 * int64 token ids narrowed to i32 with a range check, and what an
 * executable says of its inputs and outputs.
 */
import { parseProgram } from '@tessera/ir';
import { hostTensor } from '@tessera/kernel';
import { type ConformanceCase, type Outcome, compiled, describe, describedAs, oracle, problems, rejectedWith, returned, settle, threwWith } from './outcome.ts';

const SHAPES = parseProgram(
  `program @shapes
input %x : f32[4,4]
param %w : f32[4]
input %ids : i32[2,3]
%y = mul(%x, %w) : f32[4,4]
%c = cast(%ids) {to = f32} : f32[2,3]
output y = %y
output c = %c
`,
);
const X16 = Float32Array.from({ length: 16 }, (_, k) => k - 5.5);
const W4 = Float32Array.from([1, -2, 0.5, 3]);
const IDS6 = Int32Array.from([3, -1, 0, 7, 2, 5]);

/** Tensors `run()` must refuse for input x (or w), the message each gets. */
const BAD_TENSORS: readonly (readonly [string, unknown, string])[] = [
  ['x as a [2,8] tensor', hostTensor(X16, [2, 8]), "input 'x' has shape [4,4], got a tensor of shape [2,8]"],
  ['x as a [16] tensor', hostTensor(X16), "input 'x' has shape [4,4], got a tensor of shape [16]"],
  ['x as a [1,4,4] tensor', { data: X16, dims: [1, 4, 4] }, "input 'x' has shape [4,4], got a tensor of shape [1,4,4]"],
  ['x with dims longer than its data', { data: X16.subarray(0, 15), dims: [4, 4] }, "input 'x': a tensor of shape [4,4] needs 16 elements, its data has 15"],
  ['x with dims not an array', { data: X16, dims: 16 }, "input 'x': the tensor's dims must be an array of non-negative integers, got number"],
  ['x with a fractional dim', { data: X16, dims: [4, 4.5] }, "input 'x': the tensor's dims must be an array of non-negative integers, got 4.5 at axis 1"],
  ['x with a plain array as data', { data: Array.from(X16), dims: [4, 4] }, "input 'x': the tensor's data must be a typed array (Float32Array, Int32Array, Uint8Array or BigInt64Array), got Array"],
  ['x with a dtype its data is not', { data: X16, dims: [4, 4], dtype: 'i32' }, 'input \'x\': the tensor\'s dtype "i32" does not match its data, a Float32Array (f32)'],
  ['x with an unknown dtype', { data: X16, dims: [4, 4], dtype: 'float64' }, 'input \'x\': the tensor\'s dtype "float64" is none of f32, i32, bool, i64, float32, int32, int64'],
  ['x as a tensor of Int32Array', hostTensor(new Int32Array(16), [4, 4]), "input 'x' must be a Float32Array for dtype f32 (or a tensor { data, dims } of one), got a tensor of Int32Array"],
  ['ids as a [3,2] tensor', hostTensor(IDS6, [3, 2]), "input 'ids' has shape [2,3], got a tensor of shape [3,2]"],
];

/** Ways to give the same good inputs: each must give the interpreter's outputs. */
const GOOD_FORMS: readonly (readonly [string, Record<string, unknown>])[] = [
  ['HostTensors', { x: hostTensor(X16, [4, 4]), ids: hostTensor(IDS6, [2, 3]) }],
  ['plain { data, dims } objects', { x: { data: X16, dims: [4, 4] }, ids: { data: IDS6, dims: [2, 3] } }],
  ['{ data, dims, dtype } with dtypes f32 and i32', { x: { data: X16, dims: [4, 4], dtype: 'f32' }, ids: { data: IDS6, dims: [2, 3], dtype: 'i32' } }],
  ['{ data, dims, dtype } with dtypes float32 and int32', { x: { data: X16, dims: [4, 4], dtype: 'float32' }, ids: { data: IDS6, dims: [2, 3], dtype: 'int32' } }],
  ["onnxruntime-web's tensor fields ({ type, data, dims })", { x: { type: 'float32', data: X16, dims: [4, 4] }, ids: { type: 'int32', data: IDS6, dims: [2, 3] } }],
  ['bare typed arrays of the right element count', { x: X16, ids: IDS6 }],
];

/** Inputs given as tensors (of any of the usual forms), a shape that differs from the input's refused naming both. */
export const shapeCase: ConformanceCase = {
  name: "inputs are tensors ({ data, dims }) or bare typed arrays; a tensor of another shape is refused, naming the input, its shape and the tensor's",
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    await compiled(outcomes, 'compile: a weight tensor of the wrong shape', compile, SHAPES, { w: hostTensor(W4, [2, 2]) });
    const exe = await compiled(outcomes, 'compile: the weight as a tensor', compile, SHAPES, { w: hostTensor(W4) });
    if (!exe) return outcomes;
    for (const [form, inputs] of GOOD_FORMS) outcomes.push(await settle(`run: ${form}`, () => exe.run(inputs as never)));
    for (const [what, x] of BAD_TENSORS) {
      const inputs = what.startsWith('ids') ? { x: X16, ids: x } : { x, ids: IDS6 };
      outcomes.push(await settle(`run: ${what}`, () => exe.run(inputs as never)));
    }
    outcomes.push(await settle('setInputs: a weight tensor of the wrong shape', () => exe.setInputs!({ w: { data: W4, dims: [1, 4] } })));
    outcomes.push(await settle('run after the refused calls', () => exe.run({ x: hostTensor(X16, [4, 4]), ids: IDS6 })));
    exe.dispose();
    return outcomes;
  },
  check(outcomes) {
    const expected = oracle(SHAPES, { x: X16, w: W4, ids: IDS6 });
    return problems(
      rejectedWith(outcomes, 'compile: a weight tensor of the wrong shape', "input 'w' has shape [4], got a tensor of shape [2,2]"),
      ...GOOD_FORMS.map(([form]) => returned(outcomes, `run: ${form}`, expected)),
      ...BAD_TENSORS.map(([what, , message]) => rejectedWith(outcomes, `run: ${what}`, message)),
      threwWith(outcomes, 'setInputs: a weight tensor of the wrong shape', /^input 'w' has shape \[4\], got a tensor of shape \[1,4\]$/),
      returned(outcomes, 'run after the refused calls', expected),
    );
  },
};

const TOKENS_FILE = 'conformance/tokens.tir';
const TOKENS = parseProgram(
  `program @tokens
input %ids : i32[2,3]
param %table : f32[5,2]
%e = gather(%table, %ids) {axis = 0} : f32[2,3,2]
output e = %e
output ids = %ids
`,
  TOKENS_FILE,
);
const TABLE = Float32Array.from({ length: 10 }, (_, k) => k * 1.5 - 4);
const IDS = Int32Array.from([4, 0, 2, 2, 1, 3]);
/** IDS as int64, with `changes` (position -> value) made. */
const ids64 = (changes: Readonly<Record<number, bigint>> = {}) => BigInt64Array.from(IDS, (v, k) => changes[k] ?? BigInt(v));
const I32_RANGE = 'outside the i32 range [-2147483648, 2147483647]';

const EXTREMES = parseProgram(
  `program @extremes
input %i : i32[2]
%f = cast(%i) {to = f32} : f32[2]
output i = %i
output f = %f
`,
);

/** int64 ids that do not fit i32, and the message each gets (the first such element, flat and as a position). */
const OUT_OF_RANGE: readonly (readonly [string, BigInt64Array, string])[] = [
  ['an id of 2^31', ids64({ 4: 2n ** 31n }), `input 'ids': int64 element 4 (at [1,1]) is 2147483648, ${I32_RANGE}`],
  ['an id of -2^31 - 1 first', ids64({ 0: -(2n ** 31n) - 1n }), `input 'ids': int64 element 0 (at [0,0]) is -2147483649, ${I32_RANGE}`],
  ['ids of 2^62 and -2^40 (the first named)', ids64({ 2: 2n ** 62n, 5: -(2n ** 40n) }), `input 'ids': int64 element 2 (at [0,2]) is 4611686018427387904, ${I32_RANGE}`],
];

/** BigInt64Array token ids (PyTorch's int64) for i32 inputs: narrowed exactly, or refused naming the value and where it is. */
export const integerCase: ConformanceCase = {
  name: 'int64 token ids (BigInt64Array, bare or in a tensor) are taken for i32 inputs, narrowed with a range check naming the first value out of range and its position',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, TOKENS, { table: TABLE });
    if (!exe) return outcomes;
    outcomes.push(await settle('run: ids as an Int32Array', () => exe.run({ ids: IDS })));
    outcomes.push(await settle('run: ids as a BigInt64Array', () => exe.run({ ids: ids64() })));
    outcomes.push(await settle('run: ids as a BigInt64Array tensor, dtype i64', () => exe.run({ ids: { data: ids64(), dims: [2, 3], dtype: 'i64' } })));
    outcomes.push(await settle('run: ids as a HostTensor of int64', () => exe.run({ ids: hostTensor(ids64(), [2, 3]) })));
    for (const [what, ids] of OUT_OF_RANGE) outcomes.push(await settle(`run: ${what}`, () => exe.run({ ids })));
    outcomes.push(await settle('run: an int64 id in the i32 range but past the table', () => exe.run({ ids: ids64({ 1: 7n }) })));
    outcomes.push(await settle('run: a BigInt64Array for an f32 input', () => exe.run({ ids: IDS, table: new BigInt64Array(10) })));
    outcomes.push(await settle('run: a BigInt64Array of the wrong length', () => exe.run({ ids: new BigInt64Array(5) })));
    outcomes.push(await settle('run: a BigInt64Array tensor of the wrong shape', () => exe.run({ ids: hostTensor(ids64(), [3, 2]) })));
    outcomes.push(await settle('run after the refused calls', () => exe.run({ ids: ids64() })));
    exe.dispose();
    const extremes = await compiled(outcomes, 'compile extremes', compile, EXTREMES);
    if (!extremes) return outcomes;
    outcomes.push(await settle('run: the least and greatest i32 as int64', () => extremes.run({ i: BigInt64Array.of(-(2n ** 31n), 2n ** 31n - 1n) })));
    outcomes.push(await settle('run: one past the greatest, in one dimension', () => extremes.run({ i: BigInt64Array.of(0n, 2n ** 31n) })));
    extremes.dispose();
    return outcomes;
  },
  check(outcomes) {
    const expected = oracle(TOKENS, { ids: IDS, table: TABLE });
    return problems(
      ...['run: ids as an Int32Array', 'run: ids as a BigInt64Array', 'run: ids as a BigInt64Array tensor, dtype i64', 'run: ids as a HostTensor of int64', 'run after the refused calls'].map((call) => returned(outcomes, call, expected)),
      ...OUT_OF_RANGE.map(([what, , message]) => rejectedWith(outcomes, `run: ${what}`, message)),
      rejectedWith(outcomes, 'run: an int64 id in the i32 range but past the table', `${TOKENS_FILE}:4:1: while evaluating %e = gather(%table, %ids): index 7 at position 1 of the indices is out of range [0, 5)`),
      rejectedWith(outcomes, 'run: a BigInt64Array for an f32 input', "input 'table' must be a Float32Array for dtype f32 (or a tensor { data, dims } of one), got BigInt64Array"),
      rejectedWith(outcomes, 'run: a BigInt64Array of the wrong length', "input 'ids' of shape [2,3] needs 6 elements, got 5"),
      rejectedWith(outcomes, 'run: a BigInt64Array tensor of the wrong shape', "input 'ids' has shape [2,3], got a tensor of shape [3,2]"),
      returned(outcomes, 'run: the least and greatest i32 as int64', oracle(EXTREMES, { i: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) })),
      rejectedWith(outcomes, 'run: one past the greatest, in one dimension', `input 'i': int64 element 1 is 2147483648, ${I32_RANGE}`),
    );
  },
};

const SIGNATURE = parseProgram(
  `program @signature
input %x : f32[2,3]
param %w : f32[3]
input %mask : bool[2,3]
input %ids : i32[4]
%y = mul(%x, %w) : f32[2,3]
%z = where(%mask, %y, %x) : f32[2,3]
%s = reduce_sum(%z) {axes = [1], keepdims = false} : f32[2]
%n = cast(%ids) {to = f32} : f32[4]
output s = %s
output mask = %mask
output n = %n
output y = %y
`,
);
const SIGNATURE_INPUTS = { x: Float32Array.from([1, -2, 3, 0.5, 4, -6]), w: Float32Array.from([2, 0.5, -1]), mask: Uint8Array.from([1, 0, 1, 1, 1, 0]), ids: Int32Array.from([9, -3, 0, 12]) };

/** `exe.inputs` and `exe.outputs`: names, dtypes and dims in program order, frozen, the same whatever the backend. */
export const describeCase: ConformanceCase = {
  name: 'an executable lists its inputs (activation or parameter) and outputs with dtypes and dims, in program order, frozen; run() returns tensors of those dims',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, SIGNATURE, { w: SIGNATURE_INPUTS.w });
    if (!exe) return outcomes;
    outcomes.push(describe('inputs', () => exe.inputs));
    outcomes.push(describe('outputs', () => exe.outputs));
    outcomes.push(describe('frozen', () => [exe.inputs, exe.outputs].every((list) => Object.isFrozen(list) && list.every((t) => Object.isFrozen(t) && Object.isFrozen(t.dims)))));
    const { w: _, ...activations } = SIGNATURE_INPUTS;
    outcomes.push(await settle('run', () => exe.run(activations)));
    exe.dispose();
    outcomes.push(describe('inputs after dispose', () => exe.inputs.map((i) => i.name)));
    return outcomes;
  },
  check(outcomes) {
    return problems(
      describedAs(outcomes, 'inputs', [
        { name: 'x', dtype: 'f32', dims: [2, 3], kind: 'activation' },
        { name: 'w', dtype: 'f32', dims: [3], kind: 'parameter' },
        { name: 'mask', dtype: 'bool', dims: [2, 3], kind: 'activation' },
        { name: 'ids', dtype: 'i32', dims: [4], kind: 'activation' },
      ]),
      describedAs(outcomes, 'outputs', [
        { name: 's', dtype: 'f32', dims: [2] },
        { name: 'mask', dtype: 'bool', dims: [2, 3] },
        { name: 'n', dtype: 'f32', dims: [4] },
        { name: 'y', dtype: 'f32', dims: [2, 3] },
      ]),
      describedAs(outcomes, 'frozen', true),
      returned(outcomes, 'run', oracle(SIGNATURE, SIGNATURE_INPUTS)),
      describedAs(outcomes, 'inputs after dispose', ['x', 'w', 'mask', 'ids']),
    );
  },
};
