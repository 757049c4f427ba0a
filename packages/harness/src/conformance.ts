/**
 * The semantics every backend shares at the program boundary, as one table
 * of cases: out-of-range gather indices, unknown input and weight names,
 * the typed array each dtype accepts, tensors and their shapes, int64 token
 * ids, what an executable says of its inputs and outputs, names that are
 * JavaScript prototype keys, inputs reused or refilled while runs are
 * queued, runs issued before dispose() (or Symbol.dispose), and malformed
 * run() arguments.
 *
 * A case is a scenario driving executables compiled by a function the
 * caller supplies (one per backend configuration), recording what each
 * call did: its outputs, or its error's kind and message. A conformance
 * test runs every case on every configuration and asserts that the
 * records are identical (the same error message, word for word, on each)
 * and that each case's own check holds. A new backend gets the same checks
 * by adding its configuration to that test.
 */
import { parseProgram } from '@tessera/ir';
import { type TensorData, hostTensor } from '@tessera/kernel';
import { type ConformanceCase, type Outcome, compiled, find, oracle, problems, rejectedWith, returned, settle, threwWith } from './conformance/outcome.ts';
import { describeCase, integerCase, shapeCase } from './conformance/tensor-cases.ts';

export type { CompileFor, ConformanceCase, ErrorRecord, Outcome } from './conformance/outcome.ts';

// The cases.

const GATHER_FILE = 'conformance/gather.tir';
const GATHER = parseProgram(
  `program @embed
input %ids : i32[2,3]
param %table : f32[5,4]
input %cols : i32[2]
%e = gather(%table, %ids) {axis = 0} : f32[2,3,4]
%s = reduce_sum(%e) {axes = [2], keepdims = false} : f32[2,3]
%g = gather(%table, %cols) {axis = 1} : f32[5,2]
output s = %s
output g = %g
`,
  GATHER_FILE,
);
const TABLE = Float32Array.from({ length: 20 }, (_, k) => (k * 7) % 11);
const GOOD_IDS = Int32Array.from([4, 0, 2, 2, 1, 3]);
const GOOD_COLS = Int32Array.from([3, 0]);

/** The message every backend gives for gather `node` (at `line`) with `index` at `position` of an axis of `extent`. */
function gatherMessage(line: number, node: string, operands: string, index: number, position: number, extent: number): string {
  return `${GATHER_FILE}:${line}:1: while evaluating %${node} = gather(${operands}): index ${index} at position ${position} of the indices is out of range [0, ${extent})`;
}

/** The first out-of-range value of `ids` (extent `n`) and its position: what the error must name. */
function firstBad(ids: Int32Array, n: number): { index: number; position: number } {
  const position = ids.findIndex((v) => v < 0 || v >= n);
  return { index: ids[position]!, position };
}

const BAD_RUNS: readonly { readonly call: string; readonly ids: Int32Array; readonly cols: Int32Array }[] = [
  { call: 'run: one index past the table', ids: Int32Array.from([4, 0, 2, 2, 7, 3]), cols: GOOD_COLS },
  { call: 'run: several bad indices (the least position is named)', ids: Int32Array.from([4, 9, 2, 5, 1, -1]), cols: GOOD_COLS },
  { call: 'run: a negative index', ids: Int32Array.from([-1, 0, 0, 0, 0, 0]), cols: GOOD_COLS },
  { call: 'run: both gathers out of range (the first in program order is named)', ids: Int32Array.from([4, 0, 2, 2, 1, 5]), cols: Int32Array.from([0, 4]) },
  { call: 'run: only the second gather out of range', ids: GOOD_IDS, cols: Int32Array.from([-2, 9]) },
];

/** A 4096-row gather: enough work to be split across threads and workgroups, with bad indices in many of their shares. */
const BIG_GATHER = parseProgram(
  `program @rows
input %t : f32[10,8]
input %i : i32[4096]
%r = gather(%t, %i) {axis = 0} : f32[4096,8]
output r = %r
`,
  'conformance/rows.tir',
);
const BIG_TABLE = Float32Array.from({ length: 80 }, (_, k) => k);
const bigIds = (bad: (k: number) => number | undefined) => Int32Array.from({ length: 4096 }, (_, k) => bad(k) ?? k % 10);

