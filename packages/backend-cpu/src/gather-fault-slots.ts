/**
 * Where the CPU backend's kernels record out-of-range gather indices (see
 * @tessera/kernel gather-faults): per thread and per gather site, two i32
 * slots [position, index], position -1 (the largest u32) while none. A
 * thread writes only its own slots and keeps the least position, so no
 * atomics are needed; the barrier after the last kernel makes every
 * thread's writes visible to thread 0, which reads them all after the run.
 * The wasm target keeps the slots in its linear memory (kernels write them
 * directly), the JS target in a plain array.
 */
import { type GatherFault, type Indirect, type KernelProgram, firstFault, gatherFaultError, gatherSites, siteNumbers } from '@tessera/kernel';
import type { GatherFaultFn } from './js/module.ts';

/** Bytes of one thread's slot for one site: position and index, two i32. */
export const FAULT_SLOT_BYTES = 8;

/** Where the wasm kernels find the slots: byte address of thread 0's first, bytes per thread, and site numbers by gather node. */
export interface FaultSlotLayout {
  readonly base: number;
  readonly threadBytes: number;
  readonly sites: ReadonlyMap<string, number>;
}

/** The fault slots of one executable. */
export class GatherFaultSlots {
  private readonly numbers: ReadonlyMap<string, number>;

  private constructor(
    /** The program's gathers, in site order. */
    readonly sites: readonly Indirect[],
    /** threads x sites x [position, index]. */
    private readonly slots: Int32Array,
    private readonly threads: number,
  ) {
    this.numbers = siteNumbers(sites);
  }

  /** Slots in a JS array, for `threads` threads. */
  static inArray(program: KernelProgram, threads = 1): GatherFaultSlots {
    const sites = gatherSites(program);
    return new GatherFaultSlots(sites, new Int32Array(threads * sites.length * 2), threads);
  }

  /** Slots over memory a wasm module writes at `base` (sized by faultSlotBytes). */
  static inMemory(program: KernelProgram, memory: ArrayBufferLike, base: number, threads: number): GatherFaultSlots {
    const sites = gatherSites(program);
    return new GatherFaultSlots(sites, new Int32Array(memory, base, threads * sites.length * 2), threads);
  }

  /** Clears every slot; call before each run. */
  reset(): void {
    if (this.slots.length) this.slots.fill(-1);
  }

  /** What JS kernels call (they run as thread 0): keeps the least position per site, returns row 0 to read instead. */
  readonly record: GatherFaultFn = (node, position, index) => {
    const at = 2 * this.numbers.get(node)!;
    if (position >>> 0 < this.slots[at]! >>> 0) {
      this.slots[at] = position;
      this.slots[at + 1] = index;
    }
    return 0;
  };

  /** Throws the run's GatherIndexError if any thread recorded a fault. */
  check(): void {
    const n = this.sites.length;
    if (!n) return;
    const faults: GatherFault[] = [];
    for (let t = 0; t < this.threads; t++) {
      for (let site = 0; site < n; site++) {
        const at = 2 * (t * n + site);
        if (this.slots[at] !== -1) faults.push({ site, position: this.slots[at]!, index: this.slots[at + 1]! });
      }
    }
    const first = firstFault(faults);
    if (first) throw gatherFaultError(this.sites, first);
  }
}

/** Bytes of memory the slots of `program` take for `threads` threads. */
export function faultSlotBytes(program: KernelProgram, threads: number): number {
  return threads * gatherSites(program).length * FAULT_SLOT_BYTES;
}
