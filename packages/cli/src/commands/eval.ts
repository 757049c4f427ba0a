/**
 * `tessera eval FILE.tir --inputs IN.safetensors [--weights W.safetensors]
 * --out OUT.safetensors [--backend interp]`: runs a program in the IR text
 * format on tensors from safetensors files and writes its outputs by name.
 */
import {
  type Program,
  type RefTensor,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsTensor,
  TesseraError,
  checkProgramText,
  formatDiagnostic,
  formatType,
  interpret,
  refTensor,
  toHost,
  valueTypes,
  refToSafetensor,
  safetensorToRef,
} from '@tessera/ir';
import { readSafetensorsFile, writeSafetensorsFile } from '@tessera/ir/node';
import { type BackendName, compile } from '@tessera/compiler';
import { refuseInputAsOutput } from '../outputs.ts';
import { readProgramText } from '../program-file.ts';
import { type Command, UsageError } from '../command.ts';
import type { Timings } from '../timings.ts';

/** Backends `eval` can run a program on: the reference interpreter (the oracle), the kernel evaluator, the cpu and webgpu backends. */
export const EVAL_BACKENDS = ['interp', 'eval', 'cpu', 'webgpu'] as const;
/** One of EVAL_BACKENDS. */
export type EvalBackend = (typeof EVAL_BACKENDS)[number];

const USAGE = `usage: tessera eval FILE.tir --inputs IN.safetensors [--weights W.safetensors]
                    --out OUT.safetensors [--backend ${EVAL_BACKENDS.join('|')}]

  Parses and verifies FILE.tir, binds its inputs by name, runs it and writes
  its outputs by output name (f32 -> F32, i32 -> I32, bool -> BOOL). Prints
  one line per output: name, type, min/max/mean.

  --inputs FILE    tensors for the program's inputs (parameters may be here too).
                   F16/BF16 load as f32, I64 as i32 (range-checked), U8 as bool.
  --weights FILE   tensors for the program's parameters (param %name : ...)
  --out FILE       where the outputs are written (atomically, directories created; never an input file)
  --backend NAME   ${EVAL_BACKENDS.join(', ')} (default interp: the reference interpreter; eval: the kernel
                   evaluator; cpu: generated WebAssembly SIMD kernels on every core; webgpu: WGSL)

  Every input must be found exactly once, with the declared shape; a tensor
  that names no input is an error too.`;

/** Parsed command line of `tessera eval`. */
export interface EvalOptions {
  readonly program: string;
  readonly inputs?: string;
  readonly weights?: string;
  readonly out: string;
  readonly backend: EvalBackend;
}

const VALUE_FLAGS = ['--inputs', '--weights', '--out', '--backend'] as const;

/** Parses `eval`'s arguments (`--flag VALUE` or `--flag=VALUE`), or throws UsageError. */
export function parseEvalArgs(args: readonly string[]): EvalOptions {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) throw new UsageError(`unknown option '${flag}' (expected ${VALUE_FLAGS.join(', ')})`);
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') throw new UsageError(`option '${flag}' needs a value`);
    if (values.has(flag)) throw new UsageError(`option '${flag}' is given twice`);
    values.set(flag, value);
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'missing the program FILE.tir' : `expected one program file, got ${positional.length}: ${positional.join(' ')}`);
  }
  const out = values.get('--out');
  if (out === undefined) throw new UsageError('missing --out OUT.safetensors');
  const backend = values.get('--backend') ?? 'interp';
  if (!(EVAL_BACKENDS as readonly string[]).includes(backend)) {
    throw new UsageError(`unknown backend '${backend}' (allowed: ${EVAL_BACKENDS.join(', ')})`);
  }
  const inputs = values.get('--inputs');
  const weights = values.get('--weights');
  return { program: positional[0]!, out, backend: backend as EvalBackend, ...(inputs !== undefined ? { inputs } : {}), ...(weights !== undefined ? { weights } : {}) };
}

/**
 * Matches program inputs to tensors: activations from `inputs`, parameters
 * from `weights` or `inputs`. Collects
 * every problem (missing, misplaced, duplicated, extra, wrong shape or dtype)
 * into one error, so a user fixes the files in one go.
 */
