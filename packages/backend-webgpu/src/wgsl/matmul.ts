import { numel } from '@tessera/ir';
import { emitSplitKMatmul, splitKMatmulFits } from './matmul-splitk.ts';
import { MATMUL_TILINGS, emitTiledBody, splitKFactor, tiledStorageBytes, tiledTiling } from './matmul-tiled.ts';
import { emitTextureMatmul, textureMatmulFits } from './matmul-texture.ts';
import { type KernelShader, type MatmulVariant, type ShaderModuleBuilder, type WgslTarget, entryHead, gridFor, kernelBindings } from './module.ts';
import { emitHook, emitStores, emitVec4Hook } from './stores.ts';
import { emitReadA } from './window.ts';
import { type MatmulKernel, nextPow2 } from './util.ts';
import { WgslWriter, decomposeIndex } from './writer.ts';

export { MATMUL_TILINGS, type MatmulTiling, SPLIT_K_TARGET_GROUPS, splitKFactor } from './matmul-tiled.ts';

/** Multiply-adds from which the register variant uses its full 16x16 block. */
export const REGISTER_BIG_WORK = 1 << 22;

/**
 * The matmul algorithm, from a table over adapter and shape (as tfjs's
 * BatchMatMul picks its program), with the target's override first. On CPU
 * adapters (llvmpipe) register blocking without workgroup memory measured
 * about 7x faster than shared-memory tiling, and 4x faster again with the
 * operands staged in textures (see matmul-texture.ts); on GPUs tiling wins.
 * Tiny products (fewer outputs than one register tile has invocations) use
 * one invocation per output. The texture variant falls back to `register`
 * where an operand does not fit the device's largest texture. Where tiling
 * would leave the GPU short of workgroups (splitKFactor) the K axis is
 * split; the split-K variant falls back to `tiled` where it cannot run
 * (`splitKFits`: a convolution's window, non-f32 operands, partial sums
 * past the largest texture).
 */
export function chooseMatmulVariant(m: number, n: number, k: number, target: WgslTarget, textureFits = true, batch = 1, splitKFits = true): MatmulVariant {
  const fallback = (v: MatmulVariant): MatmulVariant => (v === 'texture' && !textureFits ? 'register' : v === 'splitk' && !splitKFits ? 'tiled' : v);
  if (target.matmul) return fallback(target.matmul);
  if (m * n < 256 || k < 4) return 'naive';
  if (target.cpu) return fallback('texture');
  const t = target.tiledTiling ?? MATMUL_TILINGS.tiled;
  if (t.wx * t.wy > target.maxInvocationsPerWorkgroup || tiledStorageBytes(t) > target.maxWorkgroupStorageSize) return 'register';
  return target.splitK !== false && splitKFactor(m, n, k, batch, t, false) > 1 ? fallback('splitk') : 'tiled';
}

