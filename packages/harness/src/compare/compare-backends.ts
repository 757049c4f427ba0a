/**
 * Comparing backends on one model: every backend's outputs against the
 * reference interpreter under the tolerance policy, on given or drawn inputs,
 * and for each backend that disagrees, the first kernel that diverges.
 */
import { type Program, type RefTensor, TesseraError, interpret, numel, toHost } from '@tessera/ir';
import type { Backend, Executable, KernelProgram, TensorData } from '@tessera/kernel';
import { compileProgram } from '@tessera/passes';
import { WebgpuUnavailableError } from '@tessera/backend-webgpu';
import { availableBackends, getBackend } from '@tessera/compiler';
import { longestReduction } from '../sum-length.ts';
import type { HostInputs } from '../inputs.ts';
import { modelInputsFor } from '../model-inputs.ts';
import { type RoundingLeeway, roundingLeeway } from '../rounding-spread.ts';
import { type Comparison, type Tolerance, compareClose } from '../tolerance.ts';
import { type Divergence, localiseDivergence } from './localise.ts';

/** Options of compareBackends. */
export interface CompareOptions {
  /** Backends to compare with the interpreter (default: every one available here; `interp` itself is the reference). */
  readonly backends?: readonly string[];
  /** Values of some or all program inputs (activations and weights); the rest are drawn (modelInputsFor). */
  readonly inputs?: Readonly<Record<string, TensorData>>;
  /** Seed of the drawn values (default 1); input set t uses seed + t. */
  readonly seed?: number;
  /** How many input sets to draw and compare on (default 1). */
  readonly trials?: number;
  /** Localise the first divergence of each disagreeing backend (default true). */
  readonly localise?: boolean;
  /**
   * For tests of the checks themselves: rewrites the compiler's kernel program
   * before the backend gets it (a deliberate fault, e.g. a broken memory plan;
   * see faults.ts). The localiser sees the rewritten program, as the backend does.
   */
  readonly rewriteKernels?: (p: KernelProgram) => KernelProgram;
}

/** The outcome for one backend and output (or the whole backend, when it could not run). */
export interface CompareRow {
  readonly backend: string;
  /** Output name; absent on a row that stands for the whole backend (`error`, `unavailable`). */
  readonly output?: string;
  readonly status: 'pass' | 'fail' | 'error' | 'unavailable';
  /** Largest |actual - expected| over the elements of every input set (Infinity where a NaN or infinity differs). */
  readonly maxAbsDiff?: number;
  /** maxAbsDiff relative to the largest |expected| (0 when both are 0). */
  readonly relError?: number;
  /** The policy's tolerance for this output: |a - e| <= atol + rtol*|e|. */
  readonly tolerance?: Tolerance;
  /** Elements outside the tolerance, summed over the input sets. */
  readonly mismatches?: number;
  /** Elements compared, over every input set. */
  readonly elements?: number;
  /**
   * Elements outside the policy but within the leeway of f32 rounding
   * (roundingLeeway: its spread through the model, or the model evaluated
   * with each op rounded to f32), which pass: the model is ill-conditioned
   * there, or an op sits on a rounding boundary; the backend is not wrong.
   */
  readonly withinSpread?: number;
  /** Why the backend could not run (`error`, `unavailable`). */
  readonly message?: string;
}

/** What localising a disagreeing backend found. */
export interface Localisation {
  readonly backend: string;
  /** The input set it was localised on (0-based). */
  readonly trial: number;
  readonly divergence?: Divergence;
  /** Why there is no divergence to show (every probed value agreed, or the probed run failed). */
  readonly note?: string;
}

/** The result of comparing backends on one program. */
export interface CompareReport {
  readonly program: string;
  /** The backends compared (the reference `interp` not included). */
  readonly backends: readonly string[];
  readonly seed: number;
  readonly trials: number;
  /** The policy's L: the longest reduction in the program, by whose square root tolerances grow. */
  readonly reductionLength: number;
  readonly rows: readonly CompareRow[];
  readonly localised: readonly Localisation[];
  /**
   * Whether every backend agrees with the interpreter. A backend that is
   * unavailable here counts against agreement only when it was asked for by
   * name (`backends`); by default it is skipped, with its row saying why.
   */
  readonly agree: boolean;
}

