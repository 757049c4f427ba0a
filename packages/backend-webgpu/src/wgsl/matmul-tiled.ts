/**
 * The shared-memory tiled matmul body (GPUs), used by the tiled variant
 * whole and by the split-K variant per K range; its block (tiling), and
 * how many ways split-K cuts K.
 */
import { type Expr, walkExpr } from '@tessera/kernel';
import { type MatmulVariant, type ShaderModuleBuilder, type WgslTarget, WgslLimitError } from './module.ts';
import type { MatmulKernel } from './util.ts';
import type { WgslWriter } from './writer.ts';


/** Shape of a register-blocked or tiled matmul: each invocation computes tm x tn outputs; a workgroup is wx x wy invocations. */
export interface MatmulTiling {
  readonly tm: number;
  readonly tn: number;
  readonly wx: number;
  readonly wy: number;
}

/**
 * Tilings per variant. `register`: 16 rows x 16 columns (four vec4) per
 * invocation, a workgroup of up to 64 invocations side by side along the
 * columns, so every invocation of a workgroup reads the same rows of A
 * (uniform addresses); measured best on llvmpipe of 4x4 (8x8 invocations),
 * 8x4, 8x8, 8x16, 4x32, 12x8, 16x4, 16x8, 16x16, 24x4, 32x4 and 32x8. `tiled`: the classic 64x64 tile of 16x16 invocations.
 */
export const MATMUL_TILINGS: Readonly<Record<Exclude<MatmulVariant, 'texture' | 'splitk'>, MatmulTiling>> = {
  register: { tm: 16, tn: 16, wx: 64, wy: 1 },
  tiled: { tm: 4, tn: 4, wx: 16, wy: 16 },
  naive: { tm: 1, tn: 1, wx: 64, wy: 1 },
};

/** The tiled variant's block: the target's tuning override (checked against the device's limits) or the default. */
export function tiledTiling(target: WgslTarget): MatmulTiling {
  const t = target.tiledTiling ?? MATMUL_TILINGS.tiled;
  const storage = tiledStorageBytes(t);
  if (t.tm % 4 || t.tn % 4 || t.tm < 4 || t.tn < 4) throw new WgslLimitError(`tiled matmul block ${t.tm}x${t.tn}: tm and tn must be multiples of 4`);
  if (t.wx * t.wy > target.maxInvocationsPerWorkgroup || storage > target.maxWorkgroupStorageSize) {
    throw new WgslLimitError(`tiled matmul block ${t.tm}x${t.tn}/${t.wx}x${t.wy} needs ${t.wx * t.wy} invocations and ${storage} bytes of workgroup memory; the device allows ${target.maxInvocationsPerWorkgroup} and ${target.maxWorkgroupStorageSize}`);
  }
  return t;
}

/** Workgroup memory of the tiled variant: K slices of A and B, k-major rows padded by one vec4. */
export const tiledStorageBytes = (t: MatmulTiling) => TILE_K * (t.tm * t.wy + 4 + t.tn * t.wx + 4) * 4;

/** Depth of the K slice the tiled variant stages in workgroup memory. */
export const TILE_K = 16;

/**
 * Workgroups a GPU needs to be busy: WebGPU does not say how many cores an
 * adapter has, so this is sized for the largest (an H100 has 132 SMs, and
 * the tiled block of 256 invocations fits one to two per SM at once).
 */
export const SPLIT_K_TARGET_GROUPS = 192;

/** Fewest K steps each split gets (shorter splits spend more on the partial sums than they save). */
const SPLIT_K_MIN_DEPTH = 8 * TILE_K;

/**
 * Splits of the K axis for the tiled block `t`: enough that the output's
 * tiles times the splits reach SPLIT_K_TARGET_GROUPS, each at least
 * SPLIT_K_MIN_DEPTH deep; 1 (no split) where the tiles are at least half
 * the target already. `forced` (the variant was asked for): at least 2
 * wherever K has two slices of TILE_K, at most one split per slice.
 */
