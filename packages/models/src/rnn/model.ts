/**
 * The RNN encoder-decoder with attention of Luong et al. (2015), without
 * input feeding, as the PyTorch module of tools/seq2seq_rnn.py with children
 * `src_embed` (nn.Embedding), `encoder` (nn.GRU or nn.LSTM, batch first),
 * `tgt_embed`, `decoder` (the same cell, starting from the encoder's final
 * state), `attn` (LuongAttention), `combine` (nn.Linear(2H, H)) and
 * `generator` (nn.Linear(H, tgt_vocab)):
 *   s = encoder(src), h = decoder(tgt), c = Σ softmax(r)_i s_i,
 *   logits = generator(tanh(combine([c; h]))).
 * The encoder reads the whole padded source (no packing, as the PyTorch
 * model); padding is masked out of the attention softmax. Without input
 * feeding the decoder does not see the attention, so teacher forcing runs
 * the decoder over every target position first, then attends once.
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';
import { LuongAttention } from './attention.ts';
import type { Seq2SeqRnnConfig } from './config.ts';

/** A recurrent state: h [L, B, H] (GRU), or h and c (LSTM). */
export type RecurrentState = readonly [Tensor] | readonly [Tensor, Tensor];

/** What decoding needs of a source, computed once: encoder states, their attention keys, the final state. */
export interface Encoded {
  readonly memory: Tensor;
  readonly keys: Tensor;
  readonly state: RecurrentState;
}

/** Logits and, when asked for, the attention weights [B, 1, T, S] (the alignment). */
export interface Seq2SeqRnnOutput {
  readonly logits: Tensor;
  readonly alignment?: Tensor;
}

/** The sequence-to-sequence RNN with attention; forward maps src [B, S] and tgt [B, T] (i32) to logits [B, T, tgt_vocab]. */
export class Seq2SeqRNN extends Module {
  readonly srcEmbed: nn.Embedding;
  readonly encoder: nn.GRU | nn.LSTM;
  readonly tgtEmbed: nn.Embedding;
  readonly decoder: nn.GRU | nn.LSTM;
  readonly attn: LuongAttention;
  readonly combine: nn.Linear;
  readonly generator: nn.Linear;

  constructor(readonly config: Seq2SeqRnnConfig) {
    super();
    const c = config;
    const Cell = c.cell === 'gru' ? nn.GRU : nn.LSTM;
    const opts = { numLayers: c.num_layers, batchFirst: true };
    this.srcEmbed = this.registerModule('src_embed', new nn.Embedding(c.src_vocab, c.embedding_dim));
    this.encoder = new Cell(c.embedding_dim, c.hidden_size, opts);
    this.tgtEmbed = this.registerModule('tgt_embed', new nn.Embedding(c.tgt_vocab, c.embedding_dim));
    this.decoder = new Cell(c.embedding_dim, c.hidden_size, opts);
    this.attn = new LuongAttention(c.attention, c.hidden_size);
    this.combine = new nn.Linear(2 * c.hidden_size, c.hidden_size);
    this.generator = new nn.Linear(c.hidden_size, c.tgt_vocab);
  }

  /** Runs a cell over x [B, T, E] from `state` (zeros when absent): outputs [B, T, H] and the final state. */
  private static recur(cell: nn.GRU | nn.LSTM, x: Tensor, state?: RecurrentState): [Tensor, RecurrentState] {
    if (cell instanceof nn.LSTM) {
      const [y, [h, c]] = cell.forward(x, state ? [state[0], state[1]!] : undefined);
      return [y, [h, c]];
    }
    const [y, h] = cell.forward(x, state?.[0]);
    return [y, [h]];
  }

  /** Bool [B, 1, S], true at real source tokens (padding is masked out of the softmax). */
  sourceKeep(src: Tensor): Tensor {
    const [b, s] = src.shape as [number, number];
    return src.ne(this.config.pad_id).reshape([b, 1, s]);
  }

  /** Encoder states [B, S, H], their attention keys and the encoder's final state for source tokens [B, S]. */
  encode(src: Tensor): Encoded {
    const [memory, state] = Seq2SeqRNN.recur(this.encoder, this.srcEmbed.forward(src));
    return { memory, keys: this.attn.keys(memory), state };
  }

  /** Logits [B, T, V] of decoder outputs y [B, T, H] attending over the source; with `alignment`, the weights [B, 1, T, S] too. */
  private attend(y: Tensor, enc: Encoded, src: Tensor, alignment: boolean): Seq2SeqRnnOutput {
    const a = this.attn.forward(y, enc.memory, enc.keys, this.sourceKeep(src), alignment);
    // combine([c; h]) as c W_cᵀ + h W_hᵀ + b: two matmuls, without copying c and h into a concatenation first.
    const h = this.config.hidden_size;
    const w = this.combine.weight;
    const combined = ops.linear(y, w.slice(1, h, 2 * h), this.combine.bias).add(ops.linear(a.context, w.slice(1, 0, h)));
    const logits = this.generator.forward(combined.tanh());
    if (!a.weights) return { logits };
    const [b, t, s] = a.weights.shape as [number, number, number];
    return { logits, alignment: a.weights.reshape([b, 1, t, s]) };
  }

  /** Teacher forcing: logits [B, T, tgt_vocab] of src [B, S] and tgt [B, T]; with `alignment`, the attention weights [B, 1, T, S]. */
  run(src: Tensor, tgt: Tensor, alignment = false): Seq2SeqRnnOutput {
    const enc = this.encode(src);
    const [y] = Seq2SeqRNN.recur(this.decoder, this.tgtEmbed.forward(tgt), enc.state);
    return this.attend(y, enc, src, alignment);
  }

  /** Logits [B, T, tgt_vocab] of src [B, S] and tgt [B, T]. */
  forward(src: Tensor, tgt: Tensor): Tensor {
    return this.run(src, tgt).logits;
  }

  /**
   * One decoding step for the previous tokens `token` [B, 1] from `state`:
   * logits [B, tgt_vocab] of the next token, the new state, and with
   * `alignment` the step's attention weights [B, 1, 1, S].
   */
  decodeStep(token: Tensor, state: RecurrentState, enc: Omit<Encoded, 'state'>, src: Tensor, alignment = false): Seq2SeqRnnOutput & { state: RecurrentState } {
    const [y, next] = Seq2SeqRNN.recur(this.decoder, this.tgtEmbed.forward(token), state);
    const out = this.attend(y, { ...enc, state }, src, alignment);
    return { ...out, logits: out.logits.reshape([token.shape[0]!, this.config.tgt_vocab]), state: next };
  }
}
