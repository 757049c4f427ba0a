/** `pnpm bench`: every benchmark, with peers measured in the same run. Not a test: prints tables. */
import { benchCompile } from './compile.ts';
import { benchCpuKernels } from './cpu-kernels.ts';
import { benchVit } from './vit.ts';
import { benchWasm } from './wasm.ts';
import { benchWebgpu } from './webgpu.ts';

console.log(`tessera bench — node ${process.version}, ${(await import('node:os')).cpus()[0]?.model ?? 'cpu'} x${(await import('node:os')).cpus().length}`);
await benchCompile();
await benchCpuKernels();
await benchWasm();
await benchVit();
await benchWebgpu();
