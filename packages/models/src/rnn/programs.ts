/**
 * The RNN seq2seq model's programs: the full model (teacher forcing over
 * every target position), and for greedy decoding the encoder (encoder
 * states, their attention keys, the final state) and one decoder step that
 * carries the recurrent state from step to step.
 */
import type { Tensor } from '@tessera/frontend';
import type { Program } from '@tessera/ir';
import { traceEntry } from '../entry.ts';
import type { Seq2SeqShape } from '../transformer/programs.ts';
import type { Encoded, RecurrentState, Seq2SeqRNN } from './model.ts';

/**
 * The alignment output, in programs and in files: `attn/attn`, the attention
 * probes' naming (`attn/` and the module path of the score module `attn`).
 */
export const ALIGNMENT = { output: 'attn/attn', file: 'attn/attn' } as const;

/** Options of the traced programs. */
export interface RnnTraceOptions {
  /** Add the alignment output: the attention weights after masking, [B, 1, T, S] (one step: [B, 1, 1, S]). */
  readonly attentions?: boolean;
}

/** Program input/output names of the decoding state: encoder results and the recurrent state (h, and c for an LSTM). */
export const RNN_NAMES = { memory: 'memory', keys: 'keys', h: 'state_h', c: 'state_c', nextH: 'next_h', nextC: 'next_c' } as const;

/** Whether the model's attention reads keys other than the encoder states (general, additive), so they are a separate tensor. */
const projectsKeys = (model: Seq2SeqRNN) => model.config.attention !== 'dot';
const isLstm = (model: Seq2SeqRNN) => model.config.cell === 'lstm';

/** The full model: inputs src i32 [B, S], tgt i32 [B, T]; output logits [B, T, tgt_vocab] (and the alignment [B, 1, T, S]). */
export function traceRnnSeq2Seq(model: Seq2SeqRNN, shape: Seq2SeqShape, tgtLen: number, opts: RnnTraceOptions = {}): Program {
  const specs = { src: `i32[${shape.batch},${shape.srcLen}]`, tgt: `i32[${shape.batch},${tgtLen}]` };
  return traceEntry(
    model,
    (src, tgt) => {
      const r = model.run(src!, tgt!, opts.attentions ?? false);
      const out: Record<string, Tensor> = { logits: r.logits };
      if (r.alignment) out[ALIGNMENT.output] = r.alignment;
      return out;
    },
    specs,
    'seq2seq_rnn',
  );
}

/** The encoder for decoding: input src; outputs memory [B, S, H], keys [B, S, H] (general, additive) and state_h (state_c) [L, B, H]. */
export function traceRnnEncoder(model: Seq2SeqRNN, shape: Seq2SeqShape): Program {
  return traceEntry(
    model,
    (src) => {
      const e = model.encode(src!);
      const out: Record<string, Tensor> = { [RNN_NAMES.memory]: e.memory, [RNN_NAMES.h]: e.state[0] };
      if (projectsKeys(model)) out[RNN_NAMES.keys] = e.keys;
      if (e.state[1]) out[RNN_NAMES.c] = e.state[1];
      return out;
    },
    { src: `i32[${shape.batch},${shape.srcLen}]` },
    'encode',
  );
}

/**
 * One decoder step: inputs token i32 [B, 1] (the previous token), src, the
 * encoder's memory (and keys) and the state state_h (state_c) [L, B, H].
 * Outputs logits [B, tgt_vocab], the next state next_h (next_c) and with
 * `attentions` the step's alignment [B, 1, 1, S].
 */
export function traceRnnDecodeStep(model: Seq2SeqRNN, shape: Seq2SeqShape, opts: RnnTraceOptions = {}): Program {
  const c = model.config;
  const { batch: b, srcLen: s } = shape;
  const state = `f32[${c.num_layers},${b},${c.hidden_size}]`;
  // The entry function below takes the inputs in this order.
  const specs: Record<string, string> = { token: `i32[${b},1]`, src: `i32[${b},${s}]`, [RNN_NAMES.memory]: `f32[${b},${s},${c.hidden_size}]` };
  if (projectsKeys(model)) specs[RNN_NAMES.keys] = `f32[${b},${s},${c.hidden_size}]`;
  specs[RNN_NAMES.h] = state;
  if (isLstm(model)) specs[RNN_NAMES.c] = state;
  return traceEntry(
    model,
    (token, src, memory, ...rest) => {
      const keys = projectsKeys(model) ? rest.shift()! : memory!;
      const enc: Omit<Encoded, 'state'> = { memory: memory!, keys };
      const r = model.decodeStep(token!, rest as unknown as RecurrentState, enc, src!, opts.attentions ?? false);
      const out: Record<string, Tensor> = { logits: r.logits, [RNN_NAMES.nextH]: r.state[0] };
      if (r.state[1]) out[RNN_NAMES.nextC] = r.state[1];
      if (r.alignment) out[ALIGNMENT.output] = r.alignment;
      return out;
    },
    specs,
    'decode_step',
  );
}
