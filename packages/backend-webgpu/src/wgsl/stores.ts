import type { Expr, Store } from '@tessera/kernel';
import { WgslExprEmitter, wgslOffset, wgslStoreValue } from './expr.ts';
import type { ShaderModuleBuilder } from './module.ts';
import type { WgslWriter } from './writer.ts';

/** Emits the stores at the current point: every value first (a store may overwrite a buffer another store reads), then the writes. */
export function emitStores(w: WgslWriter, mb: ShaderModuleBuilder, stores: readonly Store[], prefix: string): void {
  const ex = new WgslExprEmitter(mb.names, mb.use, prefix);
  for (const s of stores) ex.count(s.value);
  const values = stores.map((s) => ex.emit(s.value));
  w.line(...ex.stmts);
  const vs = values.map((v, i) => {
    if (stores.length === 1) return v;
    w.line(`let ${prefix}v${i} = ${v};`);
    return `${prefix}v${i}`;
  });
  stores.forEach((s, i) => w.line(`${mb.names.buffer(s.buffer)}[${wgslOffset(s.map, mb.names)}] = ${wgslStoreValue(s.value.dtype, vs[i]!)};`));
}

/** Emits one expression at the current point as a `let` named `name`. */
export function emitValue(w: WgslWriter, mb: ShaderModuleBuilder, e: Expr, name: string): string {
  const ex = new WgslExprEmitter(mb.names, mb.use, `${name}_`);
  ex.count(e);
  const v = ex.emit(e);
  w.line(...ex.stmts, `let ${name} = ${v};`);
  return name;
}

/**
 * Declares `e` as a WGSL function of every iteration axis (a prologue or
 * mask hook, as ONNX Runtime's mm_readA), returning a value of its dtype.
 */
export function emitHook(mb: ShaderModuleBuilder, fn: string, e: Expr, rank: number): void {
  const ex = new WgslExprEmitter(mb.names, mb.use, 'h');
  ex.count(e);
  const v = ex.emit(e);
  const params = Array.from({ length: rank }, (_, a) => `${mb.names.axis(a)}: i32`).join(', ');
  const type = e.dtype === 'f32' ? 'f32' : e.dtype === 'i32' ? 'i32' : 'bool';
  mb.declare(`fn ${fn}(${params}) -> ${type} {`, ...ex.stmts.map((s) => `  ${s}`), `  return ${v};`, '}');
}
