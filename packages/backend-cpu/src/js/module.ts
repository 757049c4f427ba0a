import type { KernelProgram } from '@tessera/kernel';
import { type JsKernelSource, emitJsKernel, helperSource } from './emit-kernel.ts';
import { GATHER_FAULT } from './expr.ts';

/** The generated JavaScript of a whole kernel program, one function per kernel. */
export interface JsProgramSource {
  readonly kernels: readonly JsKernelSource[];
}

/** Generates JavaScript for every kernel of a program. */
export function emitJsProgram(p: KernelProgram): JsProgramSource {
  return { kernels: p.kernels.map(emitJsKernel) };
}

/** The readable source of one kernel as a standalone function (what `--emit code` prints), its buffers named when the program is given. */
export function kernelFunctionSource(k: JsKernelSource, program?: KernelProgram): string {
  const scratch = Object.entries(k.scratch).map(([n, size]) => `// scratch ${n}: Float64Array(${size})`);
  const bufferNotes = program
    ? k.buffers.map((b) => {
        const d = program.buffers[b]!;
        return `// b${b} = %${d.name} : ${d.dtype}[${d.shape.join(',')}] ${d.role}`;
      })
    : [];
  const helpers = helperSource(k.helpers);
  const faults = k.body.includes(`${GATHER_FAULT}(`) ? [`// ${GATHER_FAULT}(node, position, index): records an out-of-range gather index (thrown after the run), returns row 0`] : [];
  return [
    ...(helpers ? [helpers] : []),
    ...bufferNotes,
    ...scratch,
    ...faults,
    `function ${k.name}(${k.buffers.map((b) => `b${b}`).join(', ')}) {`,
    k.body
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
    '}',
  ].join('\n');
}

/** Prints the whole program's generated code. */
export function printJsProgram(src: JsProgramSource, program?: KernelProgram): string {
  return src.kernels.map((k) => kernelFunctionSource(k, program)).join('\n\n');
}

/** What a kernel's gather calls on an index out of range (GATHER_FAULT): records it, returns the row to read instead. */
export type GatherFaultFn = (node: string, position: number, index: number) => number;

/** Compiles one kernel into a closure over its buffers, its scratch arrays (allocated here, once) and the gather fault recorder. */
export function instantiateJsKernel(k: JsKernelSource, buffers: readonly ArrayLike<number>[], gatherFault: GatherFaultFn): () => void {
  const scratchNames = Object.keys(k.scratch);
  const params = [...k.buffers.map((b) => `b${b}`), ...scratchNames, GATHER_FAULT];
  const factory = new Function(...params, `${helperSource(k.helpers)}\nreturn function ${k.name}() {\n${k.body}\n};`) as (...args: unknown[]) => () => void;
  return factory(...k.buffers.map((b) => buffers[b]), ...scratchNames.map((n) => new Float64Array(k.scratch[n]!)), gatherFault);
}
