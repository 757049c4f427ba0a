/**
 * Probes: copies of a kernel program's intermediate buffers into extra
 * outputs, taken between kernels, so a backend's intermediate values can be
 * compared with the interpreter's without changing how the program computes
 * them. The program keeps its buffers, kernels and memory plan (arena
 * offsets) as they are; each probe is one copy kernel into a fresh output
 * buffer outside the arena, placed where the copied buffer is sure to hold
 * its value:
 *
 * - `after`: right after the last kernel that writes the buffer (its value is
 *   complete, and nothing has run since that could reuse its bytes);
 * - `before`: right before each kernel that reads it (the buffer is live
 *   there, so a correct plan still holds its value).
 *
 * A value that is right `after` its writer and wrong `before` a reader was
 * overwritten in between: a memory-plan fault. A value wrong `after` its
 * writer, whose inputs were right `before` it, was computed wrong by that kernel.
 */
import { E, type Kernel, type KernelProgram, kernelReads, kernelStores } from '@tessera/kernel';

/** One probe: which buffer it copies, around which kernel, and under which output of the probed program. */
export interface Probe {
  /** Output name of the copy in the probed program. */
  readonly output: string;
  /** The buffer copied (an index into the original program's buffers; the probed program keeps them). */
  readonly buffer: number;
  /** Index of the kernel in the original program that the probe follows (`after`) or precedes (`before`). */
  readonly kernel: number;
  readonly when: 'after' | 'before';
}

/** A kernel program with probes, and the probes in the order they run. */
export interface ProbedProgram {
  readonly program: KernelProgram;
  readonly probes: readonly Probe[];
}

/**
 * Adds probes of the buffers `watch` selects (buffers a kernel writes: temporaries
 * and outputs) after their last writer and before each reader, in launch order.
 */
export function insertProbes(p: KernelProgram, watch: (buffer: number) => boolean): ProbedProgram {
  const lastWriter = new Map<number, number>();
  p.kernels.forEach((k, i) => {
    for (const s of kernelStores(k)) lastWriter.set(s.buffer, i);
  });
  const taken = new Set(p.outputs.map((o) => o.name));
  const buffers = [...p.buffers];
  const kernels: Kernel[] = [];
  const outputs = [...p.outputs];
  const probes: Probe[] = [];
  const probe = (buffer: number, kernel: number, when: Probe['when']) => {
    const decl = p.buffers[buffer]!;
    let output = `probe.${probes.length}`;
    while (taken.has(output)) output = `_${output}`;
    const copy = buffers.push({ name: output, dtype: decl.dtype, shape: [decl.size], size: decl.size, role: 'output' }) - 1;
    const dense = { offset: 0, strides: [1] };
    kernels.push({ kind: 'map', name: `probe${probes.length}`, shape: [decl.size], stores: [{ buffer: copy, map: dense, value: E.load(decl.dtype, buffer, dense) }] });
    outputs.push({ name: output, buffer: copy });
    probes.push({ output, buffer, kernel, when });
  };
  p.kernels.forEach((k, i) => {
    // Only buffers complete by now: every kernel that writes them has run.
    for (const b of kernelReads(k)) if ((lastWriter.get(b) ?? i) < i && watch(b)) probe(b, i, 'before');
    kernels.push(k);
    for (const [b, last] of lastWriter) if (last === i && watch(b)) probe(b, i, 'after');
  });
  return { program: { ...p, buffers, kernels, outputs }, probes };
}
