import { type Program, numel } from '@tessera/ir';
import { makeRng } from './gen/choices.ts';
import { type HostInputs, type InputValueOptions, inputsFor } from './inputs.ts';

/** Ops through which an integer tensor's values reach a `gather` unchanged (only moved, repeated or selected). */
const INDEX_PRESERVING = new Set(['reshape', 'transpose', 'broadcast_to', 'slice', 'concat']);

/**
 * The operands of `n` whose values reach its result unchanged: every one of
 * a movement op, and the value taken where the condition is false of a
 * `where`: an ONNX Gather's wrap of negative indices, where(i < 0, i + n, i),
 * passes a non-negative i through as it is.
 */
function indexOperands(n: Program['nodes'][number]): readonly string[] {
  if (n.op === 'where') return n.operands.slice(2);
  return INDEX_PRESERVING.has(n.op) ? n.operands : [];
}

/**
 * The program inputs whose values end up as `gather` indices, each with the
 * smallest table extent it indexes: token ids must lie in [0, extent), or
 * every backend rightly rejects them.
 */
export function gatherIndexInputs(p: Program): Map<string, number> {
  const producers = new Map(p.nodes.map((n) => [n.name, n] as const));
  const inputs = new Set(p.inputs.map((i) => i.name));
  const types = new Map(p.nodes.map((n) => [n.name, n.type] as const));
  for (const i of p.inputs) types.set(i.name, i.type);
  const extents = new Map<string, number>();
  const reach = (value: string, extent: number, seen: Set<string>): void => {
    if (seen.has(value)) return;
    seen.add(value);
    if (inputs.has(value)) {
      extents.set(value, Math.min(extent, extents.get(value) ?? Infinity));
      return;
    }
    const n = producers.get(value);
    if (n) for (const o of indexOperands(n)) reach(o, extent, seen);
  };
  for (const n of p.nodes) {
    if (n.op !== 'gather') continue;
    const axis = (n.attrs.axis as number | undefined) ?? 0;
    reach(n.operands[1]!, types.get(n.operands[0]!)!.shape[axis]!, new Set());
  }
  return extents;
}

/**
 * Values for the inputs of a model that `given` leaves out, drawn from the
 * harness's input generator with a seed: activations as `inputsFor` draws
 * them, weights scaled like a freshly initialised model's (uniform with
 * variance 1/fan-in for matrices, in [-1, 1] for vectors) so activations
 * stay finite through many layers, and token ids in range for the `gather`
 * tables they index. The same seed gives the same values.
 */
export function modelInputsFor(p: Program, seed: number, given: Readonly<HostInputs> = {}): HostInputs {
  const rng = makeRng(seed);
  const indices = gatherIndexInputs(p);
  const out: HostInputs = { ...given };
  for (const inp of p.inputs) {
    if (inp.name in given) continue;
    const extent = indices.get(inp.name);
    if (extent !== undefined && inp.type.dtype === 'i32') {
      out[inp.name] = Int32Array.from({ length: numel(inp.type.shape) }, () => Math.floor(rng() * extent));
      continue;
    }
    const { shape } = inp.type;
    const options: InputValueOptions = inp.kind === 'parameter' ? { floatMax: shape.length >= 2 ? Math.sqrt(3 / numel(shape.slice(1))) : 1 } : {};
    Object.assign(out, inputsFor({ ...p, inputs: [inp], nodes: [], outputs: [] }, rng, options));
  }
  return out;
}
