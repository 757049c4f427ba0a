/**
 * The tensors users already have: onnxruntime-web's Tensor (`type`, `data`,
 * `dims`; int64 token ids as BigInt64Array) goes into run() as it is, on
 * every backend, and a shape that is not the input's is refused the same way.
 */
import { Tensor as OrtTensor } from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/backend-cpu';
import { interpret, parseProgram } from '@tessera/ir';
import { type Backend, type BackendName, compile } from '../src/index.ts';

const EMBED = parseProgram(`program @embed
input %ids : i32[2,3]
param %table : f32[6,4]
input %scale : f32[4]
%e = gather(%table, %ids) {axis = 0} : f32[2,3,4]
%y = mul(%e, %scale) : f32[2,3,4]
output y = %y
`);
const TABLE = Float32Array.from({ length: 24 }, (_, k) => Math.sin(k));
const IDS = [5, 0, 3, 3, 1, 2];
const SCALE = Float32Array.from([2, -1, 0.5, 4]);

const BACKENDS: readonly (readonly [string, BackendName | Backend])[] = [
  ['interp', 'interp'],
  ['eval', 'eval'],
  ['cpu js', createCpuBackend({ target: 'js' })],
  ['cpu wasm', createCpuBackend({ target: 'wasm', threads: 2 })],
  ['webgpu', 'webgpu'],
];

describe("onnxruntime-web's Tensor as run() input", () => {
  it.each(BACKENDS)('%s: int64 ids and float32 tensors, as onnxruntime-web users hold them', async (_, backend) => {
    using exe = await compile(EMBED, { backend, weights: { table: new OrtTensor('float32', TABLE, [6, 4]) } });
    const { y } = await exe.run({ ids: new OrtTensor('int64', BigInt64Array.from(IDS, BigInt), [2, 3]), scale: new OrtTensor('float32', SCALE, [4]) });
    const expected = interpret(EMBED, { ids: Int32Array.from(IDS), table: TABLE, scale: SCALE }).y!;
    expect([y!.dtype, y!.dims]).toEqual([expected.type.dtype, expected.type.shape]);
    expect(Array.from(y!.data)).toEqual(Array.from(expected.data, Math.fround));
    await expect(exe.run({ ids: new OrtTensor('int64', BigInt64Array.from(IDS, BigInt), [3, 2]), scale: SCALE })).rejects.toThrow("input 'ids' has shape [2,3], got a tensor of shape [3,2]");
  });
});
