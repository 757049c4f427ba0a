/**
 * Localising a disagreement: which kernel first computes (or loses) a value
 * the interpreter disagrees with. The backend runs the kernel program with
 * probes (probes.ts: copies of intermediate buffers between kernels, the
 * memory plan untouched); each probed buffer holds one graph value (buffers
 * are named after the graph values they hold), which the interpreter computes
 * too; the first probe, in launch order, that differs under the tolerance
 * policy names the kernel, the graph nodes it computes and their source lines.
 */
import { type Node, type Program, type RefTensor, type SourceLoc, byteSize, interpret, numel, toHost } from '@tessera/ir';
import { type Backend, type Kernel, type KernelProgram, kernelReads, kernelStores, type Outputs } from '@tessera/kernel';
import type { HostInputs } from '../inputs.ts';
import { roundingLeeway } from '../rounding-spread.ts';
import { type Comparison, compareClose, multiIndex } from '../tolerance.ts';
import { insertProbes } from './probes.ts';

/** A graph node as a report shows it: `%13 = add(%2, %12)` and where it came from. */
export interface NodeSite {
  readonly name: string;
  readonly op: string;
  readonly operands: readonly string[];
  /** The user's DSL call site, or the IR text line. */
  readonly loc?: SourceLoc;
}

/** A kernel of the program as a report names it. */
export interface KernelSite {
  /** Position in launch order. */
  readonly index: number;
  readonly name: string;
  readonly kind: Kernel['kind'];
  /** The graph nodes the kernel computes (inline or stored). */
  readonly nodes: readonly NodeSite[];
}

/** The first place where a backend's values leave the interpreter's. */
export interface Divergence {
  readonly backend: string;
  /**
   * `computed`: `kernel` wrote `value` wrong although the stored values it
   * read were right just before it ran. `overwritten`: `value` was right
   * after its writer but had changed before `reader` (then also `kernel`)
   * read it: some kernel between them wrote where it should not.
   */
  readonly cause: 'computed' | 'overwritten';
  readonly kernel: KernelSite;
  /** The graph value whose buffer differs. */
  readonly value: NodeSite;
  /** How it differs: the count of elements outside the tolerance, and the worst one. */
  readonly mismatch: string;
  /** With `overwritten`: the kernel that wrote `value` and the one about to read it. */
  readonly writer?: KernelSite;
  readonly reader?: KernelSite;
  /** Stored values `kernel` read, each right just before it ran (with `computed`). */
  readonly inputsMatched: readonly string[];
  /** With `computed`: where the kernel writes in place over what it reads (the memory plan's arena). */
  readonly arena: readonly string[];
}

/** The graph with every node's value as an output, `v<i>` for node i. */
function everyValue(graph: Program): Program {
  return { ...graph, outputs: graph.nodes.map((n, i) => ({ name: `v${i}`, value: n.name })) };
}

/** Every graph value the interpreter computes for `inputs`, by name (inputs included). */
export function interpretAll(graph: Program, inputs: HostInputs): Map<string, RefTensor> {
  const values = interpret(everyValue(graph), inputs);
  const all = new Map<string, RefTensor>();
  graph.nodes.forEach((n, i) => all.set(n.name, values[`v${i}`]!));
  return all;
}

/** The leeway of f32 rounding (roundingLeeway) at every graph value, by name. */
function leewayOfEveryValue(graph: Program, inputs: HostInputs, expected: ReadonlyMap<string, RefTensor>): { allowance: Map<string, Float64Array>; f32: Map<string, RefTensor> } {
  const byOutput = Object.fromEntries(graph.nodes.map((n, i) => [`v${i}`, expected.get(n.name)!]));
  const leeway = roundingLeeway(everyValue(graph), inputs, byOutput);
  const allowance = new Map(graph.nodes.flatMap((n, i) => (leeway.allowance[`v${i}`] ? [[n.name, leeway.allowance[`v${i}`]!] as const] : [])));
  return { allowance, f32: new Map(graph.nodes.map((n, i) => [n.name, leeway.f32[`v${i}`]!] as const)) };
}

/**
 * The graph value each written buffer holds: a temporary or output is named
 * after its value (`%13` holds node %13), an output copy `out.NAME` holds
 * output NAME's value. Buffers whose name or size matches no value are left out.
 */
export function bufferValues(p: KernelProgram, graph: Program): Map<number, string> {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n] as const));
  const outputs = new Map(graph.outputs.map((o) => [o.name, o.value] as const));
  const held = new Map<number, string>();
  p.buffers.forEach((b, i) => {
    if (b.role !== 'temp' && b.role !== 'output') return;
    const value = nodes.has(b.name) ? b.name : b.role === 'output' && b.name.startsWith('out.') ? outputs.get(b.name.slice(4)) : undefined;
    const node = value === undefined ? undefined : nodes.get(value);
    if (node && numel(node.type.shape) === b.size && node.type.dtype === b.dtype) held.set(i, node.name);
  });
  return held;
}

/** How a probed value differs, in one line: how many elements, and the worst. */
function mismatchLine(c: Comparison, shape: readonly number[]): string {
  const w = c.worst!;
  const g = (x: number) => String(Number(x.toPrecision(6)));
  return `${c.mismatches} of ${numel(shape)} elements differ; worst at ${multiIndex(w.index, shape)}: ${g(w.actual)}, expected ${g(w.expected)}`;
}

