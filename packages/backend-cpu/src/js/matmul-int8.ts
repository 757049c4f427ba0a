/**
 * The int8 matmul in JavaScript (MatmulKernel.quant): per batch entry, the
 * rows of readA and the columns of readB are quantized into integer arrays
 * (the `quant_vec` helper, the IR's quantizeVector written for generated
 * code), summed exactly (integers below 2^31 in float64), and the epilogue
 * runs with `acc` dequantized. Simple on purpose: the JS target is the
 * readable one; the wasm target has the fast kernel.
 */
import type { MatmulKernel } from '@tessera/kernel';
import { DEFAULT_NAMES, JsRenderer } from './expr.ts';
import type { CodeWriter } from './writer.ts';
import { loopNest } from './writer.ts';

const names = DEFAULT_NAMES;

/** Helpers of the int8 matmul, by name (merged into JS_HELPERS). */
export const JS_INT8_HELPERS: Record<string, string> = {
  quant_vec: `function quant_vec(src, n, qmax, out, off) {
  let m = 0;
  for (let t = 0; t < n; t++) {
    const v = Math.abs(Math.fround(src[t]));
    if (!(v <= m)) { m = v; if (m !== m) break; }
  }
  const s = Math.fround(m / qmax);
  for (let t = 0; t < n; t++) {
    const x = Math.fround(Math.fround(src[t]) / s);
    let q = Math.round(x);
    if (q - x === 0.5 && q % 2 !== 0) q -= 1;
    out[off + t] = q !== q ? 0 : q > qmax ? qmax : q < -qmax ? -qmax : q;
  }
  return s;
}`,
  dequant: `function dequant(acc, sa, sb) {
  return Number.isFinite(sa) && Number.isFinite(sb) ? acc * sa * sb : NaN;
}`,
};

/** Emits an int8 matmul kernel; `stores` emits the epilogue at the current (batch, i, j) with `acc` in scope. */
export function emitMatmulInt8(k: MatmulKernel, w: CodeWriter, use: (h: string) => void, scratch: Record<string, number>, stores: () => void): void {
  const nb = k.batch.length;
  const [ai, aj, ap] = [nb, nb + 1, nb + 2].map(names.axis) as [string, string, string];
  const activationMax = k.quant!.activationMax;
  use('quant_vec');
  use('dequant');
  scratch.line = k.k;
  scratch.qa = k.m * k.k;
  scratch.qb = k.n * k.k;
  scratch.sa = k.m;
  scratch.sb = k.n;
  const read = (value: MatmulKernel['readA'], prefix: string) => {
    const ex = new JsRenderer(names, use, prefix);
    ex.count(value);
    const v = ex.emit(value);
    w.line(...ex.stmts, `line[${ap}] = ${v};`);
  };
  loopNest(w, k.batch.map((extent, axis) => ({ axis, extent })), names.axis, () => {
    w.block(`for (let ${ai} = 0; ${ai} < ${k.m}; ${ai}++)`, () => {
      w.line(`const ${aj} = 0;`);
      w.block(`for (let ${ap} = 0; ${ap} < ${k.k}; ${ap}++)`, () => read(k.readA, 'qa_'));
      w.line(`sa[${ai}] = quant_vec(line, ${k.k}, ${activationMax}, qa, ${ai} * ${k.k});`);
    });
    w.block(`for (let ${aj} = 0; ${aj} < ${k.n}; ${aj}++)`, () => {
      w.line(`const ${ai} = 0;`);
      w.block(`for (let ${ap} = 0; ${ap} < ${k.k}; ${ap}++)`, () => read(k.readB, 'qb_'));
      w.line(`sb[${aj}] = quant_vec(line, ${k.k}, ${k.quant!.weightMax}, qb, ${aj} * ${k.k});`);
    });
    w.line(`const ${ap} = 0;`);
    w.block(`for (let ${ai} = 0; ${ai} < ${k.m}; ${ai}++)`, () => {
      w.block(`for (let ${aj} = 0; ${aj} < ${k.n}; ${aj}++)`, () => {
        w.line(`let dot = 0;`, `const ao = ${ai} * ${k.k}, bo = ${aj} * ${k.k};`);
        w.line(`for (let p = 0; p < ${k.k}; p++) dot += qa[ao + p] * qb[bo + p];`);
        w.line(`const ${names.ref('acc')} = dequant(dot, sa[${ai}], sb[${aj}]);`);
        stores();
      });
    });
  });
}
