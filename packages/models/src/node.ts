/**
 * @tessera/models/node: models, configs, checkpoints, Hugging Face folders
 * and data sets read from files, which needs Node. Everything else is
 * `@tessera/models`, which imports no Node built-in (a browser parses a
 * fetched config with parseModelConfigText or parseHfConfigText and binds
 * fetched safetensors bytes with bindCheckpoint or bindHfCheckpoint).
 */
export { readModelConfig } from './config-file.ts';
export { loadCheckpoint } from './checkpoint-file.ts';
export { type LoadedModel, loadModel, loadWeights } from './load.ts';
export { FASHION_MNIST_DIR, readInstalledTestSet, readSample } from './data/fashion-mnist-files.ts';
export { type LoadedHfModel, loadHfFolder, readHfConfig, readHfTensors } from './hf/folder.ts';
