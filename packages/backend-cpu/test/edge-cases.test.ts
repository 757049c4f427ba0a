import { describe, expect, it } from 'vitest';
import type { Program } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { EDGE_CASES } from '@tessera/harness';
import type { Executable } from '@tessera/kernel';
import { compileJs, compileWasm } from '../src/index.ts';

/** Every CPU target each case runs on; the wasm kernels are split across the threads even when small. */
const TARGETS: readonly { name: string; compile(p: Program): Promise<Executable> }[] = [
  { name: 'js', compile: async (p) => compileJs(lowerToKernels(p)) },
  { name: 'wasm, 1 thread', compile: (p) => compileWasm(lowerToKernels(p), { threads: 1, minParallelWork: 0 }) },
  { name: 'wasm, 2 threads', compile: (p) => compileWasm(lowerToKernels(p), { threads: 2, minParallelWork: 0 }) },
];

for (const target of TARGETS) {
  describe(`CPU target ${target.name}: the edge cases every backend shares (@tessera/harness EDGE_CASES)`, () => {
    for (const c of EDGE_CASES) {
      it(c.name, async () => {
        expect(await c.check(target.compile)).toEqual([]);
      });
    }
  });
}
