/**
 * `tessera compare (FILE.ts | FILE.tir | --config C.json | --model DIR) [--weights W.safetensors]
 * [--inputs IN.safetensors | --random-inputs N] [--backends LIST] [--json]`:
 * runs a model on every backend and compares each output with the reference
 * interpreter under the tolerance policy; when a backend disagrees, names
 * the first kernel that diverges, the graph nodes it computes and their
 * lines in the model's source. Exit 0 when every backend agrees, 1 when one
 * does not.
 */
import { type Program, TesseraError, toHost } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import type { CompareReport } from '@tessera/harness/compare';
import { availableBackends } from '@tessera/compiler';
import type { TensorData } from '@tessera/kernel';
import { parseCommandArgs } from '../args.ts';
import { type Command, UsageError } from '../command.ts';
import { type ModelArgs, loadModelProgram, parseModelArgs, withModelFlags } from '../model-source.ts';
import { loadOnnxModel } from '../onnx-model.ts';
import { type Timings, withTimings } from '../timings.ts';
import { hfCompareValues } from '../hf-model.ts';
import { bindInputs } from './eval.ts';
import { usageWithBackends } from './run.ts';

/** Input sets `--random-inputs` may ask for: each is a run on every backend, so a typo such as 1e9 must not run for days. */
const MAX_TRIALS = 1000;

const USAGE = `usage: tessera compare (FILE.ts | FILE.tir | --config C.json | --model MODEL.onnx | --model DIR) [--weights W.safetensors]
                       [--inputs IN.safetensors | --random-inputs N] [--seed S]
                       [--backends LIST] [--input NAME=DTYPE[SHAPE]]... [--quantize int8] [--json] [--no-typecheck] [--timings]

  Runs a model on each backend and compares every output with the reference
  interpreter (interp, float64) under the tolerance policy: one row per
  backend and output with max |diff|, the error relative to the largest
  |expected|, the tolerance (atol + rtol*|e|, scaled by sqrt(L) for the
  longest reduction L) and pass/FAIL. An output outside the policy is
  compared once more with the leeway of f32 rounding: three times its
  spread through the model added (three more interpreter runs with every
  inexact value off by up to one rounding), or the model evaluated with
  each op rounded to f32 as the expected value. Elements within it pass,
  and the row says how many (the model is ill-conditioned there, or an op
  sits on a rounding boundary). When a backend disagrees it localises
  the first divergence: the kernel program runs again with a copy of each
  intermediate buffer taken between kernels (the memory plan unchanged), and
  the first kernel whose stored value differs from the interpreter's is
  named with the graph nodes it computes and their lines in the model.
  Exit 0 when every backend agrees, 1 when one does not.

  MODEL is a model file (FILE.ts: default export and inputs, as for compile),
  a program in the IR text format (FILE.tir), --config C.json (a ViT or
  Transformer config), --model MODEL.onnx (an ONNX model, its weights its
  initializers, its inputs by ONNX name) or --model DIR (a Hugging Face folder:
  its weights are the folder's, and an --inputs file's shapes set the
  program's); --input sets the input types of a model file, config, ONNX model
  or folder.

  --weights FILE      the parameters (safetensors); default: drawn, scaled by fan-in
  --inputs FILE       the activations (safetensors; parameters may be here too)
  --random-inputs N   compare on N drawn input sets (default 1, at most ${MAX_TRIALS}); token ids are
                      drawn in range for the tables they index
  --seed S            seed of the drawn values (default 1; set t uses S + t)
  --backends LIST     comma-separated, from ${'${available}'} (default: all;
                      one unavailable here, such as webgpu without an adapter,
                      is then skipped with its reason, and fails when named)
  --input NAME=DTYPE[SHAPE]   an input's type: of a model file (another shape, the same dtype),
                      or of a --config model
  --quantize int8     run the weight matmuls in int8 (per-channel weights, per-row activations)
  --json              print the report as one JSON object
  --no-typecheck      skip the TypeScript check of FILE.ts
  --timings           print the time of each phase on stderr (start-up, type check, load, trace, compare)`;

/** Parsed command line of `tessera compare`. */
export interface CompareCliOptions {
  /** The model: FILE.ts, FILE.tir or --config, with --input and --no-typecheck. */
  readonly model: ModelArgs;
  readonly weights?: string;
  readonly inputs?: string;
  readonly trials: number;
  readonly seed: number;
  /** Backends named with --backends; absent: every available one. */
  readonly backends?: readonly string[];
  readonly json: boolean;
  /** --timings: the time of each phase on stderr. */
  readonly timings: boolean;
}

/** A whole number in [min, max] given for `flag`, or a UsageError. */
function intFlag(flag: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${value}'`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, got '${value}'`);
  return n;
}