export function bindInputs(
  p: Program,
  inputs: { path: string; file: SafetensorsFile } | undefined,
  weights: { path: string; file: SafetensorsFile } | undefined,
): Record<string, RefTensor> {
  const problems: string[] = [];
  const missing: string[] = [];
  const bound: Record<string, RefTensor> = {};
  for (const inp of p.inputs) {
    const inIn = inputs?.file.tensors.get(inp.name);
    const inW = weights?.file.tensors.get(inp.name);
    const desc = `${inp.name}: ${formatType(inp.type)}`;
    let found: { path: string; t: SafetensorsTensor } | undefined;
    if (inIn && inW) problems.push(`'${inp.name}' is in both ${inputs!.path} and ${weights!.path} (expected it in one)`);
    else if (inW && inp.kind === 'activation') problems.push(`'${inp.name}' is an activation input (${formatType(inp.type)}) but was found in the weights file ${weights!.path}; pass it in --inputs`);
    else if (inIn) found = { path: inputs!.path, t: inIn };
    else if (inW) found = { path: weights!.path, t: inW };
    else missing.push(`${desc} (${inp.kind === 'parameter' ? 'param' : 'input'})`);
    if (!found) continue;
    try {
      bound[inp.name] = safetensorToRef(inp.name, found.t, inp.type, found.path);
    } catch (e) {
      if (e instanceof SafetensorsError) problems.push(e.message);
      else throw e;
    }
  }
  if (missing.length) {
    const where = [inputs ? inputs.path : undefined, weights ? weights.path : undefined].filter(Boolean).join(' or ') || 'no tensor file (use --inputs)';
    problems.unshift(`missing ${missing.length === 1 ? 'input' : 'inputs'} of program @${p.name}, not found in ${where}: ${missing.join(', ')}`);
  }
  const known = new Set(p.inputs.map((i) => i.name));
  for (const src of [inputs, weights]) {
    if (!src) continue;
    const extra = [...src.file.tensors.keys()].filter((n) => !known.has(n));
    if (extra.length) problems.push(`${src.path} has tensors that name no input of program @${p.name}: ${extra.join(', ')} (inputs are ${[...known].join(', ') || 'none'})`);
  }
  if (problems.length) throw new TesseraError(problems.length === 1 ? problems[0]! : `cannot bind the inputs of program @${p.name}:\n  ${problems.join('\n  ')}`);
  return bound;
}

/** Formats a statistic compactly (6 significant digits). */
function num(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return String(Number(x.toPrecision(6)));
}

/** One summary line for an output: name, type, min/max/mean of the values written (NaNs counted apart). */
export function summarize(name: string, type: string, data: ArrayLike<number>): string {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nans = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isNaN(v)) {
      nans++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const n = data.length - nans;
  const stats = n > 0 ? `min=${num(min)} max=${num(max)} mean=${num(sum / n)}` : 'min=nan max=nan mean=nan';
  return `${name}: ${type} ${stats}${nans ? ` nan=${nans}` : ''}`;
}

/** Runs a program on `backend`; with `timings`, its compile and its run are timed apart. */
async function runBackend(backend: string, p: Program, inputs: Record<string, RefTensor>, timings?: Timings, precision?: 'f16'): Promise<Record<string, RefTensor>> {
  const timed = <T>(name: string, f: () => Promise<T> | T) => (timings ? timings.time(name, f) : f());
  if (backend === 'interp') return timed('run', () => interpret(p, inputs));
  const exe = await timed('compile', () => compile(p, { backend: backend as BackendName, ...(precision ? { precision } : {}) }));
  try {
    const out = await timed('run', () => exe.run(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toHost(v)]))));
    const types = valueTypes(p);
    return Object.fromEntries(p.outputs.map((o) => [o.name, refTensor(types.get(o.value)!, Float64Array.from(out[o.name]!.data))]));
  } finally {
    exe.dispose();
  }
}

/** A program's inputs bound from safetensors files: activations from `inputs`, parameters from `weights` or `inputs` (see bindInputs). */
export async function bindInputFiles(p: Program, inputs: string | undefined, weights: string | undefined): Promise<Record<string, RefTensor>> {
  const load = async (path: string | undefined) => (path === undefined ? undefined : { path, file: await readSafetensorsFile(path) });
  return bindInputs(p, await load(inputs), await load(weights));
}

/**
 * Runs a program on bound inputs with `backend`, writes its outputs by
 * output name to `out` (safetensors: f32 -> F32, i32 -> I32, bool -> BOOL)
 * and prints one summary line per output: what `eval` and `run FILE.ts` do.
 */
export async function runProgramToFile(program: Program, bound: Record<string, RefTensor>, backend: string, out: string, timings?: Timings, precision?: 'f16'): Promise<void> {
  const results = await runBackend(backend, program, bound, timings, precision);
  const tensors = new Map<string, SafetensorsTensor>();
  const lines: string[] = [];
  for (const o of program.outputs) {
    const t = results[o.name]!;
    const st = refToSafetensor(t);
    tensors.set(o.name, st);
    lines.push(summarize(o.name, formatType(t.type), st.data as Float32Array | Int32Array | Uint8Array));
  }
  await writeSafetensorsFile(out, tensors, { format: 'tessera', program: program.name, backend });
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function evaluate(opts: EvalOptions): Promise<number> {
  refuseInputAsOutput('--out', opts.out, [
    { what: 'program file', path: opts.program },
    ...(opts.inputs !== undefined ? [{ what: '--inputs file', path: opts.inputs }] : []),
    ...(opts.weights !== undefined ? [{ what: '--weights file', path: opts.weights }] : []),
  ]);
  const text = await readProgramText(opts.program);
  const { program, diagnostics } = checkProgramText(text, opts.program);
  if (diagnostics.length > 0 || !program) {
    process.stderr.write(diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join(''));
    return 1;
  }
  await runProgramToFile(program, await bindInputFiles(program, opts.inputs, opts.weights), opts.backend, opts.out);
  return 0;
}

/** The `eval` command: run a text-format program on safetensors inputs, write safetensors outputs. */
export const evalCommand: Command = {
  name: 'eval',
  summary: 'run a program (.tir) on safetensors inputs and write its outputs',
  usage: USAGE,
  async run(args) {
    const opts = parseEvalArgs(args);
    try {
      return await evaluate(opts);
    } catch (e) {
      if (e instanceof TesseraError) {
        process.stderr.write(`tessera eval: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
