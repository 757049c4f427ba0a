/**
 * torch.nn.TransformerEncoderLayer, TransformerDecoderLayer,
 * TransformerEncoder, TransformerDecoder and Transformer, with PyTorch's
 * parameter names and defaults, so a `torch.nn.Transformer` state_dict loads
 * into them directly: `encoder.layers.{i}.self_attn.in_proj_weight`,
 * `...linear1.weight`, `...norm1.weight`, `encoder.norm.weight`,
 * `decoder.layers.{i}.multihead_attn.out_proj.weight`, and so on.
 *
 * Post-norm by default (norm_first false), ReLU or GELU (or any function)
 * between linear1 and linear2, inputs sequence-first ([S, N, E]) unless
 * batch_first, unbatched [S, E] accepted. Dropout is accepted and ignored:
 * traced programs are for inference.
 */
import { Module } from '../module.ts';
import { full } from '../ops/create.ts';
import { gelu, relu } from '../ops/nn.ts';
import type { Tensor } from '../tensor.ts';
import { dslError } from '../tracer.ts';
import { LayerNorm } from './layer-norm.ts';
import { Linear } from './linear.ts';
import { ModuleList } from './containers.ts';
import { MultiHeadAttention } from './multi-head-attention.ts';

/** The feed-forward activation: PyTorch's 'relu' (default) or 'gelu', or a function of a tensor. */
export type TransformerActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

/** Options of the transformer layers (and of nn.Transformer), with PyTorch's defaults. */
export interface TransformerLayerOptions {
  /** Hidden width of the feed-forward block (default 2048). */
  readonly dimFeedforward?: number;
  /** Accepted for PyTorch parity and ignored (inference). */
  readonly dropout?: number;
  /** Default 'relu'. */
  readonly activation?: TransformerActivation;
  /** LayerNorm eps (default 1e-5). */
  readonly layerNormEps?: number;
  /** Inputs [N, S, E] rather than [S, N, E] (default false, as PyTorch). */
  readonly batchFirst?: boolean;
  /** LayerNorm before each sub-block rather than after the residual add (default false). */
  readonly normFirst?: boolean;
  /** Biases in the linear layers, the attention projections and the LayerNorms (default true). */
  readonly bias?: boolean;
}

/** Masks of an encoder layer (PyTorch: src_mask, src_key_padding_mask, is_causal). */
export interface EncoderMasks {
  /** [S, S] (or [N*nhead, S, S]): bool true = not allowed to attend; f32 added to the scores. */
  readonly srcMask?: Tensor;
  /** [N, S]: bool true = padding. */
  readonly srcKeyPaddingMask?: Tensor;
  /** Apply a causal mask (position i attends to j <= i), combined with srcMask. */
  readonly isCausal?: boolean;
}

/** Masks of a decoder layer (PyTorch's names). */
export interface DecoderMasks {
  readonly tgtMask?: Tensor;
  readonly memoryMask?: Tensor;
  readonly tgtKeyPaddingMask?: Tensor;
  readonly memoryKeyPaddingMask?: Tensor;
  readonly tgtIsCausal?: boolean;
  readonly memoryIsCausal?: boolean;
}

/** The shared structure of the two layers: options, the feed-forward block, residual sub-blocks and the layout. */
abstract class TransformerLayerBase extends Module {
  abstract readonly linear1: Linear;
  abstract readonly linear2: Linear;
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  readonly #activation: (x: Tensor) => Tensor;

  constructor(
    readonly dModel: number,
    readonly nhead: number,
    opts: TransformerLayerOptions,
  ) {
    super();
    if (!Number.isInteger(nhead) || nhead < 1 || dModel % nhead !== 0) dslError(`transformer layer: d_model ${dModel} must be divisible by nhead ${nhead}`);
    this.normFirst = opts.normFirst ?? false;
    this.batchFirst = opts.batchFirst ?? false;
    const a = opts.activation ?? 'relu';
    if (typeof a === 'function') this.#activation = a;
    else if (a === 'relu') this.#activation = relu;
    else if (a === 'gelu') this.#activation = (x) => gelu(x);
    else this.#activation = dslError(`transformer layer: activation '${String(a)}' is not supported (expected 'relu', 'gelu' or a function)`);
  }

