/**
 * Binding a checkpoint (a state_dict saved as safetensors) to a model:
 * every parameter must be found once, with its shape, as a float tensor;
 * every problem (missing, unexpected, wrongly shaped, wrong dtype) is listed
 * by name in one error so a user can fix the file in one go.
 */
import type { Module } from '@tessera/frontend';
import { type SafetensorsTensor, TesseraError } from '@tessera/ir';

/** A checkpoint that does not fit the model; `problems` lists each tensor's issue. */
export class CheckpointError extends TesseraError {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: the checkpoint does not fit the model:\n  ${problems.join('\n  ')}`);
    this.name = 'CheckpointError';
  }
}

/** Parameter values by state_dict name, f32. */
export type Weights = Record<string, Float32Array>;

const FLOAT_DTYPES = ['F32', 'F16', 'BF16'];
const shape = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Names shown per list; a whole other model's checkpoint would otherwise print hundreds. */
const SHOWN = 16;

function listed(items: readonly string[]): string {
  return items.length <= SHOWN ? items.join(', ') : `${items.slice(0, SHOWN).join(', ')}, ... and ${items.length - SHOWN} more`;
}

/** A hint when the checkpoint uses the other ViT naming (or belongs to another model altogether). */
function namingHint(expected: ReadonlyMap<string, unknown>, tensors: ReadonlyMap<string, unknown>): string | undefined {
  if ([...tensors.keys()].some((n) => expected.has(n)) || tensors.size === 0) return undefined;
  if (expected.has('class_token') && tensors.has('cls_token')) return 'hint: the checkpoint uses timm\'s names; set "naming": "timm" in the config';
  if (expected.has('cls_token') && tensors.has('class_token')) return 'hint: the checkpoint uses torchvision\'s names; set "naming": "torchvision" in the config';
  return 'hint: no tensor name matches the model; is the checkpoint for another model or config?';
}

/**
 * The model's parameters taken from `tensors` by name (F16/BF16 arrive
 * widened to f32). Throws CheckpointError listing every missing, unexpected
 * or wrongly shaped tensor with the expected and found shapes.
 */
export function bindCheckpoint(model: Module, tensors: ReadonlyMap<string, SafetensorsTensor>, source = '<checkpoint>'): Weights {
  const problems: string[] = [];
  const weights: Weights = {};
  const expected = new Map<string, readonly number[]>();
  for (const [name, p] of model.namedParameters()) expected.set(name, p.shape);
  const missing: string[] = [];
  for (const [name, want] of expected) {
    const t = tensors.get(name);
    if (!t) {
      missing.push(`${name} ${shape(want)}`);
      continue;
    }
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      problems.push(`wrong shape: ${name}: expected ${shape(want)}, found ${shape(t.shape)}`);
    } else if (!FLOAT_DTYPES.includes(t.dtype)) {
      problems.push(`wrong dtype: ${name}: expected F32, F16 or BF16, found ${t.dtype}`);
    } else {
      weights[name] = t.data as Float32Array;
    }
  }
  if (missing.length) problems.unshift(`missing ${missing.length} tensor(s): ${listed(missing)}`);
  const unexpected = [...tensors].filter(([n]) => !expected.has(n)).map(([n, t]) => `${n} ${shape(t.shape)}`);
  if (unexpected.length) problems.push(`unexpected ${unexpected.length} tensor(s): ${listed(unexpected)}`);
  const hint = namingHint(expected, tensors);
  if (hint) problems.push(hint);
  if (problems.length) throw new CheckpointError(source, problems);
  return weights;
}
