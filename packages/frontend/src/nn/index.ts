/** The `nn` namespace: layers with PyTorch's parameter names. */
export { Linear, type LinearOptions } from './linear.ts';
export { Conv2d, type Conv2dModuleOptions, ConvTranspose2d, type ConvTranspose2dModuleOptions } from './conv.ts';
export { AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d, Upsample } from './pool.ts';
export { LayerNorm, type LayerNormOptions } from './layer-norm.ts';
export { RMSNorm, type RMSNormOptions } from './rms-norm.ts';
export { GroupNorm, type GroupNormOptions, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, type InstanceNormOptions } from './group-norm.ts';
export { Embedding } from './embedding.ts';
export { MultiHeadAttention, type MultiHeadAttentionOptions, type MultiHeadAttentionMasks } from './multi-head-attention.ts';
export { ModuleList, Sequential, type Layer } from './containers.ts';
export {
  Transformer,
  TransformerEncoder,
  TransformerDecoder,
  TransformerEncoderLayer,
  TransformerDecoderLayer,
  type TransformerOptions,
  type TransformerLayerOptions,
  type TransformerStackOptions,
  type TransformerActivation,
  type TransformerMasks,
  type EncoderMasks,
  type DecoderMasks,
} from './transformer.ts';
export { GRU, LSTM, type RNNOptions } from './rnn.ts';
export { ReLU, SiLU, Sigmoid, GELU, type GeluApproximation, Tanh, Dropout, Identity } from './activations.ts';
export { Softmax, LogSoftmax } from './softmax.ts';
export { Module } from '../module.ts';
