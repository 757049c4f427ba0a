/**
 * Attention probabilities from the compiler's attention probes: a program
 * traced with `attentions` has one output per attention module, named
 * `attn/<module path>`, [batch, heads, queries, keys].
 */
import { ATTENTION_OUTPUT_PREFIX } from '@tessera/frontend';

/** The attention outputs of a run, by module path (the output name without `attn/`), in the order of the program's outputs (call order). */
export function attentionOutputs(outputs: Readonly<Record<string, { readonly data: ArrayLike<number> }>>): Map<string, Float32Array> {
  const found = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(outputs)) if (name.startsWith(ATTENTION_OUTPUT_PREFIX)) found.set(name.slice(ATTENTION_OUTPUT_PREFIX.length), Float32Array.from(t.data));
  return found;
}
