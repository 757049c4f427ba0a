/**
 * The ViT view: pick a bundled Fashion-MNIST test image or draw one, see
 * the class probabilities, each layer's and head's attention of the class
 * token over the patches, and the attention rollout.
 */
import { FASHION_MNIST_LABELS, type ImageSet, argmax } from '@tessera/models';
import { singleImage } from './assets.ts';
import { byId, el, runAction } from './dom.ts';
import { drawImage, drawOverlay, normalised } from './heatmap.ts';
import { attentionRollout, rowWithout } from './rollout.ts';
import type { Classification, ModelBackend, VitSession } from './vit-session.ts';

/** Sample images shown in the gallery. */
const GALLERY = 30;
const SIZE = 28;

/** A 28×28 drawing pad: white strokes on black, like the data set. */
class DrawingPad {
  readonly pixels = new Uint8Array(SIZE * SIZE);
  readonly canvas = el('canvas', { class: 'pad', title: 'draw here' });
  private drawing = false;

  constructor(private readonly scale: number) {
    this.canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      this.paint(e);
    });
    this.canvas.addEventListener('pointermove', (e) => this.drawing && this.paint(e));
    for (const end of ['pointerup', 'pointerleave']) this.canvas.addEventListener(end, () => (this.drawing = false));
    this.redraw();
  }

  /** A soft round brush of radius 1.5 pixels at the pointer. */
  private paint(e: PointerEvent): void {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * SIZE;
    const y = ((e.clientY - r.top) / r.height) * SIZE;
    for (let py = 0; py < SIZE; py++) {
      for (let px = 0; px < SIZE; px++) {
        const d = Math.hypot(px + 0.5 - x, py + 0.5 - y);
        if (d < 2) this.pixels[py * SIZE + px] = Math.max(this.pixels[py * SIZE + px]!, Math.round(255 * Math.min(1, 2 - d)));
      }
    }
    this.redraw();
  }

  clear(): void {
    this.pixels.fill(0);
    this.redraw();
  }

  private redraw(): void {
    drawImage(this.canvas, this.pixels, SIZE, this.scale);
  }
}

/** The view's state: the session, the chosen image and backend. */
export class VitView {
  private readonly pad = new DrawingPad(8);
  private image: { set: ImageSet; index: number; label: string } | undefined;

  constructor(
    private readonly session: VitSession,
    private readonly sample: ImageSet,
    private readonly backend: () => ModelBackend,
  ) {}

  /** Fills #vit with the gallery, the pad and the result panels. */
  mount(): void {
    const gallery = el('div', { class: 'gallery' });
    for (let i = 0; i < Math.min(GALLERY, this.sample.count); i++) {
      const c = el('canvas', { class: 'thumb', title: `test image ${i}: ${FASHION_MNIST_LABELS[this.sample.labels[i]!]}`, 'data-index': String(i) });
      drawImage(c, this.sample.pixels.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE), SIZE, 2);
      c.addEventListener('click', () => this.classifySample(i));
      gallery.append(c);
    }
    byId('vit').replaceChildren(
      el('div', { class: 'column' }, el('h2', {}, 'Test images'), gallery, el('h2', {}, 'Or draw'), this.pad.canvas, el('div', {}, el('button', { id: 'vit-clear', onclick: () => this.pad.clear() }, 'Clear'), ' ', el('button', { id: 'vit-classify-drawing', onclick: () => this.classifyDrawing() }, 'Classify drawing'))),
      el('div', { class: 'column' }, el('h2', {}, 'Prediction'), el('div', { id: 'vit-result' }, 'Pick an image.')),
      el('div', { class: 'column wide' }, el('h2', {}, 'Attention of the class token'), el('div', { id: 'vit-attention' }, 'Pick an image.')),
    );
  }

  /** Classifies bundled test image `index` (also what the Chromium test clicks). */
  classifySample(index: number): Promise<void> {
    this.image = { set: this.sample, index, label: `test image ${index}, labelled ${FASHION_MNIST_LABELS[this.sample.labels[index]!]}` };
    return this.classify();
  }

  private classifyDrawing(): Promise<void> {
    this.image = { set: singleImage(this.pad.pixels.slice(), SIZE, SIZE), index: 0, label: 'your drawing' };
    return this.classify();
  }

  private async classify(): Promise<void> {
    const result = byId('vit-result');
    const { set, index, label } = this.image!;
    const backend = this.backend();
    const pixels = set.pixels.subarray(index * SIZE * SIZE, (index + 1) * SIZE * SIZE);
    await runAction(result, async () => {
      result.replaceChildren(`Classifying on ${backend}…`);
      const c = await this.session.classify(set, index, backend);
      Object.assign(result.dataset, { top: String(c.top), backend, ms: c.ms.toFixed(1), compiled: String(c.compiled) });
      result.replaceChildren(this.predictionPanel(pixels, label, c, backend));
      byId('vit-attention').replaceChildren(this.attentionPanel(pixels, c));
    });
  }

  private predictionPanel(pixels: Uint8Array, label: string, c: Classification, backend: string): HTMLElement {
    const image = el('canvas', { class: 'picked' });
    drawImage(image, pixels, SIZE, 6);
    const bars = el('table', { class: 'probs' });
    c.probs.forEach((p, k) =>
      bars.append(el('tr', { class: k === c.top ? 'top' : '' }, el('td', {}, FASHION_MNIST_LABELS[k]!), el('td', {}, el('div', { class: 'bar', style: `width:${(100 * p).toFixed(1)}%` })), el('td', { class: 'num' }, `${(100 * p).toFixed(1)}%`))),
    );
    const how = `${backend}, ${c.ms.toFixed(0)} ms${c.compiled ? ' (first run: compiling included)' : ''}`;
    return el('div', {}, image, el('p', {}, label), el('p', { class: 'verdict' }, `${FASHION_MNIST_LABELS[c.top]} (${(100 * c.probs[c.top]!).toFixed(1)}%)`), bars, el('p', { class: 'muted' }, how));
  }

  /** Every layer and head: the class token's attention over the patches on the image; and the rollout. */
  private attentionPanel(pixels: Uint8Array, c: Classification): HTMLElement {
    const grid = this.session.config.image_size / this.session.config.patch_size;
    const table = el('table', { class: 'attn-grid' });
    table.append(el('tr', {}, el('th', {}, ''), ...Array.from({ length: this.session.config.num_heads }, (_, h) => el('th', {}, `head ${h}`))));
    c.layers.forEach((layer, l) => {
      const row = el('tr', {}, el('th', {}, `layer ${l}`));
      for (let h = 0; h < layer.heads; h++) {
        const canvas = el('canvas', { class: 'attn', 'data-layer': String(l), 'data-head': String(h) });
        const head = layer.probs.subarray(h * layer.tokens * layer.tokens, (h + 1) * layer.tokens * layer.tokens);
        drawOverlay(canvas, pixels, SIZE, normalised(rowWithout(head, layer.tokens, 0, 1)), grid, 3);
        row.append(el('td', {}, canvas));
      }
      table.append(row);
    });
    const rollout = el('canvas', { class: 'attn rollout', id: 'vit-rollout' });
    const toPatches = rowWithout(attentionRollout(c.layers), c.layers[0]!.tokens, 0, 1);
    // The patch the class token draws most from, for the Chromium test to check against Node.
    rollout.dataset.top = String(argmax(toPatches, 0, toPatches.length));
    drawOverlay(rollout, pixels, SIZE, normalised(toPatches), grid, 6);
    return el('div', {}, table, el('h3', {}, 'Attention rollout of the class token'), rollout);
  }
}
