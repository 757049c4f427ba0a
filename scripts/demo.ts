/**
 * `pnpm demo`, the main job (until the trained models land): compile the
 * example transformer encoder block from its TypeScript file, show its IR
 * and kernel program, and run it on every backend with seeded weights,
 * comparing each with the reference interpreter.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadModelFile, trace } from '@tessera/frontend';
import { formatType, numel, printProgram } from '@tessera/ir';
import { printKernelProgram } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { compile } from 'tessera';

const FILE = 'examples/tiny-encoder.ts';

/** Seeded values in [-1, 1) (xorshift), so every run and backend sees the same numbers. */
function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 4294967296) * 2 - 1;
  });
}

const t0 = performance.now();
const loaded = await loadModelFile(FILE);
const program = trace(loaded.model, loaded.inputs, { name: 'tiny_encoder' });
const traceMs = performance.now() - t0;
mkdirSync('out', { recursive: true });
writeFileSync('out/tiny-encoder.tir', printProgram(program));
const kernels = lowerToKernels(program);
writeFileSync('out/tiny-encoder.kernels', `${printKernelProgram(kernels)}\n`);

console.log(`${FILE}: type-checked, loaded and traced in ${traceMs.toFixed(0)} ms`);
console.log(`  inputs:  ${program.inputs.filter((i) => i.kind === 'activation').map((i) => `${i.name}: ${formatType(i.type)}`).join(', ')}`);
const params = program.inputs.filter((i) => i.kind === 'parameter');
console.log(`  params:  ${params.length} tensors, ${params.reduce((n, p) => n + numel(p.type.shape), 0)} values (${params.map((p) => p.name).slice(0, 3).join(', ')}, ...)`);
console.log(`  graph:   ${program.nodes.length} nodes -> out/tiny-encoder.tir`);
console.log(`  kernels: ${kernels.kernels.length} launches, ${kernels.buffers.filter((b) => b.role === 'temp').length} temporaries -> out/tiny-encoder.kernels`);

const inputs = Object.fromEntries(program.inputs.map((inp, i) => [inp.name, seeded(numel(inp.type.shape), 17 + i)]));
const rows: string[][] = [];
let reference: Float32Array | undefined;
for (const backend of ['interp', 'eval', 'cpu'] as const) {
  const c0 = performance.now();
  const exe = await compile(program, { backend });
  const compileMs = performance.now() - c0;
  await exe.run(inputs);
  const r0 = performance.now();
  const runs = 5;
  let out: Float32Array | undefined;
  for (let r = 0; r < runs; r++) out = (await exe.run(inputs)).output as Float32Array;
  const runMs = (performance.now() - r0) / runs;
  exe.dispose();
  reference ??= out;
  const worst = out!.reduce((m, v, i) => Math.max(m, Math.abs(v - reference![i]!)), 0);
  rows.push([backend, compileMs.toFixed(1), runMs.toFixed(3), worst.toExponential(2)]);
}
const header = ['backend', 'compile ms', 'run ms', 'max |Δ| vs interp'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(`\n${header.map((h, i) => h.padEnd(widths[i]!)).join('  ')}`);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
