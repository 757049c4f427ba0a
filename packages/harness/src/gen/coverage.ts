import { type Program, findOp, shapesEqual, valueTypes } from '@tessera/ir';
import { pairProbes } from '@tessera/passes';

/**
 * Variants the generator must produce besides every op: both gelu forms,
 * attention without and with each mask kind, attention probes served by
 * their attention's kernel and alone, broadcast batch axes, strided
 * slices, multi-operand concat, keepdims, reductions of bool, implicit broadcasting, depthwise,
 * padded and strided convolutions, where with a scalar branch.
 */
export const REQUIRED_VARIANTS: readonly string[] = [
  'gelu[approximate=none]',
  'gelu[approximate=tanh]',
  'attention[mask=none]',
  'attention[mask=bool]',
  'attention[mask=f32]',
  'attention_probs[paired]',
  'attention_probs[alone]',
  'matmul[batch-broadcast]',
  'slice[step>1]',
  'concat[operands>1]',
  'reduction[keepdims]',
  'reduction[bool]',
  'elementwise[broadcast]',
  'gather[axis>0]',
  'conv2d[depthwise]',
  'conv2d[padding]',
  'conv2d[stride>1]',
  'pool[padding]',
  'pool[ceil_mode]',
  'where[scalar]',
];

/** The ops and variants (see REQUIRED_VARIANTS) that occur in some of the programs. */
export function opCoverage(programs: Iterable<Program>): Set<string> {
  const seen = new Set<string>();
  for (const p of programs) {
    const types = valueTypes(p);
    const paired = pairProbes(p);
    for (const n of p.nodes) {
      seen.add(n.op);
      const ts = n.operands.map((o) => types.get(o)!);
      if (n.op === 'gelu') seen.add(`gelu[approximate=${String(n.attrs.approximate)}]`);
      if (n.op === 'attention') seen.add(`attention[mask=${ts[3]?.dtype ?? 'none'}]`);
      if (n.op === 'attention_probs') seen.add(`attention_probs[${paired.has(n.name) ? 'paired' : 'alone'}]`);
      if (n.op === 'matmul' && !shapesEqual(ts[0]!.shape.slice(0, -2), ts[1]!.shape.slice(0, -2))) seen.add('matmul[batch-broadcast]');
      if (n.op === 'slice' && (n.attrs.step as number[]).some((s) => s > 1)) seen.add('slice[step>1]');
      if (n.op === 'concat' && n.operands.length > 1) seen.add('concat[operands>1]');
      if (n.attrs.keepdims === true) seen.add('reduction[keepdims]');
      if ('axes' in n.attrs && ts[0]?.dtype === 'bool') seen.add('reduction[bool]');
      if (n.op === 'gather' && (n.attrs.axis as number) > 0) seen.add('gather[axis>0]');
      if (n.op === 'conv2d' && ts[1]!.shape[1] === 1 && (n.attrs.groups as number) > 1) seen.add('conv2d[depthwise]');
      if (n.op === 'conv2d' && (n.attrs.padding as number[]).some((p) => p > 0)) seen.add('conv2d[padding]');
      if (n.op === 'conv2d' && (n.attrs.stride as number[]).some((s) => s > 1)) seen.add('conv2d[stride>1]');
      if ((n.op === 'max_pool' || n.op === 'avg_pool') && (n.attrs.padding as number[]).some((p) => p > 0)) seen.add('pool[padding]');
      if ((n.op === 'max_pool' || n.op === 'avg_pool') && n.attrs.ceil_mode === true) seen.add('pool[ceil_mode]');
      if (n.op === 'where' && ts.slice(1).some((t) => t.shape.length === 0) && n.type.shape.length > 0) seen.add('where[scalar]');
      if (ts.length >= 2 && findOp(n.op)?.fusion === 'broadcast' && ts.some((t) => !shapesEqual(t.shape, n.type.shape))) {
        seen.add('elementwise[broadcast]');
      }
    }
  }
  return seen;
}
