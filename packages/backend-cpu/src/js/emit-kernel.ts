import { type Combiner, type ConvWindow, type Kernel, type MapKernel, type MatmulKernel, type ReduceKernel, type ReductionStage, type Store, kernelStores, legalizeKernel, loadedBuffers, supportOf } from '@tessera/kernel';
import { DEFAULT_NAMES, JsRenderer, jsOffset, jsStoreValue } from './expr.ts';
import { JS_CODE, JS_HELPERS } from './scalar.ts';
import { CodeWriter, loopNest } from './writer.ts';

/** Generated JavaScript for one kernel. */
export interface JsKernelSource {
  readonly name: string;
  /** Buffers the kernel touches (program buffer indices). */
  readonly buffers: readonly number[];
  /** Scratch arrays it needs, allocated once per executable: name -> element count. */
  readonly scratch: Readonly<Record<string, number>>;
  /** Helper functions it calls. */
  readonly helpers: readonly string[];
  /** The body of `function NAME() { ... }`; buffers are in scope as b<index>. */
  readonly body: string;
}

const names = DEFAULT_NAMES;

/** Emits the stores at one point: every value first (stores may alias reads), then the writes. */
function emitStores(w: CodeWriter, stores: readonly Store[], use: (h: string) => void, prefix: string): void {
  const ex = new JsRenderer(names, use, prefix);
  for (const s of stores) ex.count(s.value);
  const values = stores.map((s) => ex.emit(s.value));
  w.line(...ex.stmts);
  const vs = values.map((v, i) => {
    if (stores.length === 1) return v;
    w.line(`const ${prefix}v${i} = ${v};`);
    return `${prefix}v${i}`;
  });
  stores.forEach((s, i) => w.line(`${names.buffer(s.buffer)}[${jsOffset(s.map, names)}] = ${jsStoreValue(s.value.dtype, vs[i]!)};`));
}

function axesOf(extents: readonly number[], from = 0): { axis: number; extent: number }[] {
  return extents.map((extent, i) => ({ axis: from + i, extent }));
}

function emitMap(k: MapKernel, w: CodeWriter, use: (h: string) => void): void {
  loopNest(w, axesOf(k.shape), names.axis, () => emitStores(w, k.stores, use, 't'));
}

/** Each combiner's start value and step in JavaScript (f32 folds in float64; i32 wraps). */
const JS_FOLD: Readonly<Record<Combiner, { init: string; step: (acc: string, v: string, i32: boolean) => string }>> = {
  sum: { init: '0', step: (a, v, i32) => (i32 ? `(${a} + ${v}) | 0` : `${a} + ${v}`) },
  prod: { init: '1', step: (a, v, i32) => (i32 ? `Math.imul(${a}, ${v})` : `${a} * ${v}`) },
  max: { init: '-Infinity', step: (a, v) => `Math.max(${a}, ${v})` },
  min: { init: 'Infinity', step: (a, v) => `Math.min(${a}, ${v})` },
};

/** Folds a stage's value at the current point into its accumulator. */
function foldStage(w: CodeWriter, st: ReductionStage, si: number, use: (h: string) => void): void {
  const ex = new JsRenderer(names, use, `s${si}_`);
  ex.count(st.value);
  const v = ex.emit(st.value);
  const acc = names.ref(st.name);
  w.line(...ex.stmts, `${acc} = ${JS_FOLD[st.combiner].step(acc, v, st.dtype === 'i32')};`);
}

function emitReduce(k: ReduceKernel, w: CodeWriter, use: (h: string) => void): void {
  const pr = k.shape.length - k.reduceRank;
  const inner = axesOf(k.shape.slice(pr), pr);
  const init = (st: ReductionStage) => w.line(`let ${names.ref(st.name)} = ${JS_FOLD[st.combiner].init};`);
  loopNest(w, axesOf(k.shape.slice(0, pr)), names.axis, () => {
    if (k.scan) {
      // An inclusive scan: each point folds into the running values, then its row stores see them.
      k.stages.forEach(init);
      loopNest(w, inner, names.axis, () => {
        k.stages.forEach((st, si) => foldStage(w, st, si, use));
        emitStores(w, k.rowStores, use, 'w');
      });
      return;
    }
    k.stages.forEach((st, si) => {
      init(st);
      loopNest(w, inner, names.axis, () => foldStage(w, st, si, use));
    });
    if (k.stores.length) emitStores(w, k.stores, use, 'o');
    if (k.rowStores.length) loopNest(w, inner, names.axis, () => emitStores(w, k.rowStores, use, 'w'));
  });
}

