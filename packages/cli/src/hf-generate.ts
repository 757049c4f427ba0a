/**
 * `tessera generate --model DIR --inputs IN.safetensors --max-new-tokens N
 * --out OUT.safetensors`: GPT-2 (GPT2LMHeadModel) generation from a Hugging
 * Face folder, as transformers' `generate`: greedy by default, or sampling
 * with --do-sample and transformers' warpers (--temperature, --top-k,
 * --top-p; their defaults 1, 50, 1) drawn from a seeded generator (--seed,
 * default 0: Tessera's own, so the same seed gives the same tokens here on
 * every backend, but never torch's). Input `input_ids` [B, P] (I64 or
 * I32); output `generated` I64 [B, P + N]. The new token ids are streamed
 * to stdout as they are chosen, one line per step (every row's token), with
 * their text when the folder has a tokenizer.json (hf-tokenizer.ts), and
 * each row's whole text at the end.
 */
import { TesseraError, formatShape } from '@tessera/ir';
import { readSafetensorsFile, writeSafetensorsFile } from '@tessera/ir/node';
import { HfGpt2LMHeadModel, MAX_NEW_TOKENS, SAMPLING_DEFAULTS, type SamplingOptions, compileGpt2Generator } from '@tessera/models';
import type { BackendName } from '@tessera/compiler';
import { backendFlag, parseCommandArgs, positiveFlag, required } from './args.ts';
import { UsageError } from './command.ts';
import { hfActivations, hfFolderInputs, loadHfModel } from './hf-model.ts';
import { readHfDecoder } from './hf-tokenizer.ts';
import { refuseInputAsOutput } from './outputs.ts';
import { progressBar, tokenTensor } from './commands/run.ts';

/** The synopsis of `generate --model`. */
export const HF_GENERATE_SYNOPSIS = `       tessera generate --model DIR --inputs IN.safetensors --max-new-tokens N --out OUT.safetensors
                        [--backend ...] [--batch-size N]
                        [--do-sample [--temperature T] [--top-k K] [--top-p P] [--seed S]]`;

/** What `generate --model` does and its flags, for the usage text. */
export const HF_GENERATE_HELP = `  --model DIR: a Hugging Face GPT-2 folder (GPT2LMHeadModel), as transformers'
  generate: input input_ids [B, P] (I64 or I32, every row P tokens), output
  generated I64 [B, P + N]. Greedy by default. After eos_token_id a row continues
  with pad_token_id (eos_token_id when there is none); when every row has ended,
  the remaining columns are that pad id. The prompt runs once (filling the
  key/value caches), then each new token is one decoding step over them; the
  tokens chosen are printed as they come, one line per step, with their text
  when the folder has a tokenizer.json (read by @huggingface/tokenizers), and
  then each row's text.

  --do-sample         sample instead: logits / temperature, then top-k, then top-p
                      (transformers' warpers, in its order), then one draw
  --temperature T     default 1
  --top-k K           keep the K largest logits (ties kept); 0 keeps all; default 50
  --top-p P           keep the most likely tokens up to probability P; default 1
  --seed S            seed of Tessera's generator (xoshiro128**, one stream per row),
                      default 0: the same seed gives the same tokens on every backend
                      and batch size, never torch's`;

/** Whether a generate command line names a Hugging Face folder (--model) rather than a --config. */
export function isHfGenerate(args: readonly string[]): boolean {
  return args.some((a) => a === '--model' || a.startsWith('--model='));
}

/** A number flag in a range, or a UsageError naming it. */
function numberFlag(values: Map<string, string>, flag: string, fallback: number, ok: (n: number) => boolean, what: string): number {
  const v = values.get(flag);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !ok(n)) throw new UsageError(`${flag} must be ${what}, got '${v}'`);
  return n;
}

/** Parsed command line of `generate --model`. */
interface HfGenerateOptions {
  readonly dir: string;
  readonly inputs: string;
  readonly out: string;
  readonly maxNew: number;
  readonly backend: BackendName;
  readonly batchSize: number | undefined;
  readonly sampling: SamplingOptions | undefined;
}

