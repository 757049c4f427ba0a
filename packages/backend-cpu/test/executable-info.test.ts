/**
 * The CPU executables as the backend returns them (without compile()):
 * what they say of themselves (inputs, outputs, target and threads), tensors
 * in and out of run() and profile(), and Symbol.dispose.
 */
import { describe, expect, it } from 'vitest';
import { parseProgram } from '@tessera/ir';
import { hostTensor } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { type HostExecutable, compileJs, compileWasm } from '../src/index.ts';

const kp = lowerToKernels(
  parseProgram(`program @rows
input %x : f32[3,4]
param %b : f32[4]
%y = add(%x, %b) : f32[3,4]
%s = reduce_sum(%y) {axes = [1], keepdims = false} : f32[3]
output s = %s
output y = %y
`),
);
const X = Float32Array.from({ length: 12 }, (_, k) => k / 4);
const B = Float32Array.from([1, -1, 2, 0.5]);

const targets: [string, () => Promise<HostExecutable>, HostExecutable['backend']][] = [
  ['js', async () => compileJs(kp), { name: 'cpu', target: 'js', threads: 1 }],
  ['wasm, 1 thread', () => compileWasm(kp, { threads: 1 }), { name: 'cpu', target: 'wasm', threads: 1 }],
  ['wasm, 2 threads', () => compileWasm(kp, { threads: 2, minParallelWork: 0 }), { name: 'cpu', target: 'wasm', threads: 2 }],
];

describe.each(targets)('cpu %s executable', (_, make, backend) => {
  it('describes itself: inputs (activation, parameter) and outputs with dtypes and dims, and its target and threads', async () => {
    using exe = await make();
    expect(exe.backend).toEqual(backend);
    expect(exe.inputs).toEqual([
      { name: 'x', dtype: 'f32', dims: [3, 4], kind: 'activation' },
      { name: 'b', dtype: 'f32', dims: [4], kind: 'parameter' },
    ]);
    expect(exe.outputs).toEqual([
      { name: 's', dtype: 'f32', dims: [3] },
      { name: 'y', dtype: 'f32', dims: [3, 4] },
    ]);
  });

  it('runs and profiles on tensors, refuses a tensor of another shape in either, and returns tensors of the output dims', async () => {
    using exe = await make();
    exe.setInputs({ b: hostTensor(B) });
    const { s, y } = await exe.run({ x: hostTensor(X, [3, 4]) });
    expect([s!.dtype, s!.dims, y!.dims]).toEqual(['f32', [3], [3, 4]]);
    expect(Array.from(y!.data)).toEqual(Array.from(X, (v, k) => Math.fround(v + B[k % 4]!)));
    await expect(exe.run({ x: hostTensor(X, [4, 3]) })).rejects.toThrow("input 'x' has shape [3,4], got a tensor of shape [4,3]");
    await expect(exe.profile({ x: hostTensor(X, [12]) })).rejects.toThrow("input 'x' has shape [3,4], got a tensor of shape [12]");
    expect((await exe.profile({ x: hostTensor(X, [3, 4]) })).length).toBe(kp.kernels.length);
  });

  it('Symbol.dispose disposes it (once), and a profile after it names the call and the program', async () => {
    const exe = await make();
    exe[Symbol.dispose]();
    exe[Symbol.dispose]();
    exe.dispose();
    await expect(exe.profile({ x: X, b: B })).rejects.toThrow('cannot profile() program @rows: this executable has been disposed');
    expect(() => exe.setInputs({ b: B })).toThrow('cannot setInputs() program @rows: this executable has been disposed');
  });
});