export function splitKFactor(m: number, n: number, k: number, batch: number, t: MatmulTiling, forced: boolean): number {
  const tiles = batch * Math.ceil(m / (t.tm * t.wy)) * Math.ceil(n / (t.tn * t.wx));
  const slices = Math.ceil(k / TILE_K);
  if (forced) return Math.max(1, Math.min(slices, Math.max(2, Math.ceil(SPLIT_K_TARGET_GROUPS / tiles))));
  if (2 * tiles > SPLIT_K_TARGET_GROUPS) return 1;
  return Math.max(1, Math.min(Math.ceil(SPLIT_K_TARGET_GROUPS / tiles), Math.floor(k / SPLIT_K_MIN_DEPTH)));
}

/**
 * Whether an operand hook reads memory contiguous along the K axis `pAxis`
 * (its loads have stride 1 there): A in row-major order, or a Linear
 * layer's [out, in] weight read transposed as B. Staging then walks k
 * fastest across invocations, so neighbouring invocations load neighbouring
 * addresses (coalesced); otherwise it walks the other axis fastest.
 */
function contiguousAlongK(e: Expr, pAxis: number): boolean {
  let unit = 0;
  let other = 0;
  walkExpr(e, (x) => {
    if (x.k !== 'load' || x.indirect) return;
    if (x.map.strides[pAxis] === 1) unit++;
    else other++;
  });
  return unit > other;
}

/**
 * The tiled variant's body (GPUs): per K slice of TILE_K, the workgroup
 * stages a tileM x TILE_K block of A and a TILE_K x tileN block of B through
 * the hooks into workgroup memory (zero outside the matrices), stored k-major
 * as vec4s so each invocation reads its tm rows and tn columns with tm/4 and
 * tn/4 vector loads per k (a quarter of the scalar loads: workgroup-memory
 * bandwidth, not arithmetic, bounds this kernel), and accumulates tm rows
 * of tn/4 vec4s. Staging walks whichever axis the operand is contiguous
 * along fastest (coalesced global loads); the k-major rows are padded by
 * one vec4 so that k-fastest stores spread over the memory banks.
 */
