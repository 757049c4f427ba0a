/**
 * The WAT of the CPU backend's module: every kernel a function named by its
 * kernel, SIMD instructions where the kernel is vectorised, and text that
 * WABT assembles back to a module that prints the same text and that the
 * engine accepts.
 */
import { emitWasmProgram, enableRelaxedSimd } from '@tessera/backend-cpu';
import { VisionTransformer, traceVit } from '@tessera/models';
import { compileProgram } from '@tessera/passes';
import { describe, expect, it } from 'vitest';
import { exportedFunctions, withFunctionNames } from '../src/wasm-names.ts';
import { wasmToWat, watToWasm } from '../src/wat.ts';

const vit = traceVit(new VisionTransformer({ model: 'vit', image_size: 8, patch_size: 4, num_layers: 1, num_heads: 2, hidden_dim: 8, mlp_dim: 12, num_classes: 3, naming: 'torchvision', layer_norm_eps: 1e-6 }), 1);
const { kernels } = compileProgram(vit);
// Relaxed SIMD off: this Node may lack it (the CLI turns it on; the printer reads both).
const wasm = emitWasmProgram(kernels, { threads: 2, relaxedSimd: false });
const names = new Map(wasm.kernels.flatMap((k) => (k.kind === 'wasm' ? [[k.exportName, k.name] as const] : [])));

/** The text of each function, by its name. */
function functionBodies(wat: string): Map<string, string> {
  const bodies = new Map<string, string>();
  const parts = wat.split(/\n {2}\(func /).slice(1);
  for (const p of parts) bodies.set(/^\$(\S+)/.exec(p)![1]!, p);
  return bodies;
}

describe('wasmToWat', () => {
  it('names every kernel function by its kernel and exports it under the backend\'s export name', async () => {
    expect(names.size).toBe(kernels.kernels.length);
    const wat = await wasmToWat(wasm.bytes, { functionNames: names });
    for (const [exportName, name] of names) expect(wat).toContain(`(func $${name} (export "${exportName}")`);
    // Without names each is only its index.
    expect(await wasmToWat(wasm.bytes)).not.toContain('$k1_matmul');
  });

  it('shows SIMD instructions in the vectorised kernels (the matmul micro-kernel, layer_norm rows), none where a kernel is scalar', async () => {
    const bodies = functionBodies(await wasmToWat(wasm.bytes, { functionNames: names }));
    const simd = (name: string) => /\b(?:f32x4|v128)\./.test(bodies.get(name) ?? '');
    const ln = kernels.kernels.find((k) => k.name.endsWith('layer_norm'))!.name;
    expect(simd(ln)).toBe(true);
    // The matmul kernels call the SIMD micro-kernel, which is all f32x4 arithmetic.
    const matmul = kernels.kernels.find((k) => k.kind === 'matmul')!.name;
    expect(bodies.get(matmul)).toMatch(/\bcall \$f\d+/);
    expect([...bodies.values()].some((b) => /f32x4\.mul/.test(b) && /f32x4\.add/.test(b))).toBe(true);
  });

  it('round-trips: WABT assembles the text to a module the engine accepts, which prints the same text', async () => {
    const wat = await wasmToWat(wasm.bytes, { functionNames: names });
    const bytes = await watToWasm(wat);
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(await wasmToWat(bytes, { functionNames: names })).toBe(wat);
  });

  it('a name section does not change the code: the named module prints as the bare one with the names put back', async () => {
    const named = withFunctionNames(wasm.bytes, names);
    expect(WebAssembly.validate(named)).toBe(true);
    expect(exportedFunctions(named)).toEqual(exportedFunctions(wasm.bytes));
    const bare = await wasmToWat(wasm.bytes);
    let text = await wasmToWat(named);
    for (const [exportName, name] of names) {
      const bareName = new RegExp(`\\(func (\\$\\S+) \\(export "${exportName}"\\)`).exec(bare)![1]!;
      text = text.replaceAll(`$${name}`, bareName);
    }
    expect(text).toBe(bare);
  });

  it('prints the fused multiply-adds of relaxed SIMD, as the CLI compiles (it turns relaxed SIMD on)', async () => {
    expect(enableRelaxedSimd()).toBe(true);
    const relaxed = emitWasmProgram(kernels, { threads: 1, relaxedSimd: true });
    expect(await wasmToWat(relaxed.bytes, { functionNames: names })).toMatch(/f32x4\.relaxed_madd/);
  });
});