const gatherCase: ConformanceCase = {
  name: 'an out-of-range gather index is a GatherIndexError naming the op, its location, the index, its position and the valid range',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, GATHER, { table: TABLE });
    if (!exe) return outcomes;
    outcomes.push(await settle('run: in range', () => exe.run({ ids: GOOD_IDS, cols: GOOD_COLS })));
    for (const r of BAD_RUNS) outcomes.push(await settle(r.call, () => exe.run({ ids: r.ids, cols: r.cols })));
    outcomes.push(await settle('run: in range again (a failed run leaves the executable usable)', () => exe.run({ ids: GOOD_IDS, cols: GOOD_COLS })));
    exe.dispose();
    const big = await compiled(outcomes, 'compile rows', compile, BIG_GATHER);
    if (!big) return outcomes;
    // Bad indices spread over every share of the work; the least position (1500) must be the one named, whichever share ran first.
    const ids = bigIds((k) => (k === 1500 ? 10 : k > 1500 && k % 97 === 0 ? -(k % 5) - 1 : k > 3000 && k % 13 === 0 ? 10 + (k % 3) : undefined));
    outcomes.push(await settle('run rows: bad indices across the threads', () => big.run({ t: BIG_TABLE, i: ids })));
    outcomes.push(await settle('run rows: in range', () => big.run({ t: BIG_TABLE, i: bigIds(() => undefined) })));
    big.dispose();
    return outcomes;
  },
  check(outcomes) {
    return problems(
      returned(outcomes, 'run: in range', oracle(GATHER, { ids: GOOD_IDS, cols: GOOD_COLS, table: TABLE })),
      ...BAD_RUNS.map((r) => {
        const rows = firstBad(r.ids, 5);
        const cols = firstBad(r.cols, 4);
        const msg = rows.position >= 0 ? gatherMessage(5, 'e', '%table, %ids', rows.index, rows.position, 5) : gatherMessage(7, 'g', '%table, %cols', cols.index, cols.position, 4);
        return rejectedWith(outcomes, r.call, msg);
      }),
      returned(outcomes, 'run: in range again (a failed run leaves the executable usable)', oracle(GATHER, { ids: GOOD_IDS, cols: GOOD_COLS, table: TABLE })),
      rejectedWith(outcomes, 'run rows: bad indices across the threads', 'conformance/rows.tir:4:1: while evaluating %r = gather(%t, %i): index 10 at position 1500 of the indices is out of range [0, 10)'),
      returned(outcomes, 'run rows: in range', oracle(BIG_GATHER, { t: BIG_TABLE, i: bigIds(() => undefined) })),
    );
  },
};

const MUL = parseProgram(
  `program @scale
input %x : f32[3]
param %w : f32[3]
%y = mul(%x, %w) : f32[3]
output y = %y
`,
);
const X3 = Float32Array.from([1, 2, 3]);
const W3 = Float32Array.from([2, 5, 7]);
const MUL_INPUTS = "'x' (f32[3]), 'w' (f32[3])";

