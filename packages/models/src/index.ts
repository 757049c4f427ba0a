/**
 * @tessera/models: the Vision Transformer, the encoder-decoder
 * Transformer and the RNN encoder-decoder with attention written in the DSL, their configs (JSON, PyTorch's names),
 * checkpoint binding (state_dicts saved as safetensors, torchvision's or
 * timm's ViT names), batched runners and greedy generation with a
 * key/value cache; Hugging Face's ViT, BERT and GPT-2 (transformers' names,
 * built from config.json) and GPT-2 generation, greedy or sampled. It imports no Node built-in, so it bundles for a browser;
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
export { type Seq2SeqRunner, type Seq2SeqCompileOptions, type Seq2SeqResult, compileSeq2Seq } from './transformer/logits.ts';
export { type Generator, type GeneratorOptions, type Generation, MAX_NEW_TOKENS, compileGenerator, writeCacheRow } from './transformer/generate.ts';
export { type DecodingTokens, type StepLogits, type DecodedBatch, greedyBatch, batchedGenerator } from './greedy.ts';
export { type Seq2SeqRnnConfig, type RnnCell, type AttentionScore, RNN_CELLS, ATTENTION_SCORES } from './rnn/config.ts';
export { LuongAttention, type Attended } from './rnn/attention.ts';
export { Seq2SeqRNN, type RecurrentState, type Encoded, type Seq2SeqRnnOutput } from './rnn/model.ts';
export { ALIGNMENT, RNN_NAMES, type RnnTraceOptions, traceRnnSeq2Seq, traceRnnEncoder, traceRnnDecodeStep } from './rnn/programs.ts';
export { type RnnGeneratorOptions, compileRnnGenerator } from './rnn/generate.ts';
export { type ImageSet, FASHION_MNIST_LABELS, parseIdx, pixelValues, sampleFromTensors } from './data/fashion-mnist.ts';
export { type HfConfig, type HfVitConfig, type HfBertConfig, type HfGpt2Config, HF_ARCHITECTURES, parseHfConfig, parseHfConfigText } from './hf/config.ts';
export { type HfActivation, HF_ACTIVATIONS, applyActivation } from './hf/activation.ts';
export { type HfModel, type HfShape, buildHfModel, hfInputNames, hfInputSpecs, maxPositions, traceHf } from './hf/build.ts';
export { bindHfCheckpoint } from './hf/checkpoint.ts';
export { HfVitModel, HfVitForImageClassification } from './hf/vit.ts';
export { HfBertModel, HfBertForSequenceClassification } from './hf/bert.ts';
export { HfGpt2Model, HfGpt2LMHeadModel } from './hf/gpt2.ts';
export { type Gpt2Generator, type Gpt2GeneratorOptions, compileGpt2Generator, traceGpt2Prefill, traceGpt2Step } from './hf/generate.ts';
export { type SamplingOptions, SAMPLING_DEFAULTS, SeededRandom, checkSampling, drawToken, softmax, warpLogits } from './hf/sampling.ts';
export { type CachedKeyValues, attendWithCache } from './blocks/attention.ts';
export { type CacheShape, checkCacheSize } from './transformer/generate.ts';