/** The byte range a temporary occupies in the arena, if the plan placed it there. */
function arenaRange(p: KernelProgram, b: number): [number, number] | undefined {
  const d = p.buffers[b]!;
  return d.arenaOffset === undefined ? undefined : [d.arenaOffset, d.arenaOffset + d.size * byteSize(d.dtype)];
}

const overlapping = (x: [number, number], y: [number, number]) => x[0] < y[1] && y[0] < x[1];
const showRange = (p: KernelProgram, b: number, r: [number, number]) => `%${p.buffers[b]!.name} [${r[0]}, ${r[1]})`;

/** Options of localiseDivergence. */
export interface LocaliseOptions {
  /** The canonical graph the kernel program was lowered from (compileProgram's `graph`). */
  readonly graph: Program;
  /** The kernel program, memory plan included, exactly as the backend runs it. */
  readonly kernels: KernelProgram;
  readonly backend: Backend;
  /** Values of every program input (activations and weights). */
  readonly inputs: HostInputs;
  /** The tolerance policy's L (the program's longest reduction). */
  readonly reductionLength: number;
}

/**
 * Runs the kernel program with probes on the backend and returns the first
 * divergence from the interpreter, or undefined when every probed value
 * agrees (the outputs then differ only after the last kernel).
 */
export async function localiseDivergence(o: LocaliseOptions): Promise<Divergence | undefined> {
  const { graph, kernels: p } = o;
  const held = bufferValues(p, graph);
  const { program, probes } = insertProbes(p, (b) => held.has(b));
  const exe = await o.backend.compile(program);
  let actual: Outputs;
  try {
    actual = await exe.run(o.inputs);
  } finally {
    exe.dispose();
  }
  const expected = interpretAll(graph, o.inputs);
  const nodes = new Map<string, Node>(graph.nodes.map((n) => [n.name, n] as const));
  const site = (name: string): NodeSite => {
    const n = nodes.get(name)!;
    return { name, op: n.op, operands: n.operands, ...(n.loc ? { loc: n.loc } : {}) };
  };
  const kernelSite = (index: number): KernelSite => {
    const k = p.kernels[index]!;
    return { index, name: k.name, kind: k.kind, nodes: (k.nodes ?? []).filter((n) => nodes.has(n)).map(site) };
  };
  const verdicts = new Map<string, boolean>();
  let leeway: ReturnType<typeof leewayOfEveryValue> | undefined;
  for (const probe of probes) {
    const value = held.get(probe.buffer)!;
    const ref = expected.get(value)!;
    const options = { dtype: ref.type.dtype, reductionLength: o.reductionLength };
    let c = compareClose(actual[probe.output]!.data, toHost(ref), options);
    // As for the outputs: a value outside the policy is compared again with the leeway of f32 rounding up to it.
    if (!c.ok && !c.lengths) {
      leeway ??= leewayOfEveryValue(graph, o.inputs, expected);
      const allowance = leeway.allowance.get(value);
      c = compareClose(actual[probe.output]!.data, toHost(ref), { ...options, ...(allowance ? { allowance } : {}), alternative: toHost(leeway.f32.get(value)!) });
    }
    verdicts.set(`${probe.when}:${probe.kernel}:${probe.buffer}`, c.ok);
    if (c.ok) continue;
    const base = { backend: o.backend.name, value: site(value), mismatch: mismatchLine(c, ref.type.shape) };
    if (probe.when === 'after') {
      const k = p.kernels[probe.kernel]!;
      const inputsMatched = [...kernelReads(k)].filter((b) => held.has(b) && verdicts.get(`before:${probe.kernel}:${b}`)).map((b) => held.get(b)!);
      return { ...base, cause: 'computed', kernel: kernelSite(probe.kernel), inputsMatched, arena: inPlaceOverlaps(p, k) };
    }
    // Backends verify memory plans, so no planned temporary shares its bytes while live: a stray write (a code-generation fault) changed it.
    return { ...base, cause: 'overwritten', kernel: kernelSite(probe.kernel), writer: kernelSite(lastWriterBefore(p, probe.buffer, probe.kernel)), reader: kernelSite(probe.kernel), inputsMatched: [], arena: [] };
  }
  return undefined;
}

/**
 * Where what a kernel stores shares arena bytes with what it reads: in place
 * (right only when each element is read before it is written, so a hint
 * when such a kernel computes wrong values). The plan verifier rejects any
 * other sharing, but a partial overlap is named if one gets through.
 */
function inPlaceOverlaps(p: KernelProgram, k: Kernel): string[] {
  const notes: string[] = [];
  const read = kernelReads(k);
  for (const s of new Set(kernelStores(k).map((x) => x.buffer))) {
    const out = arenaRange(p, s);
    if (!out) continue;
    for (const r of read) {
      const inp = arenaRange(p, r);
      if (r === s || !inp || !overlapping(out, inp)) continue;
      const how = inp[0] === out[0] && inp[1] === out[1] ? 'is written in place over' : 'partly overlaps';
      notes.push(`memory plan: ${showRange(p, s, out)} ${how} ${showRange(p, r, inp)}, which ${k.name} reads`);
    }
  }
  return notes;
}

/** The last kernel before `reader` that writes buffer `b`. */
function lastWriterBefore(p: KernelProgram, b: number, reader: number): number {
  for (let i = reader - 1; i >= 0; i--) if (kernelStores(p.kernels[i]!).some((s) => s.buffer === b)) return i;
  return reader;
}
