import { numel } from '@tessera/ir';
import { loadedBuffers } from '@tessera/kernel';
import { defaultNames } from './expr.ts';
import { FAULTS_BUFFER, hasGather } from './faults.ts';
import { TILE_K, emitTiledBody, splitKFactor, tiledTiling } from './matmul-tiled.ts';
import { type KernelShader, type Prepass, type ShaderBinding, ShaderModuleBuilder, type WgslTarget, entryHead, gridFor, kernelBindings } from './module.ts';
import { emitHook } from './stores.ts';
import { emitReadA } from './window.ts';
import type { MatmulKernel } from './util.ts';
import { WgslWriter, decomposeIndex } from './writer.ts';

/**
 * The split-K matmul (GPUs): where the output has few tiles (ViT-B's
 * (197,3072,768) has 48 of the tiled variant's 64x64, for 132 SMs on an
 * H100), the K axis is cut into S splits and a prepass runs the tiled
 * variant's body once per (tile, split), S times the workgroups, storing
 * each partial sum as rgba32float texels: texel (j/4, (batch * S + s) * M +
 * i) holds columns j .. j+3 of row i of split s. The kernel's own dispatch
 * then adds the S partial sums of each output, in split order, and applies
 * the store epilogue once (bias, activation, residual stay fused). The
 * partial-sum texture is rewritten every run, so kernels share one per size.
 */

/** Invocations per workgroup of the reduction. */
const REDUCE_WORKGROUP = 64;

/** Texels across and down the partial sums of a kernel split S ways. */
function partialShape(k: MatmulKernel, splits: number): [number, number] {
  return [Math.ceil(k.n / 4), numel(k.batch) * splits * k.m];
}

/** How many ways the kernel's K axis is split (forced or chosen: see splitKFactor). */
function splitsFor(k: MatmulKernel, target: WgslTarget): number {
  const t = tiledTiling(target);
  return splitKFactor(k.m, k.n, k.k, numel(k.batch), t, target.matmul === 'splitk');
}

/** Whether the split-K matmul can run this kernel: f32 operands read without a convolution window, partial sums within the device's largest texture. */
export function splitKMatmulFits(k: MatmulKernel, target: WgslTarget): boolean {
  if (k.window || k.readA.dtype !== 'f32' || k.readB.dtype !== 'f32') return false;
  try {
    return Math.max(...partialShape(k, splitsFor(k, target))) <= target.maxTextureDimension2D;
  } catch {
    // A tiled block the device cannot run: the tiled variant reports it.
    return false;
  }
}

