import { type SourceLoc, TesseraError } from '@tessera/ir';
import type { Module } from './module.ts';
import type { Tensor } from './tensor.ts';

/**
 * Which attention probabilities a trace adds as outputs (trace's
 * `attentions`): every attention module's (`true`), or those of the module
 * paths listed (state_dict prefixes such as
 * `transformer.encoder.layers.0.self_attn`).
 */
export type AttentionSelection = boolean | readonly string[];

/** The prefix of every probe output's name: `attn/<module path>`. */
export const ATTENTION_OUTPUT_PREFIX = 'attn/';

/** The output name of the probe of the attention module at `path`. */
export function attentionOutputName(path: string): string {
  return `${ATTENTION_OUTPUT_PREFIX}${path}`;
}

/**
 * The attention probes of one trace: the module of each attention call is
 * looked up by its path in the traced model, and the probabilities of the
 * selected ones are kept, in call order, to become outputs.
 */
export class AttentionProbes {
  private readonly wanted: ReadonlySet<string> | 'all';
  /** Paths of every attention module called, in call order (for messages). */
  private readonly seen: string[] = [];
  readonly outputs: [string, Tensor][] = [];

  constructor(
    private readonly paths: ReadonlyMap<Module, string>,
    selection: true | readonly string[],
  ) {
    this.wanted = selection === true ? 'all' : new Set(selection);
  }

  /** Whether the attention of `module` is probed; undefined when it is not (or has no path in the model). */
  outputNameFor(module: Module | undefined): string | undefined {
    const path = module === undefined ? undefined : this.paths.get(module);
    if (path === undefined) return undefined;
    this.seen.push(path);
    if (this.wanted !== 'all' && !this.wanted.has(path)) return undefined;
    const name = attentionOutputName(path);
    // A module called again (shared, or run in a loop) gets `/2`, `/3`, ...: every call is its own output.
    const calls = this.seen.filter((p) => p === path).length;
    return calls === 1 ? name : `${name}/${calls}`;
  }

  /** Throws when a requested path named no attention module that forward called. */
  checkAllFound(at: SourceLoc | undefined): void {
    if (this.wanted === 'all') return;
    const missing = [...this.wanted].filter((p) => !this.seen.includes(p));
    if (missing.length === 0) return;
    const known = [...new Set(this.seen)];
    throw new TesseraError(
      `attentions: no attention module at ${missing.map((p) => `'${p}'`).join(', ')} was called by forward; ` + (known.length ? `attention modules: ${known.join(', ')}` : 'forward called no attention module'),
      at,
    );
  }
}
