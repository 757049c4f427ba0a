/**
 * Out-of-range gather indices on WebGPU (see @tessera/kernel gather-faults).
 * WGSL cannot throw, so a kernel that meets one records it in the
 * program's faults buffer, reads row 0 instead and goes on; the runtime
 * reads the buffer's first words back with the outputs and throws.
 *
 * The buffer (array<atomic<u32>>): word s holds gather site s's least
 * offending position (atomicMin; 0xFFFFFFFF while none); from word
 * `values` of the site on, one word per position of its indices holds the
 * index found there. Every invocation that finds a bad index at position p
 * writes the same value to word values + p, so the value at the least
 * position needs no lock: the runtime fetches that one word on the error
 * path only.
 */
import { type Expr, type Indirect, type KernelProgram, gatherSites, walkExpr } from '@tessera/kernel';

/** Where each gather site records its faults. */
export interface FaultSlot {
  /** The site's number: its word holds the least position. */
  readonly site: number;
  /** First word of the site's per-position index values. */
  readonly values: number;
}

/** The faults buffer of one program. */
export interface FaultLayout {
  /** The program's gathers, in site order (word s is sites[s]'s). */
  readonly sites: readonly Indirect[];
  readonly slots: ReadonlyMap<string, FaultSlot>;
  /** Words in all. */
  readonly words: number;
}

/** The word of a site meaning "no fault yet". */
export const NO_FAULT = 0xffffffff;

/** Binding `buffer` number of the faults buffer (not a program buffer). */
export const FAULTS_BUFFER = -1;

/** The faults buffer's name in WGSL. */
export const FAULTS_NAME = 'faults';

/** Lays out the faults buffer of a program (no words when it has no gather). */
export function faultLayout(p: KernelProgram): FaultLayout {
  const sites = gatherSites(p);
  const slots = new Map<string, FaultSlot>();
  let words = sites.length;
  sites.forEach((ind, site) => {
    slots.set(ind.site.node, { site, values: words });
    words += ind.site.positions;
  });
  return { sites, slots, words };
}

/** Whether an expression gathers (and so binds the faults buffer). */
export function hasGather(e: Expr): boolean {
  let found = false;
  walkExpr(e, (x) => {
    if (x.k === 'load' && x.indirect) found = true;
  });
  return found;
}