/** Running statistics of one backend's output over the input sets. */
interface Tally {
  maxAbsDiff: number;
  maxExpected: number;
  mismatches: number;
  elements: number;
  withinSpread: number;
  tolerance: Tolerance;
  firstFailure?: number;
}

/** Folds one comparison into a tally: the largest difference and expected magnitude, the mismatch count. */
function tallyInto(t: Tally | undefined, actual: ArrayLike<number>, expected: ArrayLike<number>, c: Comparison, mismatches: number, withinSpread: number, trial: number): Tally {
  const next: Tally = t ?? { maxAbsDiff: 0, maxExpected: 0, mismatches: 0, elements: 0, withinSpread: 0, tolerance: c.tolerance };
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    const same = a === e || (Number.isNaN(a) && Number.isNaN(e));
    const diff = same ? 0 : Number.isFinite(a) && Number.isFinite(e) ? Math.abs(a - e) : Infinity;
    if (diff > next.maxAbsDiff) next.maxAbsDiff = diff;
    if (Number.isFinite(e)) next.maxExpected = Math.max(next.maxExpected, Math.abs(e));
  }
  next.mismatches += mismatches;
  next.elements += expected.length;
  next.withinSpread += withinSpread;
  if (!c.ok && next.firstFailure === undefined) next.firstFailure = trial;
  return next;
}

/** A backend compiled as `tessera.compile` would compile it, keeping the kernel program for localisation. */
interface Compiled {
  readonly target: Backend;
  readonly graph: Program;
  readonly kernels: KernelProgram;
  readonly exe: Executable;
}

async function compileFor(program: Program, name: string, rewrite: CompareOptions['rewriteKernels']): Promise<Compiled> {
  const target = getBackend(name);
  const compiled = compileProgram(program, { maxBuffersPerKernel: target.limits.maxBuffersPerKernel });
  const kernels = rewrite ? rewrite(compiled.kernels) : compiled.kernels;
  return { target, graph: compiled.graph, kernels, exe: await target.compile(kernels) };
}

