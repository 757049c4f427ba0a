/** What the model tests share: fixtures (PyTorch's outputs), the tolerance policy's reduction length, backends. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeMismatch } from '@tessera/harness';
import { type SafetensorsTensor, readSafetensors } from '@tessera/ir';
import { type BackendName, availableBackends } from '@tessera/compiler';
import { type ModelConfig, type Weights, bindCheckpoint, buildModel, parseModelConfig } from '../src/index.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const TRAINED = join(import.meta.dirname, '..', 'trained');

/** What a fixture's JSON says about its inputs. */
export interface FixtureShape {
  readonly batch: number;
  readonly src_len?: number;
  readonly tgt_len?: number;
  readonly max_new_tokens?: number;
}

/** One PyTorch fixture: config, the bound weights, and the inputs and outputs PyTorch computed in float64. */
export interface Fixture {
  readonly name: string;
  readonly config: ModelConfig;
  readonly shape: FixtureShape;
  readonly model: ReturnType<typeof buildModel>;
  readonly weights: Weights;
  readonly io: Map<string, SafetensorsTensor>;
}

/** Names of every fixture (NAME.json with NAME.safetensors and NAME.io.safetensors). */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Loads a fixture by name. */
export function loadFixture(name: string): Fixture {
  const path = (ext: string) => join(FIXTURES, name + ext);
  const json = JSON.parse(readFileSync(path('.json'), 'utf8')) as Record<string, unknown>;
  const config = parseModelConfig(json, path('.json'));
  const model = buildModel(config);
  const weights = bindCheckpoint(model, readSafetensors(readFileSync(path('.safetensors')), path('.safetensors')).tensors, path('.safetensors'));
  const io = readSafetensors(readFileSync(path('.io.safetensors')), path('.io.safetensors')).tensors;
  return { name, config, shape: json.fixture as FixtureShape, model, weights, io };
}

/** An I64/I32 tensor as Int32Array (token ids). */
export function int32(t: SafetensorsTensor): Int32Array {
  return t.data instanceof BigInt64Array ? Int32Array.from(t.data, (v) => Number(v)) : (t.data as Int32Array);
}

/** The L of the tolerance policy: the longest reduction in a program (one definition, in the harness). */
export { longestReduction } from '@tessera/harness';

/** Backends the tests run on: every one available in this process. */
export function testBackends(): BackendName[] {
  return availableBackends() as BackendName[];
}

/** The largest |a - e| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(a[i]! - e[i]!));
  return m;
}

/** Worst |Δ| against PyTorch per backend, printed when the file's tests end (the figures the issue asks for). */
export const worstByBackend = new Map<string, { diff: number; where: string }>();

/** Checks actual against PyTorch's values under the policy; records the worst difference; returns the mismatch text or undefined. */
export function comparePyTorch(backend: string, what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, shape: readonly number[], reductionLength: number): string | undefined {
  const d = maxAbsDiff(actual, expected);
  const prev = worstByBackend.get(backend);
  if (!prev || d > prev.diff) worstByBackend.set(backend, { diff: d, where: what });
  return describeMismatch(actual, expected, { reductionLength }, { what, shape });
}
