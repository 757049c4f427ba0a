/**
 * DOT to SVG with Graphviz compiled to WebAssembly (`@viz-js/viz`: one
 * ES module with the wasm inlined, so it loads the same in Node and in a
 * page). Loaded on first use, so DOT alone costs nothing.
 */
import { TesseraError } from '@tessera/ir';
import type { Viz } from '@viz-js/viz';

let graphviz: Promise<Viz> | undefined;

/** Lays out DOT text with Graphviz's `dot` engine and returns the SVG document; a DOT error is a TesseraError with Graphviz's messages. */
export async function renderSvg(dot: string): Promise<string> {
  graphviz ??= import('@viz-js/viz').then((m) => m.instance());
  const result = (await graphviz).render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') throw new TesseraError(`graphviz could not lay out the graph: ${result.errors.map((e) => e.message.trim()).join('; ')}`);
  return result.output;
}
