/**
 * The digit-reversal view: type digits, see the Transformer's output token
 * by token with each token's probability, its cross-attention between
 * generated and source tokens (an anti-diagonal for reversal) and the
 * decoder's causal self-attention, per layer and head; and beside it the
 * RNN encoder-decoder's output for the same digits with its alignment
 * (the attention of each generated digit over the source), drawn the same way.
 */
import { argmax } from '@tessera/models';
import { byId, el, runAction } from './dom.ts';
import { type MatrixLabels, drawMatrix } from './heatmap.ts';
import { MAX_DIGITS, type Reversal, type ReverseSession, tokenText } from './reverse-session.ts';
import type { RnnSession } from './rnn-session.ts';
import type { ModelBackend } from './vit-session.ts';

/**
 * A captioned heat map of an attention matrix [rows, cols] (queries × keys);
 * its canvas carries `data` as attributes and each row's most attended key
 * (data-argmax), for the Chromium test to check against Node.
 */
function attentionFigure(m: ArrayLike<number>, rows: number, cols: number, labels: MatrixLabels, data: Record<string, string>, caption: string): HTMLElement {
  const canvas = el('canvas', { class: 'attn', ...data });
  canvas.dataset.argmax = Array.from({ length: rows }, (_, q) => argmax(m, q * cols, cols)).join(',');
  drawMatrix(canvas, m, rows, cols, labels);
  return el('figure', {}, canvas, el('figcaption', {}, caption));
}

/** The digits among generated tokens (special tokens left out). */
function outputDigits(tokens: readonly number[]): string {
  return tokens.filter((t) => t >= 3).map(tokenText).join('');
}

/** The view: an input, the generated tokens, the attention matrices of both models. */
export class ReverseView {
  private readonly input = el('input', { id: 'reverse-input', value: '3141592', maxlength: String(MAX_DIGITS), inputmode: 'numeric', size: '14' });

  constructor(
    private readonly session: ReverseSession,
    private readonly rnn: RnnSession,
    private readonly backend: () => ModelBackend,
  ) {}

  /** Fills #reverse. */
  mount(): void {
    this.input.addEventListener('keydown', (e) => e.key === 'Enter' && this.run());
    byId('reverse').replaceChildren(
      el('div', { class: 'column' }, el('h2', {}, 'Reverse a digit string'), el('p', {}, this.input, ' ', el('button', { id: 'reverse-run', onclick: () => this.run() }, 'Generate')), el('div', { id: 'reverse-result' }, `Up to ${MAX_DIGITS} digits.`)),
      el('div', { class: 'column' }, el('h2', {}, 'RNN encoder-decoder: alignment'), el('p', { class: 'muted' }, `${this.rnn.description}, on the same digits`), el('div', { id: 'reverse-rnn' }, 'Generate to see it.')),
      el('div', { class: 'column wide' }, el('h2', {}, 'Transformer: attention'), el('div', { id: 'reverse-attention' }, 'Generate to see it.')),
    );
  }

  /** Generates for the input's digits with the Transformer, then the RNN (also what the Chromium test triggers). */
  run(): Promise<void> {
    const result = byId('reverse-result');
    const text = this.input.value.trim();
    const backend = this.backend();
    const transformer = runAction(result, async () => {
      result.replaceChildren(`Generating on ${backend}…`);
      const r = await this.session.reverse(text, backend);
      const digits = outputDigits(r.steps.map((s) => s.token));
      result.dataset.output = digits;
      const tokens = el('ol', { class: 'tokens' });
      result.replaceChildren(el('p', { class: 'verdict' }, digits), tokens, el('p', { class: 'muted' }, `${backend}, ${r.ms.toFixed(0)} ms`));
      // Token by token, as the decoder produced them.
      for (const s of r.steps) {
        tokens.append(el('li', { title: `step ${tokens.children.length + 1}` }, el('code', {}, tokenText(s.token)), el('small', {}, `${(100 * s.prob).toFixed(1)}%`)));
        await new Promise((ok) => setTimeout(ok, 60));
      }
      byId('reverse-attention').replaceChildren(this.attentionPanel(text, r));
    });
    // Marked busy at once (a test waiting for it never sees the last run's result), run after the Transformer: one model at a time on the backend.
    const target = byId('reverse-rnn');
    const rnn = runAction(target, async () => {
      target.replaceChildren('Waiting for the Transformer…');
      await transformer;
      target.replaceChildren(`Generating on ${backend}…`);
      const a = await this.rnn.align(text, backend);
      const digits = outputDigits(a.tokens);
      Object.assign(target.dataset, { output: digits, tokens: a.output.join(',') });
      const generated = a.tokens.map(tokenText);
      const map = attentionFigure(a.weights, a.tokens.length, text.length, { rows: generated, cols: [...text] }, { 'data-module': 'attn' }, 'source digits across, generated down');
      target.replaceChildren(el('p', { class: 'verdict' }, digits), el('p', { class: 'muted' }, `${backend}, ${a.ms.toFixed(0)} ms`), map);
    });
    return Promise.all([transformer, rnn]).then(() => undefined);
  }

  /** A heat map per decoder attention module and head: cross-attention (queries × source digits), causal self-attention. */
  private attentionPanel(text: string, r: Reversal): HTMLElement {
    const source = [...text];
    const generated = r.steps.map((s) => tokenText(s.token));
    const queries = ['<s>', ...generated].slice(0, r.queries);
    const panel = el('div', {});
    for (const [path, probs] of r.attentions) {
      if (!path.includes('decoder')) continue;
      const keys = probs.length / (r.heads * r.queries);
      const cross = path.endsWith('multihead_attn');
      const row = el('div', { class: 'heads' });
      const size = r.queries * keys;
      const mean = new Float32Array(size).map((_, i) => Array.from({ length: r.heads }, (_, h) => probs[h * size + i]!).reduce((a, b) => a + b, 0) / r.heads);
      const maps = [...Array.from({ length: r.heads }, (_, h) => ({ head: String(h), m: probs.subarray(h * size, (h + 1) * size) })), { head: 'mean', m: mean }];
      // Rows are labelled with the token each query position produced.
      const labels = { rows: generated.slice(0, r.queries), cols: cross ? source : queries };
      for (const { head, m } of maps) row.append(attentionFigure(m, r.queries, keys, labels, { 'data-module': path, 'data-head': head }, head === 'mean' ? 'mean of the heads' : `head ${head}`));
      panel.append(el('h3', {}, `${cross ? 'Cross-attention' : 'Causal self-attention'}: ${path}`), row);
    }
    return panel;
  }
}
