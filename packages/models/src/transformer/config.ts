/** Configuration of the encoder-decoder Transformer, in torch.nn.Transformer's names plus the vocabularies and special tokens. */
export interface TransformerConfig {
  readonly model: 'transformer';
  readonly d_model: number;
  readonly nhead: number;
  readonly num_encoder_layers: number;
  readonly num_decoder_layers: number;
  readonly dim_feedforward: number;
  readonly src_vocab: number;
  readonly tgt_vocab: number;
  /** Padding token: source keys equal to it are masked out of attention. */
  readonly pad_id: number;
  /** First token of every generated sequence. */
  readonly bos_id: number;
  /** End of sequence: a row that emits it continues with pad_id. */
  readonly eos_id: number;
  /** LayerNorm epsilon (default 1e-5, torch.nn.Transformer's). */
  readonly layer_norm_eps: number;
}
