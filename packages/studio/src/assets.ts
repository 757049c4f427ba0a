/**
 * The bundled trained models and test images, fetched from the page's own
 * origin (Vite serves packages/models/trained as the app's public folder),
 * so the studio works offline.
 */
import { type SafetensorsTensor, TesseraError, readSafetensors } from '@tessera/ir';
import { type ImageSet, Seq2SeqTransformer, VisionTransformer, type Weights, bindCheckpoint, parseModelConfigText } from '@tessera/models';

/** A model with its bound weights and its config's extra fields (labels). */
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

/** The trained ViT on Fashion-MNIST. */
export async function loadVit(): Promise<Loaded<VisionTransformer>> {
  const config = parseModelConfigText(new TextDecoder().decode(await fetchBytes('vit-fashion-mnist.json')), 'vit-fashion-mnist.json');
  if (config.model !== 'vit') throw new TesseraError('vit-fashion-mnist.json: expected a ViT config');
  const model = new VisionTransformer(config);
  return { model, weights: bindCheckpoint(model, await fetchTensors('vit-fashion-mnist.safetensors'), 'vit-fashion-mnist.safetensors') };
}

/** The trained digit-reversal Transformer. */
export async function loadReverser(): Promise<Loaded<Seq2SeqTransformer>> {
  const config = parseModelConfigText(new TextDecoder().decode(await fetchBytes('transformer-reverse.json')), 'transformer-reverse.json');
  if (config.model !== 'transformer') throw new TesseraError('transformer-reverse.json: expected a Transformer config');
  const model = new Seq2SeqTransformer(config);
  return { model, weights: bindCheckpoint(model, await fetchTensors('transformer-reverse.safetensors'), 'transformer-reverse.safetensors') };
}

/** The bundled Fashion-MNIST test images (the first 1,000 of the test set). */
export async function loadSample(): Promise<ImageSet> {
  const t = await fetchTensors('fashion-mnist-sample.safetensors');
  const images = t.get('images');
  const labels = t.get('labels');
  if (!images || !labels || images.shape.length !== 3) throw new TesseraError("fashion-mnist-sample.safetensors: expected 'images' U8 [N, rows, cols] and 'labels' U8 [N]");
  const [count, rows, cols] = images.shape as [number, number, number];
  return { count, rows, cols, pixels: images.data as Uint8Array, labels: labels.data as Uint8Array, source: 'fashion-mnist-sample.safetensors' };
}

/** One image of a set as a set of its own (what the ViT's input conversion takes). */
export function singleImage(pixels: Uint8Array, rows: number, cols: number): ImageSet {
  return { count: 1, rows, cols, pixels, labels: new Uint8Array(1), source: 'drawn' };
}
