import { byteSize, formatLoc, formatShape } from '@tessera/ir';
import type { Expr, IndexMap, Indirect } from './expr.ts';
import type { Kernel, KernelProgram, Store } from './kernel.ts';

/** Prints an index map as `7 + 3*a0 + a2` (zero strides omitted). */
export function printMap(map: IndexMap): string {
  const terms: string[] = [];
  map.strides.forEach((s, a) => {
    if (s === 1) terms.push(`a${a}`);
    else if (s !== 0) terms.push(`${s}*a${a}`);
  });
  if (map.offset !== 0 || terms.length === 0) terms.unshift(String(map.offset));
  return terms.join(' + ');
}

function printNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** A gather's index as `gather<%y @ 3:7, position a0 of 4>(index) in [0, 10)`: the node and position its range error names. */
function printGather(ind: Indirect, p: (x: Expr) => string): string {
  const { node, loc, position, positions } = ind.site;
  return `gather<%${node}${loc ? ` @ ${formatLoc(loc)}` : ''}, position ${printMap(position)} of ${positions}>(${p(ind.index)}) in [0, ${ind.extent})`;
}

/** Prints a scalar expression in prefix form, loads as `%buf[index]`. */
export function printExpr(e: Expr, names: readonly string[]): string {
  const p = (x: Expr) => printExpr(x, names);
  switch (e.k) {
    case 'const':
      return e.dtype === 'f32' ? printNumber(e.value) : `${printNumber(e.value)}:${e.dtype}`;
    case 'axis':
      return `a${e.axis}`;
    case 'load': {
      const ind = e.indirect ? ` + ${e.indirect.stride}*${printGather(e.indirect, p)}` : '';
      return `%${names[e.buffer] ?? `?${e.buffer}`}[${printMap(e.map)}${ind}]`;
    }
    case 'unary':
      return `${e.op}(${p(e.x)})`;
    case 'binary':
    case 'compare':
      return `${e.op}(${p(e.a)}, ${p(e.b)})`;
    case 'select':
      return `select(${p(e.cond)}, ${p(e.a)}, ${p(e.b)})`;
    case 'cast':
      return `cast<${e.dtype}>(${p(e.x)})`;
    case 'ref':
      return `$${e.name}`;
  }
}

function printStores(label: string, stores: readonly Store[], names: readonly string[]): string[] {
  return stores.map((s) => `  ${label}%${names[s.buffer]}[${printMap(s.map)}] = ${printExpr(s.value, names)}`);
}

/** Prints one kernel: its kind and iteration space, the graph nodes it computes, then one line per read, stage and store. */
export function printKernel(k: Kernel, names: readonly string[]): string {
  const lines: string[] = [];
  switch (k.kind) {
    case 'map':
      lines.push(`kernel ${k.name} map ${formatShape(k.shape)}`);
      lines.push(...printStores('store ', k.stores, names));
      break;
    case 'reduce': {
      const pr = k.shape.length - k.reduceRank;
      lines.push(`kernel ${k.name} ${k.scan ? 'scan' : 'reduce'} ${formatShape(k.shape.slice(0, pr))} over ${formatShape(k.shape.slice(pr))}`);
      for (const s of k.stages) lines.push(`  $${s.name} = ${s.combiner}<${s.dtype}>(${printExpr(s.value, names)})`);
      lines.push(...printStores('store ', k.stores, names));
      lines.push(...printStores('row store ', k.rowStores, names));
      break;
    }
    case 'attention': {
      const nb = k.batch.length;
      const causal = k.causalOffset === undefined ? '' : ` causal(j <= i + ${k.causalOffset})`;
      lines.push(`kernel ${k.name} attention batch ${formatShape(k.batch)} tq=${k.tq} tk=${k.tk} d=${k.d} dv=${k.dv} scale=${printNumber(k.scale)}${causal}  (i=a${nb}, j=a${nb + 1}, c=a${nb + 2})`);
      lines.push(`  q = ${printExpr(k.readQ, names)}`, `  k = ${printExpr(k.readK, names)}`, `  v = ${printExpr(k.readV, names)}`);
      if (k.keep) lines.push(`  keep = ${printExpr(k.keep, names)}`);
      if (k.bias) lines.push(`  bias = ${printExpr(k.bias, names)}`);
      lines.push(...printStores('store ', k.stores, names));
      lines.push(...printStores('stat store ', k.statStores ?? [], names));
      break;
    }
    case 'matmul': {
      const nb = k.batch.length;
      lines.push(`kernel ${k.name} matmul batch ${formatShape(k.batch)} m=${k.m} n=${k.n} k=${k.k}  (i=a${nb}, j=a${nb + 1}, p=a${nb + 2})`);
      const w = k.window;
      if (w) {
        const pair = (v: readonly number[]) => v.join('x');
        lines.push(`  window input ${w.channels}x${pair(w.input)} output ${pair(w.output)} kernel ${pair(w.kernel)} stride ${pair(w.stride)} dilation ${pair(w.dilation)} padding ${pair(w.padding)}  (readA at c=a${nb}, y=a${nb + 1}, x=a${nb + 2})`);
      }
      lines.push(`  readA = ${printExpr(k.readA, names)}`);
      lines.push(`  readB = ${printExpr(k.readB, names)}`);
      lines.push(...printStores('store ', k.stores, names));
      break;
    }
  }
  // Under the header: the graph nodes the kernel computes, what ties it back to the IR and the model's source.
  if (k.nodes?.length) lines.splice(1, 0, `  nodes ${k.nodes.map((n) => `%${n}`).join(' ')}`);
  return lines.join('\n');
}

/**
 * Prints a kernel program: the arena's size once memory is planned, buffers
 * with roles (a planned temporary with its byte range in the arena: what
 * one needs to debug a memory plan), then the kernels in launch order.
 */
export function printKernelProgram(p: KernelProgram): string {
  const names = p.buffers.map((b) => b.name);
  const lines = [`kernels @${p.name}`];
  if (p.arenaBytes !== undefined) lines.push(`arena ${p.arenaBytes} bytes`);
  p.buffers.forEach((b) => {
    const data = b.role === 'const' && b.data ? ` = [${b.data.slice(0, 8).map(printNumber).join(', ')}${b.data.length > 8 ? ', ...' : ''}]` : '';
    const arena = b.arenaOffset !== undefined ? ` arena[${b.arenaOffset}, ${b.arenaOffset + b.size * byteSize(b.dtype)})` : '';
    lines.push(`buffer %${b.name} : ${b.dtype}${formatShape(b.shape)} ${b.role}${arena}${data}`);
  });
  for (const k of p.kernels) lines.push(printKernel(k, names));
  for (const o of p.outputs) lines.push(`output ${o.name} = %${names[o.buffer]}`);
  return lines.join('\n');
}
