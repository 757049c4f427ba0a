/**
 * GatherND and ScatterND with index tensors known at import (what exports
 * produce: position slices, buffer writes such as `pe[:, 0::2] = sin(...)`).
 * Both become a row gather over the data flattened to [rows, inner]:
 * GatherND picks rows, ScatterND gathers each row from the data or from
 * the updates appended after it. GatherElements takes indices computed at
 * run time too (RoBERTa's token types at its position ids), as an element
 * gather over the data flattened. A gather of constants folds.
 */
import { numel, stridesOf } from '@tessera/ir';
import { type Converter, attrInt, attrString, axisOf, constInput, constOf, input, scalarOf, unsupported } from '../context.ts';
import { typeOf } from '../values.ts';
import { reshape } from './shape.ts';

/** The flat row (over the first k axes of `shape`) each k-tuple of `indices` names; negative indices count from the end. */
function flatRows(indices: Float64Array, k: number, shape: readonly number[]): number[] {
  const rows: number[] = [];
  for (let i = 0; i < indices.length; i += k) {
    let r = 0;
    for (let j = 0; j < k; j++) {
      const d = shape[j]!;
      let v = indices[i + j]!;
      if (v < 0) v += d;
      if (v < 0 || v >= d) unsupported(`index ${indices[i + j]} on axis ${j} is out of range for extent ${d}`);
      r = r * d + v;
    }
    rows.push(r);
  }
  return rows;
}

const gatherND: Converter = (ctx) => {
  if (attrInt(ctx, 'batch_dims', 0) !== 0) unsupported('batch_dims > 0');
  const data = input(ctx, 0, 'data');
  const ind = constInput(ctx, 1, 'indices');
  const shape = typeOf(data).shape;
  const k = ind.type.shape.at(-1)!;
  if (k > shape.length) unsupported(`indices address ${k} axes of a rank-${shape.length} tensor`);
  const rows = flatRows(ind.data, k, shape);
  const inner = shape.slice(k);
  const flat = reshape(ctx, data, [numel(shape.slice(0, k)), ...inner]);
  const lead = ind.type.shape.slice(0, -1);
  const picked = ctx.e.emit('gather', [flat, constOf('i32', lead, rows)], { axis: 0 });
  return reshape(ctx, picked, [...lead, ...inner]);
};

const scatterND: Converter = (ctx) => {
  const reduction = attrString(ctx, 'reduction', 'none');
  if (reduction !== 'none') unsupported(`reduction = '${reduction}'`);
  const data = input(ctx, 0, 'data');
  const ind = constInput(ctx, 1, 'indices');
  const updates = input(ctx, 2, 'updates');
  const shape = typeOf(data).shape;
  const k = ind.type.shape.at(-1)!;
  const rows = flatRows(ind.data, k, shape);
  const n = numel(shape.slice(0, k));
  const inner = shape.slice(k);
  const source = Array.from({ length: n }, (_, r) => r);
  rows.forEach((r, j) => {
    source[r] = n + j;
  });
  const both = ctx.e.emit('concat', [reshape(ctx, data, [n, ...inner]), reshape(ctx, updates, [rows.length, ...inner])], { axis: 0 });
  return reshape(ctx, ctx.e.emit('gather', [both, constOf('i32', [n], source)], { axis: 0 }), shape);
};

/**
 * GatherElements (torch.gather): out[p] = data[p with its `axis` coordinate
 * replaced by indices[p]], output shaped as the indices. Over the data
 * flattened, each element's offset is a constant (its coordinates off the
 * axis, known from the shapes) plus its index times the axis' stride.
 * Negative indices count from the end; one still out of range is sent past
 * the flattened end, so the gather reports it instead of reading a
 * neighbouring row.
 */
const gatherElements: Converter = (ctx) => {
  const data = input(ctx, 0, 'data');
  const indices = input(ctx, 1, 'indices');
  const shape = typeOf(data).shape;
  const at = typeOf(indices).shape;
  const axis = axisOf(attrInt(ctx, 'axis', 0), shape.length);
  if (typeOf(indices).dtype !== 'i32') unsupported(`indices are ${typeOf(indices).dtype}, expected an integer type`);
  if (at.length !== shape.length) unsupported(`indices of rank ${at.length} for data of rank ${shape.length} (they must be equal)`);
  at.forEach((n, d) => {
    if (d !== axis && n > shape[d]!) unsupported(`indices extent ${n} on axis ${d} exceeds the data's ${shape[d]}`);
  });
  const strides = stridesOf(shape);
  const atStrides = stridesOf(at);
  const base = Array.from({ length: numel(at) }, (_, j) => at.reduce((sum, _n, d) => (d === axis ? sum : sum + (Math.floor(j / atStrides[d]!) % at[d]!) * strides[d]!), 0));
  const { e } = ctx;
  const extent = shape[axis]!;
  const total = numel(shape);
  const wrapped = e.emit('where', [e.emit('lt', [indices, scalarOf('i32', 0)]), e.emit('add', [indices, scalarOf('i32', extent)]), indices]);
  const flat = e.emit('add', [constOf('i32', at, base), e.emit('mul', [wrapped, scalarOf('i32', strides[axis]!)])]);
  const outside = e.emit('where', [e.emit('lt', [wrapped, scalarOf('i32', 0)]), scalarOf('i32', total), e.emit('where', [e.emit('ge', [wrapped, scalarOf('i32', extent)]), scalarOf('i32', total), flat])]);
  return e.emit('gather', [reshape(ctx, data, [total]), outside], { axis: 0 });
};

/** The converters of GatherND, ScatterND and GatherElements. */
export const INDEXING_CONVERTERS: Readonly<Record<string, Converter>> = { GatherND: gatherND, ScatterND: scatterND, GatherElements: gatherElements };