/** Cache blocking of the JS matmul: KC-deep slices of K, MC-row blocks of A (the A block stays in L2, a B micro-panel in L1). */
export const JS_MATMUL_BLOCKING = { kc: 256, mc: 64 } as const;

/**
 * Matmul, GotoBLAS-style: for each KC slice of K the prologue hook readB is
 * packed into 4-column micro-panels, for each MC block of rows readA into
 * 4-row micro-panels; a 4x4 register-blocked micro-kernel accumulates into
 * a float64 C scratch (padded to multiples of 4, so edges need no special
 * case); finally the epilogue hook runs once per (i, j) with `acc`.
 */
function emitMatmul(k: MatmulKernel, w: CodeWriter, use: (h: string) => void, scratch: Record<string, number>): void {
  const nb = k.batch.length;
  const [ai, aj, ap] = [nb, nb + 1, nb + 2].map(names.axis) as [string, string, string];
  const { kc: KC, mc: MC } = JS_MATMUL_BLOCKING;
  const MPAD = Math.ceil(k.m / 4) * 4;
  const NPAD = Math.ceil(k.n / 4) * 4;
  const NP = NPAD / 4;
  const kcMax = Math.min(KC, k.k);
  scratch.pa = Math.min(MC, MPAD) * kcMax;
  scratch.pb = NPAD * kcMax;
  scratch.cacc = MPAD * NPAD;
  const body = () => {
    w.line('cacc.fill(0);');
    w.block(`for (let pc = 0; pc < ${k.k}; pc += ${KC})`, () => {
      w.line(`const kc = Math.min(${KC}, ${k.k} - pc);`);
      w.block(`for (let ${ap} = pc; ${ap} < pc + kc; ${ap}++)`, () => {
        w.block(`for (let ${aj} = 0; ${aj} < ${k.n}; ${aj}++)`, () => {
          const ex = new JsRenderer(names, use, 'pb_');
          ex.count(k.readB);
          const v = ex.emit(k.readB);
          w.line(...ex.stmts, `pb[(((${aj} >> 2) * kc + ${ap} - pc) << 2) + (${aj} & 3)] = ${v};`);
        });
      });
      w.block(`for (let ic = 0; ic < ${k.m}; ic += ${MC})`, () => {
        w.line(`const mc = Math.min(${MC}, ${k.m} - ic);`);
        w.block(`for (let ${ai} = ic; ${ai} < ic + mc; ${ai}++)`, () => {
          if (k.window) emitWindowRow(w, k.window, ai);
          w.block(`for (let ${ap} = pc; ${ap} < pc + kc; ${ap}++)`, () => {
            const at = `pa[((((${ai} - ic) >> 2) * kc + ${ap} - pc) << 2) + ((${ai} - ic) & 3)]`;
            if (k.window) return emitWindowRead(w, k, ap, use, at);
            const ex = new JsRenderer(names, use, 'pa_');
            ex.count(k.readA);
            const v = ex.emit(k.readA);
            w.line(...ex.stmts, `${at} = ${v};`);
          });
        });
        w.line('const kc4 = kc << 2;');
        w.block(`for (let jp = 0; jp < ${NP}; jp++)`, () => {
          w.line('const bo = jp * kc4;');
          w.block('for (let ip = 0, ipn = (mc + 3) >> 2; ip < ipn; ip++)', () => {
            w.line('const ao = ip * kc4;');
            w.line(`const co = (ic + ip * 4) * ${NPAD} + jp * 4;`);
            for (let r = 0; r < 4; r++) w.line(`let ${[0, 1, 2, 3].map((c) => `c${r}${c} = cacc[co + ${r * NPAD + c}]`).join(', ')};`);
            w.block('for (let p = 0; p < kc4; p += 4)', () => {
              w.line('const x0 = pa[ao + p], x1 = pa[ao + p + 1], x2 = pa[ao + p + 2], x3 = pa[ao + p + 3];');
              w.line('const y0 = pb[bo + p], y1 = pb[bo + p + 1], y2 = pb[bo + p + 2], y3 = pb[bo + p + 3];');
              for (let r = 0; r < 4; r++) w.line([0, 1, 2, 3].map((c) => `c${r}${c} += x${r} * y${c};`).join(' '));
            });
            for (let r = 0; r < 4; r++) w.line([0, 1, 2, 3].map((c) => `cacc[co + ${r * NPAD + c}] = c${r}${c};`).join(' '));
          });
        });
      });
    });
    w.line(`const ${ap} = 0;`);
    w.block(`for (let ${ai} = 0; ${ai} < ${k.m}; ${ai}++)`, () => {
      w.block(`for (let ${aj} = 0; ${aj} < ${k.n}; ${aj}++)`, () => {
        w.line(`const ${names.ref('acc')} = cacc[${ai} * ${NPAD} + ${aj}];`);
        emitStores(w, k.stores, use, 'e');
      });
    });
  };
  loopNest(w, k.batch.map((extent, axis) => ({ axis, extent })), names.axis, body);
}

