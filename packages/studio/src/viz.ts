/**
 * Graph pictures (DOT/SVG) and the WebAssembly text of the cpu kernels,
 * from the compiler's viz API: the one place the studio asks for them.
 * Until that API is merged it reports that it is missing, and the panels
 * say so.
 */

/** Why graph pictures and WAT cannot be shown yet, or undefined when they can. */
export const VIZ_MISSING: string | undefined = 'needs the graph drawing and WAT printer API (issue 15, "viz"): not merged into the studio yet';
