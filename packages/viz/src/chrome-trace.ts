/**
 * A kernel profile as a Chrome trace (the Trace Event Format that
 * chrome://tracing and Perfetto load): one complete event per kernel run,
 * named by the module path the kernel computes
 * (`encoder.layers.encoder_layer_3.mlp.0`), with the kernel's name, kind,
 * variant and graph nodes as its arguments.
 */
import type { Program } from '@tessera/ir';
import type { KernelProgram, KernelTiming } from '@tessera/kernel';
import { kernelModule, nodeModules } from './module-paths.ts';

/** One event of the Trace Event Format (complete `X` events and metadata `M` events are all this writes). */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  /** Start, in microseconds. */
  readonly ts: number;
  /** Duration, in microseconds (complete events). */
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** A trace file: JSON Object Format. */
export interface ChromeTrace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: 'ms';
  readonly otherData: Readonly<Record<string, string>>;
}

/** What the trace says about where it ran. */
export interface TraceInfo {
  /** Backend name and what ran, e.g. `cpu (wasm, 2 threads)` or `webgpu (llvmpipe)`. */
  readonly backend: string;
}

/**
 * The trace of one profiled run. Kernels run one after another (each ends
 * at a barrier), so each event starts where the one before ended: the
 * profile measures durations, not the gaps between kernels. A WebGPU
 * prepass (`k3_matmul.pack_b`) is named by its kernel's module and its own
 * suffix.
 */
export function chromeTrace(timings: readonly KernelTiming[], kernels: KernelProgram, graph: Program, info: TraceInfo): ChromeTrace {
  const modules = nodeModules(graph);
  const byName = new Map(kernels.kernels.map((k) => [k.name, k]));
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 1, ts: 0, args: { name: `tessera ${info.backend}: @${graph.name}` } },
    { name: 'thread_name', ph: 'M', pid: 1, tid: 1, ts: 0, args: { name: 'kernels' } },
  ];
  let ts = 0;
  for (const t of timings) {
    const dot = t.name.indexOf('.');
    const kernelName = dot < 0 ? t.name : t.name.slice(0, dot);
    const k = byName.get(kernelName);
    const module = k ? kernelModule(k, kernels, modules) : '';
    const name = `${module || `@${graph.name}`}${dot < 0 ? '' : ` (${t.name.slice(dot + 1)})`}`;
    const dur = t.ms * 1000;
    events.push({
      name,
      cat: t.kind,
      ph: 'X',
      pid: 1,
      tid: 1,
      ts,
      dur,
      args: { kernel: t.name, kind: t.kind, variant: t.variant, method: t.method, module, nodes: (k?.nodes ?? []).map((n) => `%${n}`).join(' '), ...(t.dispatch ? { dispatch: t.dispatch.join('x') } : {}) },
    });
    ts += dur;
  }
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { program: graph.name, backend: info.backend, timing: 'each kernel measured alone; events placed end to end' } };
}
