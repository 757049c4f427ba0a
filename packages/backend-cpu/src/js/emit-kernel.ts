import { type Kernel, type MapKernel, type MatmulKernel, type ReduceKernel, type Store, loadedBuffers, walkExpr } from '@tessera/kernel';
import { DEFAULT_NAMES, JsExprEmitter, jsOffset, jsStoreValue } from './expr.ts';
import { JS_HELPERS } from './scalar.ts';
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
  const ex = new JsExprEmitter(names, use, prefix);
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

function emitReduce(k: ReduceKernel, w: CodeWriter, use: (h: string) => void): void {
  const pr = k.shape.length - k.reduceRank;
  const inner = axesOf(k.shape.slice(pr), pr);
  loopNest(w, axesOf(k.shape.slice(0, pr)), names.axis, () => {
    k.stages.forEach((st, si) => {
      const acc = names.ref(st.name);
      w.line(`let ${acc} = ${st.combiner === 'sum' ? '0' : '-Infinity'};`);
      loopNest(w, inner, names.axis, () => {
        const ex = new JsExprEmitter(names, use, `s${si}_`);
        ex.count(st.value);
        const v = ex.emit(st.value);
        w.line(...ex.stmts);
        if (st.combiner === 'max') w.line(`${acc} = Math.max(${acc}, ${v});`);
        else w.line(st.dtype === 'i32' ? `${acc} = (${acc} + ${v}) | 0;` : `${acc} += ${v};`);
      });
    });
    if (k.stores.length) emitStores(w, k.stores, use, 'o');
    if (k.rowStores.length) loopNest(w, inner, names.axis, () => emitStores(w, k.rowStores, use, 'w'));
  });
}

/** True when an expression depends on any of the given axes (directly or through a load's map). */
function dependsOn(e: import('@tessera/kernel').Expr, axes: readonly number[]): boolean {
  let dep = false;
  walkExpr(e, (x) => {
    if (x.k === 'axis' && axes.includes(x.axis)) dep = true;
    if (x.k === 'load' && axes.some((a) => x.map.strides[a] !== 0)) dep = true;
  });
  return dep;
}

/**
 * Matmul: the prologue hooks pack A into 4-row panels and B into 4-column
 * panels (zero padded, so edges need no special micro-kernel), a 4x4
 * register-blocked micro-kernel accumulates in float64, and the epilogue
 * hook runs per valid (i, j). Operands that do not depend on the batch axes
 * (weights) are packed once per run rather than per batch point.
 */