  /** linear1 [dim_feedforward, d_model] and linear2 [d_model, dim_feedforward] (subclasses assign them after the attention, PyTorch's order). */
  protected feedForwardLayers(opts: TransformerLayerOptions): [Linear, Linear] {
    const dff = opts.dimFeedforward ?? 2048;
    const bias = opts.bias !== false;
    return [new Linear(this.dModel, dff, { bias }), new Linear(dff, this.dModel, { bias })];
  }

  /** A LayerNorm of this layer (eps and bias as the layer's options say). */
  protected layerNorm(opts: TransformerLayerOptions): LayerNorm {
    return new LayerNorm(this.dModel, { eps: opts.layerNormEps ?? 1e-5, bias: opts.bias !== false });
  }

  /** The self-attention or cross-attention module of this layer. */
  protected attention(opts: TransformerLayerOptions): MultiHeadAttention {
    return new MultiHeadAttention(this.dModel, this.nhead, { bias: opts.bias !== false });
  }

  /** linear2(activation(linear1(x))). */
  feedForward(x: Tensor): Tensor {
    return this.linear2.forward(this.#activation(this.linear1.forward(x)));
  }

  /** One residual sub-block: x + block(norm(x)) with norm_first, else norm(x + block(x)). */
  sublayer(x: Tensor, norm: LayerNorm, block: (h: Tensor) => Tensor): Tensor {
    return this.normFirst ? x.add(block(norm.forward(x))) : norm.forward(x.add(block(x)));
  }

  /** An input in the batch-first layout MultiHeadAttention takes ([N, S, E], or unbatched [S, E] as it is). */
  toBatchFirst(x: Tensor, what: string): Tensor {
    if (x.rank !== 2 && x.rank !== 3) dslError(`transformer layer: ${what} has shape [${x.shape.join(',')}], expected [S, N, E], [N, S, E] (batch_first) or [S, E]`);
    return x.rank === 3 && !this.batchFirst ? x.transpose(0, 1) : x;
  }

  /** An output back in the layer's layout. */
  fromBatchFirst(x: Tensor): Tensor {
    return x.rank === 3 && !this.batchFirst ? x.transpose(0, 1) : x;
  }
}

/**
 * torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048,
 * dropout, activation='relu', layer_norm_eps=1e-5, batch_first=False,
 * norm_first=False, bias=True): children `self_attn`, `linear1`, `linear2`,
 * `norm1`, `norm2`.
 */
export class TransformerEncoderLayer extends TransformerLayerBase {
  readonly selfAttn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super(dModel, nhead, opts);
    this.selfAttn = this.registerModule('self_attn', this.attention(opts));
    [this.linear1, this.linear2] = this.feedForwardLayers(opts);
    this.norm1 = this.layerNorm(opts);
    this.norm2 = this.layerNorm(opts);
  }

  /** src [S, N, E] ([N, S, E] with batch_first, or [S, E]) -> the same shape. */
  forward(src: Tensor, masks: EncoderMasks = {}): Tensor {
    return this.fromBatchFirst(this.forwardBatchFirst(this.toBatchFirst(src, 'src'), masks));
  }

  /** The layer on a batch-first input (what TransformerEncoder chains, converting the layout once). */
  forwardBatchFirst(x: Tensor, masks: EncoderMasks = {}): Tensor {
    const attnMasks = { ...maskOpt('attnMask', masks.srcMask), ...maskOpt('keyPaddingMask', masks.srcKeyPaddingMask), isCausal: masks.isCausal ?? false };
    const a = this.sublayer(x, this.norm1, (h) => this.selfAttn.forward(h, h, h, attnMasks));
    return this.sublayer(a, this.norm2, (h) => this.feedForward(h));
  }
}