const namesCase: ConformanceCase = {
  name: 'unknown input and weight names are rejected, missing ones named, with the same message everywhere',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    await compiled(outcomes, 'compile: an unknown weight', compile, MUL, { w: W3, extra: X3 });
    await compiled(outcomes, 'compile: a weight missing', compile, MUL, {});
    await compiled(outcomes, 'compile: weights not an object', compile, MUL, null);
    const exe = await compiled(outcomes, 'compile', compile, MUL, { w: W3 });
    if (!exe) return outcomes;
    outcomes.push(await settle('run', () => exe.run({ x: X3 })));
    outcomes.push(await settle('run: an unknown input', () => exe.run({ x: X3, bogus: X3 })));
    outcomes.push(await settle('run: an output name as input', () => exe.run({ x: X3, y: X3 })));
    outcomes.push(await settle('run: two unknown inputs', () => exe.run({ x: X3, a: X3, b: X3 })));
    outcomes.push(await settle('run: an input missing', () => exe.run({})));
    outcomes.push(await settle('run: undefined counts as not given', () => exe.run({ x: undefined as never })));
    outcomes.push(await settle('setInputs: an unknown name', () => exe.setInputs!({ nope: X3 })));
    exe.dispose();
    const bare = await compiled(outcomes, 'compile without weights', compile, MUL);
    if (!bare) return outcomes;
    outcomes.push(await settle('run without weights: a parameter missing', () => bare.run({ x: X3 })));
    outcomes.push(await settle('run without weights: every input given', () => bare.run({ x: X3, w: W3 })));
    bare.dispose();
    return outcomes;
  },
  check(outcomes) {
    const y = oracle(MUL, { x: X3, w: W3 });
    return problems(
      rejectedWith(outcomes, 'compile: an unknown weight', `unknown input 'extra' for program @scale (its inputs: ${MUL_INPUTS})`),
      rejectedWith(outcomes, 'compile: a weight missing', 'weights are missing parameter(s): w: f32[3]'),
      rejectedWith(outcomes, 'compile: weights not an object', 'compile(): weights must be an object of tensors or typed arrays keyed by input name, got null'),
      returned(outcomes, 'run', y),
      rejectedWith(outcomes, 'run: an unknown input', `unknown input 'bogus' for program @scale (its inputs: ${MUL_INPUTS})`),
      rejectedWith(outcomes, 'run: an output name as input', `unknown input 'y' for program @scale (its inputs: ${MUL_INPUTS})`),
      rejectedWith(outcomes, 'run: two unknown inputs', `unknown inputs 'a', 'b' for program @scale (its inputs: ${MUL_INPUTS})`),
      rejectedWith(outcomes, 'run: an input missing', "missing input 'x' (f32[3]) for program @scale"),
      rejectedWith(outcomes, 'run: undefined counts as not given', "missing input 'x' (f32[3]) for program @scale"),
      threwWith(outcomes, 'setInputs: an unknown name', /^unknown input 'nope' for program @scale/),
      rejectedWith(outcomes, 'run without weights: a parameter missing', "missing input 'w' (f32[3]) for program @scale"),
      returned(outcomes, 'run without weights: every input given', y),
    );
  },
};

const DTYPES = parseProgram(
  `program @dtypes
input %f : f32[2]
input %i : i32[2]
input %b : bool[2]
%c = cast(%i) {to = f32} : f32[2]
%y = where(%b, %f, %c) : f32[2]
output y = %y
output b = %b
output i = %i
`,
);
const GOOD_DTYPES = { f: Float32Array.from([0.5, -2]), i: Int32Array.from([7, -3]), b: Uint8Array.from([1, 0]) };

/** Values each input must refuse (its name, the value, the kind the message reports). */
const WRONG_ARRAYS: readonly (readonly [string, unknown, string])[] = [
  ['f', new Float64Array(2), 'Float64Array'],
  ['f', new Int32Array(2), 'Int32Array'],
  ['f', [0.5, -2], 'Array'],
  ['f', new DataView(new ArrayBuffer(8)), 'DataView'],
  ['f', { length: 2, 0: 1, 1: 2 }, 'Object'],
  ['f', 'ab', 'string'],
  ['f', 3, 'number'],
  ['f', null, 'null'],
  ['i', new Float32Array(2), 'Float32Array'],
  ['i', new Uint32Array(2), 'Uint32Array'],
  ['i', new Int16Array(2), 'Int16Array'],
  ['i', new BigUint64Array(2), 'BigUint64Array'],
  ['b', new Uint8ClampedArray(2), 'Uint8ClampedArray'],
  ['b', new Int8Array(2), 'Int8Array'],
  ['b', [true, false], 'Array'],
  ['b', new Int32Array(2), 'Int32Array'],
];
const ARRAY_OF = { f: 'a Float32Array', i: 'an Int32Array or a BigInt64Array', b: 'a Uint8Array' } as const;
const DTYPE_OF = { f: 'f32', i: 'i32', b: 'bool' } as const;

