/**
 * `tessera compile (FILE.ts | --config C.json) [--emit ir|kernels|code|stats]`:
 * traces a model (a TypeScript model file, type-checked first, or a model
 * config), runs the pass pipeline and emits the requested form. Each output
 * form is one entry of EMITTERS.
 */
import { basename, extname } from 'node:path';
import { traceModelFile } from '@tessera/frontend/node';
import { type Program, printProgram } from '@tessera/ir';
import { printKernelProgram } from '@tessera/kernel';
import { type CompiledProgram, type Instrument, compileProgram, compileStats, defaultPasses, verifyEach } from '@tessera/passes';
import { emitJsProgram, printJsProgram } from '@tessera/backend-cpu';
import { DEFAULT_TARGET, emitProgramShaders, optionsFromEnv, printProgramShaders } from '@tessera/backend-webgpu';
import { type Command, UsageError } from '../command.ts';
import { withConsoleOnStderr } from '../console-to-stderr.ts';
import { type CommandInput, checkOutputDir, refuseInputAsOutput, writeOutput } from '../outputs.ts';
import { printIr } from '../print-ir.ts';
import { type InputOverride, parseInputOverride, traceConfig } from '../trace-config.ts';

/** Parsed command line of `tessera compile`. */
export interface CompileOptions {
  /** A TypeScript model file (or undefined with --config). */
  readonly file?: string;
  /** A model config JSON (the models' config format). */
  readonly config?: string;
  readonly emit: string;
  readonly out?: string;
  /** Program name (default: the file name, e.g. tiny_encoder). */
  readonly name?: string;
  readonly typeCheck: boolean;
  /** Backend whose code `--emit code` prints. */
  readonly backend: string;
  /** Input shapes set with --input NAME=DTYPE[SHAPE] (config models). */
  readonly inputs: Readonly<Record<string, InputOverride>>;
  readonly printIrAfterAll?: string;
  readonly printIrAfterChange?: string;
  /** Passes turned off with --disable-pass. */
  readonly disabled: readonly string[];
  /** --json: machine-readable output (stats). */
  readonly json: boolean;
}

/** What an emitter gets: the traced program, the options, and the compiled program on demand. */
export interface CompileContext {
  readonly program: Program;
  readonly options: CompileOptions;
  compiled(): CompiledProgram;
}

/** One output form of `compile --emit NAME`. */
export interface Emitter {
  readonly summary: string;
  emit(ctx: CompileContext): string | Promise<string>;
}

/** Backends `compile --backend` accepts. */
const COMPILE_BACKENDS = ['cpu', 'webgpu'] as const;

/**
 * The WGSL of a compiled program for WebGPU's guaranteed limits (what a GPU
 * adapter gets: shared-memory tiled matmul, workgroup reductions), or the
 * variants TESSERA_WEBGPU_MATMUL / TESSERA_WEBGPU_REDUCE name. No device
 * is needed: the text does not depend on one beyond these choices.
 */