/** Under a window: the input row and column where output row `ai`'s window starts (before the taps' offsets). */
function emitWindowRow(w: CodeWriter, win: ConvWindow, ai: string): void {
  w.line(`const oh = (${ai} / ${win.output[1]}) | 0;`);
  w.line(`const y0 = oh * ${win.stride[0]} - ${win.padding[0]}, x0 = (${ai} - oh * ${win.output[1]}) * ${win.stride[1]} - ${win.padding[1]};`);
}

/**
 * Under a window: stores A at depth `ap` of the current row into `at`: the
 * tap (c, kh, kw) of `ap` gives the input point (c, y, x), where readA is
 * evaluated (its axes named wc, wy, wx); 0 in the padding.
 */
function emitWindowRead(w: CodeWriter, k: MatmulKernel, ap: string, use: (h: string) => void, at: string): void {
  const win = k.window!;
  const nb = k.batch.length;
  const [kh, kw] = win.kernel;
  const windowNames = { ...names, axis: (a: number) => (a < nb ? names.axis(a) : ['wc', 'wy', 'wx'][a - nb]!) };
  w.line(`const wc = (${ap} / ${kh * kw}) | 0, tap = ${ap} - wc * ${kh * kw}, th = (tap / ${kw}) | 0;`);
  w.line(`const wy = y0 + th * ${win.dilation[0]}, wx = x0 + (tap - th * ${kw}) * ${win.dilation[1]};`);
  w.block(`if (wy >= 0 && wy < ${win.input[0]} && wx >= 0 && wx < ${win.input[1]})`, () => {
    const ex = new JsRenderer(windowNames, use, 'pa_');
    ex.count(k.readA);
    const v = ex.emit(k.readA);
    w.line(...ex.stmts, `${at} = ${v};`);
  });
  w.line(`else ${at} = 0;`);
}

/** Emits one expression at the current point as a `const` and returns its name. */
function emitValue(w: CodeWriter, e: import('@tessera/kernel').Expr, use: (h: string) => void, prefix: string): string {
  const ex = new JsRenderer(names, use, `${prefix}_`);
  ex.count(e);
  const v = ex.emit(e);
  w.line(...ex.stmts, `const ${prefix} = ${v};`);
  return prefix;
}

/**
 * Attention with an online softmax (one pass over keys, scores never
 * stored): per query row, q is cached, each visible key's score updates the
 * running max `m`, the normaliser `l` and the float64 accumulator row; the
 * causal bound stops the key loop early, masked keys are skipped.
 */
