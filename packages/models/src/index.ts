/**
 * @tessera/models: the Vision Transformer and the encoder-decoder
 * Transformer written in the DSL, their configs (JSON, PyTorch's names),
 * checkpoint binding (state_dicts saved as safetensors, torchvision's or
 * timm's ViT names), batched runners and greedy generation with a
 * key/value cache. It imports no Node built-in, so it bundles for a browser;
 * reading configs, checkpoints and data sets from files is `@tessera/models/node`.
 */
export { type ModelConfig, ConfigError, parseModelConfig, parseModelConfigText } from './config.ts';
export { type Weights, CheckpointError, bindCheckpoint } from './checkpoint.ts';
export { buildModel } from './build.ts';
export { traceEntry } from './entry.ts';
export { type Rows, type Progress, batchRows, forEachBatch, weightsFor, argmax } from './batching.ts';
export { sinusoidalEncoding, sinusoidalTable } from './blocks/positional.ts';
export { patchify, embedPatches } from './blocks/patch-embedding.ts';
export { QkvSelfAttention, splitHeads, mergeHeads } from './blocks/attention.ts';
export { FeedForward, type Activation, type FeedForwardNames, TORCHVISION_MLP, TIMM_MLP } from './blocks/feed-forward.ts';
export { type VitConfig, type VitNaming, VIT_PRESETS, VIT_CHANNELS, vitPatches } from './vit/config.ts';
export { VisionTransformer } from './vit/model.ts';
export { type VitClassifier, type VitCompileOptions, compileVit, traceVit } from './vit/classifier.ts';
export { type TransformerConfig } from './transformer/config.ts';
export { Seq2SeqTransformer, crossKeyValues, decoderStep, type KeyValues } from './transformer/model.ts';
export { type Seq2SeqShape, cacheNames, crossAttentionPaths, traceSeq2Seq, traceEncoder, traceDecodeStep } from './transformer/programs.ts';
export { type Seq2SeqRunner, type Seq2SeqCompileOptions, compileSeq2Seq } from './transformer/logits.ts';
export { type Generator, type GeneratorOptions, type Generation, MAX_NEW_TOKENS, compileGenerator, writeCacheRow } from './transformer/generate.ts';
export { type ImageSet, FASHION_MNIST_LABELS, parseIdx, pixelValues, sampleFromTensors } from './data/fashion-mnist.ts';
