import { type OpDef, type Program, assertVerified, decomposeProgram, getOp, isComposite, printProgram } from '@tessera/ir';
import { type KernelProgram, assertKernelProgram, printKernelProgram } from '@tessera/kernel';
import { canonicalize } from '../graph/canonicalize.ts';
import { lowerToKernels } from '../lower/lower.ts';
import { lowerRule } from '../lower/rules.ts';
import { planMemory } from '../memory/plan-memory.ts';

/** What the pipeline carries from pass to pass: the graph, and once lowered, the kernel program. */
export interface PipelineState {
  readonly graph: Program;
  readonly kernels?: KernelProgram;
}

/** One named pass of the pipeline. */
export interface Pass {
  readonly name: string;
  /** One line: what it does. */
  readonly summary: string;
  run(state: PipelineState): PipelineState;
}

/** What an instrument is told after each pass. */
export interface PassEvent {
  /** 1-based position in the pipeline. */
  readonly index: number;
  readonly pass: Pass;
  readonly before: PipelineState;
  readonly after: PipelineState;
  readonly ms: number;
  /** Whether the pass changed the IR it works on. */
  readonly changed: boolean;
}

/** Hooks around every pass (TVM's PassInstrument): verification, dumps, timing, statistics. */
export interface Instrument {
  beforePass?(pass: Pass, state: PipelineState, index: number): void;
  afterPass?(event: PassEvent): void;
}

/** Options of the default pipeline. */
export interface PipelineOptions {
  /** Composite ops the backend declines (decomposed into core ops) besides those the lowering has no kernel for; default none. */
  readonly decompose?: (def: OpDef) => boolean;
  /** Whether the lowering fuses (default true: the `fuse` pass runs); without it no composite has a kernel. */
  readonly fusion?: boolean;
  /** The backend's limit of buffers bound by one kernel (fusion stays under it). */
  readonly maxBuffersPerKernel?: number;
}

/** The pipeline's passes, in order. Lowering without fusion runs when `fuse` is disabled. */
export function defaultPasses(options: PipelineOptions = {}): Pass[] {
  return [
    { name: 'canonicalize', summary: 'constant folding, algebraic identities, CSE, DCE', run: (s) => ({ ...s, graph: canonicalize(s.graph) }) },
    {
      name: 'decompose-composites',
      summary: 'composites without a kernel (no template in the lowering, fusion off, or declined by the backend) become core ops',
      run: (s) => {
        const expand = (def: OpDef) => isComposite(def.name) && (options.fusion === false || lowerRule(def.name).kind === 'decompose' || (options.decompose?.(def) ?? false));
        return s.graph.nodes.some((n) => expand(getOp(n.op))) ? { ...s, graph: decomposeProgram(s.graph, expand) } : s;
      },
    },
    { name: 'fuse', summary: 'fusion plan and lowering to kernels (epilogues, row kernels, attention, folded masks, views)', run: (s) => ({ ...s, kernels: lowerToKernels(s.graph, { fusion: true, ...limit(options) }) }) },
    { name: 'plan-memory', summary: 'liveness, in-place reuse and one arena for temporaries', run: (s) => (s.kernels ? { ...s, kernels: planMemory(s.kernels) } : s) },
  ];
}

const limit = (o: PipelineOptions) => (o.maxBuffersPerKernel !== undefined ? { maxBuffersPerKernel: o.maxBuffersPerKernel } : {});

/** The fallback lowering when `fuse` is disabled: one kernel per core op. */
const unfusedLowering = (options: PipelineOptions): Pass => ({
  name: 'lower',
  summary: 'one kernel per core op (fusion disabled)',
  run: (s) => ({ ...s, kernels: lowerToKernels(s.graph, { fusion: false, ...limit(options) }) }),
});

/** The IR a state shows: the kernel program once lowered, else the graph. */
export function printState(s: PipelineState): string {
  return s.kernels ? `${printKernelProgram(s.kernels)}\n` : printProgram(s.graph);
}

/**
 * Runs passes in order around instruments. Disabled passes are skipped; if
 * no pass lowered the graph, the unfused lowering runs (before plan-memory),
 * so the result always has a kernel program. Unknown names in `disabled` are
 * an error listing the pass names.
 */
export function runPipeline(program: Program, passes: readonly Pass[], options: { instruments?: readonly Instrument[]; disabled?: readonly string[]; pipeline?: PipelineOptions } = {}): PipelineState {
  const disabled = new Set(options.disabled ?? []);
  const names = passes.map((p) => p.name);
  for (const d of disabled) if (!names.includes(d)) throw new Error(`unknown pass '${d}' (passes: ${names.join(', ')})`);
  const active = passes.filter((p) => !disabled.has(p.name));
  const planIndex = active.findIndex((p) => p.name === 'plan-memory');
  if (!active.some((p) => p.name === 'fuse')) active.splice(planIndex >= 0 ? planIndex : active.length, 0, unfusedLowering(options.pipeline ?? {}));
  const instruments = options.instruments ?? [];
  let state: PipelineState = { graph: program };
  active.forEach((pass, i) => {
    for (const ins of instruments) ins.beforePass?.(pass, state, i + 1);
    const t0 = performance.now();
    const after = pass.run(state);
    const ms = performance.now() - t0;
    const changed = after.kernels !== state.kernels || printProgram(after.graph) !== printProgram(state.graph);
    for (const ins of instruments) ins.afterPass?.({ index: i + 1, pass, before: state, after, ms, changed });
    state = after;
  });
  return state;
}

/** Verifies the IR after every pass (on in every test). */
export const verifyEach: Instrument = {
  afterPass({ after }) {
    assertVerified(after.graph);
    if (after.kernels) assertKernelProgram(after.kernels);
  },
};

/** Collects the time each pass took and whether it changed anything. */
export function timing(into: { name: string; ms: number; changed: boolean }[]): Instrument {
  return { afterPass: ({ pass, ms, changed }) => void into.push({ name: pass.name, ms, changed }) };
}