/** The split-K matmul: the partial-sum prepass, then the reduction with the store epilogue `write_c` (declared by the caller in `mb`). */
export function emitSplitKMatmul(k: MatmulKernel, mb: ShaderModuleBuilder): KernelShader {
  const t = tiledTiling(mb.target);
  const splits = splitsFor(k, mb.target);
  const [width, height] = partialShape(k, splits);
  const names = mb.names;
  const batch = numel(k.batch);
  const batchArgs = k.batch.map((_, a) => names.axis(a));
  const at = (i: string, j: string, p: string) => [...batchArgs, i, j, p].join(', ');
  const prepass = emitPartialSums(k, mb, t, splits);

  const total = width * batch * k.m;
  const groups = Math.ceil(total / REDUCE_WORKGROUP);
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  w.line(`let g = wg * ${REDUCE_WORKGROUP}i + i32(lid);`, `if (g >= ${total}i) { return; }`);
  w.line(`let x = g % ${width}i;`, `let y = g / ${width}i;`, `let i = y % ${k.m}i;`, `let bflat = y / ${k.m}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  w.line('var acc = vec4<f32>(0.0f);');
  w.block(`for (var s = 0i; s < ${splits}i; s++)`, () => {
    w.line(`acc += textureLoad(tex0, vec2<i32>(x, (bflat * ${splits}i + s) * ${k.m}i + i), 0);`);
  });
  for (let q = 0; q < 4; q++) {
    const j = q ? `x * 4i + ${q}i` : 'x * 4i';
    w.line(`if (${j} < ${k.n}i) { write_c(${at('i', j, '0i')}, acc[${q}]); }`);
  }
  // Every buffer of the kernel stays bound (the epilogue may read any of them); the products come from the texture.
  const bindings: ShaderBinding[] = [...kernelBindings(k), { texture: 0, access: 'sampled' }];
  const label = `matmul:splitk ${splits} splits of ${t.tm}x${t.tn}/${t.wx}x${t.wy}`;
  const wgsl = mb.assemble(label, bindings, `${entryHead(REDUCE_WORKGROUP, grid)}\n${w}\n}`);
  return {
    name: k.name,
    kind: 'matmul',
    variant: label,
    wgsl,
    bindings,
    dispatch: grid,
    workgroupSize: REDUCE_WORKGROUP,
    textures: [{ label: `${k.name}: partial sums`, width, height, shared: true }],
    prepasses: [prepass],
  };
}

/** The prepass: the tiled body over K slices [s * depth, (s + 1) * depth) per workgroup, its sums stored to texture 0. */
function emitPartialSums(k: MatmulKernel, mb: ShaderModuleBuilder, t: ReturnType<typeof tiledTiling>, splits: number): Prepass {
  const pm = new ShaderModuleBuilder(k, mb.buffers, mb.target, defaultNames(mb.names.faults));
  const names = pm.names;
  const rank = k.batch.length + 3;
  emitReadA(pm, k);
  emitHook(pm, 'read_b', k.readB, rank);
  const tilesM = Math.ceil(k.m / (t.tm * t.wy));
  const tilesN = Math.ceil(k.n / (t.tn * t.wx));
  const tiles = numel(k.batch) * tilesM * tilesN;
  const groups = tiles * splits;
  // Whole TILE_K slices per split: no slice straddles two splits.
  const depth = Math.ceil(Math.ceil(k.k / TILE_K) / splits) * TILE_K;
  const grid = gridFor(groups, pm.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  // Uniform: depends on the workgroup id only (the body has barriers after it).
  if (grid[0] * grid[1] !== groups) w.line(`if (wg >= ${groups}i) { return; }`);
  w.line(`let s = wg / ${tiles}i;`, `let rest = wg % ${tiles}i;`);
  w.line(`let tn = rest % ${tilesN}i;`, `let tm = (rest / ${tilesN}i) % ${tilesM}i;`, `let bflat = rest / ${tilesM * tilesN}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  const at = (i: string, j: string, p: string) => [...k.batch.map((_, a) => names.axis(a)), i, j, p].join(', ');
  emitTiledBody(w, k, pm, t, at, {
    from: `s * ${depth}i`,
    to: `min(s * ${depth}i + ${depth}i, ${k.k}i)`,
    store: (r, g) => `if (ib + ${r}i < ${k.m}i && jb + ${4 * g}i < ${k.n}i) { textureStore(tex0, vec2<i32>(jb / 4i + ${g}i, (bflat * ${splits}i + s) * ${k.m}i + ib + ${r}i), c${r}_${g}); }`,
  });
  const read = new Set<number>();
  loadedBuffers(k.readA, read);
  loadedBuffers(k.readB, read);
  const faults: ShaderBinding[] = hasGather(k.readA) || hasGather(k.readB) ? [{ buffer: FAULTS_BUFFER, access: 'read_write' }] : [];
  const bindings: ShaderBinding[] = [...[...read].sort((x, y) => x - y).map((buffer) => ({ buffer, access: 'read' as const })), ...faults, { texture: 0, access: 'write' }];
  const label = `matmul:splitk partial sums, ${splits} splits of ${depth}`;
  const wgsl = pm.assemble(label, bindings, `${entryHead(t.wx * t.wy, grid)}\n${w}\n}`);
  return { name: `${k.name}.partial`, kind: 'matmul', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: t.wx * t.wy, paramsOnly: false };
}
