/**
 * @tessera/viz: pictures of Tessera programs. The graph IR (after any
 * pass) with its fused kernels as Graphviz DOT, SVG and a self-contained
 * HTML page; kernel profiles as Chrome traces named by module path. Imports
 * no Node built-in: the same functions run in a page. The WebAssembly text
 * of the CPU backend is `@tessera/viz/wat`.
 */
export { parameterModule, commonModule, nodeModules, kernelModule } from './module-paths.ts';
export { type GraphPicture, type GraphPictureOptions, type PictureValue, type PictureKernel, type PictureLayer, type ValueRole, graphPicture, findRepeatedModules } from './graph-picture.ts';
export { type DotOptions, KERNEL_COLORS, dotString, toDot, valueId, kernelId, layerId } from './dot.ts';
export { renderSvg } from './svg.ts';
export { htmlPage, inlineSvg } from './html.ts';
export { type ChromeTrace, type TraceEvent, type TraceInfo, chromeTrace } from './chrome-trace.ts';