/** An error's message; one that is not a TesseraError is a bug in the backend, and says so. */
const messageOf = (e: unknown) => (e instanceof TesseraError ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}`);

/** The backends to compare: those named (checked to exist), or every available one; never the reference itself. */
function backendList(named: readonly string[] | undefined): string[] {
  const list = named ?? availableBackends();
  for (const b of list) if (b !== 'interp') getBackend(b);
  return [...new Set(list.filter((b) => b !== 'interp'))];
}

/**
 * Runs every input set on a compiled backend and tallies each output against
 * the interpreter's values; an output outside the policy is compared again
 * with the leeway of f32 rounding (`leewayFor`, estimated once per input set
 * and only then).
 */
async function tallyTrials(
  exe: Executable,
  program: Program,
  inputSets: readonly HostInputs[],
  references: readonly Record<string, RefTensor>[],
  reductionLength: number,
  leewayFor: (trial: number) => RoundingLeeway,
): Promise<Map<string, Tally>> {
  const tallies = new Map<string, Tally>();
  for (let t = 0; t < inputSets.length; t++) {
    const actual = await exe.run(inputSets[t]!);
    for (const o of program.outputs) {
      const ref = references[t]![o.name]!;
      const expected = toHost(ref);
      const got = actual[o.name]!.data;
      const options = { dtype: ref.type.dtype, reductionLength };
      let c = compareClose(got, expected, options);
      let withinSpread = 0;
      if (!c.ok && !c.lengths) {
        const leeway = leewayFor(t);
        const allowance = leeway.allowance[o.name];
        const spread = compareClose(got, expected, { ...options, ...(allowance ? { allowance } : {}), alternative: toHost(leeway.f32[o.name]!) });
        withinSpread = c.mismatches - spread.mismatches;
        c = { ...spread, tolerance: c.tolerance };
      }
      tallies.set(o.name, tallyInto(tallies.get(o.name), got, expected, c, c.mismatches + (c.lengths ? numel(ref.type.shape) : 0), withinSpread, t));
    }
  }
  return tallies;
}

/** One row per output from its tally. */
function rowsFrom(backend: string, program: Program, tallies: ReadonlyMap<string, Tally>): CompareRow[] {
  return program.outputs.map((o) => {
    const t = tallies.get(o.name)!;
    return {
      backend,
      output: o.name,
      status: t.firstFailure === undefined ? 'pass' : 'fail',
      maxAbsDiff: t.maxAbsDiff,
      relError: t.maxAbsDiff === 0 ? 0 : t.maxAbsDiff / t.maxExpected,
      tolerance: t.tolerance,
      mismatches: t.mismatches,
      elements: t.elements,
      ...(t.withinSpread ? { withinSpread: t.withinSpread } : {}),
    };
  });
}

/**
 * Compares each backend's outputs with the reference interpreter's on
 * `trials` input sets (given values, the rest drawn from `seed`), under the
 * project's tolerance policy, and localises the first divergence of each
 * backend that disagrees. A backend that cannot run here (no WebGPU adapter)
 * or fails gets a row saying so; an input the interpreter itself rejects is
 * a TesseraError.
 */
export async function compareBackends(program: Program, options: CompareOptions = {}): Promise<CompareReport> {
  const names = backendList(options.backends);
  const seed = options.seed ?? 1;
  const trials = options.trials ?? 1;
  if (!Number.isInteger(trials) || trials < 1) throw new TesseraError(`trials must be a positive integer, got ${trials}`);
  const reductionLength = longestReduction(program);
  const inputSets = Array.from({ length: trials }, (_, t) => modelInputsFor(program, seed + t, options.inputs as HostInputs | undefined));
  const references = inputSets.map((inputs) => interpret(program, inputs));
  const leeways = new Map<number, RoundingLeeway>();
  const leewayFor = (t: number) => leeways.get(t) ?? leeways.set(t, roundingLeeway(program, inputSets[t]!, references[t]!)).get(t)!;
  const rows: CompareRow[] = [];
  const localised: Localisation[] = [];
  let agree = true;
  for (const name of names) {
    let compiled: Compiled;
    let tallies: Map<string, Tally>;
    try {
      compiled = await compileFor(program, name, options.rewriteKernels);
    } catch (e) {
      const unavailable = e instanceof WebgpuUnavailableError;
      rows.push({ backend: name, status: unavailable ? 'unavailable' : 'error', message: messageOf(e) });
      if (!unavailable || options.backends) agree = false;
      continue;
    }
    try {
      tallies = await tallyTrials(compiled.exe, program, inputSets, references, reductionLength, leewayFor);
    } catch (e) {
      rows.push({ backend: name, status: 'error', message: messageOf(e) });
      agree = false;
      continue;
    } finally {
      compiled.exe.dispose();
    }
    rows.push(...rowsFrom(name, program, tallies));
    const failures = [...tallies.values()].map((t) => t.firstFailure).filter((t) => t !== undefined);
    if (failures.length === 0) continue;
    agree = false;
    const first = Math.min(...failures);
    if (options.localise !== false) localised.push(await localise(compiled, inputSets[first]!, reductionLength, name, first));
  }
  return { program: program.name, backends: names, seed, trials, reductionLength, rows, localised, agree };
}

/** Localises one backend's divergence on one input set; a failure of the probed run becomes a note, not an error. */
async function localise(c: Compiled, inputs: HostInputs, reductionLength: number, backend: string, trial: number): Promise<Localisation> {
  try {
    const divergence = await localiseDivergence({ graph: c.graph, kernels: c.kernels, backend: c.target, inputs, reductionLength });
    return divergence ? { backend, trial, divergence } : { backend, trial, note: 'every kernel stored values that agree with the interpreter; the outputs differ only after the last kernel' };
  } catch (e) {
    return { backend, trial, note: `the probed program could not run: ${messageOf(e)}` };
  }
}
