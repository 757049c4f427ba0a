/**
 * InstanceNormalization and GroupNormalization: a layer norm over each
 * group of channels with their spatial positions (a channel alone for
 * instance norm), on X reshaped to [N, groups, rest], then each channel's
 * scale and bias. The layer norm's own weight and bias are ones and zeros.
 */
import { formatShape, numel } from '@tessera/ir';
import { type Converter, type NodeContext, attrFloat, attrInt, input, scalarOf, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { reshape } from './shape.ts';

/** `x` ([N, C, spatial...]) normalised over each of `groups` groups of channels and their positions, then scaled and shifted per channel. */
function groupNorm(ctx: NodeContext, x: Val, groups: number, scale: Val, bias: Val, eps: number): Val {
  const { e } = ctx;
  const shape = typeOf(x).shape;
  if (typeOf(x).dtype !== 'f32') unsupported(`X is ${typeOf(x).dtype}, expected f32`);
  if (shape.length < 2) unsupported(`X of shape ${formatShape(shape)}: normalisation needs [N, C, ...]`);
  const [n, c] = [shape[0]!, shape[1]!];
  if (c % groups !== 0) unsupported(`${c} channels do not split into ${groups} groups`);
  const d = numel(shape) / (n * groups);
  const ones = e.emit('broadcast_to', [scalarOf('f32', 1)], { shape: [d] });
  const zeros = e.emit('broadcast_to', [scalarOf('f32', 0)], { shape: [d] });
  const normed = reshape(ctx, e.emit('layer_norm', [reshape(ctx, x, [n, groups, d]), ones, zeros], { eps }), shape);
  const perChannel = (v: Val) => reshape(ctx, v, [c, ...shape.slice(2).map(() => 1)]);
  return e.emit('add', [e.emit('mul', [normed, perChannel(scale)]), perChannel(bias)]);
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
