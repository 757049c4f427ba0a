/**
 * The records of the conformance table: what each call of a scenario did
 * (its outputs, or its error's kind and message), how a scenario records
 * it, and the checks a case makes on the records.
 */
import { type Program, TesseraError, formatShape, interpret, toHost } from '@tessera/ir';
import { type Executable, type Outputs, type TensorData, describeValue } from '@tessera/kernel';

/** Compiles a program on the configuration under test, with weights bound at compile time when given. */
export type CompileFor = (program: Program, weights?: unknown) => Promise<Executable>;

/** An error as a case records it: its class name, whether it is a TesseraError (a clean error), and its message. */
export interface ErrorRecord {
  readonly name: string;
  readonly tessera: boolean;
  readonly message: string;
}

/**
 * What one call did: `outputs` (each output's name, what it is, such as
 * `HostTensor f32[2,3]`, and its values, in the record's key order, and
 * the record's prototype), `rejected` (the promise rejected), `threw` (the
 * call threw before returning), `ok` (a call that returns nothing), or
 * `described` (what a property read gave, as plain data).
 */
export type Outcome =
  | { readonly call: string; readonly outputs: readonly (readonly [string, string, readonly number[]])[]; readonly record: string }
  | { readonly call: string; readonly rejected: ErrorRecord }
  | { readonly call: string; readonly threw: ErrorRecord }
  | { readonly call: string; readonly ok: true }
  | { readonly call: string; readonly described: unknown };

/** One case of the table. */
export interface ConformanceCase {
  readonly name: string;
  /** Drives executables of the configuration under test; returns what each call did, in order. */
  readonly scenario: (compile: CompileFor) => Promise<Outcome[]>;
  /** What the outcomes must say whatever the backend (independent of the reference's own); returns the problems found. */
  readonly check: (outcomes: readonly Outcome[]) => string[];
}

/** An error as a record. */
export function errorRecord(e: unknown): ErrorRecord {
  return { name: e instanceof Error ? e.name : typeof e, tessera: e instanceof TesseraError, message: e instanceof Error ? e.message : String(e) };
}

/** What an output is: its class, dtype and dims (`HostTensor f32[2,3]`), or the kind of a value that is no tensor. */
export function describeOutput(v: unknown): string {
  const t = v as { dtype?: unknown; dims?: unknown };
  return Array.isArray(t.dims) ? `${describeValue(v)} ${String(t.dtype)}${formatShape(t.dims as number[])}` : describeValue(v);
}

/** A run's outputs as a record. */
export function outputsOf(call: string, out: Outputs): Outcome {
  const proto = Object.getPrototypeOf(out) as object | null;
  const record = proto === Object.prototype ? 'Object' : proto === null ? 'null' : 'other';
  return { call, outputs: Object.keys(out).map((k) => [k, describeOutput(out[k]), Array.from(out[k]!.data)] as const), record };
}

/** Starts a call; resolves (never rejects) with what it did. */
export function settle(call: string, fn: () => Promise<Outputs> | void): Promise<Outcome> {
  let p: Promise<Outputs> | void;
  try {
    p = fn();
  } catch (e) {
    return Promise.resolve({ call, threw: errorRecord(e) });
  }
  if (!p) return Promise.resolve({ call, ok: true });
  return p.then(
    (out) => outputsOf(call, out),
    (e: unknown) => ({ call, rejected: errorRecord(e) }),
  );
}

/** Compiles, recording a compile error; undefined when it failed. */
export async function compiled(outcomes: Outcome[], call: string, compile: CompileFor, program: Program, weights?: unknown): Promise<Executable | undefined> {
  try {
    const exe = await compile(program, weights);
    outcomes.push({ call, ok: true });
    return exe;
  } catch (e) {
    outcomes.push({ call, rejected: errorRecord(e) });
    return undefined;
  }
}

// Checks, shared by the cases: each returns a problem or undefined.

/** The record of `call`. */
export function find(outcomes: readonly Outcome[], call: string): Outcome | undefined {
  return outcomes.find((o) => o.call === call);
}

/** The call must have rejected with a TesseraError of this exact message (or one matching the pattern). */
export function rejectedWith(outcomes: readonly Outcome[], call: string, message: string | RegExp): string | undefined {
  const o = find(outcomes, call);
  if (!o || !('rejected' in o)) return `${call}: expected a rejection, got ${JSON.stringify(o)}`;
  if (!o.rejected.tessera) return `${call}: rejected with ${o.rejected.name} (not a TesseraError): ${o.rejected.message}`;
  const ok = typeof message === 'string' ? o.rejected.message === message : message.test(o.rejected.message);
  return ok ? undefined : `${call}: message ${JSON.stringify(o.rejected.message)}, expected ${String(message)}`;
}

/** The call must have thrown (synchronously) a TesseraError matching the pattern. */
export function threwWith(outcomes: readonly Outcome[], call: string, message: RegExp): string | undefined {
  const o = find(outcomes, call);
  if (!o || !('threw' in o)) return `${call}: expected a synchronous throw, got ${JSON.stringify(o)}`;
  if (!o.threw.tessera || !message.test(o.threw.message)) return `${call}: threw ${o.threw.name}: ${o.threw.message}, expected a TesseraError matching ${String(message)}`;
  return undefined;
}

/** The call must have returned exactly these outputs (name, tensor class with dtype and dims, values), in this order, as a plain record. */
export function returned(outcomes: readonly Outcome[], call: string, expected: readonly (readonly [string, string, readonly number[]])[]): string | undefined {
  const o = find(outcomes, call);
  if (!o || !('outputs' in o)) return `${call}: expected outputs, got ${JSON.stringify(o)}`;
  if (o.record !== 'Object') return `${call}: the result's prototype is ${o.record}, expected a plain record`;
  const same = o.outputs.length === expected.length && o.outputs.every(([n, k, v], i) => n === expected[i]![0] && k === expected[i]![1] && v.length === expected[i]![2].length && v.every((x, j) => Object.is(x, expected[i]![2][j])));
  return same ? undefined : `${call}: returned ${JSON.stringify(o.outputs)}, expected ${JSON.stringify(expected)}`;
}

/** The interpreter's outputs of `p` as `returned` expects them (the oracle, not hard-coded values): HostTensors of the output types. */
export function oracle(p: Program, inputs: Readonly<Record<string, TensorData>>): [string, string, number[]][] {
  const out = interpret(p, inputs);
  return p.outputs.map((o) => {
    const t = out[o.name]!;
    return [o.name, `HostTensor ${t.type.dtype}${formatShape(t.type.shape)}`, Array.from(toHost(t))];
  });
}

/** The problems found, without the checks that passed. */
export const problems = (...found: (string | undefined)[]): string[] => found.filter((p): p is string => p !== undefined);

/** Reads something an executable says of itself, recorded as plain data (a JSON round trip, so a record compares as data). */
export function describe(call: string, read: () => unknown): Outcome {
  try {
    return { call, described: JSON.parse(JSON.stringify(read())) as unknown };
  } catch (e) {
    return { call, threw: errorRecord(e) };
  }
}

/** The read must have given exactly this data. */
export function describedAs(outcomes: readonly Outcome[], call: string, expected: unknown): string | undefined {
  const o = find(outcomes, call);
  if (!o || !('described' in o)) return `${call}: expected a description, got ${JSON.stringify(o)}`;
  return JSON.stringify(o.described) === JSON.stringify(expected) ? undefined : `${call}: gave ${JSON.stringify(o.described)}, expected ${JSON.stringify(expected)}`;
}
