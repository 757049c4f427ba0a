import { type Node, type Program, type TensorType, numel } from '@tessera/ir';

/**
 * The length of the longest sum in a program (reductions, dot products and convolution windows,
 * softmax, log_softmax, layer_norm and rms_norm rows, running sums, attention's q·k and weighted sum): the L by
 * whose square root the tolerance policy scales.
 */
export function longestReduction(p: Program): number {
  const types = valueTypes(p);
  return p.nodes.reduce((longest, n) => Math.max(longest, sumLength(n, types)), 1);
}

/** Every value's type by name: the program's inputs and nodes. */
export function valueTypes(p: Program): Map<string, TensorType> {
  const types = new Map(p.inputs.map((i) => [i.name, i.type] as const));
  for (const n of p.nodes) types.set(n.name, n.type);
  return types;
}

/** The length of the longest sum inside one node (1 for a node that sums nothing); see longestReduction. */
export function sumLength(n: Node, types: ReadonlyMap<string, TensorType>): number {
  const x = types.get(n.operands[0] ?? '');
  if (n.op.startsWith('reduce_') || n.op === 'logsumexp') return numel((n.attrs.axes as number[]).map((a) => x!.shape[a]!));
  if (n.op === 'matmul' || n.op === 'layer_norm' || n.op === 'rms_norm') return x!.shape.at(-1)!;
  if (n.op === 'conv2d') return numel(types.get(n.operands[1]!)!.shape.slice(1));
  if (n.op === 'softmax' || n.op === 'log_softmax' || n.op === 'cumsum') return x!.shape[n.attrs.axis as number]!;
  if (n.op === 'attention') return x!.shape.at(-1)! * types.get(n.operands[1]!)!.shape.at(-2)!;
  return 1;
}