/**
 * torch.nn.TransformerDecoderLayer(d_model, nhead, ...same options):
 * children `self_attn`, `multihead_attn`, `linear1`, `linear2`, `norm1`,
 * `norm2`, `norm3`.
 */
export class TransformerDecoderLayer extends TransformerLayerBase {
  readonly selfAttn: MultiHeadAttention;
  readonly multiheadAttn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super(dModel, nhead, opts);
    this.selfAttn = this.registerModule('self_attn', this.attention(opts));
    this.multiheadAttn = this.registerModule('multihead_attn', this.attention(opts));
    [this.linear1, this.linear2] = this.feedForwardLayers(opts);
    this.norm1 = this.layerNorm(opts);
    this.norm2 = this.layerNorm(opts);
    this.norm3 = this.layerNorm(opts);
  }

  /** tgt [T, N, E] and memory [S, N, E] (batch first: [N, T, E], [N, S, E]) -> tgt's shape. */
  forward(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    return this.fromBatchFirst(this.forwardBatchFirst(this.toBatchFirst(tgt, 'tgt'), this.toBatchFirst(memory, 'memory'), masks));
  }

  /** The layer on batch-first inputs. */
  forwardBatchFirst(x: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    const selfMasks = { ...maskOpt('attnMask', masks.tgtMask), ...maskOpt('keyPaddingMask', masks.tgtKeyPaddingMask), isCausal: masks.tgtIsCausal ?? false };
    const crossMasks = { ...maskOpt('attnMask', masks.memoryMask), ...maskOpt('keyPaddingMask', masks.memoryKeyPaddingMask), isCausal: masks.memoryIsCausal ?? false };
    const a = this.sublayer(x, this.norm1, (h) => this.selfAttn.forward(h, h, h, selfMasks));
    const b = this.sublayer(a, this.norm2, (h) => this.multiheadAttn.forward(h, memory, memory, crossMasks));
    return this.sublayer(b, this.norm3, (h) => this.feedForward(h));
  }
}

/** `{ [key]: mask }` when the mask is given, else nothing (masks are optional properties). */
function maskOpt<K extends string>(key: K, mask: Tensor | undefined): { [P in K]?: Tensor } {
  return (mask ? { [key]: mask } : {}) as { [P in K]?: Tensor };
}

/** Options of the stacks: the final LayerNorm `norm` (PyTorch's norm=None leaves it out). */
export interface TransformerStackOptions {
  readonly norm?: LayerNorm;
}

/** A stack of layers with an optional final LayerNorm: children `layers.{i}` and `norm` (PyTorch's names). */
abstract class TransformerStack<L extends TransformerLayerBase> extends Module {
  readonly layers: ModuleList<L>;
  readonly norm: LayerNorm | undefined;

  /** `makeLayer(i)` builds layer i (PyTorch deep-copies one layer; here each is made, same options, own parameters). */
  constructor(makeLayer: (i: number) => L, numLayers: number, opts: TransformerStackOptions = {}) {
    super();
    this.layers = new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i)));
    this.norm = opts.norm;
  }

  /** `x` through every layer (`step`) and the final norm, in the batch-first layout once, back to the layers' layout. */
  protected run(x: Tensor, what: string, step: (layer: L, x: Tensor) => Tensor): Tensor {
    const first = this.layers.length ? this.layers.at(0) : undefined;
    if (!first) return this.norm ? this.norm.forward(x) : x;
    let y = first.toBatchFirst(x, what);
    for (const layer of this.layers) y = step(layer, y);
    return first.fromBatchFirst(this.norm ? this.norm.forward(y) : y);
  }

  /** Another input (the decoder's memory) in the batch-first layout. */
  protected batchFirst(x: Tensor, what: string): Tensor {
    return this.layers.length ? this.layers.at(0).toBatchFirst(x, what) : x;
  }
}

