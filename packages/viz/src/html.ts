/**
 * A self-contained HTML page around a picture's SVG: the picture, a legend
 * of what each colour and border means, and a table of the repeated
 * layers. No script, font or style sheet is fetched: it opens offline.
 */
import { KERNEL_COLORS } from './dot.ts';
import type { GraphPicture } from './graph-picture.ts';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The SVG element of a Graphviz SVG document (its XML declaration and doctype dropped, for inlining in HTML). */
export function inlineSvg(svg: string): string {
  const at = svg.indexOf('<svg');
  return at < 0 ? svg : svg.slice(at);
}

/** Counts of a picture, for its page. */
function summary(p: GraphPicture): string[] {
  const kinds = new Map<string, number>();
  for (const k of p.kernels) kinds.set(k.kind, (kinds.get(k.kind) ?? 0) + 1);
  const views = p.values.filter((v) => v.role === 'view').length;
  const lines = [`${p.values.length} values (${p.values.filter((v) => v.role === 'input').length} inputs${p.kernels.length ? `, ${views} views` : ''})`];
  if (p.kernels.length) lines.push(`${p.kernels.length} kernels: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
  return lines;
}

/** The page: title, legend, layer table, then the picture. */
export function htmlPage(svg: string, p: GraphPicture): string {
  const title = `@${p.program}${p.after ? ` after ${p.after}` : ''}`;
  const patterns = new Map<string, { count: number; kernels: number; values: number; first: string }>();
  for (const l of p.layers) {
    const e = patterns.get(l.pattern) ?? { count: 0, kernels: l.kernels.length, values: l.values.length, first: l.module };
    e.count++;
    patterns.set(l.pattern, e);
  }
  const legend = [
    ...Object.entries(KERNEL_COLORS).map(([kind, color]) => `<li><span class="swatch" style="background:${color}"></span>${kind} kernel (a cluster: the graph nodes one kernel computes)</li>`),
    '<li><span class="swatch node bold"></span>a value the kernel stores to a buffer</li>',
    '<li><span class="swatch node thin"></span>a value computed inline (never stored)</li>',
    '<li><span class="swatch node dashed"></span>a view: folded into its consumers\' index maps, no kernel</li>',
    '<li><span class="swatch input"></span>program input or output</li>',
  ];
  const layerRows = [...patterns].map(([pattern, e]) => `<tr><td>${pattern}</td><td>${e.count}</td><td>${escapeHtml(e.first)}</td><td>${p.kernels.length ? e.kernels : e.values}</td></tr>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; }
.notes { display: flex; gap: 3em; flex-wrap: wrap; font-size: 0.9em; }
ul.legend { list-style: none; padding: 0; }
ul.legend li { margin: 0.25em 0; }
.swatch { display: inline-block; width: 1.4em; height: 0.9em; margin-right: 0.5em; vertical-align: middle; border: 1px solid #666; border-radius: 3px; }
.swatch.node { background: #fff; } .swatch.bold { border-width: 2px; } .swatch.thin { border-color: #777; } .swatch.dashed { border-style: dashed; border-color: #888; }
.swatch.input { background: #fff8c4; border-radius: 50%; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
.picture { overflow: auto; border-top: 1px solid #ccc; margin-top: 1em; padding-top: 1em; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="notes">
<div>
<p>${summary(p).map(escapeHtml).join('<br>')}</p>
<ul class="legend">
${legend.join('\n')}
</ul>
<p>Each node: <code>%name op</code>, its type, its module path (relative to its layer) and the model line it was traced at, the parameters it reads.
Module paths are inferred from the parameters' <code>state_dict</code> names. Hover a node or kernel for details.</p>
</div>
${patterns.size ? `<div>
<p>Repeated layers (outlined, one colour per structure):</p>
<table><tr><th>layer</th><th>instances</th><th>first</th><th>${p.kernels.length ? 'kernels each' : 'nodes each'}</th></tr>
${layerRows.join('\n')}
</table>
</div>` : ''}
</div>
<div class="picture">
${inlineSvg(svg)}
</div>
</body>
</html>
`;
}
