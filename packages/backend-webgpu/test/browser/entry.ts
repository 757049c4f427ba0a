/** The page's side of the browser test: compiles a kernel program with the WebGPU backend on navigator.gpu and runs it. */
import type { DType } from '@tessera/ir';
import type { KernelProgram, TensorData } from '@tessera/kernel';
import { createWebgpuBackend, describeAdapter } from '../../src/index.ts';

/** Plain values as they cross page.evaluate. */
interface PlainTensor {
  readonly dtype: DType;
  readonly values: number[];
}

function typed(t: PlainTensor): TensorData {
  return t.dtype === 'f32' ? Float32Array.from(t.values) : t.dtype === 'i32' ? Int32Array.from(t.values) : Uint8Array.from(t.values);
}

async function runKernelProgram(kp: KernelProgram, inputs: Record<string, PlainTensor>): Promise<{ adapter: string; outputs: Record<string, number[]> }> {
  const be = await createWebgpuBackend({ adapter: 'browser' });
  try {
    const exe = await be.compile(kp);
    const out = await exe.run(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, typed(v)])));
    exe.dispose();
    return { adapter: describeAdapter(be.adapter), outputs: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data)])) };
  } finally {
    be.destroy();
  }
}

(globalThis as { runKernelProgram?: typeof runKernelProgram }).runKernelProgram = runKernelProgram;
