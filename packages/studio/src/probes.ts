/**
 * Attention probabilities from the compiler's attention probes (outputs
 * named `attn/<module path>`, shape [batch, heads, queries, keys]): the one
 * place the studio asks for them. Until the probes API is merged it
 * reports that it is missing, and the attention panels say so.
 */
import type { Program } from '@tessera/ir';

/** Why attention maps cannot be shown yet, or undefined when they can. */
export const ATTENTION_MISSING: string | undefined = 'needs the attention probes API (issue 15, "probes"): not merged into the studio yet';

/** The program traced by `traceProgram`, with attention outputs when the probes API is available. */
export function withAttentions(traceProgram: () => Program): Program {
  return traceProgram();
}

/** The prefix of attention probe outputs. */
export const ATTN_PREFIX = 'attn/';

/** The attention outputs of a run, by module path (the output name without `attn/`). */
export function attentionOutputs(outputs: Readonly<Record<string, { readonly data: ArrayLike<number> }>>): Map<string, Float32Array> {
  const found = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(outputs)) if (name.startsWith(ATTN_PREFIX)) found.set(name.slice(ATTN_PREFIX.length), Float32Array.from(t.data));
  return found;
}