/** Parses `compare`'s arguments, or throws UsageError. */
export function parseCompareArgs(args: readonly string[]): CompareCliOptions {
  const parsed = parseCommandArgs(args, withModelFlags({ values: ['--weights', '--inputs', '--random-inputs', '--seed', '--backends'], booleans: ['--json'] }));
  const model = parseModelArgs(parsed, ['file', 'program', 'config', 'onnx', 'hf']);
  const v = parsed.values;
  if (v.has('--inputs') && v.has('--random-inputs')) throw new UsageError('--inputs and --random-inputs exclude each other');
  if (model.source.kind === 'hf' && v.has('--weights')) throw new UsageError('--weights: a --model folder holds its own weights');
  let backends: string[] | undefined;
  if (v.has('--backends')) {
    backends = v.get('--backends')!.split(',').map((b) => b.trim());
    const available = availableBackends();
    for (const b of backends) if (!available.includes(b)) throw new UsageError(`unknown backend '${b}' in --backends (known: ${available.join(', ')})`);
  }
  return {
    model,
    ...(v.has('--weights') ? { weights: v.get('--weights')! } : {}),
    ...(v.has('--inputs') ? { inputs: v.get('--inputs')! } : {}),
    trials: intFlag('--random-inputs', v.get('--random-inputs'), 1, 1, MAX_TRIALS),
    seed: intFlag('--seed', v.get('--seed'), 1, 0),
    ...(backends ? { backends } : {}),
    json: parsed.booleans.has('--json'),
    timings: parsed.booleans.has('--timings'),
  };
}

/**
 * The values the files give, bound as `tessera eval` binds them (names,
 * shapes and dtypes checked, every problem in one error): activations from
 * --inputs, parameters from --weights (or from --inputs when they are there).
 * What no file gives is drawn later.
 */
async function givenValues(p: Program, o: CompareCliOptions): Promise<Record<string, TensorData>> {
  const load = async (path: string | undefined) => (path === undefined ? undefined : { path, file: await readSafetensorsFile(path) });
  const inputs = await load(o.inputs);
  const weights = await load(o.weights);
  const bound = p.inputs.filter((i) => (i.kind === 'activation' ? inputs !== undefined : weights !== undefined || inputs?.file.tensors.has(i.name) === true));
  if (bound.length === 0) return {};
  const values = bindInputs({ ...p, inputs: bound }, inputs, weights);
  return Object.fromEntries(Object.entries(values).map(([k, t]) => [k, toHost(t)]));
}

/** The program of a model file, program or config, and the values its files give. */
async function programWithGivenValues(o: CompareCliOptions, timings: Timings | undefined): Promise<{ program: Program; given: Record<string, TensorData> }> {
  const program = await loadModelProgram(o.model, timings);
  // An ONNX model's weights are its initializers; the files give the rest.
  const own = o.model.source.kind === 'onnx' ? (await loadOnnxModel(o.model.source.path, o.model.inputs)).weights : {};
  return { program, given: { ...own, ...(await givenValues(program, o)) } };
}

/** Where the values came from, for the report's heading. */
function inputsText(o: CompareCliOptions, r: CompareReport, drawn: string): string {
  if (o.inputs !== undefined) return `inputs from ${o.inputs}${o.weights !== undefined ? `, weights from ${o.weights}` : ''} (anything else ${drawn.replace(/^inputs /, '')})`;
  return o.weights !== undefined ? `weights from ${o.weights}, ${drawn}` : drawn;
}

/** The `compare` command. */
export const compareCommand: Command = {
  name: 'compare',
  summary: 'run a model on every backend, compare with the interpreter, name the first divergent kernel',
  get usage() {
    return usageWithBackends(USAGE);
  },
  async run(args) {
    const o = parseCompareArgs(args);
    try {
      // The comparison (every backend, the localiser) is loaded only when compare runs: other commands' peak RSS stays as it was.
      // Its own entry point loads no fast-check.
      const { compareBackends, describeInputs, formatCompareReport } = await import('@tessera/harness/compare');
      return await withTimings(o.timings, async (timings) => {
        const { program, given } =
          o.model.source.kind === 'hf' ? await hfCompareValues(o.model.source.path, o.model.inputs, o.inputs) : await programWithGivenValues(o, timings);
        const compare = () => compareBackends(program, { inputs: given, seed: o.seed, trials: o.trials, ...(o.backends ? { backends: o.backends } : {}) });
        const report = timings ? await timings.time('compare', compare) : await compare();
        const inputs = inputsText(o, report, describeInputs(report));
        process.stdout.write(`${o.json ? JSON.stringify({ model: o.model.source.path, inputs, ...report }) : formatCompareReport(report, inputs)}\n`);
        return report.agree ? 0 : 1;
      });
    } catch (e) {
      if (e instanceof TesseraError) {
        process.stderr.write(`tessera compare: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
