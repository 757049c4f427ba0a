/**
 * The bundled trained models and test images, fetched from the page's own
 * origin (Vite serves packages/models/trained as the app's public folder),
 * so the studio works offline.
 */
import { type SafetensorsTensor, TesseraError, readSafetensors } from '@tessera/ir';
import type { Module } from '@tessera/frontend';
import { type ImageSet, type ModelConfig, Seq2SeqRNN, Seq2SeqTransformer, VisionTransformer, type Weights, bindCheckpoint, parseModelConfigText, sampleFromTensors } from '@tessera/models';

/** A model with its bound weights. */
export interface Loaded<M> {
  readonly model: M;
  readonly weights: Weights;
}

/** The bytes of a file served beside the page. */
async function fetchBytes(name: string): Promise<Uint8Array> {
  const url = new URL(name, document.baseURI);
  const res = await fetch(url);
  if (!res.ok) throw new TesseraError(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The tensors of a safetensors file served beside the page. */
async function fetchTensors(name: string): Promise<ReadonlyMap<string, SafetensorsTensor>> {
  return readSafetensors(await fetchBytes(name), name).tensors;
}

/** The config `NAME.json` and checkpoint `NAME.safetensors` of a trained model, checked to be of `kind`. */
async function fetchModel<K extends ModelConfig['model']>(name: string, kind: K): Promise<{ config: Extract<ModelConfig, { model: K }>; bind: (model: Module) => Promise<Weights> }> {
  const config = parseModelConfigText(new TextDecoder().decode(await fetchBytes(`${name}.json`)), `${name}.json`);
  if (config.model !== kind) throw new TesseraError(`${name}.json: expected a ${kind} config, found ${config.model}`);
  return { config: config as Extract<ModelConfig, { model: K }>, bind: async (model) => bindCheckpoint(model, await fetchTensors(`${name}.safetensors`), `${name}.safetensors`) };
}

/** The trained ViT on Fashion-MNIST. */
export async function loadVit(): Promise<Loaded<VisionTransformer>> {
  const { config, bind } = await fetchModel('vit-fashion-mnist', 'vit');
  const model = new VisionTransformer(config);
  return { model, weights: await bind(model) };
}

/** The trained digit-reversal Transformer. */
export async function loadReverser(): Promise<Loaded<Seq2SeqTransformer>> {
  const { config, bind } = await fetchModel('transformer-reverse', 'transformer');
  const model = new Seq2SeqTransformer(config);
  return { model, weights: await bind(model) };
}

/** The trained digit-reversal RNN encoder-decoder with attention. */
export async function loadRnnReverser(): Promise<Loaded<Seq2SeqRNN>> {
  const { config, bind } = await fetchModel('rnn-reverse', 'seq2seq_rnn');
  const model = new Seq2SeqRNN(config);
  return { model, weights: await bind(model) };
}

/** The bundled Fashion-MNIST test images (the first 1,000 of the test set). */
export async function loadSample(): Promise<ImageSet> {
  return sampleFromTensors(await fetchTensors('fashion-mnist-sample.safetensors'), 'fashion-mnist-sample.safetensors');
}

/** One image of a set as a set of its own (what the ViT's input conversion takes). */
export function singleImage(pixels: Uint8Array, rows: number, cols: number): ImageSet {
  return { count: 1, rows, cols, pixels, labels: new Uint8Array(1), source: 'drawn' };
}
