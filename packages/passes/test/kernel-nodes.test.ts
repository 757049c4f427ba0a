import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProgram } from '@tessera/ir';
import { kernelStores, printKernelProgram } from '@tessera/kernel';
import { arbProgram } from '@tessera/harness';
import { compileProgram } from '../src/index.ts';

/** Random programs per property. */
const RUNS = Number(process.env.TESSERA_PASS_RUNS ?? 300);

describe('kernels record the graph nodes they compute', () => {
  it(`every kernel lists graph nodes in program order, the node of each buffer it stores among them (fused and unfused), ${RUNS} programs`, () => {
    fc.assert(
      fc.property(arbProgram({ maxNodes: 10 }), fc.boolean(), (program, fuse) => {
        const { graph, kernels } = compileProgram(program, fuse ? {} : { disabled: ['fuse'] });
        // Unfused lowering decomposes composites into nodes of its own; those are named too, but are not in `graph`.
        const order = new Map(graph.nodes.map((n, i) => [n.name, i]));
        for (const k of kernels.kernels) {
          const nodes = k.nodes ?? [];
          expect(new Set(nodes).size).toBe(nodes.length);
          const known = nodes.filter((n) => order.has(n)).map((n) => order.get(n)!);
          expect(known).toEqual([...known].sort((a, b) => a - b));
          for (const s of kernelStores(k)) {
            const name = kernels.buffers[s.buffer]!.name;
            if (order.has(name)) expect(nodes, `${k.name} stores %${name}`).toContain(name);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a fused kernel lists its root, epilogue and trailing transpose (not views it reads); the printer shows them under its header', () => {
    const p = parseProgram(`program @p
input %x : f32[4,8]
param %w : f32[3,8]
param %b : f32[3]
%wt = transpose(%w) {perm = [1, 0]} : f32[8,3]
%m = matmul(%x, %wt) : f32[4,3]
%y = add(%m, %b) : f32[4,3]
%r = tanh(%y) : f32[4,3]
%o = transpose(%r) {perm = [1, 0]} : f32[3,4]
output o = %o
`);
    const { kernels } = compileProgram(p);
    expect(kernels.kernels.map((k) => [k.name, k.nodes])).toEqual([['k0_matmul', ['m', 'y', 'r', 'o']]]);
    expect(printKernelProgram(kernels)).toMatch(/^kernel k0_matmul matmul .*\n {2}nodes %m %y %r %o\n {2}readA = /m);
  });
});
