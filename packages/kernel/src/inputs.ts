/**
 * The program boundary, the same on every backend: which values a run
 * accepts (InputBinder) and how outputs come back (outputRecord). Names are
 * data, never object keys looked up through a prototype, so inputs and
 * outputs named `constructor` or `__proto__` are ordinary names.
 */
import { type DType, type Program, TesseraError, formatShape, numel } from '@tessera/ir';
import type { TensorData } from './backend.ts';
import type { KernelProgram } from './kernel.ts';

/** The typed array each dtype is passed in. */
export const ARRAY_FOR: Readonly<Record<DType, string>> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

/** One input of a program as a run sees it. */
export interface InputSlot {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** The inputs of a kernel program, in order (slot i is `p.inputs[i]`). */
export function kernelInputSlots(p: KernelProgram): InputSlot[] {
  return p.inputs.map(({ name, buffer }) => {
    const { dtype, shape } = p.buffers[buffer]!;
    return { name, dtype, shape };
  });
}

/** The inputs of a graph program, in order (slot i is `p.inputs[i]`). */
export function graphInputSlots(p: Program): InputSlot[] {
  return p.inputs.map(({ name, type }) => ({ name, dtype: type.dtype, shape: type.shape }));
}

// The [[TypedArrayName]] of a typed array from any realm (a worker's, a vm context's), undefined for anything else.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get!;

/** What a value is, for messages: a typed array's kind, `Array`, `null`, or its type. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  const tag = typedArrayTag.call(v) as string | undefined;
  if (tag) return tag;
  if (Array.isArray(v)) return 'Array';
  if (typeof v !== 'object') return typeof v;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof ctor === 'string' && ctor ? ctor : 'object';
}

/** Whether a value can be a record of inputs: an object, not an array, typed array or Map (whose entries are not own properties). */
export function isInputRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Map) && !(v instanceof Set);
}

const describeSlot = (slot: InputSlot) => `'${slot.name}' (${slot.dtype}${formatShape(slot.shape)})`;

/**
 * Checks a program's inputs and hands them to a backend, the same way for
 * every backend, so the same bad input gives the same error everywhere:
 * the inputs argument must be an object; every key must name an input;
 * each value must be the typed array of its dtype (ARRAY_FOR) with the
 * right length; every input must be given by the run or placed before
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
    private readonly slots: readonly InputSlot[],
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

  /** Throws once closed: the executable was disposed. */
  assertOpen(): void {
    if (this.closed) throw new TesseraError('this executable has been disposed');
  }

  /** The given inputs as [index, value] pairs (own enumerable keys; an undefined value is not given), after checking each. */
  private check(inputs: unknown, doing: string): [number, TensorData][] {
    this.assertOpen();
    if (!isInputRecord(inputs)) {
      throw new TesseraError(`${doing} takes an object of typed arrays keyed by input name, got ${describeValue(inputs)}`);
    }
    const record = inputs as Readonly<Record<string, unknown>>;
    const given = Object.keys(record).filter((name) => record[name] !== undefined);
    const unknown = given.filter((name) => !this.byName.has(name));
    if (unknown.length) {
      const known = this.slots.map(describeSlot);
      throw new TesseraError(`unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} for program @${this.programName} (its inputs: ${known.join(', ') || 'none'})`);
    }
    return given.map((name) => {
      const index = this.byName.get(name)!;
      const slot = this.slots[index]!;
      const v = record[name];
      const kind = describeValue(v);
      const wanted = ARRAY_FOR[slot.dtype];
      if (kind !== wanted) throw new TesseraError(`input '${name}' must be ${wanted.startsWith('Int') ? 'an' : 'a'} ${wanted} for dtype ${slot.dtype}, got ${kind}`);
      const length = (v as TensorData).length;
      if (length !== numel(slot.shape)) throw new TesseraError(`input '${name}' of shape ${formatShape(slot.shape)} needs ${numel(slot.shape)} elements, got ${length}`);
      return [index, v as TensorData];
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
  bindRun(inputs: unknown): void {
    const given = this.check(inputs, 'run()');
    const now = new Set(given.map(([index]) => index));
    const missing = this.slots.filter((_, index) => !now.has(index) && !this.placed.has(index)).map(describeSlot);
    if (missing.length) throw new TesseraError(`missing input${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for program @${this.programName}`);
    for (const [index, v] of given) this.write(index, v);
  }
}

/**
 * A run's outputs as the plain record `run()` returns. Built with
 * fromEntries, which defines own properties: an output named `__proto__` is
 * an entry (not the record's prototype), one named `constructor` shadows
 * Object's.
 */
export function outputRecord(entries: Iterable<readonly [string, TensorData]>): Record<string, TensorData> {
  return Object.fromEntries(entries);
}
