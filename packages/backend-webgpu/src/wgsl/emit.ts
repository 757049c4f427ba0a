import { type Kernel, type KernelProgram, legalizeKernel, supportOf } from '@tessera/kernel';
import { emitAttention } from './attention.ts';
import { defaultNames } from './expr.ts';
import { type FaultLayout, faultLayout } from './faults.ts';
import { emitMap } from './map.ts';
import { emitMatmul } from './matmul.ts';
import { emitMatmulInt8 } from './matmul-int8.ts';
import { type KernelShader, ShaderModuleBuilder, type WgslTarget } from './module.ts';
import { emitReduce } from './reduce.ts';
import { WGSL_CODE } from './scalar.ts';
import { emitScan } from './scan.ts';

/** The scalar ops WGSL has code for. */
export const WGSL_SUPPORT = supportOf(WGSL_CODE);

/**
 * Generates the compute shader of one kernel of `program` for `target`
 * (`faults`: the program's faults buffer, see faults.ts), legalised first:
 * ops without WGSL code become their decompositions.
 */
export function emitKernelShader(kernel: Kernel, program: KernelProgram, target: WgslTarget, faults: FaultLayout = faultLayout(program)): KernelShader {
  const k = legalizeKernel(kernel, WGSL_SUPPORT);
  const mb = new ShaderModuleBuilder(k, program.buffers, target, defaultNames(faults));
  switch (k.kind) {
    case 'map':
      return emitMap(k, mb);
    case 'reduce':
      return k.scan ? emitScan(k, mb) : emitReduce(k, mb);
    case 'matmul':
      return k.quant ? emitMatmulInt8(k, mb) : emitMatmul(k, mb);
    case 'attention':
      return emitAttention(k, mb);
  }
}

/** Generates the compute shaders of every kernel of a program, in launch order. */
export function emitProgramShaders(program: KernelProgram, target: WgslTarget): KernelShader[] {
  const faults = faultLayout(program);
  return program.kernels.map((k) => emitKernelShader(k, program, target, faults));
}

/** The whole program's WGSL, one module per dispatch (prepasses before their kernel) with its size noted (what `--emit code` prints). */
export function printProgramShaders(shaders: readonly KernelShader[]): string {
  const one = (s: KernelShader, note = '') => `// dispatch ${s.dispatch.join(' x ')} workgroups of ${s.workgroupSize}${note}\n${s.wgsl}`;
  return shaders
    .flatMap((s) => [
      ...(s.prepasses ?? []).map((p) => one(p, `, before ${s.name}${p.paramsOnly ? ' (only when parameters change)' : ''}`)),
      ...(s.textures ?? []).map((t, i) => `// texture tex${i}: rgba32float ${t.width} x ${t.height} (${t.label})`),
      one(s),
    ])
    .join('\n');
}
