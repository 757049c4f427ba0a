/**
 * A GraphPicture as Graphviz DOT: each repeated layer a cluster (classed
 * `layer pattern-X`), each kernel a cluster inside it (classed `kernel
 * KIND`) around the graph nodes it computes, views and unlowered nodes
 * loose in their layer. Element ids and classes carry through to the SVG,
 * so a page or a test can find every layer, kernel and value by them.
 */
import type { GraphPicture, PictureKernel, PictureValue } from './graph-picture.ts';

/** Fill colours of kernel clusters by kind (also the HTML legend's). */
export const KERNEL_COLORS: Readonly<Record<PictureKernel['kind'], string>> = {
  matmul: '#dbe9f8',
  attention: '#fde3c8',
  reduce: '#dcefd8',
  map: '#ece0f3',
};

/** Border colours of layer clusters, by pattern letter (cycled). */
const LAYER_COLORS = ['#1f5fa8', '#a8531f', '#2e7d32', '#6a1b9a', '#00838f', '#ad1457'];

/** Quotes a DOT string (ids, labels, attributes). */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The id of a value's node in the DOT and the SVG. */
export const valueId = (name: string) => `value-${name}`;
/** The id of a kernel's cluster in the SVG. */
export const kernelId = (name: string) => `kernel-${name}`;
/** The id of a layer's cluster in the SVG. */
export const layerId = (module: string) => `layer-${module}`;

const baseName = (loc: string) => loc.slice(loc.lastIndexOf('/') + 1);
const leaf = (path: string) => path.slice(path.lastIndexOf('.') + 1);
const within = (module: string, scope: string) => (scope === '' ? module : module === scope ? '' : module.startsWith(`${scope}.`) ? module.slice(scope.length + 1) : module);

/** A value's label: `%name op`, its type, its module (relative to the layer drawn around it) and source line, the parameters it reads. */
function valueLabel(v: PictureValue, scope: string): string {
  const head = v.op === 'input' ? `${v.name} (input)` : `%${v.name} ${v.op}`;
  const where = [within(v.module, scope), v.loc ? baseName(v.loc) : ''].filter((s) => s !== '').join(' · ');
  const lines = [head, v.type];
  if (where) lines.push(where);
  if (v.params.length) lines.push(`← ${v.params.map(leaf).join(', ')}`);
  return lines.join('\n');
}

function valueTooltip(v: PictureValue): string {
  const lines = [`%${v.name} = ${v.op} : ${v.type}`, `module: ${v.module || '(root)'}`];
  if (v.loc) lines.push(`at ${v.loc}`);
  if (v.params.length) lines.push(`reads ${v.params.join(', ')}`);
  if (v.kernels.length) lines.push(`${v.stored ? 'stored' : 'computed inline'} by ${v.kernels.join(', ')}`);
  else if (v.role === 'view') lines.push('a view: folded into the index maps of its consumers');
  return lines.join('\n');
}

function valueStyle(v: PictureValue): string {
  if (v.role === 'input') return 'shape=ellipse, style=filled, fillcolor="#fff8c4"';
  if (v.role === 'view') return 'style="rounded,dashed", color="#888888", fontcolor="#555555"';
  if (v.role === 'kernel' && v.stored) return 'style="rounded,filled,bold", fillcolor="#ffffff"';
  if (v.role === 'kernel') return 'style="rounded,filled", fillcolor="#ffffff", color="#777777"';
  return 'style="rounded,filled", fillcolor="#ffffff"';
}

/** Options of toDot. */
export interface DotOptions {
  /** Layout direction (default TB: inputs at the top). */
  readonly rankdir?: 'TB' | 'LR';
}

