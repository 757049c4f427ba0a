import type { Program } from '@tessera/ir';
import type { KernelProgram } from '@tessera/kernel';
import { type CompileStats, compileStats } from './stats.ts';
import { type Instrument, type PipelineOptions, defaultPasses, runPipeline, verifyEach } from './pipeline.ts';

/** Options of compileProgram. */
export interface CompileProgramOptions extends PipelineOptions {
  /** Pass names to skip (`fuse` off gives one kernel per core op). */
  readonly disabled?: readonly string[];
  readonly instruments?: readonly Instrument[];
  /** Verify after every pass (default true: cheap next to compilation, and the first thing to ask when a pass breaks). */
  readonly verify?: boolean;
}

/** A compiled program: the canonical graph and its planned kernel program. */
export interface CompiledProgram {
  readonly graph: Program;
  readonly kernels: KernelProgram;
}

/** Runs the default pipeline on a graph program. */
export function compileProgram(program: Program, options: CompileProgramOptions = {}): CompiledProgram {
  const instruments = [...(options.verify === false ? [] : [verifyEach]), ...(options.instruments ?? [])];
  const fusion = !(options.disabled ?? []).includes('fuse');
  const state = runPipeline(program, defaultPasses({ ...options, fusion }), { instruments, pipeline: options, ...(options.disabled ? { disabled: options.disabled } : {}) });
  return { graph: state.graph, kernels: state.kernels! };
}

/** Compiles with and without fusion and returns the statistics `--emit stats` prints. */
export function statsFor(program: Program, options: CompileProgramOptions = {}): CompileStats {
  const fused = compileProgram(program, options);
  const unfused = compileProgram(program, { ...options, disabled: [...(options.disabled ?? []), 'fuse'] });
  return compileStats(fused.graph, fused.kernels, unfused.kernels.kernels.length);
}
