import type { AttentionSelection } from '@tessera/frontend';
import { type Program, TesseraError } from '@tessera/ir';
import { Seq2SeqTransformer, VIT_CHANNELS, VisionTransformer, traceSeq2Seq, traceVit } from '@tessera/models';
import { readModelConfig } from '@tessera/models/node';

/** An input shape set on the command line: `--input NAME=DTYPE[SHAPE]`. */
export interface InputOverride {
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** Parses `NAME=DTYPE[SHAPE]` (e.g. `src=i64[2,9]`), or throws naming what was expected. */
export function parseInputOverride(text: string): [string, InputOverride] {
  const m = /^([A-Za-z_][\w.]*)=(f32|i32|i64|bool)\[([0-9,\s]*)\]$/.exec(text);
  if (!m) throw new TesseraError(`--input '${text}': expected NAME=DTYPE[SHAPE], e.g. src=i64[2,9] (dtypes f32, i32, i64, bool)`);
  const shape = m[3]!.trim() === '' ? [] : m[3]!.split(',').map((d) => Number(d.trim()));
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new TesseraError(`--input '${text}': every extent must be a positive integer`);
  return [m[1]!, { dtype: m[2]!, shape }];
}

function expectRank(name: string, o: InputOverride, rank: number, dtypes: readonly string[], like: string): void {
  if (o.shape.length !== rank || !dtypes.includes(o.dtype)) throw new TesseraError(`--input ${name}: expected ${like}, got ${o.dtype}[${o.shape.join(',')}]`);
}

/**
 * Traces the model a config JSON describes. Defaults: batch 1, the config's
 * image size, sequence lengths 16; `--input` overrides them (integer token
 * inputs may be given as i64: Tessera computes with i32); `attentions`
 * adds attention probes.
 */
export async function traceConfig(path: string, inputs: Readonly<Record<string, InputOverride>>, attentions: AttentionSelection = false): Promise<Program> {
  const config = await readModelConfig(path);
  if (config.model === 'vit') {
    const known = ['pixel_values'];
    for (const k of Object.keys(inputs)) if (!known.includes(k)) throw new TesseraError(`--input ${k}: a ViT has one input, pixel_values`);
    const px = inputs.pixel_values;
    const s = config.image_size;
    if (px) {
      expectRank('pixel_values', px, 4, ['f32'], `f32[B,${VIT_CHANNELS},${s},${s}]`);
      if (px.shape[1] !== VIT_CHANNELS || px.shape[2] !== s || px.shape[3] !== s) throw new TesseraError(`--input pixel_values: expected f32[B,${VIT_CHANNELS},${s},${s}] (the config's image_size), got f32[${px.shape.join(',')}]`);
    }
    return traceVit(new VisionTransformer(config), px?.shape[0] ?? 1, attentions);
  }
  for (const k of Object.keys(inputs)) if (k !== 'src' && k !== 'tgt') throw new TesseraError(`--input ${k}: a Transformer has inputs src and tgt`);
  const { src, tgt } = inputs;
  if (src) expectRank('src', src, 2, ['i64', 'i32'], 'i64[B,S] or i32[B,S]');
  if (tgt) expectRank('tgt', tgt, 2, ['i64', 'i32'], 'i64[B,T] or i32[B,T]');
  const batch = src?.shape[0] ?? tgt?.shape[0] ?? 1;
  if (src && tgt && src.shape[0] !== tgt.shape[0]) throw new TesseraError(`--input: src and tgt have batch ${src.shape[0]} and ${tgt.shape[0]}, expected the same`);
  return traceSeq2Seq(new Seq2SeqTransformer(config), { batch, srcLen: src?.shape[1] ?? 16 }, tgt?.shape[1] ?? 16, attentions);
}
