import { type Attrs, type Node, type TensorType, numel } from '@tessera/ir';

/**
 * Static bounds on |value| for the generator's `tame` mode. Each rule is a
 * conservative upper bound given the operands' bounds; ops without a rule get
 * Infinity, which only makes tame mode clamp more. Bounds assume the domain
 * adapters tame mode puts in front of log/sqrt/rsqrt/recip/div/pow (operand >= 0.5).
 */
export function magnitudeBound(op: string, operands: readonly { type: TensorType; mag: number }[], attrs: Attrs, result: TensorType): number {
  const m = operands.map((o) => o.mag);
  const max = Math.max(0, ...m);
  if (result.dtype === 'bool') return 1;
  switch (op) {
    case 'neg':
    case 'abs':
    case 'max':
    case 'min':
    case 'reduce_max':
    case 'reduce_min':
    case 'reduce_mean':
    case 'reshape':
    case 'transpose':
    case 'broadcast_to':
    case 'slice':
    case 'concat':
    case 'gelu':
    case 'relu':
    case 'silu':
    case 'clamp':
    case 'max_pool':
    case 'avg_pool':
    case 'tril':
    case 'triu':
      return max;
    case 'floor':
    case 'ceil':
    case 'round':
      return m[0]! + 1;
    case 'floor_div':
      // |a // b| <= |a| when b != 0; 0 when b = 0.
      return m[0]!;
    case 'mod':
      return m[1]!;
    case 'where':
      return Math.max(m[1]!, m[2]!);
    case 'gather':
      return m[0]!;
    case 'cast':
      return operands[0]!.type.dtype === 'bool' ? 1 : m[0]!;
    case 'pad':
      return Math.max(m[0]!, Math.abs(attrs.value as number));
    case 'exp':
      return Math.exp(m[0]!);
    case 'log':
      return Math.max(Math.abs(Math.log(0.5)), Math.log(Math.max(1, m[0]!)));
    case 'sqrt':
      return Math.sqrt(m[0]!);
    case 'rsqrt':
      return 1 / Math.sqrt(0.5);
    case 'recip':
      return 2;
    case 'tanh':
    case 'erf':
    case 'sin':
    case 'cos':
    case 'softmax':
    case 'sign':
    case 'sigmoid':
      return 1;
    case 'add':
    case 'sub':
      return m[0]! + m[1]!;
    case 'mul':
      return m[0]! * m[1]!;
    case 'div':
      return m[0]! / 0.5;
    case 'pow':
      return Math.max(Math.pow(m[0]!, m[1]!), Math.pow(0.5, -m[1]!));
    case 'reduce_sum':
      return m[0]! * (numel(operands[0]!.type.shape) / numel(result.shape));
    case 'reduce_prod':
      return Math.max(1, m[0]!) ** (numel(operands[0]!.type.shape) / numel(result.shape));
    case 'logsumexp':
      return m[0]! + Math.log(numel(operands[0]!.type.shape) / numel(result.shape));
    case 'log_softmax':
      // (x - max) - log(sum): at most 2m below 0, and log(n) more.
      return 2 * m[0]! + Math.log(operands[0]!.type.shape[attrs.axis as number]!);
    case 'cumsum':
      return m[0]! * operands[0]!.type.shape[attrs.axis as number]!;
    case 'argmax':
    case 'argmin':
      return operands[0]!.type.shape[attrs.axis as number]! - 1;
    case 'matmul':
      return m[0]! * m[1]! * operands[0]!.type.shape[operands[0]!.type.shape.length - 1]!;
    case 'conv2d':
      // Each output sums one window of in/groups * kH * kW products, plus the bias.
      return m[0]! * m[1]! * numel(operands[1]!.type.shape.slice(1)) + (m[2] ?? 0);
    case 'resize':
      // Linear weights are convex; cubic ones (and antialias's) overshoot by at most a factor 2 per resized axis; the extrapolation value as given.
      return Math.max(m[0]! * (attrs.mode === 'nearest' || attrs.mode === 'linear' ? 1 : 2 ** operands[0]!.type.shape.length), Math.abs(attrs.extrapolation_value as number));
    case 'conv_transpose2d':
      // Each output sums at most in/groups * kH * kW products (every input channel of its group, every tap), plus the bias.
      return m[0]! * m[1]! * (operands[0]!.type.shape[1]! / (attrs.groups as number)) * numel(operands[1]!.type.shape.slice(2)) + (m[2] ?? 0);
    case 'layer_norm':
      // |x - mean| / sqrt(var) <= sqrt(n) for a row of n elements.
      return Math.sqrt(operands[0]!.type.shape[operands[0]!.type.shape.length - 1]!) * m[1]! + m[2]!;
    case 'group_norm':
      // |x - mean| / sqrt(var) <= sqrt(n) for a group of n elements.
      return Math.sqrt(numel(operands[0]!.type.shape) / (operands[0]!.type.shape[0]! * (attrs.groups as number))) * (m[1] ?? 1) + (m[2] ?? 0);
    case 'rms_norm':
      // |x| / rms(x) <= sqrt(n) for a row of n elements.
      return Math.sqrt(operands[0]!.type.shape[operands[0]!.type.shape.length - 1]!) * (m[1] ?? 1);
    case 'attention':
      return m[2]!;
    case 'iota':
      return Math.max(0, ...(attrs.shape as number[])) - 1;
    case 'constant':
      return Math.max(0, ...(attrs.value as number[]).map(Math.abs));
    default:
      return Infinity;
  }
}

/** Ops whose f32 result is exactly the float64 result when their operands are exact (no rounding). */
export const EXACT_OPS: ReadonlySet<string> = new Set([
  'neg', 'abs', 'max', 'min', 'where', 'cast', 'reduce_max', 'reduce_min', 'tril', 'triu', 'max_pool', 'floor', 'ceil', 'round', 'sign', 'relu', 'clamp',
  'reshape', 'transpose', 'broadcast_to', 'slice', 'concat', 'pad', 'gather', 'iota', 'constant',
]);

/** Whether a node's value is exact in f32 arithmetic, given whether its operands are. */
export function isExactResult(n: Pick<Node, 'op' | 'type'>, operandsExact: readonly boolean[]): boolean {
  if (!operandsExact.every(Boolean)) return false;
  return n.type.dtype !== 'f32' || EXACT_OPS.has(n.op);
}
