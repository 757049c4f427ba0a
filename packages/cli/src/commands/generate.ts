/**
 * `tessera generate --config C.json --weights W.safetensors --inputs
 * IN.safetensors --max-new-tokens N --out OUT.safetensors [--backend …]
 * [--batch-size N]`: greedy generation with a Transformer. Input `src`
 * [B, S] (I64 or I32); output `generated` I64 [B, 1+N], beginning with
 * bos_id; a row that has emitted eos_id continues with pad_id. With
 * --attentions, each decoder layer's cross-attention per generated token.
 */
import { type SafetensorsTensor, TesseraError, formatShape } from '@tessera/ir';
import { writeSafetensorsFile } from '@tessera/ir/node';
import { type Generation, MAX_NEW_TOKENS, compileGenerator } from '@tessera/models';
import { loadWeights, readModelConfig } from '@tessera/models/node';
import { type Command, UsageError } from '../command.ts';
import { refuseInputAsOutput } from '../outputs.ts';
import { backendFlag, parseCommandArgs, positiveFlag, required } from '../args.ts';
import { MODEL_BACKENDS, modelCommandInputs, progressBar, readInputs, tokenTensor, usageWithBackends } from './run.ts';

const USAGE = `usage: tessera generate --config C.json --weights W.safetensors --inputs IN.safetensors
                        --max-new-tokens N --out OUT.safetensors [--backend ${MODEL_BACKENDS}] [--batch-size N]
                        [--attentions]

  Greedy generation with a Transformer config ("model": "transformer").
  The encoder runs once per batch; each new token is one decoder step over a
  key/value cache.

  input   src         token ids [B, S] (I64 or I32; pad with pad_id)
  output  generated   I64 [B, 1 + N]: bos_id, then N tokens; after eos_id, pad_id
  with --attentions   attn/transformer.decoder.layers.{i}.multihead_attn  F32 [B, heads, N, S]:
                      row t, the cross-attention over the source of the step that chose
                      token t + 1 (0 for steps not run: every row of the batch had ended)

  --max-new-tokens N  tokens to generate after bos_id (at most ${MAX_NEW_TOKENS}, and key/value
                      caches of at most 4 GiB: 2 x decoder layers x batch x N x d_model f32)
  --backend NAME      where to run (default cpu; available here: \${available})
  --batch-size N      sequences at a time (default: all at once); a progress bar
                      is shown on a terminal`;

/** The `generate` command: greedy decoding with a key/value cache. */
export const generateCommand: Command = {
  name: 'generate',
  summary: 'greedy generation with a Transformer (JSON config + safetensors checkpoint)',
  get usage() {
    return usageWithBackends(USAGE);
  },
  async run(args) {
    const parsed = parseCommandArgs(args, { values: ['--config', '--weights', '--inputs', '--max-new-tokens', '--out', '--backend', '--batch-size'], booleans: ['--attentions'] });
    if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}' (every argument is a --flag)`);
    const flags = parsed.values;
    const attentions = parsed.booleans.has('--attentions');
    const config = required(flags, '--config', 'C.json');
    const weights = required(flags, '--weights', 'W.safetensors');
    const inputsPath = required(flags, '--inputs', 'IN.safetensors');
    const maxNew = positiveFlag(flags, '--max-new-tokens', MAX_NEW_TOKENS, 'the key/value caches and the decode loop are bounded');
    if (maxNew === undefined) throw new UsageError('missing --max-new-tokens N');
    const out = required(flags, '--out', 'OUT.safetensors');
    const backend = backendFlag(flags);
    const batchSize = positiveFlag(flags, '--batch-size');
    try {
      refuseInputAsOutput('--out', out, modelCommandInputs(config, weights, inputsPath));
      const parsed = await readModelConfig(config);
      if (parsed.model !== 'transformer') throw new TesseraError(`${config}: "model" is "${parsed.model}", but generate needs "model": "transformer"`);
      const m = await loadWeights(parsed, weights);
      if (m.kind !== 'transformer') throw new TesseraError(`${config}: expected a Transformer`);
      const inputs = await readInputs(inputsPath, ['src'], 'Transformer (generate)');
      const src = tokenTensor(inputsPath, 'src', inputs.get('src')!, m.model.config.src_vocab, 'src_vocab');
      const g = await compileGenerator(m.model, m.weights, { backend, batch: Math.min(batchSize ?? src.rows, src.rows), srcLen: src.len, maxNewTokens: maxNew, crossAttention: attentions });
      let generation: Generation;
      try {
        generation = attentions ? await g.generateWithAttention(src.data, progressBar('sequences')) : { tokens: await g.generate(src.data, progressBar('sequences')), attentions: {} };
      } finally {
        g.dispose();
      }
      const generated = generation.tokens;
      const shape = [src.rows, 1 + maxNew];
      const probes = Object.fromEntries(Object.entries(generation.attentions).map(([name, t]) => [name, { dtype: 'F32', shape: [...t.dims], data: t.data } as SafetensorsTensor]));
      await writeSafetensorsFile(out, { generated: { dtype: 'I64', shape, data: BigInt64Array.from(generated, (v) => BigInt(v)) }, ...probes }, { format: 'tessera', model: 'transformer', backend });
      const c = m.model.config;
      let ended = 0;
      for (let r = 0; r < src.rows; r++) if (generated.subarray(r * shape[1]!, (r + 1) * shape[1]!).includes(c.eos_id)) ended++;
      process.stdout.write(`generated: i64${formatShape(shape)}, ${ended} of ${src.rows} rows reached eos_id ${c.eos_id}\n`);
      return 0;
    } catch (e) {
      if (e instanceof TesseraError) {
        process.stderr.write(`tessera generate: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