function printWgsl(ctx: CompileContext): string {
  const { matmul, reduce } = optionsFromEnv();
  const target = { ...DEFAULT_TARGET, ...(matmul ? { matmul } : {}), ...(reduce ? { reduce } : {}) };
  const header = `// WGSL for WebGPU's guaranteed limits (${target.maxStorageBuffersPerShaderStage} storage buffers, ${target.maxInvocationsPerWorkgroup} invocations per workgroup); matmul ${matmul ?? 'by the GPU table'}, reductions ${reduce ?? 'by the GPU table'}\n`;
  return `${header}${printProgramShaders(emitProgramShaders(ctx.compiled().kernels, target))}`;
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The output forms, by --emit name. */
export const EMITTERS: Readonly<Record<string, Emitter>> = {
  ir: { summary: 'the traced graph program in the IR text format', emit: ({ program }) => printProgram(program) },
  kernels: { summary: 'the kernel program after the passes (arena size, buffers with their arena byte ranges, kernel launches)', emit: (ctx) => `${printKernelProgram(ctx.compiled().kernels)}\n` },
  code: {
    summary: 'the generated kernel source of --backend (cpu: JavaScript; webgpu: WGSL compute shaders)',
    emit: (ctx) => {
      if (ctx.options.backend === 'webgpu') return printWgsl(ctx);
      const { kernels } = ctx.compiled();
      return `${printJsProgram(emitJsProgram(kernels), kernels)}\n`;
    },
  },
  stats: {
    summary: 'kernel counts (fused and unfused), peak activation bytes, parameter bytes, flops, buffers (--json: one JSON object)',
    emit: (ctx) => {
      const fused = ctx.compiled();
      const unfused = compileProgram(ctx.program, { disabled: [...new Set([...ctx.options.disabled, 'fuse'])], verify: false });
      const s = compileStats(fused.graph, fused.kernels, unfused.kernels.kernels.length);
      if (ctx.options.json) return `${JSON.stringify(s)}\n`;
      const kinds = Object.entries(s.kernelsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
      return [
        `program @${ctx.program.name}`,
        `kernels:          ${s.kernels} (${kinds}); unfused ${s.unfusedKernels}`,
        `peak activations: ${formatBytes(s.peakActivationBytes)}`,
        `parameters:       ${formatBytes(s.parameterBytes)}`,
        `flops:            ${(s.flops / 1e9).toFixed(3)} GFLOP`,
        `temporaries:      ${s.buffers.length}`,
        ...s.buffers.map((b) => `  %${b.name} : ${b.dtype}[${b.shape.join(',')}] ${formatBytes(b.bytes)}`),
        '',
      ].join('\n');
    },
  },
};

const PASS_NAMES = defaultPasses().map((p) => p.name);

const USAGE = `usage: tessera compile (FILE.ts | --config C.json) [--emit FORM] [--json] [--input NAME=DTYPE[SHAPE]]...
                       [--print-ir-after-all DIR] [--print-ir-after-change DIR] [--disable-pass NAME]...
                       [--backend cpu|webgpu] [-o OUT] [--name NAME] [--no-typecheck]

  Traces a model, runs the pass pipeline (${PASS_NAMES.join(', ')}) and prints
  the requested form. FILE.ts is type-checked, imported and traced: its default
  export (a Module, or a function returning one) on the inputs named by
  \`export const inputs = { x: 'f32[2,16]' }\`. Type errors and shape errors are
  reported as FILE:line:col: message (exit 1). --config takes a model config
  (ViT or Transformer JSON); its input shapes default to batch 1, the config's
  image size and sequence lengths 16.

  --emit FORM                 what to print (default ir):
${Object.entries(EMITTERS)
  .map(([n, e]) => `                                ${n.padEnd(8)} ${e.summary}`)
  .join('\n')}
  --json                      with --emit stats: one JSON object
  --input NAME=DTYPE[SHAPE]   set an input's shape (config models), e.g. --input src=i64[2,9]
  --print-ir-after-all DIR    write the IR after every pass to DIR/NNN_pass.tir (DIR is created)
  --print-ir-after-change DIR the same, only after passes that changed it
  --disable-pass NAME         skip a pass (fuse: one kernel per core op)
  --backend NAME              backend for --emit code: cpu (JavaScript, the default) or webgpu (WGSL)
  -o, --out FILE              write to FILE instead of stdout (atomically; never the model or config file)
  --name NAME                 program name (default: the file's base name)
  --no-typecheck              skip the TypeScript check (faster; errors then surface while loading)`;

const VALUE_FLAGS: Readonly<Record<string, string>> = {
  '--emit': 'emit',
  '-o': 'out',
  '--out': 'out',
  '--name': 'name',
  '--backend': 'backend',
  '--config': 'config',
  '--print-ir-after-all': 'printIrAfterAll',
  '--print-ir-after-change': 'printIrAfterChange',
};
const REPEATED_FLAGS: Readonly<Record<string, string>> = { '--input': 'input', '--disable-pass': 'disable' };

/** Parses `compile`'s arguments (`--flag VALUE` or `--flag=VALUE`), or throws UsageError. */
export function parseCompileArgs(args: readonly string[]): CompileOptions {
  const values: Record<string, string> = {};
  const repeated: Record<string, string[]> = { input: [], disable: [] };
  const positional: string[] = [];
  let typeCheck = true;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--no-typecheck' || a === '--json') {
      if (a === '--json') json = true;
      else typeCheck = false;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const key = VALUE_FLAGS[flag] ?? REPEATED_FLAGS[flag];
    if (key) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      if (flag in REPEATED_FLAGS) repeated[key]!.push(v);
      else values[key] = v;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option '${a}'`);
    } else {
      positional.push(a);
    }
  }
  if (values.config !== undefined ? positional.length !== 0 : positional.length !== 1) {
    throw new UsageError(values.config !== undefined ? `--config takes no model FILE.ts as well, got ${positional.join(' ')}` : `expected exactly one model FILE.ts (or --config C.json), got ${positional.length}`);
  }
  const emit = values.emit ?? 'ir';
  if (!(emit in EMITTERS)) throw new UsageError(`unknown --emit form '${emit}' (expected one of ${Object.keys(EMITTERS).join(', ')})`);
  const backend = values.backend ?? 'cpu';
  if (!(COMPILE_BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`unknown --backend '${backend}' (expected one of ${COMPILE_BACKENDS.join(', ')})`);
  for (const d of repeated.disable!) if (!PASS_NAMES.includes(d)) throw new UsageError(`unknown pass '${d}' for --disable-pass (passes: ${PASS_NAMES.join(', ')})`);
  let inputs: Record<string, InputOverride>;
  try {
    inputs = Object.fromEntries(repeated.input!.map(parseInputOverride));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    ...(positional[0] !== undefined ? { file: positional[0] } : {}),
    ...(values.config !== undefined ? { config: values.config } : {}),
    emit,
    typeCheck,
    backend,
    inputs,
    disabled: repeated.disable!,
    json,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.printIrAfterAll !== undefined ? { printIrAfterAll: values.printIrAfterAll } : {}),
    ...(values.printIrAfterChange !== undefined ? { printIrAfterChange: values.printIrAfterChange } : {}),
  };
}

/** The default program name: the file's base name as an identifier (tiny-encoder.ts -> tiny_encoder). */
export function programNameFor(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(base) ? base : `m_${base}`;
}

/**
 * Traces the model (file or config). A model file's own code runs with its
 * console output on stderr (stdout carries what the CLI emits), and what it
 * throws becomes a located Tessera error (exit 1).
 */
export async function traceModel(options: Pick<CompileOptions, 'file' | 'config' | 'inputs' | 'typeCheck' | 'name'>): Promise<Program> {
  if (options.config !== undefined) return traceConfig(options.config, options.inputs);
  const file = options.file!;
  if (Object.keys(options.inputs).length) throw new UsageError('--input applies to --config models; a model file names its inputs itself');
  return withConsoleOnStderr(() => traceModelFile(file, { typeCheck: options.typeCheck, name: options.name ?? programNameFor(file) }));
}

/** The `compile` command. */
export const compileCommand: Command = {
  name: 'compile',
  summary: 'trace a model (file or config), run the passes, print its IR, kernels, code or stats',
  usage: USAGE,
  async run(args) {
    const options = parseCompileArgs(args);
    // Outputs are checked before the model is traced: none may name the model or config file.
    const inputs: CommandInput[] = options.config !== undefined ? [{ what: '--config file', path: options.config }] : [{ what: 'model file', path: options.file! }];
    if (options.out !== undefined) refuseInputAsOutput('--out', options.out, inputs);
    if (options.printIrAfterAll !== undefined) checkOutputDir('--print-ir-after-all', options.printIrAfterAll, inputs);
    if (options.printIrAfterChange !== undefined) checkOutputDir('--print-ir-after-change', options.printIrAfterChange, inputs);
    const program = await traceModel(options);
    const instruments: Instrument[] = [verifyEach];
    if (options.printIrAfterAll !== undefined) instruments.push(printIr('--print-ir-after-all', options.printIrAfterAll, inputs));
    if (options.printIrAfterChange !== undefined) instruments.push(printIr('--print-ir-after-change', options.printIrAfterChange, inputs, true));
    let compiled: CompiledProgram | undefined;
    const compiledOnce = () => (compiled ??= compileProgram(program, { disabled: options.disabled, instruments, verify: false }));
    // The dumps are written whatever the emitted form.
    if (instruments.length > 1) compiledOnce();
    const text = await EMITTERS[options.emit]!.emit({ program, options, compiled: compiledOnce });
    if (options.out !== undefined) writeOutput('--out', options.out, text, inputs);
    else process.stdout.write(text);
    return 0;
  },
};
