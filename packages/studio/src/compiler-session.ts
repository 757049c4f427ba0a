/**
 * What the compiler view shows of one program: the state before and after
 * each pass of the pipeline, the kernel program, its WGSL, its memory plan,
 * per-kernel times on a backend, and the backends compared with the
 * interpreter (the report `tessera compare` prints).
 */
import { type Executable, type TensorData, compile } from '@tessera/compiler';
import { type Program, assertVerified } from '@tessera/ir';
import { type KernelProgram, type KernelTiming, type Lifetime, lifetimes, printKernelProgram } from '@tessera/kernel';
import { type Instrument, type PipelineState, compileProgram, printState } from '@tessera/passes';
import { defaultThreads, emitWasmProgram } from '@tessera/backend-cpu';
import { DEFAULT_TARGET, emitProgramShaders, printProgramShaders } from '@tessera/backend-webgpu';
import { graphPicture, inlineSvg, renderSvg, toDot } from '@tessera/viz';
import { type CompareReport, compareBackends, modelInputsFor } from '@tessera/harness/compare';
import type { ModelBackend } from './vit-session.ts';

/** The program before and after one pass. */
export interface PassStep {
  readonly index: number;
  readonly name: string;
  readonly summary: string;
  readonly ms: number;
  readonly changed: boolean;
  readonly before: PipelineState;
  readonly after: PipelineState;
}

/** The compiled program as the view shows it. */
export interface CompiledView {
  readonly steps: readonly PassStep[];
  readonly kernels: KernelProgram;
  readonly kernelText: string;
  readonly wgsl: string;
  /** Each temporary's kernels [first, last] and bytes, with its arena offset. */
  readonly plan: readonly (Lifetime & { readonly offset: number; readonly name: string })[];
}

/** Verifies `program` (pasted text is parsed, not yet checked) and runs the pass pipeline on it, keeping the printed state around every pass. */
export function compileForView(program: Program): CompiledView {
  assertVerified(program);
  const steps: PassStep[] = [];
  const record: Instrument = {
    afterPass: ({ index, pass, before, after, ms, changed }) => steps.push({ index, name: pass.name, summary: pass.summary, ms, changed, before, after }),
  };
  const { kernels } = compileProgram(program, { instruments: [record] });
  const plan = lifetimes(kernels).map((l) => ({ ...l, offset: kernels.buffers[l.buffer]!.arenaOffset ?? 0, name: kernels.buffers[l.buffer]!.name }));
  return { steps, kernels, kernelText: printKernelProgram(kernels), wgsl: printProgramShaders(emitProgramShaders(kernels, DEFAULT_TARGET)), plan };
}

/** A pipeline state as IR text: the kernel program once lowered, else the graph. */
export const stateText = printState;

/** A pipeline state as an SVG picture (Graphviz): the graph, with the kernels as clusters once lowered; `after` names the pass for its title. */
export async function stateSvg(state: PipelineState, after: string): Promise<string> {
  return inlineSvg(await renderSvg(toDot(graphPicture(state.graph, state.kernels, { after }))));
}

/** The WebAssembly module the cpu backend runs for `kernels` in this page (its threads), as WAT, each kernel's function named by the kernel. */
export async function kernelsWat(kernels: KernelProgram): Promise<string> {
  // WABT is large: loaded when a WAT is first asked for.
  const { wasmToWat } = await import('@tessera/viz/wat');
  const wasm = emitWasmProgram(kernels, { threads: globalThis.crossOriginIsolated ? await defaultThreads() : 1 });
  const names = new Map(wasm.kernels.flatMap((k) => (k.kind === 'wasm' ? [[k.exportName, k.name] as const] : [])));
  return wasmToWat(wasm.bytes, { functionNames: names });
}

/** An executable that can time its kernels (cpu's and webgpu's). */
type Profiled = Executable & { profile(inputs: Readonly<Record<string, unknown>>): Promise<KernelTiming[]> };

/** Times each kernel of one run of `program` on `backend` (after one untimed run, which warms pipelines and workers). */
export async function profileKernels(program: Program, backend: ModelBackend, given: Readonly<Record<string, TensorData>>): Promise<KernelTiming[]> {
  const inputs = modelInputsFor(program, 1, given);
  const exe = await compile(program, { backend });
  try {
    if (!('profile' in exe)) throw new Error(`the ${backend} executable cannot time its kernels`);
    await exe.run(inputs);
    return await (exe as Profiled).profile(inputs);
  } finally {
    exe.dispose();
  }
}

/** The backends the compare panel runs against the interpreter. */
export const COMPARED = ['cpu', 'webgpu'] as const;

/** Compares cpu and webgpu with the interpreter on `program` (given inputs, the rest drawn), as `tessera compare` does. */
export function compareInPage(program: Program, given: Readonly<Record<string, TensorData>>): Promise<CompareReport> {
  return compareBackends(program, { backends: COMPARED, inputs: given });
}
