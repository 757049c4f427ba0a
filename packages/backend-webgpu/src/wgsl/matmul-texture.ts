import { numel } from '@tessera/ir';
import { type Expr, loadedBuffers } from '@tessera/kernel';
import { defaultNames } from './expr.ts';
import { FAULTS_BUFFER, hasGather } from './faults.ts';
import { type KernelShader, type Prepass, type ShaderBinding, type ShaderTexture, ShaderModuleBuilder, entryHead, gridFor, kernelBindings } from './module.ts';
import { emitHook } from './stores.ts';
import { windowReader } from './window.ts';
import { type MatmulKernel, nextPow2 } from './util.ts';
import { WgslWriter, decomposeIndex } from './writer.ts';

/**
 * The texture matmul, for CPU adapters. llvmpipe turns every storage-buffer
 * load into a loop over the SIMD lanes with a branch per lane, while
 * textureLoad goes through its vectorised texel fetch: on (197,768,3072) the
 * same register-blocked kernel measured 3.1 GFLOP/s reading buffers and 12.6
 * reading textures (GPU time, 2 vCPUs). So each operand is first packed by
 * a prepass, through its prologue hook, into an rgba32float texture: A as
 * one texel row per matrix row (texel p4 = A[i, 4p4 .. 4p4+3]), B as one
 * texel row per k (texel j4 = B[p, 4j4 .. 4j4+3]); k is padded to a multiple
 * of four and the columns of B to whole texels with zeros, so the inner loop
 * has no tail and no bounds checks. A prepass that reads only parameters and
 * constants (B is usually a weight) runs only when they change.
 *
 * A convolution (a kernel with a window) stages only B: staging its A would
 * copy the image once per kernel tap (an im2col texture), so A is read in
 * place through the window (read_a), four depth steps at a time, zero past k.
 */

/** Per invocation: TM rows x TN columns (TN/4 texels); a workgroup of up to WX invocations side by side along the columns, sharing rows. */
const BIG = { tm: 16, tn: 16 } as const;
/** Products below this many multiply-adds take SMALL: the 16x16 block costs about 2 s of llvmpipe compile time per shader. */
const BIG_WORK = 1 << 22;
const SMALL = { tm: 8, tn: 8 } as const;
const MAX_WX = 64;
const PACK_WORKGROUP = 64;

/** Extents of the two staging textures; undefined where either passes the device's largest texture. */
function textureShapes(k: MatmulKernel, maxDim: number): { a: [number, number]; b: [number, number]; k4: number; n4: number } | undefined {
  const batch = numel(k.batch);
  const k4 = Math.ceil(k.k / 4);
  const n4 = Math.ceil(k.n / 4);
  const a: [number, number] = [k4, batch * k.m];
  const b: [number, number] = [n4, batch * 4 * k4];
  return Math.max(...a, ...b) <= maxDim ? { a, b, k4, n4 } : undefined;
}

/** Whether the texture matmul can run this kernel within the device's texture size (f32 operands only). */
export function textureMatmulFits(k: MatmulKernel, maxTextureDimension2D: number): boolean {
  return k.readA.dtype === 'f32' && k.readB.dtype === 'f32' && textureShapes(k, maxTextureDimension2D) !== undefined;
}

/** Whether an expression reads only parameter and constant buffers (its value changes only when parameters do). */
function readsOnlyParams(e: Expr, mb: ShaderModuleBuilder): boolean {
  const read = new Set<number>();
  loadedBuffers(e, read);
  return [...read].every((b) => mb.buffers[b]!.role === 'param' || mb.buffers[b]!.role === 'const');
}

/**
 * A prepass writing texture `texture` (width x height texels): texel (x, y)
 * holds `hook` at the four positions `texel` names, zero outside the matrix.
 */