const dtypeCase: ConformanceCase = {
  name: 'each dtype takes exactly its typed array (f32 Float32Array, i32 Int32Array, bool Uint8Array) of the right length',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, DTYPES);
    if (!exe) return outcomes;
    outcomes.push(await settle('run', () => exe.run(GOOD_DTYPES)));
    for (const [name, value, kind] of WRONG_ARRAYS) outcomes.push(await settle(`run: ${name} as ${kind}`, () => exe.run({ ...GOOD_DTYPES, [name]: value as TensorData })));
    for (const name of ['f', 'i', 'b'] as const) {
      const Ctor = { f: Float32Array, i: Int32Array, b: Uint8Array }[name];
      outcomes.push(await settle(`run: ${name} too short`, () => exe.run({ ...GOOD_DTYPES, [name]: new Ctor(1) })));
      outcomes.push(await settle(`run: ${name} too long`, () => exe.run({ ...GOOD_DTYPES, [name]: new Ctor(3) })));
    }
    // A view of part of a larger buffer is a typed array like any other.
    const backing = new Float32Array([9, 0.5, -2, 9]);
    outcomes.push(await settle('run: f as a subarray', () => exe.run({ ...GOOD_DTYPES, f: backing.subarray(1, 3) })));
    exe.dispose();
    return outcomes;
  },
  check(outcomes) {
    return problems(
      returned(outcomes, 'run', oracle(DTYPES, GOOD_DTYPES)),
      ...WRONG_ARRAYS.map(([name, , kind]) =>
        rejectedWith(outcomes, `run: ${name} as ${kind}`, `input '${name}' must be ${ARRAY_OF[name as 'f']} for dtype ${DTYPE_OF[name as 'f']} (or a tensor { data, dims } of one), got ${kind}`),
      ),
      ...(['f', 'i', 'b'] as const).flatMap((name) => [
        rejectedWith(outcomes, `run: ${name} too short`, `input '${name}' of shape [2] needs 2 elements, got 1`),
        rejectedWith(outcomes, `run: ${name} too long`, `input '${name}' of shape [2] needs 2 elements, got 3`),
      ]),
      returned(outcomes, 'run: f as a subarray', oracle(DTYPES, GOOD_DTYPES)),
    );
  },
};

const PROTO = parseProgram(
  `program @proto
input %constructor : f32[3]
param %__proto__ : f32[3]
input %hasOwnProperty : i32[3]
%toString = mul(%constructor, %__proto__) : f32[3]
%valueOf = add(%toString, %constructor) : f32[3]
%isPrototypeOf = cast(%hasOwnProperty) {to = f32} : f32[3]
output __proto__ = %toString
output toString = %valueOf
output constructor = %isPrototypeOf
output hasOwnProperty = %constructor
`,
);
/** Records whose keys are prototype names, as own properties (an object literal's `__proto__:` would set the prototype instead). */
const own = (entries: [string, unknown][]): Record<string, TensorData> => Object.fromEntries(entries) as Record<string, TensorData>;
const PX = Float32Array.from([1, 2, 3]);
const PW = Float32Array.from([4, 5, 6]);
const PH = Int32Array.from([7, 8, 9]);

const protoCase: ConformanceCase = {
  name: 'inputs, parameters, values and outputs named like prototype keys (constructor, __proto__, toString) are ordinary names',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile with the __proto__ weight', compile, PROTO, own([['__proto__', PW]]));
    if (!exe) return outcomes;
    outcomes.push(await settle('run', () => exe.run(own([['constructor', PX], ['hasOwnProperty', PH]]))));
    outcomes.push(await settle('run: constructor not given', () => exe.run(own([['hasOwnProperty', PH]]))));
    outcomes.push(await settle('run: inputs as a null-prototype object', () => exe.run(Object.assign(Object.create(null) as Record<string, TensorData>, { constructor: PX, hasOwnProperty: PH }))));
    // `{ __proto__: x }` sets the object's prototype: no input named __proto__ is given, and an inherited constructor does not count.
    outcomes.push(await settle('run: __proto__ in a literal is not an input', () => exe.run({ __proto__: PW, hasOwnProperty: PH } as unknown as Record<string, TensorData>)));
    exe.dispose();
    const bare = await compiled(outcomes, 'compile without weights', compile, PROTO);
    if (!bare) return outcomes;
    outcomes.push(await settle('run: every input given, __proto__ among them', () => bare.run(own([['constructor', PX], ['__proto__', PW], ['hasOwnProperty', PH]]))));
    outcomes.push(await settle('run: __proto__ missing', () => bare.run(own([['constructor', PX], ['hasOwnProperty', PH]]))));
    bare.dispose();
    return outcomes;
  },
  check(outcomes) {
    const expected = oracle(PROTO, own([['constructor', PX], ['__proto__', PW], ['hasOwnProperty', PH]]));
    return problems(
      expected.map(([n]) => n).join() === '__proto__,toString,constructor,hasOwnProperty' ? undefined : `the oracle's outputs are ${expected.map(([n]) => n).join()}`,
      returned(outcomes, 'run', expected),
      rejectedWith(outcomes, 'run: constructor not given', "missing input 'constructor' (f32[3]) for program @proto"),
      returned(outcomes, 'run: inputs as a null-prototype object', expected),
      rejectedWith(outcomes, 'run: __proto__ in a literal is not an input', "missing input 'constructor' (f32[3]) for program @proto"),
      returned(outcomes, 'run: every input given, __proto__ among them', expected),
      rejectedWith(outcomes, 'run: __proto__ missing', "missing input '__proto__' (f32[3]) for program @proto"),
    );
  },
};

