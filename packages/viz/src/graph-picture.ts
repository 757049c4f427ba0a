/**
 * What a picture of a program shows, as plain data: the graph's values
 * (op, type, module path, source line, the parameters each reads), the
 * edges between them, the kernels that compute them (once the program is
 * lowered) and the repeated layers they fall into. `toDot` draws it; tests
 * and the studio can read it directly.
 */
import { type Program, formatLoc, formatType } from '@tessera/ir';
import { type Kernel, type KernelProgram, kernelStores } from '@tessera/kernel';
import { kernelModule, nodeModules } from './module-paths.ts';

/** How a value is computed: an activation input, a node some kernel computes, or a node no kernel lists (a view folded into index maps, or a graph not yet lowered). */
export type ValueRole = 'input' | 'kernel' | 'view' | 'graph';

/** One value of the graph (parameters are not drawn: each node lists those it reads). */
export interface PictureValue {
  readonly name: string;
  /** The op, or `input`. */
  readonly op: string;
  /** The formatted tensor type, e.g. `f32[1,197,768]`. */
  readonly type: string;
  /** Module path (inferred from parameter names, see module-paths.ts). */
  readonly module: string;
  /** `file:line:col` of the DSL call or IR line it came from. */
  readonly loc?: string;
  /** The parameters it reads, by full name. */
  readonly params: readonly string[];
  readonly role: ValueRole;
  /** Whether a kernel stores it to a buffer (false: computed inline by its consumer). */
  readonly stored: boolean;
  /** The kernels that compute it (a cheap value may be recomputed by several; drawn in the first). */
  readonly kernels: readonly string[];
}

/** One kernel of a lowered program: the values it computes, the first of which it is drawn with. */
export interface PictureKernel {
  readonly name: string;
  readonly kind: Kernel['kind'];
  readonly module: string;
  /** The values drawn inside it (those it is the first kernel of). */
  readonly values: readonly string[];
  /** Every value it computes, inline or stored. */
  readonly computes: readonly string[];
}

/** A module repeated with the same structure (a layer of an encoder): drawn as one cluster per instance. */
export interface PictureLayer {
  readonly module: string;
  /** The same letter for layers of the same structure (A, B, ...). */
  readonly pattern: string;
  /** The kernels inside it, in launch order (none before lowering). */
  readonly kernels: readonly string[];
  /** The values inside it not drawn in a kernel (views, or every value before lowering). */
  readonly values: readonly string[];
}

/** A picture of a program after some pass. */
export interface GraphPicture {
  readonly program: string;
  /** The pass after which it was taken (for the title), if known. */
  readonly after?: string;
  readonly values: readonly PictureValue[];
  /** Data edges from operand to consumer (parameters left out). */
  readonly edges: readonly (readonly [string, string])[];
  readonly kernels: readonly PictureKernel[];
  readonly layers: readonly PictureLayer[];
  /** Values outside every layer and not drawn in a kernel. */
  readonly topValues: readonly string[];
  /** Kernels outside every layer. */
  readonly topKernels: readonly string[];
  /** Program outputs: name and value. */
  readonly outputs: readonly { readonly name: string; readonly value: string }[];
}

/** Options of graphPicture. */
export interface GraphPictureOptions {
  /** The pass the state comes after, shown in the title. */
  readonly after?: string;
}

const isWithin = (module: string, layer: string) => module === layer || module.startsWith(`${layer}.`);
const relative = (module: string, layer: string) => (module === layer ? '' : module.slice(layer.length + 1));

