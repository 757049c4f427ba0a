/**
 * Fuzz target "JSON configs": the fixture configs and the ViT presets,
 * mutated: keys removed, set to values of every JSON type (zero, negative,
 * fractional, 1e9, 2^31, 1e300, strings, deep nesting, huge arrays), the
 * model switched, unknown keys added, the text cut or corrupted. Every case
 * is either rejected by a ConfigError naming the file (and the key, when one
 * is at fault), or accepted: then the model builds, has the parameter count
 * the config promises within the bound, and, when small, traces. See
 * packages/harness/src/fuzz.ts for the budget.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ErrorVerdict, type FuzzRng, type FuzzTarget, expectCleanFuzz, fuzzBudget, fuzzTestTimeout } from '@tessera/harness';
import { TesseraError } from '@tessera/ir';
import { describe, it } from 'vitest';
import { ConfigError, Seq2SeqRNN, Seq2SeqTransformer, VIT_PRESETS, VisionTransformer, buildModel, parseModelConfigText, traceRnnSeq2Seq, traceSeq2Seq, traceVit } from '../src/index.ts';
import { MAX_LAYERS, MAX_PARAMETERS, modelParameters } from '../src/size.ts';
import { FIXTURES } from './support.ts';

const BASES: readonly Record<string, unknown>[] = [
  ...['vit-torchvision-37tok-3head', 'vit-timm-10tok-5head', 'transformer-vocab41-3head', 'transformer-1head-pad3'].map((n) => JSON.parse(readFileSync(join(FIXTURES, `${n}.json`), 'utf8')) as Record<string, unknown>),
  ...['gru-general-2layer', 'lstm-additive-vocab14'].map((n) => JSON.parse(readFileSync(join(FIXTURES, 'rnn', `${n}.json`), 'utf8')) as Record<string, unknown>),
  ...Object.values(VIT_PRESETS).map((p) => ({ ...p })),
];
const KEYS = [...new Set(BASES.flatMap((b) => Object.keys(b))), 'naming', 'layer_norm_eps', 'unknown_key', '__proto__', 'constructor'];

/** JSON text of a value, usual or absurd, of any type. */
function valueJson(rng: FuzzRng): string {
  const depth = rng.pick([3, 100_000]);
  return rng.pick([
    '0',
    '1',
    '2',
    '3',
    '4',
    '6',
    '7',
    '12',
    '16',
    '-1',
    '1.5',
    '1e-7',
    '1e6',
    '1e9',
    '2147483648',
    '9007199254740993',
    '1e300',
    '"vit"',
    '"transformer"',
    '"seq2seq_rnn"',
    '"gru"',
    '"lstm"',
    '"additive"',
    '"timm"',
    '"12"',
    'null',
    'true',
    '[]',
    '{}',
    `${'['.repeat(depth)}${']'.repeat(depth)}`,
    `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    `[${Array(100_000).fill(0).join(',')}]`,
  ]);
}

const PLACEHOLDER = '"\u0000value\u0000"';

/** One mutation of a config (as JSON text; the first ones act on the parsed object). */
function mutate(rng: FuzzRng, text: string): string {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text) as Record<string, unknown>;
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('not an object');
  } catch {
    return text; // An earlier mutation broke the text already.
  }
  const key = rng.pick(KEYS);
  switch (rng.int(6)) {
    case 0:
      delete obj[key];
      break;
    case 1:
    case 2:
      Object.defineProperty(obj, key, { value: PLACEHOLDER, enumerable: true, writable: true, configurable: true });
      break;
    case 3: {
      // A plausible but scaled size: what a user editing a config does.
      const v = obj[key];
      if (typeof v === 'number') obj[key] = Math.round(v * rng.pick([0, 0.5, 2, 3, 10, 1000, 1e6]));
      break;
    }
    case 4:
      return text.slice(0, rng.int(text.length + 1)) + rng.pick(['', '}', ',', '"', ']']);
    default:
      return rng.pick([`[${text}]`, '42', '"vit"', 'null', '']);
  }
  let out: string;
  try {
    out = JSON.stringify(obj);
  } catch {
    return text;
  }
  return out.replace(JSON.stringify(PLACEHOLDER), valueJson(rng));
}

/** Programs are traced only for small accepted configs (tracing is the slow part). */
const TRACE_PARAMETERS = 2_000_000;

const target: FuzzTarget<string> = {
  name: 'json-config',
  generate(rng) {
    let text = JSON.stringify(rng.pick(BASES));
    for (let k = rng.range(1, 3); k > 0; k--) text = mutate(rng, text);
    return text;
  },
  run(text) {
    const c = parseModelConfigText(text, 'c.json');
    const model = buildModel(c);
    let built = 0;
    for (const [, p] of model.namedParameters()) built += p.shape.reduce((a, b) => a * b, 1);
    const promised = modelParameters(c);
    if (built !== promised || built > MAX_PARAMETERS) throw new Error(`built ${built} parameters, the config promises ${promised} (bound ${MAX_PARAMETERS})`);
    const layers = c.model === 'transformer' ? Math.max(c.num_encoder_layers, c.num_decoder_layers) : c.num_layers;
    if (layers > MAX_LAYERS) throw new Error(`${layers} layers accepted`);
    if (built > TRACE_PARAMETERS || layers > 4) return;
    if (model instanceof VisionTransformer) {
      if ((c.model === 'vit' ? c.image_size / c.patch_size : 0) <= 32) traceVit(model, 1);
    } else if (model instanceof Seq2SeqTransformer) traceSeq2Seq(model, { batch: 1, srcLen: 5 }, 4);
    else if (model instanceof Seq2SeqRNN) traceRnnSeq2Seq(model, { batch: 1, srcLen: 5 }, 4, { attentions: true });
  },
  classify(e): ErrorVerdict {
    if (e instanceof ConfigError) return e.message.startsWith('c.json: ') ? 'located' : 'unlocated';
    return e instanceof TesseraError ? 'unlocated' : 'crash';
  },
  show: (text) => (text.length > 600 ? `${text.slice(0, 600)}... (${text.length} chars)` : text),
};

describe('fuzz: JSON configs', () => {
  const budget = fuzzBudget(500, 10_000);
  it(
    'mutated configs: a ConfigError naming the file and key, or a model of the promised size that builds and traces; no crash, hang or unlocated error',
    () => expectCleanFuzz(target, budget),
    fuzzTestTimeout(budget),
  );
});
