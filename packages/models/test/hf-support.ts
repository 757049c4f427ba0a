/** What the Hugging Face tests share: the fixture folders (save_pretrained's output) and PyTorch's float64 outputs beside them. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type SafetensorsTensor, readSafetensors } from '@tessera/ir';
import type { HfShape } from '../src/index.ts';
import { FIXTURES } from './support.ts';

/** The Hugging Face fixtures' folder. */
export const HF_FIXTURES = join(FIXTURES, 'hf');

/** Names of the fixture folders (each NAME/ with NAME.io.safetensors beside it). */
export function hfFixtureNames(): string[] {
  return readdirSync(HF_FIXTURES)
    .filter((f) => statSync(join(HF_FIXTURES, f)).isDirectory())
    .sort();
}

/** The inputs and PyTorch's outputs of fixture `name`. */
export function hfFixtureIo(name: string): Map<string, SafetensorsTensor> {
  const path = join(HF_FIXTURES, `${name}.io.safetensors`);
  return readSafetensors(readFileSync(path), path).tensors;
}

/** The traced shape a fixture's inputs have. */
export function hfShapeOf(io: ReadonlyMap<string, SafetensorsTensor>): HfShape {
  const first = io.get('pixel_values') ?? io.get('input_ids')!;
  return { batch: first.shape[0]!, seqLen: io.has('input_ids') ? first.shape[1]! : 1 };
}