const SQUARE = parseProgram(
  `program @square
input %x : f32[1]
%y = mul(%x, %x) : f32[1]
output y = %y
`,
);

const reuseCase: ConformanceCase = {
  name: 'a run takes its inputs when run() is called: an array refilled between un-awaited runs, weights refilled after compile',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, SQUARE);
    if (!exe) return outcomes;
    const x = new Float32Array(1);
    const runs: Promise<Outcome>[] = [];
    for (const v of [1, 2, 3]) {
      x[0] = v;
      runs.push(settle(`run ${v} (not awaited)`, () => exe.run({ x })));
    }
    x[0] = 4;
    outcomes.push(...(await Promise.all(runs)));
    exe.dispose();
    const w = Float32Array.from([2, 5, 7]);
    const scaled = await compiled(outcomes, 'compile with weights', compile, MUL, { w });
    if (!scaled) return outcomes;
    w.fill(100);
    outcomes.push(await settle('run: weights refilled after compile', () => scaled.run({ x: X3 })));
    const later = [settle('run: w passed with the run', () => scaled.run({ x: X3, w }))];
    w.fill(-1);
    later.push(settle('run: w refilled, passed again (not awaited)', () => scaled.run({ x: X3, w })));
    w.fill(3);
    later.push(settle('run: w no longer passed (the last given stays placed)', () => scaled.run({ x: X3 })));
    outcomes.push(...(await Promise.all(later)));
    scaled.dispose();
    return outcomes;
  },
  check(outcomes) {
    const square = (v: number) => oracle(SQUARE, { x: Float32Array.of(v) });
    const times = (w: number[]) => oracle(MUL, { x: X3, w: Float32Array.from(w) });
    return problems(
      ...[1, 2, 3].map((v) => returned(outcomes, `run ${v} (not awaited)`, square(v))),
      returned(outcomes, 'run: weights refilled after compile', times([2, 5, 7])),
      returned(outcomes, 'run: w passed with the run', times([100, 100, 100])),
      returned(outcomes, 'run: w refilled, passed again (not awaited)', times([-1, -1, -1])),
      returned(outcomes, 'run: w no longer passed (the last given stays placed)', times([-1, -1, -1])),
    );
  },
};