/** The picture of `graph`, with the kernels of `kernels` (its lowering) as clusters when given. */
export function graphPicture(graph: Program, kernels?: KernelProgram, options: GraphPictureOptions = {}): GraphPicture {
  const modules = nodeModules(graph);
  const params = new Set(graph.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name));
  const computedBy = new Map<string, string[]>();
  const stored = new Set<string>();
  for (const k of kernels?.kernels ?? []) {
    for (const n of k.nodes ?? []) computedBy.set(n, [...(computedBy.get(n) ?? []), k.name]);
    for (const s of kernelStores(k)) stored.add(kernels!.buffers[s.buffer]!.name);
  }
  const values: PictureValue[] = [];
  for (const i of graph.inputs) {
    if (i.kind === 'parameter') continue;
    values.push({ name: i.name, op: 'input', type: formatType(i.type), module: '', ...(i.loc ? { loc: formatLoc(i.loc) } : {}), params: [], role: 'input', stored: true, kernels: [] });
  }
  for (const n of graph.nodes) {
    const by = computedBy.get(n.name) ?? [];
    const role: ValueRole = by.length ? 'kernel' : kernels ? 'view' : 'graph';
    values.push({
      name: n.name,
      op: n.op,
      type: formatType(n.type),
      module: modules.get(n.name) ?? '',
      ...(n.loc ? { loc: formatLoc(n.loc) } : {}),
      params: n.operands.filter((o) => params.has(o)),
      role,
      stored: by.length > 0 && stored.has(n.name),
      kernels: by,
    });
  }
  const edges = graph.nodes.flatMap((n) => [...new Set(n.operands)].filter((o) => !params.has(o)).map((o) => [o, n.name] as const));

  const drawnIn = new Map<string, string>();
  for (const v of values) if (v.kernels.length) drawnIn.set(v.name, v.kernels[0]!);
  const pictureKernels: PictureKernel[] = (kernels?.kernels ?? []).map((k) => ({
    name: k.name,
    kind: k.kind,
    module: kernelModule(k, kernels!, modules),
    values: (k.nodes ?? []).filter((n) => drawnIn.get(n) === k.name),
    computes: k.nodes ?? [],
  }));

  // What repeats is the sequence of kernels (or, before lowering, of nodes) under a module.
  const valueOf = new Map(values.map((v) => [v.name, v]));
  const units = kernels
    ? pictureKernels.map((k) => ({ module: k.module, signature: `${k.kind}(${k.computes.map((n) => `${valueOf.get(n)?.op}:${valueOf.get(n)?.type}`).join(',')})` }))
    : values.filter((v) => v.role !== 'input').map((v) => ({ module: v.module, signature: `${v.op}:${v.type}` }));
  const layerPaths = findRepeatedModules(units);
  const layerOf = (module: string) => layerPaths.find((l) => isWithin(module, l.module));
  const layers = layerPaths.map((l) => ({ ...l, kernels: [] as string[], values: [] as string[] }));
  const byModule = new Map(layers.map((l) => [l.module, l]));
  const topKernels: string[] = [];
  const topValues: string[] = [];
  for (const k of pictureKernels) {
    const l = layerOf(k.module);
    (l ? byModule.get(l.module)!.kernels : topKernels).push(k.name);
  }
  for (const v of values) {
    if (drawnIn.has(v.name)) continue;
    const l = layerOf(v.module);
    (l ? byModule.get(l.module)!.values : topValues).push(v.name);
  }
  return {
    program: graph.name,
    ...(options.after !== undefined ? { after: options.after } : {}),
    values,
    edges,
    kernels: pictureKernels,
    layers,
    topValues,
    topKernels,
    outputs: graph.outputs.map((o) => ({ name: o.name, value: o.value })),
  };
}

/**
 * The repeated modules among units (kernels or nodes) placed in modules:
 * sibling modules (children of one parent) whose units have the same
 * structure, relative paths included, at least two of them with at least
 * two units each. The outermost such modules are taken (the layers of an
 * encoder, not the linears inside each); a letter names each structure.
 */
export function findRepeatedModules(units: readonly { readonly module: string; readonly signature: string }[]): { module: string; pattern: string }[] {
  const children = new Map<string, string[]>();
  const addPath = (m: string) => {
    const parts = m.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const child = parts.slice(0, i).join('.');
      const parent = parts.slice(0, i - 1).join('.');
      const list = children.get(parent) ?? [];
      if (!list.includes(child)) list.push(child);
      children.set(parent, list);
    }
  };
  for (const u of units) if (u.module) addPath(u.module);
  const signature = (m: string) => {
    const inside = units.filter((u) => isWithin(u.module, m));
    return { count: inside.length, text: inside.map((u) => `${relative(u.module, m)}|${u.signature}`).join(';') };
  };
  const found: { module: string; pattern: string }[] = [];
  const patterns = new Map<string, string>();
  const queue = [''];
  while (queue.length) {
    const parent = queue.shift()!;
    const kids = children.get(parent) ?? [];
    const buckets = new Map<string, string[]>();
    for (const k of kids) {
      const s = signature(k);
      if (s.count < 2) continue;
      buckets.set(s.text, [...(buckets.get(s.text) ?? []), k]);
    }
    const repeated = new Set<string>();
    for (const [text, mods] of buckets) {
      if (mods.length < 2) continue;
      if (!patterns.has(text)) patterns.set(text, String.fromCharCode(65 + (patterns.size % 26)));
      for (const m of mods) repeated.add(m);
      for (const m of mods) found.push({ module: m, pattern: patterns.get(text)! });
    }
    for (const k of kids) if (!repeated.has(k)) queue.push(k);
  }
  // In the order the program reaches them.
  const firstUnit = (m: string) => units.findIndex((u) => isWithin(u.module, m));
  return found.sort((a, b) => firstUnit(a.module) - firstUnit(b.module));
}