function emitMatmul(k: MatmulKernel, w: CodeWriter, use: (h: string) => void, scratch: Record<string, number>): void {
  const nb = k.batch.length;
  const [ai, aj, ap] = [nb, nb + 1, nb + 2].map(names.axis) as [string, string, string];
  const MP = Math.ceil(k.m / 4);
  const NP = Math.ceil(k.n / 4);
  const K = k.k;
  scratch.pa = MP * 4 * K;
  scratch.pb = NP * 4 * K;
  scratch.cb = 16;
  const batchAxes = Array.from({ length: nb }, (_, a) => a);
  const packA = () =>
    loopNest(w, [{ axis: nb, extent: k.m }, { axis: nb + 2, extent: K }], names.axis, () => {
      const ex = new JsExprEmitter(names, use, 'pa_');
      ex.count(k.readA);
      const v = ex.emit(k.readA);
      w.line(...ex.stmts, `pa[(((${ai} >> 2) * ${K} + ${ap}) << 2) + (${ai} & 3)] = ${v};`);
    });
  const packB = () =>
    loopNest(w, [{ axis: nb + 2, extent: K }, { axis: nb + 1, extent: k.n }], names.axis, () => {
      const ex = new JsExprEmitter(names, use, 'pb_');
      ex.count(k.readB);
      const v = ex.emit(k.readB);
      w.line(...ex.stmts, `pb[(((${aj} >> 2) * ${K} + ${ap}) << 2) + (${aj} & 3)] = ${v};`);
    });
  const aPerBatch = dependsOn(k.readA, batchAxes);
  const bPerBatch = dependsOn(k.readB, batchAxes);
  if (nb > 0) w.line(...batchAxes.map((a) => `let ${names.axis(a)} = 0;`));
  if (!aPerBatch) packA();
  if (!bPerBatch) packB();
  const compute = () => {
    if (aPerBatch) packA();
    if (bPerBatch) packB();
    w.block(`for (let jp = 0; jp < ${NP}; jp++)`, () => {
      w.line(`const bo = jp * ${4 * K};`);
      w.block(`for (let ip = 0; ip < ${MP}; ip++)`, () => {
        w.line(`const ao = ip * ${4 * K};`);
        const cs = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => `c${r}${c}`));
        w.line(`let ${cs.map((c) => `${c} = 0`).join(', ')};`);
        w.block(`for (let p = 0; p < ${4 * K}; p += 4)`, () => {
          w.line('const x0 = pa[ao + p], x1 = pa[ao + p + 1], x2 = pa[ao + p + 2], x3 = pa[ao + p + 3];');
          w.line('const y0 = pb[bo + p], y1 = pb[bo + p + 1], y2 = pb[bo + p + 2], y3 = pb[bo + p + 3];');
          for (let r = 0; r < 4; r++) w.line([0, 1, 2, 3].map((c) => `c${r}${c} += x${r} * y${c};`).join(' '));
        });
        w.line(cs.map((c, i) => `cb[${i}] = ${c};`).join(' '));
        w.line(`const ${ap} = 0;`);
        w.block(`for (let r = 0, rn = Math.min(4, ${k.m} - ip * 4); r < rn; r++)`, () => {
          w.line(`const ${ai} = ip * 4 + r;`);
          w.block(`for (let c = 0, cn = Math.min(4, ${k.n} - jp * 4); c < cn; c++)`, () => {
            w.line(`const ${aj} = jp * 4 + c;`, `const ${names.ref('acc')} = cb[r * 4 + c];`);
            emitStores(w, k.stores, use, 'e');
          });
        });
      });
    });
  };
  if (nb === 0) return compute();
  // Batch axes are plain variables assigned by an explicit odometer so the pack loops above can see them.
  const total = k.batch.reduce((a, b) => a * b, 1);
  w.block(`for (let bi = 0; bi < ${total}; bi++)`, () => {
    let rem = 'bi';
    for (let a = nb - 1; a >= 0; a--) {
      w.line(`${names.axis(a)} = ${rem} % ${k.batch[a]};`);
      rem = `Math.floor(${rem} / ${k.batch[a]})`;
    }
    compute();
  });
}

/** Generates the JavaScript of one kernel. */
export function emitJsKernel(k: Kernel): JsKernelSource {
  const w = new CodeWriter();
  const helpers = new Set<string>();
  const use = (h: string) => helpers.add(h);
  const scratch: Record<string, number> = {};
  w.line(`// kernel ${k.name} (${k.kind})`);
  if (k.kind === 'map') emitMap(k, w, use);
  else if (k.kind === 'reduce') emitReduce(k, w, use);
  else emitMatmul(k, w, use, scratch);
  const buffers = new Set<number>();
  const exprs = k.kind === 'matmul' ? [k.readA, k.readB] : k.kind === 'reduce' ? k.stages.map((s) => s.value) : [];
  for (const e of exprs) loadedBuffers(e, buffers);
  for (const s of k.kind === 'reduce' ? [...k.stores, ...k.rowStores] : k.stores) {
    buffers.add(s.buffer);
    loadedBuffers(s.value, buffers);
  }
  return { name: k.name, buffers: [...buffers].sort((a, b) => a - b), scratch, helpers: [...helpers], body: w.toString() };
}

/** The helper functions' source, for the helpers a kernel uses. */
export function helperSource(helpers: readonly string[]): string {
  return helpers.map((h) => JS_HELPERS[h]!).join('\n');
}
