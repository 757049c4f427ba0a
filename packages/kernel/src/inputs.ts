/**
 * The program boundary, the same on every backend: what an executable
 * says it takes and returns (signatures), which values a run accepts
 * (InputBinder) and how outputs come back (outputRecord). Names are data,
 * never object keys looked up through a prototype, so inputs and outputs
 * named `constructor` or `__proto__` are ordinary names.
 */
import { type Program, TesseraError } from '@tessera/ir';
import type { TensorData } from './backend.ts';
import { HostTensor, isTensorLike } from './host-tensor.ts';
import { type InputInfo, type TensorInfo, describeInput, describeValue, inputArray } from './input-value.ts';
import type { KernelProgram } from './kernel.ts';

/** What a program takes and returns, in order: an executable's `inputs` and `outputs`. */
export interface Signature {
  readonly inputs: readonly InputInfo[];
  readonly outputs: readonly TensorInfo[];
}

const info = (name: string, dtype: TensorInfo['dtype'], dims: readonly number[]): TensorInfo => Object.freeze({ name, dtype, dims: Object.freeze([...dims]) });

/** A signature, frozen all the way down: executables hand it out as `inputs` and `outputs`, and their input checks read it. */
const frozenSignature = (inputs: InputInfo[], outputs: TensorInfo[]): Signature => ({ inputs: Object.freeze(inputs), outputs: Object.freeze(outputs) });

/** The inputs and outputs of a kernel program (input i is `p.inputs[i]`). */
export function kernelSignature(p: KernelProgram): Signature {
  const of = (buffer: number) => p.buffers[buffer]!;
  return frozenSignature(
    p.inputs.map(({ name, buffer }) => Object.freeze({ ...info(name, of(buffer).dtype, of(buffer).shape), kind: of(buffer).role === 'param' ? ('parameter' as const) : ('activation' as const) })),
    p.outputs.map(({ name, buffer }) => info(name, of(buffer).dtype, of(buffer).shape)),
  );
}

/** The inputs and outputs of a graph program (input i is `p.inputs[i]`). */
export function graphSignature(p: Program): Signature {
  const types = new Map([...p.inputs, ...p.nodes].map((v) => [v.name, v.type] as const));
  return frozenSignature(
    p.inputs.map(({ name, type, kind }) => Object.freeze({ ...info(name, type.dtype, type.shape), kind })),
    p.outputs.map(({ name, value }) => {
      const t = types.get(value)!;
      return info(name, t.dtype, t.shape);
    }),
  );
}

/** Whether a value can be a record of inputs: an object, not an array, typed array or Map (whose entries are not own properties). */
export function isInputRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Map) && !(v instanceof Set);
}

/**
 * Checks a program's inputs and hands them to a backend, the same way for
 * every backend, so the same bad input gives the same error everywhere:
 * the inputs argument must be an object; every key must name an input;
 * each value must be a tensor of the input's shape or a bare typed array
 * of its element count, holding the typed array of its dtype (see
 * inputArray); every input must be given by the run or placed before
 * (setInputs: weights). Given values go to `write`, which copies them:
 * the caller may reuse its arrays as soon as the call returns. Once
 * closed (dispose()), every call fails.
 */
export class InputBinder {
  /** Indices of the inputs placed by setInputs. */
  private readonly placed = new Set<number>();
  private closed = false;
  private readonly byName: ReadonlyMap<string, number>;

  constructor(
    private readonly programName: string,
    private readonly slots: readonly InputInfo[],
    /** Copies the value of input `index` (an index into `slots`) into the backend. */
    private readonly write: (index: number, v: TensorData) => void,
  ) {
    this.byName = new Map(slots.map((slot, index) => [slot.name, index]));
  }

  /** Refuses every later call (the executable was disposed); returns whether it was open until now. */
  close(): boolean {
    const was = !this.closed;
    this.closed = true;
    return was;
  }

  /** Throws once closed: the executable was disposed. `doing` names the call refused (`run()`). */
  assertOpen(doing = 'run()'): void {
    if (this.closed) throw new TesseraError(`cannot ${doing} program @${this.programName}: this executable has been disposed`);
  }

  /** The given inputs as [index, array] pairs (own enumerable keys; an undefined value is not given), after checking each. */
  private check(inputs: unknown, doing: string): [number, TensorData][] {
    this.assertOpen(doing);
    // A tensor passed as the whole argument (`run(t)`), unless the program's inputs are named data and dims.
    const tensor = isTensorLike(inputs) && !this.byName.has('data') && !this.byName.has('dims');
    if (!isInputRecord(inputs) || tensor) {
      const got = tensor ? `a tensor (${describeValue(inputs)}) rather than an object of them` : describeValue(inputs);
      throw new TesseraError(`${doing} takes an object of tensors or typed arrays keyed by input name, got ${got}`);
    }
    const record = inputs as Readonly<Record<string, unknown>>;
    const given = Object.keys(record).filter((name) => record[name] !== undefined);
    const unknown = given.filter((name) => !this.byName.has(name));
    if (unknown.length) {
      const known = this.slots.map(describeInput);
      throw new TesseraError(`unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} for program @${this.programName} (its inputs: ${known.join(', ') || 'none'})`);
    }
    return given.map((name) => {
      const index = this.byName.get(name)!;
      return [index, inputArray(this.slots[index]!, record[name])];
    });
  }

  /** Places inputs that later runs may leave out (weights); all are checked before any is written. */
  setInputs(inputs: unknown): void {
    const given = this.check(inputs, 'setInputs()');
    for (const [index, v] of given) {
      this.write(index, v);
      this.placed.add(index);
    }
  }

  /** Places a run's inputs; every input must be given now or have been placed before. All are checked before any is written. */
  bindRun(inputs: unknown, doing = 'run()'): void {
    const given = this.check(inputs, doing);
    const now = new Set(given.map(([index]) => index));
    const missing = this.slots.filter((_, index) => !now.has(index) && !this.placed.has(index)).map(describeInput);
    if (missing.length) throw new TesseraError(`missing input${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for program @${this.programName}`);
    for (const [index, v] of given) this.write(index, v);
  }
}

/**
 * A run's outputs as the plain record `run()` returns: output i of
 * `outputs` holds `arrays[i]`, as a HostTensor of its dims. Built with
 * fromEntries, which defines own properties: an output named `__proto__`
 * is an entry (not the record's prototype), one named `constructor`
 * shadows Object's.
 */
export function outputRecord(outputs: readonly TensorInfo[], arrays: readonly TensorData[]): Record<string, HostTensor<TensorInfo['dtype']>> {
  return Object.fromEntries(outputs.map((o, i) => [o.name, new HostTensor<TensorInfo['dtype']>(arrays[i]!, o.dims)]));
}

/** The arrays of a run's output tensors, by output name (the inverse of outputRecord, for callers that compare values only). */
export function outputArrays(outputs: Readonly<Record<string, HostTensor<TensorInfo['dtype']>>>): Record<string, TensorData> {
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, t.data]));
}
