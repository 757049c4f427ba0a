/** Dead-code removal for an imported program: nodes no output needs, and parameters nothing reads. */
import type { Program } from '@tessera/ir';

/** `p` without the nodes and parameter inputs that no output depends on (activation inputs are kept: they are the model's interface). */
export function prune(p: Program): Program {
  const live = new Set(p.outputs.map((o) => o.value));
  for (let i = p.nodes.length - 1; i >= 0; i--) {
    const n = p.nodes[i]!;
    if (live.has(n.name)) for (const o of n.operands) live.add(o);
  }
  return {
    ...p,
    inputs: p.inputs.filter((i) => i.kind === 'activation' || live.has(i.name)),
    nodes: p.nodes.filter((n) => live.has(n.name)),
  };
}
