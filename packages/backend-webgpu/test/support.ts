/** What the WebGPU tests share: one backend (device) per test file, and the interpreter comparison under the harness tolerance policy. */
import type { Program } from '@tessera/ir';
import { type KernelProgram, type TensorData, outputArrays } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { formatCounterexample, longestReduction, mismatchVsInterpreter as harnessMismatch } from '@tessera/harness';

export { longestReduction };
import { type VariantOverrides, type WebgpuBackend, createWebgpuBackend } from '../src/index.ts';

let backend: Promise<WebgpuBackend> | undefined;

/** The test file's backend, created on first use (llvmpipe in CI); `releaseBackend` in afterAll destroys it. */
export function testBackend(): Promise<WebgpuBackend> {
  backend ??= createWebgpuBackend();
  return backend;
}

/** Destroys the file's device. */
export async function releaseBackend(): Promise<void> {
  if (backend) (await backend).destroy();
  backend = undefined;
}

/** Compiles and runs a kernel program once on WebGPU, disposing the executable after; returns each output's values. */
export async function runKernels(kp: KernelProgram, inputs: Readonly<Record<string, TensorData>>, variants?: VariantOverrides): Promise<Record<string, TensorData>> {
  const exe = await (await testBackend()).compile(kp, variants);
  try {
    return outputArrays(await exe.run(inputs));
  } finally {
    exe.dispose();
  }
}


/** Why WebGPU's outputs of `p` differ from the interpreter's (the harness's comparison, f32 rounding spread included), with the counterexample, or undefined. */
export function mismatchVsInterpreter(p: Program, inputs: Readonly<Record<string, TensorData>>, actual: Record<string, ArrayLike<number>>, reductionLength = longestReduction(p)): string | undefined {
  const why = harnessMismatch(p, inputs, actual, { reductionLength });
  return why && `webgpu differs from the interpreter: ${why}\n${formatCounterexample(p, inputs)}`;
}

/** Lowers, runs on WebGPU and compares with the interpreter; returns the mismatch, if any. */
export async function checkProgram(p: Program, inputs: Readonly<Record<string, TensorData>>, variants?: VariantOverrides, reductionLength?: number): Promise<string | undefined> {
  const actual = await runKernels(lowerToKernels(p), inputs, variants);
  return mismatchVsInterpreter(p, inputs, actual, reductionLength);
}
