/**
 * InstanceNormalization and GroupNormalization as the registry's
 * group_norm (instance norm: one channel per group); opset 18's per-group
 * scale and bias are spread to the group's channels.
 */
import { formatShape, numel } from '@tessera/ir';
import { type Converter, type NodeContext, attrFloat, attrInt, input, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { reshape } from './shape.ts';

/** `x` ([N, C, spatial...]) normalised over each of `groups` groups of channels and their positions, then scaled and shifted per channel: the registry's group_norm. */
function groupNorm(ctx: NodeContext, x: Val, groups: number, scale: Val, bias: Val, eps: number): Val {
  const shape = typeOf(x).shape;
  if (typeOf(x).dtype !== 'f32') unsupported(`X is ${typeOf(x).dtype}, expected f32`);
  if (shape.length < 2) unsupported(`X of shape ${formatShape(shape)}: normalisation needs [N, C, ...]`);
  const c = shape[1]!;
  if (c % groups !== 0) unsupported(`${c} channels do not split into ${groups} groups`);
  return ctx.e.emit('group_norm', [x, reshape(ctx, scale, [c]), reshape(ctx, bias, [c])], { groups, eps });
}

const instanceNormalization: Converter = (ctx) => {
  const x = input(ctx, 0, 'input');
  return groupNorm(ctx, x, typeOf(x).shape[1]!, input(ctx, 1, 'scale'), input(ctx, 2, 'B'), attrFloat(ctx, 'epsilon', 1e-5));
};

/** GroupNormalization: scale and bias per channel (opset 21), or per group (opset 18, spread to the group's channels). */
const groupNormalization: Converter = (ctx) => {
  const x = input(ctx, 0, 'X');
  const groups = attrInt(ctx, 'num_groups');
  if (groups === undefined || groups < 1) unsupported(`num_groups ${groups ?? 'is missing'}`);
  const c = typeOf(x).shape[1]!;
  let [scale, bias] = [input(ctx, 1, 'scale'), input(ctx, 2, 'bias')];
  if (numel(typeOf(scale).shape) === groups && groups !== c) {
    const spread = (v: Val) => reshape(ctx, ctx.e.emit('broadcast_to', [reshape(ctx, v, [groups, 1])], { shape: [groups, c / groups] }), [c]);
    [scale, bias] = [spread(scale), spread(bias)];
  }
  for (const [v, what] of [[scale, 'scale'], [bias, 'bias']] as const) {
    if (numel(typeOf(v).shape) !== c) unsupported(`${what} of shape ${formatShape(typeOf(v).shape)}, expected ${c} (one per channel) or ${groups} (one per group)`);
  }
  return groupNorm(ctx, x, groups, scale, bias, attrFloat(ctx, 'epsilon', 1e-5));
};

/** The converters of instance and group normalisation. */
export const NORM_CONVERTERS: Readonly<Record<string, Converter>> = { InstanceNormalization: instanceNormalization, GroupNormalization: groupNormalization };