/** torch.nn.TransformerEncoder(encoder_layer, num_layers, norm): children `layers.{i}` and `norm` when given. */
export class TransformerEncoder extends TransformerStack<TransformerEncoderLayer> {
  /** src in the layers' layout -> the same shape. */
  forward(src: Tensor, masks: EncoderMasks = {}): Tensor {
    return this.run(src, 'src', (layer, x) => layer.forwardBatchFirst(x, masks));
  }
}

/** torch.nn.TransformerDecoder(decoder_layer, num_layers, norm): children `layers.{i}` and `norm` when given. */
export class TransformerDecoder extends TransformerStack<TransformerDecoderLayer> {
  /** tgt and memory in the layers' layout -> tgt's shape. */
  forward(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    const mem = this.batchFirst(memory, 'memory');
    return this.run(tgt, 'tgt', (layer, x) => layer.forwardBatchFirst(x, mem, masks));
  }
}

/** Options of nn.Transformer: the layer options plus the stack depths. */
export interface TransformerOptions extends TransformerLayerOptions {
  /** Model width (default 512). */
  readonly dModel?: number;
  /** Attention heads (default 8). */
  readonly nhead?: number;
  /** Default 6. */
  readonly numEncoderLayers?: number;
  /** Default 6. */
  readonly numDecoderLayers?: number;
}

/** Masks of nn.Transformer.forward, PyTorch's names. */
export interface TransformerMasks {
  readonly srcMask?: Tensor;
  readonly tgtMask?: Tensor;
  readonly memoryMask?: Tensor;
  readonly srcKeyPaddingMask?: Tensor;
  readonly tgtKeyPaddingMask?: Tensor;
  readonly memoryKeyPaddingMask?: Tensor;
  readonly srcIsCausal?: boolean;
  readonly tgtIsCausal?: boolean;
  readonly memoryIsCausal?: boolean;
}

/**
 * torch.nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6,
 * num_decoder_layers=6, dim_feedforward=2048, dropout, activation='relu',
 * layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True):
 * children `encoder` and `decoder`, each with its final `norm`.
 */
export class Transformer extends Module {
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  readonly dModel: number;
  readonly nhead: number;

  constructor(opts: TransformerOptions = {}) {
    super();
    const d = (this.dModel = opts.dModel ?? 512);
    const h = (this.nhead = opts.nhead ?? 8);
    const norm = () => new LayerNorm(d, { eps: opts.layerNormEps ?? 1e-5, bias: opts.bias !== false });
    this.encoder = new TransformerEncoder(() => new TransformerEncoderLayer(d, h, opts), opts.numEncoderLayers ?? 6, { norm: norm() });
    this.decoder = new TransformerDecoder(() => new TransformerDecoderLayer(d, h, opts), opts.numDecoderLayers ?? 6, { norm: norm() });
  }

  /** PyTorch's generate_square_subsequent_mask: [sz, sz] f32, 0 on and below the diagonal, -inf above (a causal tgt_mask). */
  static generateSquareSubsequentMask(sz: number): Tensor {
    return full([sz, sz], -Infinity).triu(1);
  }

  /** src [S, N, E] and tgt [T, N, E] (batch first: [N, S, E], [N, T, E]) -> [T, N, E] ([N, T, E]). */
  forward(src: Tensor, tgt: Tensor, masks: TransformerMasks = {}): Tensor {
    const memory = this.encoder.forward(src, {
      ...maskOpt('srcMask', masks.srcMask),
      ...maskOpt('srcKeyPaddingMask', masks.srcKeyPaddingMask),
      isCausal: masks.srcIsCausal ?? false,
    });
    return this.decoder.forward(tgt, memory, {
      ...maskOpt('tgtMask', masks.tgtMask),
      ...maskOpt('memoryMask', masks.memoryMask),
      ...maskOpt('tgtKeyPaddingMask', masks.tgtKeyPaddingMask),
      ...maskOpt('memoryKeyPaddingMask', masks.memoryKeyPaddingMask),
      tgtIsCausal: masks.tgtIsCausal ?? false,
      memoryIsCausal: masks.memoryIsCausal ?? false,
    });
  }
}