/** Matmul as a template: readA/readB prologue hooks and a store epilogue around the chosen inner algorithm. */
export function emitMatmul(k: MatmulKernel, mb: ShaderModuleBuilder): KernelShader {
  const nb = k.batch.length;
  const rank = nb + 3;
  const variant = chooseMatmulVariant(k.m, k.n, k.k, mb.target, textureMatmulFits(k, mb.target.maxTextureDimension2D), numel(k.batch), splitKMatmulFits(k, mb.target));
  // The epilogue: the stores at (batch, i, j) with `acc` bound.
  const ew = new WgslWriter(1);
  emitStores(ew, mb, k.stores, 'e');
  const params = Array.from({ length: rank }, (_, a) => `${mb.names.axis(a)}: i32`);
  mb.declare(`fn write_c(${[...params, `${mb.names.ref('acc')}: f32`].join(', ')}) {`, ew.toString(), '}');
  if (variant === 'texture') return emitTextureMatmul(k, mb);
  if (variant === 'splitk') return emitSplitKMatmul(k, mb);
  let { tm, tn, wx, wy } = variant === 'tiled' ? tiledTiling(mb.target) : MATMUL_TILINGS[variant];
  if (variant === 'register') {
    // The 16x16 block compiles slowly on llvmpipe (about 2 s: 64 vec4 accumulators): small products take 4x8.
    if (k.m * k.n * k.k < REGISTER_BIG_WORK) [tm, tn] = [4, 8];
    // Fewer rows or columns than a tile: shrink it rather than compute clamped copies.
    tm = Math.min(tm, nextPow2(k.m));
    wx = Math.max(8, Math.min(wx, nextPow2(Math.ceil(k.n / tn))));
  }
  const names = mb.names;
  emitReadA(mb, k);
  emitHook(mb, 'read_b', k.readB, rank);

  const tileM = tm * wy;
  const tileN = tn * wx;
  const tilesM = Math.ceil(k.m / tileM);
  const tilesN = Math.ceil(k.n / tileN);
  const groups = numel(k.batch) * tilesM * tilesN;
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const wgSize = wx * wy;
  const w = new WgslWriter(1);
  // Uniform: depends on the workgroup id only (the tiled variant has barriers after it).
  if (grid[0] * grid[1] !== groups) w.line(`if (wg >= ${groups}i) { return; }`);
  w.line(`let tn = wg % ${tilesN}i;`, `let tm = (wg / ${tilesN}i) % ${tilesM}i;`, `let bflat = wg / ${tilesM * tilesN}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  const batchArgs = k.batch.map((_, a) => names.axis(a));
  const at = (i: string, j: string, p: string) => [...batchArgs, i, j, p].join(', ');
  const R = Array.from({ length: tm }, (_, r) => r);
  const vec4Buffers = new Set<number>();
  if (variant === 'register') {
    const written = new Set(k.stores.map((st) => st.buffer));
    // A windowed A is never one plain load along p: four window reads.
    emitVec4Hook(mb, 'read_a', k.window ? undefined : k.readA, nb + 2, rank, undefined, written, vec4Buffers);
    emitVec4Hook(mb, 'read_b', k.readB, nb + 1, rank, k.n - 1, written, vec4Buffers);
    const C = Array.from({ length: tn / 4 }, (_, c) => c);
    const k4 = k.k - (k.k % 4);
    // Rows depend on the workgroup only: every lane reads the same A elements.
    w.line(`let ib = tm * ${tm}i;`, `let jb = (tn * ${wx}i + i32(lid)) * ${tn}i;`);
    for (const r of R) w.line(`let i${r} = min(ib + ${r}i, ${k.m - 1}i);`);
    for (const c of C) w.line(`let j${c} = jb + ${4 * c}i;`);
    for (const r of R) w.line(C.map((c) => `var c${r}_${c} = vec4<f32>(0.0f);`).join(' '));
    if (k4 > 0) {
      w.block(`for (var p = 0i; p < ${k4}i; p += 4i)`, () => {
        for (const q of [0, 1, 2, 3]) w.line(C.map((c) => `let y${q}_${c} = read_b4(${at('0i', `j${c}`, q ? `p + ${q}i` : 'p')});`).join(' '));
        for (const r of R) {
          w.line(`let x${r} = read_a4(${at(`i${r}`, '0i', 'p')});`);
          w.line(C.map((c) => `c${r}_${c} += x${r}.x * y0_${c} + x${r}.y * y1_${c} + x${r}.z * y2_${c} + x${r}.w * y3_${c};`).join(' '));
        }
      });
    }
    if (k4 < k.k) {
      w.block(`for (var p = ${k4}i; p < ${k.k}i; p++)`, () => {
        w.line(C.map((c) => `let y${c} = read_b4(${at('0i', `j${c}`, 'p')});`).join(' '));
        for (const r of R) w.line(`let x${r} = read_a(${at(`i${r}`, '0i', 'p')});`, C.map((c) => `c${r}_${c} += x${r} * y${c};`).join(' '));
      });
    }
    // One epilogue call site per row (a loop over its columns) keeps the shader small: llvmpipe compiles every call inline.
    for (const r of R) {
      w.block(`if (ib + ${r}i < ${k.m}i)`, () => {
        w.line(`let row = array<vec4<f32>, ${C.length}>(${C.map((c) => `c${r}_${c}`).join(', ')});`);
        w.block(`for (var q = 0i; q < ${tn}i; q++)`, () => {
          w.line(`if (jb + q < ${k.n}i) { write_c(${at(`ib + ${r}i`, 'jb + q', '0i')}, row[q >> 2u][q & 3i]); }`);
        });
      });
    }
  } else if (variant === 'tiled') {
    emitTiledBody(w, k, mb, { tm, tn, wx, wy }, at);
  } else {
    // naive: one output per invocation. Rows and columns past the edge read the last valid one (results discarded).
    w.line(`let lx = i32(lid) % ${wx}i;`, `let ly = i32(lid) / ${wx}i;`);
    w.line(`let ib = tm * ${tileM}i + ly * ${tm}i;`, `let jb = tn * ${tileN}i + lx * ${tn}i;`);
    const C = Array.from({ length: tn }, (_, c) => c);
    for (const r of R) for (const c of C) w.line(`var c${r}_${c} = 0.0f;`);
    for (const r of R) w.line(`let i${r} = min(ib + ${r}i, ${k.m - 1}i);`);
    for (const c of C) w.line(`let j${c} = min(jb + ${c}i, ${k.n - 1}i);`);
    w.block(`for (var p = 0i; p < ${k.k}i; p++)`, () => {
      for (const r of R) w.line(`let x${r} = read_a(${at(`i${r}`, '0i', 'p')});`);
      for (const c of C) w.line(`let y${c} = read_b(${at('0i', `j${c}`, 'p')});`);
      for (const r of R) w.line(C.map((c) => `c${r}_${c} += x${r} * y${c};`).join(' '));
    });
    for (const r of R) {
      for (const c of C) {
        w.line(`if (ib + ${r}i < ${k.m}i && jb + ${c}i < ${k.n}i) { write_c(${at(`ib + ${r}i`, `jb + ${c}i`, '0i')}, c${r}_${c}); }`);
      }
    }
  }
  const bindings = [...kernelBindings(k), ...[...vec4Buffers].map((buffer) => ({ buffer, access: 'read' as const, vec4: true }))];
  const label = `matmul:${variant} ${tm}x${tn}/${wx}x${wy}${vec4Buffers.size ? ` vec4 loads of ${[...vec4Buffers].map((b) => names.buffer(b)).join(', ')}` : ''}`;
  const wgsl = mb.assemble(label, bindings, `${entryHead(wgSize, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'matmul', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: wgSize };
}
