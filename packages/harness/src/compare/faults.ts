/**
 * Deliberate faults for testing what checks a backend (compare, the
 * localiser, property tests): damage to a kernel program as a code
 * generator or memory planner could do it (a wrong store, a store to a
 * buffer the kernel should not touch, a wrong arena offset), applied by a
 * Backend that damages what it compiles, or by compareBackends'
 * `rewriteKernels` (a compiler fault the localiser sees). Backends verify
 * what they compile, so only faults the kernel verifier cannot see reach a
 * run: a wrong arena offset is refused at compile time.
 */
import { TesseraError, byteSize } from '@tessera/ir';
import { type Backend, E, type Expr, type Kernel, type KernelProgram, type Store } from '@tessera/kernel';

/** Damage done to a kernel program before the backend compiles it. */
export type Fault = (p: KernelProgram) => KernelProgram;

/** A backend with `inner`'s name and limits that compiles every program with `fault` applied first. */
export function faultyBackend(inner: Backend, fault: Fault): Backend {
  return {
    name: inner.name,
    get limits() {
      return inner.limits;
    },
    compile: (p) => inner.compile(fault(p)),
  };
}

/** The index of the buffer named `name` (a graph value), or a TesseraError naming the buffers there are. */
function bufferNamed(p: KernelProgram, name: string): number {
  const b = p.buffers.findIndex((d) => d.name === name);
  if (b < 0) throw new TesseraError(`no buffer %${name} in kernel program @${p.name} (buffers: ${p.buffers.map((d) => `%${d.name}`).join(' ')})`);
  return b;
}

/** `value` made wrong: plus `delta` for numbers, negated for bool. */
function wrong(value: Expr, delta: number): Expr {
  if (value.dtype === 'bool') return E.select(value, E.const('bool', 0), E.const('bool', 1));
  return E.binary('add', value, E.const(value.dtype, delta));
}

function withStores(k: Kernel, fix: (s: Store) => Store): Kernel {
  if (k.kind === 'reduce') return { ...k, stores: k.stores.map(fix), rowStores: k.rowStores.map(fix) };
  return { ...k, stores: k.stores.map(fix) } as Kernel;
}

/** A codegen-like fault: every store of graph value `value` writes `delta` more than it should (the logical negation for bool). */
export function corruptStore(value: string, delta = 1): Fault {
  return (p) => {
    const b = bufferNamed(p, value);
    return { ...p, kernels: p.kernels.map((k) => withStores(k, (s) => (s.buffer === b ? { ...s, value: wrong(s.value, delta) } : s))) };
  };
}

/**
 * A memory-plan fault: temporary `value` is placed in the arena `shiftBytes`
 * after the start of temporary `over` (0: exactly on it), whatever their
 * lifetimes; the arena grows if it must.
 */
export function misplace(value: string, over: string, shiftBytes = 0): Fault {
  return (p) => {
    const [b, o] = [bufferNamed(p, value), bufferNamed(p, over)];
    const base = p.buffers[o]!.arenaOffset;
    if (base === undefined || p.buffers[b]!.arenaOffset === undefined) throw new TesseraError(`%${value} and %${over} must both be arena temporaries`);
    const offset = base + shiftBytes;
    const end = offset + p.buffers[b]!.size * byteSize(p.buffers[b]!.dtype);
    return { ...p, buffers: p.buffers.map((d, i) => (i === b ? { ...d, arenaOffset: offset } : d)), arenaBytes: Math.max(p.arenaBytes ?? 0, end) };
  };
}

/**
 * A stray write, as a code generator writing to the wrong buffer: every
 * kernel that stores graph value `value` also writes the same values into
 * the buffer of `into` (which must have as many elements), clobbering it.
 */
export function strayStore(value: string, into: string): Fault {
  return (p) => {
    const [b, o] = [bufferNamed(p, value), bufferNamed(p, into)];
    if (p.buffers[b]!.size !== p.buffers[o]!.size || p.buffers[b]!.dtype !== p.buffers[o]!.dtype) throw new TesseraError(`%${value} and %${into} must have the same dtype and size`);
    const withStrays = (stores: readonly Store[]): Store[] => [...stores, ...stores.filter((s) => s.buffer === b).map((s) => ({ ...s, buffer: o }))];
    const stray = (k: Kernel): Kernel => (k.kind === 'reduce' ? { ...k, stores: withStrays(k.stores), rowStores: withStrays(k.rowStores) } : ({ ...k, stores: withStrays(k.stores) } as Kernel));
    return { ...p, kernels: p.kernels.map(stray) };
  };
}
