import type { Expr, Store } from '@tessera/kernel';
import { WgslRenderer, wgslOffset, wgslStoreValue } from './expr.ts';
import { type ShaderModuleBuilder, kernelBindings } from './module.ts';
import type { WgslWriter } from './writer.ts';

/** Emits the stores at the current point: every value first (a store may overwrite a buffer another store reads), then the writes. */
export function emitStores(w: WgslWriter, mb: ShaderModuleBuilder, stores: readonly Store[], prefix: string): void {
  const ex = new WgslRenderer(mb.names, mb.use, prefix);
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
  const ex = new WgslRenderer(mb.names, mb.use, `${name}_`);
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
  const ex = new WgslRenderer(mb.names, mb.use, 'h');
  ex.count(e);
  const v = ex.emit(e);
  const params = Array.from({ length: rank }, (_, a) => `${mb.names.axis(a)}: i32`).join(', ');
  const type = e.dtype === 'f32' ? 'f32' : e.dtype === 'i32' ? 'i32' : 'bool';
  mb.declare(`fn ${fn}(${params}) -> ${type} {`, ...ex.stmts.map((s) => `  ${s}`), `  return ${v};`, '}');
}

/** A hook that is one plain f32 load, contiguous along `axis` and 16-byte aligned elsewhere: it can be read as vec4. */
function vec4Load(e: Expr | undefined, axis: number): (Expr & { k: 'load' }) | undefined {
  if (!e || e.k !== 'load' || e.indirect || e.dtype !== 'f32') return undefined;
  const { offset, strides } = e.map;
  if (strides[axis] !== 1 || offset % 4 !== 0) return undefined;
  return strides.every((st, a) => a === axis || st % 4 === 0) ? e : undefined;
}

/**
 * Declares `fn NAME4(axes) -> vec4<f32>`: the hook `scalarFn` at axis
 * `axis` = x, x+1, x+2, x+3, as one vec4 load through a vec4 view of the
 * buffer when the hook `e` is a plain aligned load, else (or without `e`) four hook calls (with
 * `clampTo`, indices past the edge read the last valid one).
 */
export function emitVec4Hook(mb: ShaderModuleBuilder, scalarFn: string, e: Expr | undefined, axis: number, rank: number, clampTo: number | undefined, written: ReadonlySet<number>, vec4Buffers: Set<number>): void {
  const names = mb.names;
  const params = Array.from({ length: rank }, (_, a) => `${names.axis(a)}: i32`).join(', ');
  const load = vec4Load(e, axis);
  // A buffer the kernel also writes cannot be bound a second time (WebGPU forbids a writable binding aliasing another),
  // and the extra view must fit the device's storage-buffer limit.
  const fits = load && (vec4Buffers.has(load.buffer) || kernelBindings(mb.kernel).length + vec4Buffers.size < mb.target.maxStorageBuffersPerShaderStage);
  if (load && fits && !written.has(load.buffer)) {
    vec4Buffers.add(load.buffer);
    mb.declare(`fn ${scalarFn}4(${params}) -> vec4<f32> { return ${names.buffer(load.buffer)}_v4[(${wgslOffset(load.map, names)}) >> 2u]; }`);
    return;
  }
  const args = (q: number) =>
    Array.from({ length: rank }, (_, a) => {
      if (a !== axis || q === 0) return names.axis(a);
      return clampTo === undefined ? `${names.axis(a)} + ${q}i` : `min(${names.axis(a)} + ${q}i, ${clampTo}i)`;
    }).join(', ');
  mb.declare(`fn ${scalarFn}4(${params}) -> vec4<f32> { return vec4<f32>(${[0, 1, 2, 3].map((q) => `${scalarFn}(${args(q)})`).join(', ')}); }`);
}
