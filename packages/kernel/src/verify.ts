import { TesseraError, formatShape, numel, unaryResultDType } from '@tessera/ir';
import { type Expr, type Indirect, walkExpr } from './expr.ts';
import { type Kernel, type KernelProgram, type Store, iterationSpace, kernelRank, kernelStores } from './kernel.ts';
import { verifyMemoryPlan } from './memory-plan.ts';
import { mapRange } from './space.ts';
import { windowProblems, windowSpace } from './window.ts';

/** A kernel program that breaks an invariant. */
export class KernelVerifyError extends TesseraError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid kernel program:\n  ${problems.join('\n  ')}`);
    this.name = 'KernelVerifyError';
  }
}

/** Where in a kernel an expression sits: decides which axes it may depend on and their extents. */
type Site = 'store' | 'readA' | 'readB' | 'stage' | 'row' | 'readQ' | 'readK' | 'readV' | 'mask' | 'stats';

/** Axes whose stride must be 0 in a map and which an expression may not read. */
function forbiddenAxes(k: Kernel, where: Site): number[] {
  if (k.kind === 'attention') {
    const [i, j, c] = [k.batch.length, k.batch.length + 1, k.batch.length + 2];
    if (where === 'readQ') return [j];
    if (where === 'readK' || where === 'readV') return [i];
    if (where === 'mask') return [c];
    if (where === 'stats') return [j, c];
    return [j];
  }
  if (k.kind === 'matmul') {
    const nb = k.batch.length;
    if (where === 'store') return [nb + 2];
    // Under a window readA's axes are the input point [...batch, c, y, x], all of which it may read.
    if (where === 'readA') return k.window ? [] : [nb + 1];
    if (where === 'readB') return [nb];
    return [];
  }
  if (k.kind === 'reduce' && where === 'store') {
    return Array.from({ length: k.reduceRank }, (_, i) => k.shape.length - k.reduceRank + i);
  }
  return [];
}

/**
 * Checks a kernel program: buffer indices, dtypes of every expression,
 * accesses within buffer bounds over the whole iteration space, axes and
 * scalar references valid where used, stores only to writable buffers,
 * every temporary written before it is read, every output written, and
 * the memory plan (verifyMemoryPlan). Returns the problems found (empty
 * when valid).
 */
export function verifyKernelProgram(p: KernelProgram): string[] {
  const problems: string[] = [];
  const written = new Set<number>();
  const gathers = new Map<string, Indirect>();
  p.buffers.forEach((b, i) => {
    if (b.size !== numel(b.shape)) problems.push(`buffer ${i} (%${b.name}) has size ${b.size} but shape ${formatShape(b.shape)}`);
    if (b.role === 'input' || b.role === 'param' || b.role === 'const') written.add(i);
    if (b.role === 'const' && (!b.data || (b.data.length !== b.size && b.data.length !== 1))) problems.push(`const buffer %${b.name} has no data of the right size`);
  });
  for (const k of p.kernels) {
    const say = (m: string) => problems.push(`kernel ${k.name}: ${m}`);
    const rank = kernelRank(k);
    const fullExtents = iterationSpace(k);
    // Attention's channel axis runs to d for q and k, to dv for v and the stores; a windowed readA runs over the input.
    const extentsAt = (where: Site): readonly number[] => {
      if (k.kind === 'matmul' && k.window && where === 'readA') return windowSpace(k.batch, k.window);
      return k.kind !== 'attention' ? fullExtents : [...k.batch, k.tq, k.tk, where === 'readQ' || where === 'readK' ? k.d : where === 'mask' || where === 'stats' ? 1 : k.dv];
    };
    if (fullExtents.some((e) => !Number.isInteger(e) || e < 1)) say(`iteration space ${formatShape(fullExtents)} has an extent < 1`);
    const checkExpr = (e: Expr, where: Site, refs: ReadonlySet<string>) => {
      const forbidden = forbiddenAxes(k, where);
      const extents = extentsAt(where);
      walkExpr(e, (x) => {
        switch (x.k) {
          case 'axis':
            if (x.axis < 0 || x.axis >= rank) say(`axis ${x.axis} out of range for rank ${rank}`);
            else if (forbidden.includes(x.axis)) say(`${where} reads axis ${x.axis}, which it may not depend on`);
            return;
          case 'ref':
            if (!refs.has(x.name)) say(`reference to '${x.name}' which is not defined here`);
            return;
          case 'load': {
            const b = p.buffers[x.buffer];
            if (!b) return say(`load from unknown buffer ${x.buffer}`);
            if (b.dtype !== x.dtype) say(`load of %${b.name} as ${x.dtype}, but the buffer holds ${b.dtype}`);
            if (!written.has(x.buffer)) say(`reads %${b.name} before any kernel writes it`);
            checkMap(x.map, b.size, `load of %${b.name}`, forbidden, x.indirect ? (x.indirect.extent - 1) * x.indirect.stride : 0, extents);
            if (x.indirect) checkGather(x.indirect, `gather from %${b.name}`, forbidden, extents);
            return;
          }
          case 'binary':
            if (x.a.dtype !== x.dtype || x.b.dtype !== x.dtype) say(`binary ${x.op} mixes ${x.a.dtype}, ${x.b.dtype} into ${x.dtype}`);
            return;
          case 'unary':
            if (unaryResultDType(x.op, x.x.dtype) !== x.dtype) say(`unary ${x.op} of ${x.x.dtype} typed ${x.dtype}`);
            return;
          case 'compare':
            if (x.a.dtype !== x.b.dtype) say(`compare ${x.op} of ${x.a.dtype} and ${x.b.dtype}`);
            return;
          case 'select':
            if (x.cond.dtype !== 'bool') say(`select condition is ${x.cond.dtype}, expected bool`);
            if (x.a.dtype !== x.dtype || x.b.dtype !== x.dtype) say(`select of ${x.a.dtype} and ${x.b.dtype} typed ${x.dtype}`);
            return;
          default:
            return;
        }
      });
    };
    const checkMap = (map: { offset: number; strides: readonly number[] }, size: number, what: string, zeroAxes: readonly number[], extra: number, extents: readonly number[]) => {
      if (map.strides.length !== rank) return say(`${what} has ${map.strides.length} strides, expected ${rank}`);
      for (const a of zeroAxes) if (map.strides[a] !== 0) say(`${what} has stride ${map.strides[a]} on axis ${a}, expected 0`);
      const { min, max } = mapRange(map, extents);
      if (min < 0 || max + Math.max(0, extra) >= size || min + Math.min(0, extra) < 0) say(`${what} reaches offsets ${min}..${max + extra} outside [0, ${size})`);
    };
    const checkGather = (ind: Indirect, what: string, zeroAxes: readonly number[], extents: readonly number[]) => {
      const { node, positions, position } = ind.site;
      if (ind.index.dtype !== 'i32') say(`${what}: index is ${ind.index.dtype}, expected i32`);
      if (!Number.isInteger(ind.extent) || ind.extent < 1) say(`${what}: extent ${ind.extent} is not an integer >= 1`);
      if (!Number.isInteger(positions) || positions < 1) say(`${what}: ${positions} index positions, expected an integer >= 1`);
      else checkMap(position, positions, `${what}: position map`, zeroAxes, 0, extents);
      // Backends keep one fault slot per gather node: loads naming one node must agree on what its error says.
      const seen = gathers.get(node);
      if (!seen) gathers.set(node, ind);
      else if (seen.extent !== ind.extent || seen.site.positions !== positions) say(`${what}: gather %${node} has extent ${ind.extent} and ${positions} positions here, ${seen.extent} and ${seen.site.positions} elsewhere`);
    };
    const checkStores = (stores: readonly Store[], where: 'store' | 'row' | 'stats', refs: ReadonlySet<string>) => {
      const extents = extentsAt(where);
      for (const s of stores) {
        const b = p.buffers[s.buffer];
        if (!b) {
          say(`store to unknown buffer ${s.buffer}`);
          continue;
        }
        if (b.role === 'input' || b.role === 'param' || b.role === 'const') say(`stores to read-only buffer %${b.name} (${b.role})`);
        if (b.dtype !== s.value.dtype) say(`stores ${s.value.dtype} into %${b.name} of ${b.dtype}`);
        checkMap(s.map, b.size, `store to %${b.name}`, forbiddenAxes(k, where), 0, extents);
        checkExpr(s.value, where, refs);
      }
    };
    if (k.kind === 'attention') {
      if (k.readQ.dtype !== 'f32' || k.readK.dtype !== 'f32' || k.readV.dtype !== 'f32') say('attention reads must be f32');
      if (k.keep && k.keep.dtype !== 'bool') say(`attention keep mask is ${k.keep.dtype}, expected bool`);
      if (k.bias && k.bias.dtype !== 'f32') say(`attention bias is ${k.bias.dtype}, expected f32`);
      if (k.causalOffset !== undefined && !Number.isInteger(k.causalOffset)) say(`causal offset ${k.causalOffset} is not an integer`);
      checkExpr(k.readQ, 'readQ', new Set());
      checkExpr(k.readK, 'readK', new Set());
      checkExpr(k.readV, 'readV', new Set());
      if (k.keep) checkExpr(k.keep, 'mask', new Set());
      if (k.bias) checkExpr(k.bias, 'mask', new Set());
      checkStores(k.stores, 'store', new Set(['out']));
      if (k.statStores) checkStores(k.statStores, 'stats', new Set(['max', 'sum']));
    } else if (k.kind === 'matmul') {
      if (k.readA.dtype !== 'f32' || k.readB.dtype !== 'f32') say('matmul reads must be f32');
      if (k.window) windowProblems(k.window, k.m, k.k).forEach(say);
      checkExpr(k.readA, 'readA', new Set());
      checkExpr(k.readB, 'readB', new Set());
      checkStores(k.stores, 'store', new Set(['acc']));
    } else if (k.kind === 'reduce') {
      if (k.reduceRank < 1 || k.reduceRank > k.shape.length) say(`reduceRank ${k.reduceRank} out of range for rank ${k.shape.length}`);
      if (k.scan && (k.reduceRank !== 1 || k.stores.length)) say(`a scan has reduceRank 1 and row stores only, got reduceRank ${k.reduceRank} and ${k.stores.length} store(s)`);
      const refs = new Set<string>();
      for (const st of k.stages) {
        checkExpr(st.value, 'stage', refs);
        if (st.value.dtype !== st.dtype) say(`stage ${st.name} folds ${st.value.dtype} into ${st.dtype}`);
        refs.add(st.name);
      }
      checkStores(k.stores, 'store', refs);
      checkStores(k.rowStores, 'row', refs);
    } else {
      checkStores(k.stores, 'store', new Set());
    }
    for (const s of kernelStores(k)) written.add(s.buffer);
  }
  for (const o of p.outputs) {
    const b = p.buffers[o.buffer];
    if (!b) problems.push(`output '${o.name}' names unknown buffer ${o.buffer}`);
    else if (!written.has(o.buffer)) problems.push(`output '${o.name}' (%${b.name}) is never written`);
  }
  problems.push(...verifyMemoryPlan(p));
  return problems;
}

/** Throws a KernelVerifyError listing every problem, or returns when the program is valid. */
export function assertKernelProgram(p: KernelProgram): void {
  const problems = verifyKernelProgram(p);
  if (problems.length) throw new KernelVerifyError(problems);
}