export function emitTiledBody(w: WgslWriter, k: MatmulKernel, mb: ShaderModuleBuilder, t: MatmulTiling, at: (i: string, j: string, p: string) => string, part?: TiledPart): void {
  const { tm, tn, wx, wy } = t;
  const tileM = tm * wy;
  const tileN = tn * wx;
  const wgSize = wx * wy;
  const nb = k.batch.length;
  const R = Array.from({ length: tm }, (_, r) => r);
  const CA = Array.from({ length: tm / 4 }, (_, g) => g);
  const CB = Array.from({ length: tn / 4 }, (_, g) => g);
  const strideA = tileM + 4;
  const strideB = tileN + 4;
  const half = halfPrecision(mb);
  // f16: tiles hold f16 (half the workgroup memory traffic), each K slice is multiplied and summed in f16 (s<r>_<g>), and the slices' sums in f32.
  const elem = half ? 'h' : 'f32';
  const stage = half ? 'to_h' : '';
  mb.declare(`var<workgroup> tile_a: array<vec4<${elem}>, ${(TILE_K * strideA) / 4}>;`, `var<workgroup> tile_b: array<vec4<${elem}>, ${(TILE_K * strideB) / 4}>;`);
  w.line(`let lx = i32(lid) % ${wx}i;`, `let ly = i32(lid) / ${wx}i;`);
  w.line(`let ib = tm * ${tileM}i + ly * ${tm}i;`, `let jb = tn * ${tileN}i + lx * ${tn}i;`);
  for (const r of R) w.line(CB.map((g) => `var c${r}_${g} = vec4<f32>(0.0f);`).join(' '));
  // (outer, k) of staging element e: k fastest when the operand is contiguous along k.
  const split = (extent: number, kFast: boolean) => (kFast ? [`e / ${TILE_K}i`, `e % ${TILE_K}i`] : [`e % ${extent}i`, `e / ${extent}i`]);
  w.block(`for (var p0 = ${part?.from ?? '0i'}; p0 < ${part?.to ?? `${k.k}i`}; p0 += ${TILE_K}i)`, () => {
    const [ia, pa] = split(tileM, contiguousAlongK(k.readA, nb + 2));
    w.block(`for (var e = i32(lid); e < ${tileM * TILE_K}i; e += ${wgSize}i)`, () => {
      w.line(`let ii = ${ia};`, `let pp = ${pa};`, `let gi = tm * ${tileM}i + ii;`, 'let gp = p0 + pp;', `let at_a = pp * ${strideA}i + ii;`);
      w.line(`tile_a[at_a >> 2u][at_a & 3i] = ${stage}(select(0.0f, read_a(${at(`min(gi, ${k.m - 1}i)`, '0i', `min(gp, ${k.k - 1}i)`)}), gi < ${k.m}i && gp < ${k.k}i));`);
    });
    const [jb, pb] = split(tileN, contiguousAlongK(k.readB, nb + 2));
    w.block(`for (var e = i32(lid); e < ${tileN * TILE_K}i; e += ${wgSize}i)`, () => {
      w.line(`let jj = ${jb};`, `let pp = ${pb};`, `let gj = tn * ${tileN}i + jj;`, 'let gp = p0 + pp;', `let at_b = pp * ${strideB}i + jj;`);
      w.line(`tile_b[at_b >> 2u][at_b & 3i] = ${stage}(select(0.0f, read_b(${at('0i', `min(gj, ${k.n - 1}i)`, `min(gp, ${k.k - 1}i)`)}), gj < ${k.n}i && gp < ${k.k}i));`);
    });
    w.line('workgroupBarrier();');
    const acc = half ? 's' : 'c';
    if (half) for (const r of R) w.line(CB.map((g) => `var s${r}_${g} = vec4<h>(h(0.0));`).join(' '));
    w.block(`for (var pp = 0i; pp < ${TILE_K}i; pp++)`, () => {
      for (const g of CA) w.line(`let x${g} = tile_a[pp * ${strideA / 4}i + ly * ${tm / 4}i + ${g}i];`);
      for (const g of CB) w.line(`let y${g} = tile_b[pp * ${strideB / 4}i + lx * ${tn / 4}i + ${g}i];`);
      for (const r of R) {
        const mad = (g: number) => (half === 'f16-emulated' ? `s${r}_${g} = to_h4(s${r}_${g} + to_h4(x${r >> 2}[${r & 3}] * y${g}));` : `${acc}${r}_${g} += x${r >> 2}[${r & 3}] * y${g};`);
        w.line(CB.map(mad).join(' '));
      }
    });
    if (half) for (const r of R) w.line(CB.map((g) => `c${r}_${g} += vec4<f32>(s${r}_${g});`).join(' '));
    w.line('workgroupBarrier();');
  });
  for (const r of R) {
    for (const g of CB) {
      if (part) {
        w.line(part.store(r, g));
        continue;
      }
      for (let q = 0; q < 4; q++) {
        const j = `jb + ${4 * g + q}i`;
        w.line(`if (ib + ${r}i < ${k.m}i && ${j} < ${k.n}i) { write_c(${at(`ib + ${r}i`, j, '0i')}, c${r}_${g}[${q}]); }`);
      }
    }
  }
}

/**
 * The f16 precision of the GPU matmuls, if asked for: declares the type
 * `h` and the roundings `to_h` (f32 -> h) and `to_h4` (vec4, emulation
 * only) in the module, with `enable f16;` where the device computes in f16;
 * undefined for f32.
 */
function halfPrecision(mb: ShaderModuleBuilder): 'f16' | 'f16-emulated' | undefined {
  const p = mb.target.precision;
  if (p === 'f16') {
    mb.enable('f16');
    mb.declare('alias h = f16;', 'fn to_h(x: f32) -> h { return h(x); }');
    return p;
  }
  if (p === 'f16-emulated') {
    // quantizeToF16 rounds an f32 to the nearest f16 and back: f16's roundings, computed in f32.
    mb.declare('alias h = f32;', 'fn to_h(x: f32) -> h { return quantizeToF16(x); }', 'fn to_h4(x: vec4<f32>) -> vec4<f32> { return quantizeToF16(x); }');
    return p;
  }
  return undefined;
}

/**
 * A tiled body that computes part of the K axis and stores its sums itself
 * (the split-K variant): K slices from `from` up to `to` (WGSL i32
 * expressions, multiples of TILE_K apart, the same for the whole workgroup),
 * and the statement storing accumulator vec4 `c<r>_<g>` (rows ib + r,
 * columns jb + 4g ..) in place of the epilogue.
 */
export interface TiledPart {
  readonly from: string;
  readonly to: string;
  store(r: number, g: number): string;
}
