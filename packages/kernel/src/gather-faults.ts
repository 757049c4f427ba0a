/**
 * Out-of-range gather indices, as generated kernels report them: a kernel
 * that meets one records (site, position, index) in a fault slot, reads row
 * 0 instead and goes on; the runtime looks at the slots after the run and
 * throws the one GatherIndexError every backend agrees on.
 */
import { GatherIndexError } from '@tessera/ir';
import { type Expr, type Indirect, walkExpr } from './expr.ts';
import { type KernelProgram, kernelExprs } from './kernel.ts';

/** Every gather of a program, once per graph node, in launch order: site i of a backend's fault slots is entry i. */
export function gatherSites(p: KernelProgram): Indirect[] {
  const sites = new Map<string, Indirect>();
  for (const k of p.kernels) {
    for (const e of kernelExprs(k)) {
      walkExpr(e, (x: Expr) => {
        if (x.k === 'load' && x.indirect && !sites.has(x.indirect.site.node)) sites.set(x.indirect.site.node, x.indirect);
      });
    }
  }
  return [...sites.values()];
}

/** Site numbers by gather node, for emitters (see gatherSites). */
export function siteNumbers(sites: readonly Indirect[]): ReadonlyMap<string, number> {
  return new Map(sites.map((s, i) => [s.site.node, i]));
}

/** One recorded out-of-range index: the site (see gatherSites), the position in its indices and the value found there. */
export interface GatherFault {
  readonly site: number;
  readonly position: number;
  readonly index: number;
}

/** The fault a run reports among those recorded: the first site in launch order, then the least position (what the interpreter meets first). */
export function firstFault(faults: Iterable<GatherFault>): GatherFault | undefined {
  let best: GatherFault | undefined;
  for (const f of faults) {
    if (!best || f.site < best.site || (f.site === best.site && f.position < best.position)) best = f;
  }
  return best;
}

/** The error for a recorded fault. */
export function gatherFaultError(sites: readonly Indirect[], f: GatherFault): GatherIndexError {
  const ind = sites[f.site]!;
  return new GatherIndexError(ind.site, f.index, f.position, ind.extent);
}
