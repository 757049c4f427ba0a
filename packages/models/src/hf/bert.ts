/**
 * BERT (transformers' modeling_bert) with its parameter names: BertModel
 * (`embeddings`, `encoder.layer.N`, `pooler`) and
 * BertForSequenceClassification (the same under `bert.`, and `classifier`
 * on the pooled output). Post-norm layers; the padding mask from
 * attention_mask is a bool mask on the keys, so it stays an index
 * predicate inside the fused attention kernel.
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';
import type { HfBertConfig } from './config.ts';
import { Dense, SeparateQkvAttention, encoderStack, paddingKeep } from './encoder.ts';

/** BertEmbeddings: word + token type + absolute position embeddings, then LayerNorm. */
class BertEmbeddings extends Module {
  readonly word_embeddings: nn.Embedding;
  readonly position_embeddings: nn.Embedding;
  readonly token_type_embeddings: nn.Embedding;
  readonly LayerNorm: nn.LayerNorm;

  constructor(c: HfBertConfig) {
    super();
    const d = c.hidden_size;
    this.word_embeddings = new nn.Embedding(c.vocab_size, d);
    this.position_embeddings = new nn.Embedding(c.max_position_embeddings, d);
    this.token_type_embeddings = new nn.Embedding(c.type_vocab_size, d);
    this.LayerNorm = new nn.LayerNorm(d, { eps: c.layer_norm_eps });
  }

  /** [B, T] ids and token types -> [B, T, D]. */
  forward(inputIds: Tensor, tokenTypeIds: Tensor): Tensor {
    const t = inputIds.shape[1]!;
    const positions = this.position_embeddings.forward(ops.arange(t));
    return this.LayerNorm.forward(this.word_embeddings.forward(inputIds).add(this.token_type_embeddings.forward(tokenTypeIds)).add(positions));
  }
}

/** BertAttention: `self` (query, key, value) and `output` (dense, LayerNorm). */
class BertAttention extends Module {
  readonly self: SeparateQkvAttention;
  readonly output: Dense;

  constructor(c: HfBertConfig) {
    super();
    this.self = new SeparateQkvAttention(c.hidden_size, c.num_attention_heads);
    this.output = new Dense(c.hidden_size, c.hidden_size, c.layer_norm_eps);
  }
}

/** BertLayer: a = LayerNorm(x + attention(x)), then LayerNorm(a + output(intermediate(a))). */
class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: Dense;
  readonly output: Dense;

  constructor(readonly c: HfBertConfig) {
    super();
    this.attention = new BertAttention(c);
    this.intermediate = new Dense(c.hidden_size, c.intermediate_size);
    this.output = new Dense(c.intermediate_size, c.hidden_size, c.layer_norm_eps);
  }

  /** [B, T, D] -> [B, T, D]; `keep` [B, 1, 1, T] masks padded keys. */
  forward(x: Tensor, keep: Tensor): Tensor {
    const a = this.attention.output.forward(this.attention.self.forward(x, keep), x);
    return this.output.forward(this.intermediate.activated(a, this.c.hidden_act), a);
  }
}

/** BertModel: last_hidden_state [B, T, D] and pooler_output [B, D] (tanh(dense(first token))). */
export class HfBertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: Module;
  readonly pooler: Dense;
  readonly layers: readonly BertLayer[];

  constructor(readonly config: HfBertConfig) {
    super();
    this.embeddings = new BertEmbeddings(config);
    this.layers = Array.from({ length: config.num_hidden_layers }, () => new BertLayer(config));
    this.encoder = encoderStack(this.layers);
    this.pooler = new Dense(config.hidden_size, config.hidden_size);
  }

  /** Inputs input_ids, attention_mask (1 = token, 0 = padding) and token_type_ids, each [B, T]. */
  forward(inputIds: Tensor, attentionMask: Tensor, tokenTypeIds: Tensor): Record<string, Tensor> {
    const keep = paddingKeep(attentionMask);
    let x = this.embeddings.forward(inputIds, tokenTypeIds);
    for (const layer of this.layers) x = layer.forward(x, keep);
    return { last_hidden_state: x, pooler_output: this.pooler.activated(x.select(1, 0), 'tanh') };
  }
}

/** BertForSequenceClassification: `bert` and `classifier` on the pooled output: logits [B, num_labels]. */
export class HfBertForSequenceClassification extends Module {
  readonly bert: HfBertModel;
  readonly classifier: nn.Linear;

  constructor(readonly config: HfBertConfig) {
    super();
    this.bert = new HfBertModel(config);
    this.classifier = new nn.Linear(config.hidden_size, config.num_labels);
  }

  /** logits [B, num_labels]. */
  forward(inputIds: Tensor, attentionMask: Tensor, tokenTypeIds: Tensor): Record<string, Tensor> {
    return { logits: this.classifier.forward(this.bert.forward(inputIds, attentionMask, tokenTypeIds).pooler_output!) };
  }
}
