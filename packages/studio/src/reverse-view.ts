/**
 * The digit-reversal view: type digits, see the output token by token
 * with each token's probability, the cross-attention between generated
 * and source tokens (an anti-diagonal for reversal) and the decoder's
 * causal self-attention, per layer and head.
 */
import { argmax } from '@tessera/models';
import { byId, el, runAction } from './dom.ts';
import { drawMatrix } from './heatmap.ts';
import { MAX_DIGITS, type Reversal, type ReverseSession, tokenText } from './reverse-session.ts';
import type { ModelBackend } from './vit-session.ts';

/** The view: an input, the generated tokens, the attention matrices. */
export class ReverseView {
  private readonly input = el('input', { id: 'reverse-input', value: '3141592', maxlength: String(MAX_DIGITS), inputmode: 'numeric', size: '14' });

  constructor(
    private readonly session: ReverseSession,
    private readonly backend: () => ModelBackend,
  ) {}

  /** Fills #reverse. */
  mount(): void {
    this.input.addEventListener('keydown', (e) => e.key === 'Enter' && this.run());
    byId('reverse').replaceChildren(
      el('div', { class: 'column' }, el('h2', {}, 'Reverse a digit string'), el('p', {}, this.input, ' ', el('button', { id: 'reverse-run', onclick: () => this.run() }, 'Generate')), el('div', { id: 'reverse-result' }, `Up to ${MAX_DIGITS} digits.`)),
      el('div', { class: 'column wide' }, el('h2', {}, 'Attention'), el('div', { id: 'reverse-attention' }, 'Generate to see it.')),
    );
  }

  /** Generates for the input's digits (also what the Chromium test triggers). */
  run(): Promise<void> {
    const result = byId('reverse-result');
    const text = this.input.value.trim();
    const backend = this.backend();
    return runAction(result, async () => {
      result.replaceChildren(`Generating on ${backend}…`);
      const r = await this.session.reverse(text, backend);
      const digits = r.steps.filter((s) => s.token >= 3).map((s) => tokenText(s.token)).join('');
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
      for (const { head, m } of maps) {
        const canvas = el('canvas', { class: 'attn', 'data-module': path, 'data-head': head });
        // Each query row's most attended key, for the Chromium test to check against Node.
        canvas.dataset.argmax = Array.from({ length: r.queries }, (_, q) => argmax(m, q * keys, keys)).join(',');
        // Rows are labelled with the token each query position produced.
        drawMatrix(canvas, m, r.queries, keys, { rows: generated.slice(0, r.queries), cols: cross ? source : queries });
        row.append(el('figure', {}, canvas, el('figcaption', {}, head === 'mean' ? 'mean of the heads' : `head ${head}`)));
      }
      panel.append(el('h3', {}, `${cross ? 'Cross-attention' : 'Causal self-attention'}: ${path}`), row);
    }
    return panel;
  }
}
