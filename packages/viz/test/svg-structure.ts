/** The clusters (or nodes) of a Graphviz SVG: id, classes and bounding box of the outline Graphviz drew (its polygon or rounded path). */
export interface SvgCluster {
  readonly id: string;
  readonly classes: readonly string[];
  readonly box: { x0: number; y0: number; x1: number; y1: number };
}

/** Text with the character references Graphviz writes (`&#45;` for '-') decoded. */
const decode = (s: string) => s.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))).replace(/&amp;/g, '&');

/** Every cluster group of `svg` (Graphviz writes clusters as flat `<g class="cluster ...">` siblings, the outline first); or every node group, with `what` 'node'. */
export function svgClusters(svg: string, what: 'cluster' | 'node' = 'cluster'): SvgCluster[] {
  const out: SvgCluster[] = [];
  for (const m of svg.matchAll(new RegExp(`<g id="([^"]+)" class="${what}([^"]*)">([\\s\\S]*?)<\\/g>`, 'g'))) {
    const ellipse = /<ellipse[^>]*cx="([^"]+)" cy="([^"]+)" rx="([^"]+)" ry="([^"]+)"/.exec(m[3]!);
    if (ellipse) {
      const [cx, cy, rx, ry] = ellipse.slice(1).map(Number) as [number, number, number, number];
      out.push({ id: decode(m[1]!), classes: decode(m[2]!).trim().split(/\s+/), box: { x0: cx - rx, y0: cy - ry, x1: cx + rx, y1: cy + ry } });
      continue;
    }
    const outline = /<(?:polygon[^>]*points|path[^>]*\sd)="([^"]+)"/.exec(m[3]!);
    if (!outline) throw new Error(`${what} ${m[1]} has no outline`);
    const xs: number[] = [];
    const ys: number[] = [];
    for (const p of outline[1]!.matchAll(/(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)/g)) {
      xs.push(Number(p[1]));
      ys.push(Number(p[2]));
    }
    out.push({ id: decode(m[1]!), classes: decode(m[2]!).trim().split(/\s+/), box: { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) } });
  }
  return out;
}