/** The DOT text of a picture. */
export function toDot(p: GraphPicture, options: DotOptions = {}): string {
  const values = new Map(p.values.map((v) => [v.name, v]));
  const kernels = new Map(p.kernels.map((k) => [k.name, k]));
  const out: string[] = [];
  const title = `@${p.program}${p.after ? ` after ${p.after}` : ''}: ${p.values.length} values${p.kernels.length ? `, ${p.kernels.length} kernels` : ''}${p.layers.length ? `, ${p.layers.length} repeated layers` : ''}`;
  out.push(`digraph ${dotString(p.program)} {`);
  out.push(`  graph [rankdir=${options.rankdir ?? 'TB'}, label=${dotString(title)}, labelloc=t, fontname="Helvetica", fontsize=14, nodesep=0.25, ranksep=0.3, newrank=true];`);
  // Graphviz sizes boxes by Helvetica's metrics; a browser may draw a wider sans-serif, so the margins leave room.
  out.push('  node [shape=box, fontname="Helvetica", fontsize=9, margin="0.16,0.04", height=0.3];');
  out.push('  edge [color="#555555", arrowsize=0.6];');
  const indent = (d: number) => '  '.repeat(d);
  const again: [string, string][] = [];
  const drawValue = (name: string, scope: string, depth: number) => {
    const v = values.get(name)!;
    out.push(`${indent(depth)}${dotString(name)} [id=${dotString(valueId(name))}, class=${dotString(`value ${v.role}`)}, label=${dotString(valueLabel(v, scope))}, tooltip=${dotString(valueTooltip(v))}, ${valueStyle(v)}];`);
  };
  const drawKernel = (name: string, scope: string, depth: number) => {
    const k = kernels.get(name)!;
    const where = within(k.module, scope);
    out.push(`${indent(depth)}subgraph ${dotString(`cluster_${kernelId(name)}`)} {`);
    out.push(`${indent(depth + 1)}id=${dotString(kernelId(name))}; class=${dotString(`kernel ${k.kind}`)}; label=${dotString(`${name}${where ? ` · ${where}` : ''}`)}; tooltip=${dotString(`kernel ${name} (${k.kind}) in ${k.module || '(root)'}: computes ${k.computes.map((n) => `%${n}`).join(' ')}`)};`);
    out.push(`${indent(depth + 1)}style="rounded,filled"; fillcolor=${dotString(KERNEL_COLORS[k.kind])}; color="#666666"; fontcolor="#222222"; fontsize=10; labeljust=l;`);
    for (const n of k.values) drawValue(n, scope, depth + 1);
    // A kernel that computes only values drawn in an earlier one (one part of a concat, a recomputed mask) still gets a box to show it.
    if (k.values.length === 0) {
      const computed = k.computes.map((n) => `%${n}`).join(' ');
      out.push(`${indent(depth + 1)}${dotString(`again:${name}`)} [id=${dotString(`again-${name}`)}, class="again", label=${dotString(`${computed} (again)`)}, tooltip=${dotString(`${name} also computes ${computed}, drawn in ${values.get(k.computes[0]!)?.kernels[0] ?? 'another kernel'}`)}, style="rounded,dashed", color="#888888", fontcolor="#555555"];`);
      again.push([`again:${name}`, k.computes[0]!]);
    }
    out.push(`${indent(depth)}}`);
  };
  p.layers.forEach((l, i) => {
    const color = LAYER_COLORS[(l.pattern.charCodeAt(0) - 65) % LAYER_COLORS.length]!;
    const same = p.layers.filter((o) => o.pattern === l.pattern).length;
    out.push(`  subgraph ${dotString(`cluster_layer_${i}`)} {`);
    out.push(`    id=${dotString(layerId(l.module))}; class=${dotString(`layer pattern-${l.pattern}`)}; label=${dotString(`${l.module}  [layer ${l.pattern}, one of ${same} alike]`)};`);
    out.push(`    style="rounded,bold"; color=${dotString(color)}; fontcolor=${dotString(color)}; fontsize=12; labeljust=l; penwidth=2;`);
    for (const k of l.kernels) drawKernel(k, l.module, 2);
    for (const v of l.values) drawValue(v, l.module, 2);
    out.push('  }');
  });
  for (const k of p.topKernels) drawKernel(k, '', 1);
  for (const v of p.topValues) drawValue(v, '', 1);
  for (const o of p.outputs) {
    out.push(`  ${dotString(`output:${o.name}`)} [id=${dotString(`output-${o.name}`)}, class="output", label=${dotString(`${o.name} (output)`)}, shape=ellipse, style=filled, fillcolor="#fff8c4"];`);
    out.push(`  ${dotString(o.value)} -> ${dotString(`output:${o.name}`)};`);
  }
  for (const [from, to] of p.edges) out.push(`  ${dotString(from)} -> ${dotString(to)};`);
  for (const [from, to] of again) out.push(`  ${dotString(from)} -> ${dotString(to)} [style=dashed, arrowhead=none, color="#888888"];`);
  out.push('}');
  return `${out.join('\n')}\n`;
}