function emitAttention(k: import('@tessera/kernel').AttentionKernel, w: CodeWriter, use: (h: string) => void, scratch: Record<string, number>): void {
  const nb = k.batch.length;
  const [ai, aj, ac] = [nb, nb + 1, nb + 2].map(names.axis) as [string, string, string];
  scratch.qrow = k.d;
  scratch.orow = k.dv;
  loopNest(w, [...k.batch.map((extent, axis) => ({ axis, extent })), { axis: nb, extent: k.tq }], names.axis, () => {
    w.block(`for (let ${ac} = 0; ${ac} < ${k.d}; ${ac}++)`, () => {
      w.line(`const ${aj} = 0;`);
      w.line(`qrow[${ac}] = ${emitValue(w, k.readQ, use, 'q')};`);
    });
    w.line('orow.fill(0);', 'let m = -Infinity, l = 0;');
    const end = k.causalOffset === undefined ? String(k.tk) : `Math.min(${k.tk}, ${ai} + ${k.causalOffset + 1})`;
    w.block(`for (let ${aj} = 0; ${aj} < ${end}; ${aj}++)`, () => {
      w.line(`const ${ac} = 0;`);
      if (k.keep) w.line(`if (!${emitValue(w, k.keep, use, 'keep')}) continue;`);
      w.line('let s = 0;');
      w.block(`for (let ${ac} = 0; ${ac} < ${k.d}; ${ac}++)`, () => w.line(`s += qrow[${ac}] * ${emitValue(w, k.readK, use, 'kv')};`));
      w.line(`s = s * ${k.scale}${k.bias ? ` + ${emitValue(w, k.bias, use, 'bias')}` : ''};`);
      // A key at -inf adds nothing; skipping it keeps exp(-inf - -inf) = NaN out of rows that still have visible keys.
      w.line('if (s === -Infinity) continue;');
      w.block('if (s > m)', () => {
        w.line('const corr = Math.exp(m - s);', 'l *= corr;');
        w.line(`for (let c = 0; c < ${k.dv}; c++) orow[c] *= corr;`);
        w.line('m = s;');
      });
      w.line('const p = Math.exp(s - m);', 'l += p;');
      w.block(`for (let ${ac} = 0; ${ac} < ${k.dv}; ${ac}++)`, () => w.line(`orow[${ac}] += p * ${emitValue(w, k.readV, use, 'vv')};`));
    });
    w.line(`const ${aj} = 0;`);
    if (k.statStores) {
      w.block('', () => {
        w.line(`const ${ac} = 0;`, `const ${names.ref('max')} = m;`, `const ${names.ref('sum')} = l;`);
        emitStores(w, k.statStores!, use, 'st');
      });
    }
    w.block(`for (let ${ac} = 0; ${ac} < ${k.dv}; ${ac}++)`, () => {
      w.line(`const ${names.ref('out')} = orow[${ac}] / l;`);
      emitStores(w, k.stores, use, 'e');
    });
  });
}

/** The scalar ops the JavaScript target has code for. */
export const JS_SUPPORT = supportOf(JS_CODE);

/** Generates the JavaScript of one kernel (legalised for JS first: ops without JS code become their decompositions). */
export function emitJsKernel(kernel: Kernel): JsKernelSource {
  const k = legalizeKernel(kernel, JS_SUPPORT);
  const w = new CodeWriter();
  const helpers = new Set<string>();
  const use = (h: string) => helpers.add(h);
  const scratch: Record<string, number> = {};
  w.line(`// kernel ${k.name} (${k.kind})`);
  if (k.kind === 'map') emitMap(k, w, use);
  else if (k.kind === 'reduce') emitReduce(k, w, use);
  else if (k.kind === 'attention') emitAttention(k, w, use, scratch);
  else emitMatmul(k, w, use, scratch);
  const buffers = new Set<number>();
  const exprs =
    k.kind === 'matmul' ? [k.readA, k.readB] : k.kind === 'reduce' ? k.stages.map((s) => s.value) : k.kind === 'attention' ? [k.readQ, k.readK, k.readV, ...(k.keep ? [k.keep] : []), ...(k.bias ? [k.bias] : [])] : [];
  for (const e of exprs) loadedBuffers(e, buffers);
  for (const s of kernelStores(k)) {
    buffers.add(s.buffer);
    loadedBuffers(s.value, buffers);
  }
  return { name: k.name, buffers: [...buffers].sort((a, b) => a - b), scratch, helpers: [...helpers], body: w.toString() };
}

/** The helper functions' source, for the helpers a kernel uses. */
export function helperSource(helpers: readonly string[]): string {
  return helpers.map((h) => JS_HELPERS[h]!).join('\n');
}
