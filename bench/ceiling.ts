/**
 * This machine's own 2-thread ceiling: a WebAssembly SIMD loop that only
 * multiplies and adds in registers (eight independent f32x4 chains; no
 * memory traffic, no synchronisation inside), timed on one thread and then
 * on two at once (this thread and one worker, the same work each). The
 * ratio of the two throughputs is what 2 threads can give here at all: a VM
 * whose vCPUs share a physical core, or whose host lowers the clock when
 * both are busy, caps it below 2x, and any 2-thread kernel with it.
 */
import { Worker } from 'node:worker_threads';
import { F32, FunctionBuilder, I32, ModuleBuilder, V128 } from '../packages/backend-cpu/src/wasm/binary.ts';
import { SIMD } from '../packages/backend-cpu/src/wasm/opcodes.ts';

/** `spin(n)`: n rounds of 8 f32x4 multiply-adds (64 flops), returning a lane so nothing is dead code. */
function spinModule(): WebAssembly.Module {
  const m = new ModuleBuilder();
  const f = new FunctionBuilder([I32], [F32]);
  const acc = f.locals(V128, 8);
  const [i, c] = [f.local(I32), f.local(V128)];
  f.f32(0.999).simd(SIMD.f32x4_splat).set(c);
  for (const a of acc) f.f32(1).simd(SIMD.f32x4_splat).set(a);
  f.for(i, () => f.i32(0), () => f.get(0), 1, () => {
    for (const a of acc) f.get(a).get(c).simd(SIMD.f32x4_mul).get(c).simd(SIMD.f32x4_add).set(a);
  });
  f.get(acc[0]).get(acc[7]).simd(SIMD.f32x4_add).simdLane(SIMD.f32x4_extract_lane, 0);
  m.addFunc(f, 'spin');
  return new WebAssembly.Module(m.encode());
}

/** Control slots shared with the worker: go (0 idle, 1 run, 2 quit), rounds, done. */
const GO = 0;
const ROUNDS = 1;
const DONE = 2;

const WORKER = `
const { workerData } = require('node:worker_threads');
const spin = new WebAssembly.Instance(workerData.module).exports.spin;
const ctrl = new Int32Array(workerData.ctrl);
for (;;) {
  Atomics.wait(ctrl, ${GO}, 0);
  if (Atomics.load(ctrl, ${GO}) === 2) break;
  spin(ctrl[${ROUNDS}]);
  Atomics.store(ctrl, ${GO}, 0);
  Atomics.store(ctrl, ${DONE}, 1);
  Atomics.notify(ctrl, ${DONE});
}`;

/** The SIMD loop sized to take about `ms` on one thread here, runnable on 1 or 2 threads. */
export async function simdCeiling(ms: number): Promise<{ one: () => void; two: () => void; dispose: () => Promise<void> }> {
  const module = spinModule();
  const spin = new WebAssembly.Instance(module).exports.spin as (n: number) => number;
  spin(1e5); // compiled and tiered up before the timed call
  const t0 = performance.now();
  spin(1e6);
  const rounds = Math.max(1, Math.round((1e6 * ms) / (performance.now() - t0)));
  const ctrl = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(WORKER, { eval: true, workerData: { module, ctrl: ctrl.buffer } });
  return {
    one: () => void spin(rounds),
    two: () => {
      ctrl[ROUNDS] = rounds;
      Atomics.store(ctrl, DONE, 0);
      Atomics.store(ctrl, GO, 1);
      Atomics.notify(ctrl, GO);
      spin(rounds);
      Atomics.wait(ctrl, DONE, 0);
    },
    dispose: async () => {
      Atomics.store(ctrl, GO, 2);
      Atomics.notify(ctrl, GO);
      await worker.terminate();
    },
  };
}