function emitPack(k: MatmulKernel, mb: ShaderModuleBuilder, which: 'a' | 'b', texture: number, width: number, height: number, rowsPerBatch: number, paramsOnly: boolean): Prepass {
  const pm = new ShaderModuleBuilder(k, mb.buffers, mb.target, defaultNames(mb.names.faults));
  const names = pm.names;
  const nb = k.batch.length;
  const rank = nb + 3;
  const hook = which === 'a' ? k.readA : k.readB;
  emitHook(pm, `read_${which}`, hook, rank);
  const total = width * height;
  const groups = Math.ceil(total / PACK_WORKGROUP);
  const grid = gridFor(groups, pm.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  w.line(`let g = wg * ${PACK_WORKGROUP}i + i32(lid);`, `if (g >= ${total}i) { return; }`);
  w.line(`let x = g % ${width}i;`, `let y = g / ${width}i;`, `let r = y % ${rowsPerBatch}i;`, `let bflat = y / ${rowsPerBatch}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  const batchArgs = k.batch.map((_, a) => names.axis(a));
  // A: (i = r, p = 4x + q). B: (p = r, j = 4x + q). Indices past the edge are clamped for the call and the value zeroed.
  const [innerExtent, outerExtent] = which === 'a' ? [k.k, k.m] : [k.n, k.k];
  const lanes = [0, 1, 2, 3].map((q) => {
    const pos = q ? `x * 4i + ${q}i` : 'x * 4i';
    const clamped = `min(${pos}, ${innerExtent - 1}i)`;
    const outer = `min(r, ${outerExtent - 1}i)`;
    const args = which === 'a' ? [...batchArgs, outer, '0i', clamped] : [...batchArgs, '0i', clamped, outer];
    return `select(0.0f, read_${which}(${args.join(', ')}), ${pos} < ${innerExtent}i && r < ${outerExtent}i)`;
  });
  w.line(`textureStore(tex${texture}, vec2<i32>(x, y), vec4<f32>(${lanes.join(', ')}));`);
  const read = new Set<number>();
  loadedBuffers(hook, read);
  const faults: ShaderBinding[] = hasGather(hook) ? [{ buffer: FAULTS_BUFFER, access: 'read_write' }] : [];
  const bindings: ShaderBinding[] = [...[...read].sort((x, y) => x - y).map((buffer) => ({ buffer, access: 'read' as const })), ...faults, { texture, access: 'write' }];
  const label = `matmul:texture pack ${which.toUpperCase()}`;
  const wgsl = pm.assemble(label, bindings, `${entryHead(PACK_WORKGROUP, grid)}\n${w}\n}`);
  return { name: `${k.name}.pack_${which}`, kind: 'matmul', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: PACK_WORKGROUP, paramsOnly };
}

/** The texture matmul: two pack prepasses, then the register-blocked product over the textures with the store epilogue `write_c` (declared by the caller in `mb`). */
export function emitTextureMatmul(k: MatmulKernel, mb: ShaderModuleBuilder): KernelShader {
  const shapes = textureShapes(k, mb.target.maxTextureDimension2D);
  if (!shapes) throw new Error(`matmul ${k.name}: operands do not fit a texture (check textureMatmulFits first)`);
  const { k4, n4 } = shapes;
  const kp = 4 * k4;
  const names = mb.names;
  let { tm, tn }: { tm: number; tn: number } = k.m * k.n * k.k >= BIG_WORK ? BIG : SMALL;
  tm = Math.min(tm, nextPow2(k.m));
  const wx = Math.max(8, Math.min(MAX_WX, nextPow2(Math.ceil(k.n / tn))));
  // An operand read from parameters and constants only (B is usually a weight) is packed when they change and kept in
  // a texture of its own; the others are packed every run into staging textures kernels may share.
  const aFromParams = readsOnlyParams(k.readA, mb);
  const bFromParams = readsOnlyParams(k.readB, mb);
  const textures: ShaderTexture[] = [
    { label: `${k.name}: A`, width: shapes.a[0], height: shapes.a[1], shared: !aFromParams },
    { label: `${k.name}: B`, width: shapes.b[0], height: shapes.b[1], shared: !bFromParams },
  ];
  const windowed = k.window !== undefined;
  // A through the window: no A prepass, and texture 0 is never bound (so never made); B keeps index 1.
  const prepasses = [...(windowed ? [] : [emitPack(k, mb, 'a', 0, shapes.a[0], shapes.a[1], k.m, aFromParams)]), emitPack(k, mb, 'b', 1, shapes.b[0], shapes.b[1], kp, bFromParams)];
  const window = windowed ? windowReader(mb, k) : undefined;

  const tilesM = Math.ceil(k.m / tm);
  const tilesN = Math.ceil(k.n / (tn * wx));
  const groups = numel(k.batch) * tilesM * tilesN;
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const batchArgs = k.batch.map((_, a) => names.axis(a));
  const at = (i: string, j: string) => [...batchArgs, i, j, '0i'].join(', ');
  const R = Array.from({ length: tm }, (_, r) => r);
  const C = Array.from({ length: tn / 4 }, (_, c) => c);
  const w = new WgslWriter(1);
  if (grid[0] * grid[1] !== groups) w.line(`if (wg >= ${groups}i) { return; }`);
  w.line(`let tn = wg % ${tilesN}i;`, `let tm = (wg / ${tilesN}i) % ${tilesM}i;`, `let bflat = wg / ${tilesM * tilesN}i;`);
  decomposeIndex(w, 'bflat', k.batch, names.axis);
  // Rows depend on the workgroup only; columns past the edge read the last texel (their results are discarded).
  w.line(`let ib = tm * ${tm}i;`, `let jb = (tn * ${wx}i + i32(lid)) * ${tn}i;`, `let rb = bflat * ${kp}i;`);
  for (const r of R) w.line(windowed ? `let ra${r} = min(ib + ${r}i, ${k.m - 1}i);` : `let ra${r} = bflat * ${k.m}i + min(ib + ${r}i, ${k.m - 1}i);`);
  for (const c of C) w.line(`let tc${c} = min(jb / 4i + ${c}i, ${n4 - 1}i);`);
  // A through the window: each row's window origin once, here.
  if (window) for (const r of R) window.row(w, `ra${r}`, `o${r}`);
  for (const r of R) w.line(C.map((c) => `var c${r}_${c} = vec4<f32>(0.0f);`).join(' '));
  w.block(`for (var p4 = 0i; p4 < ${k4}i; p4++)`, () => {
    w.line('let pb = rb + p4 * 4i;');
    for (const q of [0, 1, 2, 3]) w.line(C.map((c) => `let y${q}_${c} = textureLoad(tex1, vec2<i32>(tc${c}, pb${q ? ` + ${q}i` : ''}), 0);`).join(' '));
    // The four taps of this depth step, shared by every row.
    if (window) for (const q of [0, 1, 2, 3]) window.tap(w, q ? `p4 * 4i + ${q}i` : 'p4 * 4i', `t${q}`);
    for (const r of R) {
      const a = window ? `vec4<f32>(${[0, 1, 2, 3].map((q) => window.read(`o${r}`, `t${q}`)).join(', ')})` : `textureLoad(tex0, vec2<i32>(p4, ra${r}), 0)`;
      w.line(`let x${r} = ${a};`);
      w.line(C.map((c) => `c${r}_${c} += x${r}.x * y0_${c} + x${r}.y * y1_${c} + x${r}.z * y2_${c} + x${r}.w * y3_${c};`).join(' '));
    }
  });
  // One epilogue call site per row (a loop over its columns) keeps the shader small: llvmpipe compiles every call inline.
  for (const r of R) {
    w.block(`if (ib + ${r}i < ${k.m}i)`, () => {
      w.line(`let row = array<vec4<f32>, ${C.length}>(${C.map((c) => `c${r}_${c}`).join(', ')});`);
      w.block(`for (var q = 0i; q < ${tn}i; q++)`, () => {
        w.line(`if (jb + q < ${k.n}i) { write_c(${at(`ib + ${r}i`, 'jb + q')}, row[q >> 2u][q & 3i]); }`);
      });
    });
  }
  // Every buffer of the kernel stays bound (the epilogue may read any of them); the operands come from the textures.
  const bindings: ShaderBinding[] = [...kernelBindings(k), ...(windowed ? [] : [{ texture: 0, access: 'sampled' } as const]), { texture: 1, access: 'sampled' }];
  const label = `matmul:texture ${tm}x${tn}/${wx}`;
  const wgsl = mb.assemble(label, bindings, `${entryHead(wx, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'matmul', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: wx, textures, prepasses };
}