const disposeCase: ConformanceCase = {
  name: 'runs issued before dispose() (or Symbol.dispose, which `using` calls) complete; calls after it fail cleanly; disposing again does nothing',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, SQUARE);
    if (!exe) return outcomes;
    const before = [1, 2].map((v) => settle(`run ${v} before dispose`, () => exe.run({ x: Float32Array.of(v) })));
    outcomes.push(await settle('dispose', () => exe.dispose()));
    const after = settle('run after dispose', () => exe.run({ x: Float32Array.of(3) }));
    outcomes.push(...(await Promise.all([...before, after])));
    outcomes.push(await settle('dispose again', () => exe.dispose()));
    outcomes.push(await settle('setInputs after dispose', () => exe.setInputs!({ x: Float32Array.of(1) })));
    // What `using exe = ...` calls at the end of its block: the same as dispose(), and as idempotent.
    const scoped = await compiled(outcomes, 'compile another', compile, SQUARE);
    if (!scoped) return outcomes;
    const pending = settle('run before Symbol.dispose', () => scoped.run({ x: Float32Array.of(5) }));
    outcomes.push(await settle('Symbol.dispose', () => scoped[Symbol.dispose]()));
    outcomes.push(await pending);
    outcomes.push(await settle('run after Symbol.dispose', () => scoped.run({ x: Float32Array.of(6) })));
    outcomes.push(await settle('Symbol.dispose again', () => scoped[Symbol.dispose]()));
    outcomes.push(await settle('dispose after Symbol.dispose', () => scoped.dispose()));
    return outcomes;
  },
  check(outcomes) {
    return problems(
      returned(outcomes, 'run 1 before dispose', oracle(SQUARE, { x: Float32Array.of(1) })),
      returned(outcomes, 'run 2 before dispose', oracle(SQUARE, { x: Float32Array.of(2) })),
      rejectedWith(outcomes, 'run after dispose', 'cannot run() program @square: this executable has been disposed'),
      threwWith(outcomes, 'setInputs after dispose', /^cannot setInputs\(\) program @square: this executable has been disposed$/),
      returned(outcomes, 'run before Symbol.dispose', oracle(SQUARE, { x: Float32Array.of(5) })),
      rejectedWith(outcomes, 'run after Symbol.dispose', 'cannot run() program @square: this executable has been disposed'),
      ...['dispose again', 'Symbol.dispose again', 'dispose after Symbol.dispose'].map((call) => (find(outcomes, call) && 'ok' in find(outcomes, call)! ? undefined : `${call}: ${JSON.stringify(find(outcomes, call))}, expected ok`)),
    );
  },
};

/** run() arguments that are not an object of inputs (the value, and how the message describes it). */
const BAD_ARGUMENTS: readonly (readonly [string, unknown, string])[] = [
  ['null', null, 'null'],
  ['undefined', undefined, 'undefined'],
  ['a number', 42, 'number'],
  ['a string', 'x', 'string'],
  ['an array', [X3], 'Array'],
  ['a typed array', X3, 'Float32Array'],
  ['a tensor', hostTensor(X3), 'a tensor (HostTensor) rather than an object of them'],
  ['a plain { data, dims } tensor', { data: X3, dims: [3] }, 'a tensor (Object) rather than an object of them'],
];

const argumentsCase: ConformanceCase = {
  name: 'run() and setInputs() arguments that are not an object of inputs are clean errors',
  async scenario(compile) {
    const outcomes: Outcome[] = [];
    const exe = await compiled(outcomes, 'compile', compile, MUL, { w: W3 });
    if (!exe) return outcomes;
    for (const [what, value] of BAD_ARGUMENTS) outcomes.push(await settle(`run(${what})`, () => exe.run(value as never)));
    outcomes.push(await settle('run(a Map)', () => exe.run(new Map([['x', X3]]) as never)));
    outcomes.push(await settle('setInputs(null)', () => exe.setInputs!(null as never)));
    outcomes.push(await settle('run after the bad calls', () => exe.run({ x: X3 })));
    exe.dispose();
    return outcomes;
  },
  check(outcomes) {
    return problems(
      ...BAD_ARGUMENTS.map(([what, , kind]) => rejectedWith(outcomes, `run(${what})`, `run() takes an object of tensors or typed arrays keyed by input name, got ${kind}`)),
      rejectedWith(outcomes, 'run(a Map)', 'run() takes an object of tensors or typed arrays keyed by input name, got Map'),
      threwWith(outcomes, 'setInputs(null)', /^setInputs\(\) takes an object of tensors or typed arrays keyed by input name, got null$/),
      returned(outcomes, 'run after the bad calls', oracle(MUL, { x: X3, w: W3 })),
    );
  },
};

/** Every case, in the order a conformance test runs them. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [gatherCase, namesCase, dtypeCase, shapeCase, integerCase, describeCase, protoCase, reuseCase, disposeCase, argumentsCase];