function parseHfGenerateArgs(args: readonly string[]): HfGenerateOptions {
  const sampleFlags = ['--temperature', '--top-k', '--top-p', '--seed'];
  const parsed = parseCommandArgs(args, { values: ['--model', '--inputs', '--max-new-tokens', '--out', '--backend', '--batch-size', ...sampleFlags], booleans: ['--do-sample'] });
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}' (every argument is a --flag)`);
  const v = parsed.values;
  const maxNew = positiveFlag(v, '--max-new-tokens', MAX_NEW_TOKENS, 'the key/value caches and the decode loop are bounded');
  if (maxNew === undefined) throw new UsageError('missing --max-new-tokens N');
  const doSample = parsed.booleans.has('--do-sample');
  const stray = sampleFlags.filter((f) => v.has(f));
  if (!doSample && stray.length) throw new UsageError(`${stray.join(', ')} apply only with --do-sample (greedy decoding takes the largest logit)`);
  const sampling = doSample
    ? {
        temperature: numberFlag(v, '--temperature', SAMPLING_DEFAULTS.temperature, (n) => n > 0 && Number.isFinite(n), 'a positive number'),
        topK: numberFlag(v, '--top-k', SAMPLING_DEFAULTS.topK, (n) => Number.isSafeInteger(n) && n >= 0, 'an integer >= 0'),
        topP: numberFlag(v, '--top-p', SAMPLING_DEFAULTS.topP, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
        seed: numberFlag(v, '--seed', 0, (n) => Number.isSafeInteger(n) && n >= 0 && n < 2 ** 32, 'an integer in [0, 2^32)'),
      }
    : undefined;
  return {
    dir: required(v, '--model', 'DIR'),
    inputs: required(v, '--inputs', 'IN.safetensors'),
    out: required(v, '--out', 'OUT.safetensors'),
    maxNew,
    backend: backendFlag(v),
    batchSize: positiveFlag(v, '--batch-size'),
    sampling,
  };
}

/** Runs `generate --model`; returns the exit code (TesseraErrors propagate to the command's handler). */
export async function generateHf(args: readonly string[]): Promise<number> {
  const o = parseHfGenerateArgs(args);
  refuseInputAsOutput('--out', o.out, [{ what: '--model folder', path: o.dir }, ...hfFolderInputs(o.dir), { what: '--inputs file', path: o.inputs }]);
  const m = await loadHfModel(o.dir);
  if (!(m.model instanceof HfGpt2LMHeadModel)) throw new TesseraError(`${o.dir}: generate needs a GPT2LMHeadModel ("architectures" in config.json), got ${m.config.architecture}`);
  const { tensors } = hfActivations(m, await readSafetensorsFile(o.inputs), o.inputs);
  const c = m.model.config;
  const prompt = tokenTensor(o.inputs, 'input_ids', tensors.get('input_ids')!, c.vocab_size, 'vocab_size');
  const batch = Math.min(o.batchSize ?? prompt.rows, prompt.rows);
  const decode = await readHfDecoder(o.dir, (message) => process.stderr.write(`tessera generate: note: ${message}\n`));
  const onToken = (step: number, tokens: Int32Array) => {
    const text = decode ? `  ${Array.from(tokens, (t) => JSON.stringify(decode([t]))).join(' ')}` : '';
    process.stdout.write(`token ${step + 1}: ${Array.from(tokens).join(' ')}${text}\n`);
  };
  const g = await compileGpt2Generator(m.model, m.weights, { backend: o.backend, batch, promptLen: prompt.len, maxNewTokens: o.maxNew, onToken, ...(o.sampling ? { sampling: o.sampling } : {}) });
  let generated: Int32Array;
  try {
    generated = await g.generate(prompt.data, progressBar('sequences'));
  } finally {
    g.dispose();
  }
  const shape = [prompt.rows, prompt.len + o.maxNew];
  const mode = o.sampling ? `sample (temperature ${o.sampling.temperature}, top_k ${o.sampling.topK}, top_p ${o.sampling.topP}, seed ${o.sampling.seed})` : 'greedy';
  await writeSafetensorsFile(o.out, { generated: { dtype: 'I64', shape, data: BigInt64Array.from(generated, (t) => BigInt(t)) } }, { format: 'tessera', model: c.architecture, backend: o.backend, decoding: mode });
  process.stdout.write(`generated: i64${formatShape(shape)} (${mode})\n`);
  if (decode) for (let r = 0; r < prompt.rows; r++) process.stdout.write(`text ${r}: ${decode(Array.from(generated.subarray(r * shape[1]!, (r + 1) * shape[1]!)))}\n`);
  return 0;
}
