/** The page's side of the browser threads test: compiles a kernel program for the wasm target with the requested threads and runs it. */
import type { KernelProgram } from '@tessera/kernel';
import { compileWasm } from '../../src/index.ts';
import { threadMayBlock } from '../../src/threads/control.ts';
import { getThreadPool, threadHost } from '../../src/threads/pool.ts';

/** What the page reports: its isolation, the threads the executable used, and every f32 output as its bit patterns. */
export interface PageResult {
  readonly crossOriginIsolated: boolean;
  readonly mainThreadMayBlock: boolean;
  readonly host: string | null;
  readonly threads: number;
  readonly poolSize: number;
  /** Whether the micro-kernel used fused multiply-adds (relaxed SIMD). */
  readonly relaxedSimd: boolean;
  /** Output name -> f32 bit patterns, one list per run. */
  readonly runs: Record<string, number[]>[];
}

async function runWasm(kp: KernelProgram, inputs: Record<string, number[]>, threads: number): Promise<PageResult> {
  const exe = await compileWasm(kp, { threads, minParallelWork: 0 });
  const typed = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v)]));
  const runs: Record<string, number[]>[] = [];
  // Twice: the second run reuses the started workers.
  for (let r = 0; r < 2; r++) {
    const out = await exe.run(typed);
    runs.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(new Uint32Array(v.data.buffer, v.data.byteOffset, v.data.length))])));
  }
  exe.dispose();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    mainThreadMayBlock: threadMayBlock(),
    host: threadHost() ?? null,
    threads: exe.threads,
    poolSize: exe.threads > 1 ? (await getThreadPool(0)).size : 0,
    relaxedSimd: exe.relaxedSimd,
    runs,
  };
}

(globalThis as { runWasm?: typeof runWasm }).runWasm = runWasm;
