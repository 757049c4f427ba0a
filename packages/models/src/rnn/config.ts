/** Configuration of the RNN encoder-decoder with attention (Luong et al. 2015, no input feeding). */

/** The recurrent cell of encoder and decoder. */
export type RnnCell = 'gru' | 'lstm';
/** The score function: r = hᵀs, hᵀWs, or vᵀtanh(W_q h + W_k s). */
export type AttentionScore = 'dot' | 'general' | 'additive';

export const RNN_CELLS: readonly RnnCell[] = ['gru', 'lstm'];
export const ATTENTION_SCORES: readonly AttentionScore[] = ['dot', 'general', 'additive'];

/** `"model": "seq2seq_rnn"`: sizes, cell, score, vocabularies and special tokens. */
export interface Seq2SeqRnnConfig {
  readonly model: 'seq2seq_rnn';
  readonly cell: RnnCell;
  readonly embedding_dim: number;
  readonly hidden_size: number;
  /** Stacked layers of encoder and decoder each (default 1). */
  readonly num_layers: number;
  readonly attention: AttentionScore;
  readonly src_vocab: number;
  readonly tgt_vocab: number;
  /** Padding token: source positions equal to it are masked out of the attention softmax. */
  readonly pad_id: number;
  /** First token of every generated sequence. */
  readonly bos_id: number;
  /** End of sequence: a row that emits it continues with pad_id. */
  readonly eos_id: number;
}
