import { type Program, TesseraError, formatType, interpret, toHost, assertVerified } from '@tessera/ir';
import type { Executable, TensorData } from '@tessera/kernel';
import { compileProgram } from '@tessera/passes';
import { type BackendName, getBackend } from './backends.ts';

/** Options of `compile`. */
export interface CompileOptions {
  /** Where to run: the graph interpreter, the kernel evaluator, JS kernels, or WebGPU. Default `cpu`. */
  readonly backend?: BackendName;
  /** Verify the IR after every pass (slower compiles; tests turn it on). */
  readonly verify?: boolean;
  /** Parameter values bound once; `run` then needs only the activations. */
  readonly weights?: Readonly<Record<string, TensorData>>;
}

/**
 * An executable whose parameters are bound at compile time: placed once in
 * the backend's memory when it can hold them (setInputs), so runs copy only
 * activations; otherwise passed along with every run.
 */
function bindWeights(program: Program, exe: Executable, weights: Readonly<Record<string, TensorData>> | undefined): Executable {
  if (!weights) return exe;
  const params = program.inputs.filter((i) => i.kind === 'parameter');
  const missing = params.filter((p) => !(p.name in weights)).map((p) => `${p.name}: ${formatType(p.type)}`);
  if (missing.length) throw new TesseraError(`weights are missing parameter(s): ${missing.join(', ')}`);
  if (exe.setInputs) {
    exe.setInputs(weights);
    return exe;
  }
  return {
    run: (inputs) => exe.run({ ...weights, ...inputs }),
    dispose: () => exe.dispose(),
  };
}

/** Runs a program on the reference interpreter behind the Executable interface. */
function interpreterExecutable(program: Program): Executable {
  return {
    async run(inputs) {
      const out = interpret(program, inputs);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, toHost(v)]));
    },
    dispose() {},
  };
}

/**
 * Compiles a graph program for a backend: lowers it to a kernel program and
 * hands that to the backend (or wraps the interpreter for `interp`).
 */
export async function compile(program: Program, options: CompileOptions = {}): Promise<Executable> {
  assertVerified(program);
  const backend = options.backend ?? 'cpu';
  let exe: Executable;
  if (backend === 'interp') exe = interpreterExecutable(program);
  else {
    const target = getBackend(backend);
    const { kernels } = compileProgram(program, { verify: options.verify ?? false, maxBuffersPerKernel: target.limits.maxBuffersPerKernel });
    exe = await target.compile(kernels);
  }
  return bindWeights(program, exe, options.weights);
}
