/**
 * The Vision Transformer (Dosovitskiy et al.): patch embedding, class token,
 * learned position embeddings, pre-norm encoder blocks, final LayerNorm and
 * a linear head on the class token. Parameter names follow the checkpoint's
 * naming: torchvision's VisionTransformer or timm's.
 */
import { Module, Parameter, type Tensor, nn, ops } from '@tessera/frontend';
import { QkvSelfAttention } from '../blocks/attention.ts';
import { FeedForward, TIMM_MLP, TORCHVISION_MLP } from '../blocks/feed-forward.ts';
import { embedPatches } from '../blocks/patch-embedding.ts';
import { VIT_CHANNELS, type VitConfig, type VitNaming, vitPatches } from './config.ts';

/** A module that only groups children under a name (torchvision's `encoder`, `heads`). */
class Group extends Module {}

/** The weights of Conv2d(C, D, kernel p, stride p): `weight` [D, C, p, p], `bias` [D]. */
class PatchConv extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(d: number, c: number, p: number) {
    super();
    this.weight = new Parameter([d, c, p, p]);
    this.bias = new Parameter([d]);
  }
}

/** Child names of one encoder block in each naming. */
const BLOCK_NAMES = {
  torchvision: { norm1: 'ln_1', attn: 'self_attention', norm2: 'ln_2', mlp: 'mlp' },
  timm: { norm1: 'norm1', attn: 'attn', norm2: 'norm2', mlp: 'mlp' },
} as const;

/** A pre-norm encoder block: x + attn(norm1(x)), then + mlp(norm2(x)) with GELU. */
class VitBlock extends Module {
  readonly norm1: nn.LayerNorm;
  readonly attn: nn.MultiHeadAttention | QkvSelfAttention;
  readonly norm2: nn.LayerNorm;
  readonly mlp: FeedForward;

  constructor(c: VitConfig) {
    super();
    const n = BLOCK_NAMES[c.naming];
    const eps = c.layer_norm_eps;
    this.norm1 = this.registerModule(n.norm1, new nn.LayerNorm(c.hidden_dim, { eps }));
    const attn = c.naming === 'timm' ? new QkvSelfAttention(c.hidden_dim, c.num_heads) : new nn.MultiHeadAttention(c.hidden_dim, c.num_heads);
    this.attn = this.registerModule(n.attn, attn);
    this.norm2 = this.registerModule(n.norm2, new nn.LayerNorm(c.hidden_dim, { eps }));
    this.mlp = this.registerModule(n.mlp, new FeedForward(c.hidden_dim, c.mlp_dim, 'gelu', c.naming === 'timm' ? TIMM_MLP : TORCHVISION_MLP));
  }

  /** [B, T, D] -> [B, T, D]. */
  forward(x: Tensor): Tensor {
    const h = this.norm1.forward(x);
    const a = x.add(this.attn instanceof QkvSelfAttention ? this.attn.forward(h) : this.attn.forward(h, h, h));
    return a.add(this.mlp.forward(this.norm2.forward(a)));
  }
}

/** The Vision Transformer; forward maps pixel_values [B, 3, H, W] to logits [B, num_classes]. */
export class VisionTransformer extends Module {
  // Held in a plain object, not as properties: members are named only by their registration.
  readonly parts: VitParts;

  constructor(readonly config: VitConfig) {
    super();
    const c = config;
    const d = c.hidden_dim;
    this.parts = {
      classToken: new Parameter([1, 1, d]),
      posEmbedding: new Parameter([1, vitPatches(c) + 1, d]),
      patchConv: new PatchConv(d, VIT_CHANNELS, c.patch_size),
      blocks: Array.from({ length: c.num_layers }, () => new VitBlock(c)),
      norm: new nn.LayerNorm(d, { eps: c.layer_norm_eps }),
      head: new nn.Linear(d, c.num_classes),
    };
    registerVitNames(this, this.parts, c.naming);
  }

  /** Logits [B, num_classes] of images [B, 3, image_size, image_size]. */
  forward(pixelValues: Tensor): Tensor {
    const [b] = pixelValues.shape as [number];
    const d = this.config.hidden_dim;
    const p = this.parts;
    const patches = embedPatches(pixelValues, p.patchConv.weight, p.patchConv.bias, this.config.patch_size);
    const cls = p.classToken.broadcastTo([b, 1, d]);
    let x = ops.concat([cls, patches], 1).add(p.posEmbedding);
    for (const block of p.blocks) x = block.forward(x);
    return p.head.forward(p.norm.forward(x).select(1, 0));
  }
}

/** The members of a ViT, whatever their names. */
interface VitParts {
  readonly classToken: Parameter;
  readonly posEmbedding: Parameter;
  readonly patchConv: PatchConv;
  readonly blocks: readonly VitBlock[];
  readonly norm: nn.LayerNorm;
  readonly head: nn.Linear;
}

/** Registers a ViT's members under the state_dict names of `naming`. */
function registerVitNames(m: Module, p: VitParts, naming: VitNaming): void {
  if (naming === 'timm') {
    m.registerParameter('cls_token', p.classToken);
    m.registerParameter('pos_embed', p.posEmbedding);
    m.registerModule('patch_embed', new Group()).registerModule('proj', p.patchConv);
    m.registerModule('blocks', new nn.ModuleList(p.blocks));
    m.registerModule('norm', p.norm);
    m.registerModule('head', p.head);
    return;
  }
  m.registerParameter('class_token', p.classToken);
  m.registerModule('conv_proj', p.patchConv);
  const encoder = m.registerModule('encoder', new Group());
  encoder.registerParameter('pos_embedding', p.posEmbedding);
  const layers = encoder.registerModule('layers', new Group());
  p.blocks.forEach((b, i) => layers.registerModule(`encoder_layer_${i}`, b));
  encoder.registerModule('ln', p.norm);
  m.registerModule('heads', new Group()).registerModule('head', p.head);
}
