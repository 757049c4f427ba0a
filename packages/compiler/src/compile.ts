import { type Program, TesseraError, assertVerified, formatType, interpret, toHost } from '@tessera/ir';
import { type Backend, type Executable, type Inputs, InputBinder, describeValue, disposable, graphSignature, hostCopyExecutable, isInputRecord } from '@tessera/kernel';
import { type QuantizeMode, compileProgram, quantizeProgram } from '@tessera/passes';
import { type BackendName, getBackend } from './backends.ts';

/** Options of `compile`. */
export interface CompileOptions {
  /**
   * Where to run: the graph interpreter, the kernel evaluator, CPU kernels,
   * or WebGPU, by name (default `cpu`); or a Backend object, such as
   * `createCpuBackend({ target: 'js' })`.
   */
  readonly backend?: BackendName | Backend;
  /** Verify the IR after every pass (slower compiles; tests turn it on). */
  readonly verify?: boolean;
  /** Parameter values (tensors or typed arrays) bound once; `run` then needs only the activations. */
  readonly weights?: Inputs;
  /**
   * `'int8'`: the weight matmuls become int8 contractions (the quantize pass
   * of @tessera/passes, quantizeInt8), with the same inputs and weights; every
   * backend, the interpreter included, runs the quantized program.
   */
  readonly quantize?: QuantizeMode;
  /**
   * Arithmetic precision (default f32): 'f16' runs WebGPU's GPU matmuls in
   * f16 (f16 operand tiles, products and sums per K slice; see the WebGPU
   * backend's README), on adapters with shader-f16 only.
   */
  readonly precision?: 'f32' | 'f16';
}

/**
 * An executable whose parameters are bound at compile time: placed once in
 * the backend's memory (setInputs, which every built-in backend has), so
 * runs copy only activations; for a backend without setInputs, checked
 * here and passed along with every run.
 */
function bindWeights(program: Program, exe: Executable, weights: unknown): Executable {
  if (weights === undefined) return exe;
  if (!isInputRecord(weights)) throw new TesseraError(`compile(): weights must be an object of tensors or typed arrays keyed by input name, got ${describeValue(weights)}`);
  // The graph program's inputs, not the executable's word for them: the program is what the weights must fit.
  const { inputs } = graphSignature(program);
  if (exe.setInputs) exe.setInputs(weights as Inputs);
  else new InputBinder(program.name, inputs, () => {}).setInputs(weights);
  // setInputs checked that weights is an object of known inputs.
  const given = weights as Inputs;
  const missing = inputs.filter((i) => i.kind === 'parameter' && (!Object.hasOwn(given, i.name) || given[i.name] === undefined)).map((p) => `${p.name}: ${formatType({ dtype: p.dtype, shape: p.dims })}`);
  if (missing.length) throw new TesseraError(`weights are missing parameter(s): ${missing.join(', ')}`);
  if (exe.setInputs) return exe;
  return disposable({
    inputs: exe.inputs,
    outputs: exe.outputs,
    backend: exe.backend,
    run: (inputs) => exe.run(typeof inputs === 'object' && inputs !== null ? { ...given, ...inputs } : inputs),
    dispose: () => exe.dispose(),
  });
}

/** Runs a program on the reference interpreter behind the Executable interface (inputs checked and kept as every backend does). */
function interpreterExecutable(program: Program): Executable {
  return hostCopyExecutable(program.name, graphSignature(program), { name: 'interp' }, (inputs) => {
    const out = interpret(program, inputs);
    return program.outputs.map(({ name }) => toHost(out[name]!));
  });
}

/**
 * Compiles a graph program for a backend: lowers it to a kernel program and
 * hands that to the backend (or wraps the interpreter for `interp`). The
 * executable runs on tensors (`{ data, dims }`) or bare typed arrays and
 * returns HostTensors; `using exe = await compile(...)` disposes it.
 */
export async function compile(source: Program, options: CompileOptions = {}): Promise<Executable> {
  assertVerified(source);
  const program = quantizeProgram(source, options.quantize);
  const backend = options.backend ?? 'cpu';
  let exe: Executable;
  const precision = options.precision ?? 'f32';
  const refuse = (name: string) => new TesseraError(`compile(): precision '${precision}' is a WebGPU option; backend '${name}' computes in ${name === 'interp' ? 'float64' : 'f32'}`);
  if (backend === 'interp') {
    if (precision !== 'f32') throw refuse('interp');
    exe = interpreterExecutable(program);
  } else {
    const target = typeof backend === 'string' ? getBackend(backend) : backend;
    if (precision !== 'f32' && !(target.precisions ?? []).includes(precision)) throw refuse(target.name);
    const { kernels } = compileProgram(program, { verify: options.verify ?? false, maxBuffersPerKernel: target.limits.maxBuffersPerKernel });
    exe = await target.compile(kernels, precision === 'f32' ? undefined : { precision });
  }
  try {
    return bindWeights(program, exe, options.weights);
  } catch (e) {
    // Weights the program cannot take: nothing is returned, so nothing (workers, device buffers) may stay held.
    exe.dispose();
    throw e;
  }
}
