/** Binding a checkpoint file to a model (Node): the binding itself is checkpoint.ts, which runs on tensors from anywhere. */
import type { Module } from '@tessera/frontend';
import type { SafetensorsFile } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { type Weights, bindCheckpoint } from './checkpoint.ts';

/** Reads a safetensors checkpoint and binds it to the model. */
export async function loadCheckpoint(model: Module, path: string): Promise<Weights> {
  const file: SafetensorsFile = await readSafetensorsFile(path);
  return bindCheckpoint(model, file.tensors, path);
}
