/** `pnpm bench`: every benchmark, with peers measured in the same run. Not a test: prints tables. */
import { enableRelaxedSimd, relaxedSimdByDefault } from '@tessera/backend-cpu';
import { benchCompile } from './compile.ts';
import { benchCpuKernels } from './cpu-kernels.ts';
import { benchMicroKernel } from './micro-kernel.ts';
import { benchTransformer } from './transformer.ts';
import { benchVit } from './vit.ts';
import { benchWasm } from './wasm.ts';
import { benchWebgpu } from './webgpu.ts';

// As the CLI does: relaxed SIMD on in Node 20, so Tessera's wasm micro-kernel fuses multiply-adds (unless TESSERA_WASM_RELAXED_SIMD=0).
enableRelaxedSimd();
const relaxed = relaxedSimdByDefault();
console.log(`tessera bench — node ${process.version}, ${(await import('node:os')).cpus()[0]?.model ?? 'cpu'} x${(await import('node:os')).cpus().length}`);
console.log(`tessera wasm micro-kernel: ${relaxed ? 'fused multiply-adds (relaxed SIMD)' : 'f32x4 mul + add (no relaxed SIMD)'}`);
await benchCompile();
await benchCpuKernels();
await benchWasm();
await benchMicroKernel();
await benchVit();
await benchTransformer();
await benchWebgpu();
