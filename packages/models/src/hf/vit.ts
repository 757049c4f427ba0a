/**
 * Hugging Face's ViT (transformers' modeling_vit) with its parameter names:
 * ViTModel (`embeddings`, `encoder.layer.N`, `layernorm`, `pooler`) and
 * ViTForImageClassification (the same under `vit.`, without the pooler,
 * and `classifier` on the class token). Pre-norm layers as torchvision's,
 * with separate query/key/value layers.
 */
import { Module, Parameter, type Tensor, nn, ops } from '@tessera/frontend';
import { embedPatches } from '../blocks/patch-embedding.ts';
import type { HfVitConfig } from './config.ts';
import { Dense, SeparateQkvAttention, encoderStack } from './encoder.ts';

/** ViTPatchEmbeddings: `projection`, a Conv2d(C, D, kernel p, stride p). */
class PatchEmbeddings extends Module {
  readonly projection: nn.Conv2d;

  constructor(c: HfVitConfig) {
    super();
    this.projection = new nn.Conv2d(c.num_channels, c.hidden_size, c.patch_size, { stride: c.patch_size });
  }
}

/** ViTEmbeddings: the class token, the patches, learned position embeddings. */
class VitEmbeddings extends Module {
  readonly cls_token: Parameter;
  readonly position_embeddings: Parameter;
  readonly patch_embeddings: PatchEmbeddings;

  constructor(readonly c: HfVitConfig) {
    super();
    const d = c.hidden_size;
    this.cls_token = new Parameter([1, 1, d]);
    this.position_embeddings = new Parameter([1, (c.image_size / c.patch_size) ** 2 + 1, d]);
    this.patch_embeddings = new PatchEmbeddings(c);
  }

  /** [B, C, H, W] -> [B, 1 + patches, D]. */
  forward(pixelValues: Tensor): Tensor {
    const [b] = pixelValues.shape as [number];
    const conv = this.patch_embeddings.projection;
    // The convolution with stride equal to its kernel is one matmul over the patches.
    const patches = embedPatches(pixelValues, conv.weight, conv.bias!, this.c.patch_size);
    const cls = this.cls_token.broadcastTo([b, 1, this.c.hidden_size]);
    return ops.concat([cls, patches], 1).add(this.position_embeddings);
  }
}

/** ViTAttention: `attention` (query, key, value) and `output.dense`. */
class VitAttention extends Module {
  readonly attention: SeparateQkvAttention;
  readonly output: Dense;

  constructor(c: HfVitConfig) {
    super();
    this.attention = new SeparateQkvAttention(c.hidden_size, c.num_attention_heads, c.qkv_bias);
    this.output = new Dense(c.hidden_size, c.hidden_size);
  }
}

/** ViTLayer: x + attention(layernorm_before(x)), then + output(intermediate(layernorm_after(.))). */
class VitLayer extends Module {
  readonly attention: VitAttention;
  readonly intermediate: Dense;
  readonly output: Dense;
  readonly layernorm_before: nn.LayerNorm;
  readonly layernorm_after: nn.LayerNorm;

  constructor(readonly c: HfVitConfig) {
    super();
    const d = c.hidden_size;
    this.attention = new VitAttention(c);
    this.intermediate = new Dense(d, c.intermediate_size);
    this.output = new Dense(c.intermediate_size, d);
    this.layernorm_before = new nn.LayerNorm(d, { eps: c.layer_norm_eps });
    this.layernorm_after = new nn.LayerNorm(d, { eps: c.layer_norm_eps });
  }

  /** [B, T, D] -> [B, T, D]. */
  forward(x: Tensor): Tensor {
    const a = this.attention.output.forward(this.attention.attention.forward(this.layernorm_before.forward(x)), x);
    return this.output.forward(this.intermediate.activated(this.layernorm_after.forward(a), this.c.hidden_act), a);
  }
}

/** ViTModel's body: embeddings, encoder, final layernorm and (ViTModel only) the pooler. */
export class HfVitModel extends Module {
  readonly embeddings: VitEmbeddings;
  readonly encoder: Module;
  readonly layernorm: nn.LayerNorm;
  readonly pooler: Dense | undefined;
  readonly layers: readonly VitLayer[];

  constructor(readonly config: HfVitConfig) {
    super();
    const c = config;
    this.embeddings = new VitEmbeddings(c);
    this.layers = Array.from({ length: c.num_hidden_layers }, () => new VitLayer(c));
    this.encoder = encoderStack(this.layers);
    this.layernorm = new nn.LayerNorm(c.hidden_size, { eps: c.layer_norm_eps });
    this.pooler = c.pooler ? new Dense(c.hidden_size, c.pooler.size) : undefined;
  }

  /** last_hidden_state [B, T, D] (after the final layernorm) and pooler_output [B, pooler_output_size] when there is a pooler. */
  forward(pixelValues: Tensor): Record<string, Tensor> {
    let x = this.embeddings.forward(pixelValues);
    for (const layer of this.layers) x = layer.forward(x);
    const h = this.layernorm.forward(x);
    return this.pooler && this.config.pooler ? { last_hidden_state: h, pooler_output: this.pooler.activated(h.select(1, 0), this.config.pooler.act) } : { last_hidden_state: h };
  }
}

/** ViTForImageClassification: `vit` (no pooler) and `classifier` on the class token: logits [B, num_labels]. */
export class HfVitForImageClassification extends Module {
  readonly vit: HfVitModel;
  readonly classifier: nn.Linear;

  constructor(readonly config: HfVitConfig) {
    super();
    this.vit = new HfVitModel(config);
    this.classifier = new nn.Linear(config.hidden_size, config.num_labels);
  }

  /** logits [B, num_labels] of pixel_values [B, C, H, W]. */
  forward(pixelValues: Tensor): Record<string, Tensor> {
    return { logits: this.classifier.forward(this.vit.forward(pixelValues).last_hidden_state!.select(1, 0)) };
  }
}
