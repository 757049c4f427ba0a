/**
 * `tessera compile (FILE.ts | FILE.tir | --config C.json) [--emit ir|kernels|code|wat|stats|dot|svg|html] [--after PASS]`:
 * traces a model (a TypeScript model file, type-checked first, or a model
 * config) or reads an IR program, runs the pass pipeline and emits the
 * requested form. Each output
 * form is one entry of EMITTERS.
 */
import type { AttentionSelection } from '@tessera/frontend';
import { type Program, printProgram } from '@tessera/ir';
import { printKernelProgram } from '@tessera/kernel';
import { type CompiledProgram, type Instrument, type PipelineState, compileProgram, compileStats, defaultPasses, verifyEach } from '@tessera/passes';
import { defaultThreads, emitJsProgram, emitWasmProgram, printJsProgram } from '@tessera/backend-cpu';
import { graphPicture, htmlPage, renderSvg, toDot } from '@tessera/viz';
import { wasmToWat } from '@tessera/viz/wat';
import { DEFAULT_TARGET, emitProgramShaders, optionsFromEnv, printProgramShaders } from '@tessera/backend-webgpu';
import { parseCommandArgs } from '../args.ts';
import { type Command, UsageError } from '../command.ts';
import { type ModelArgs, attentionsFlag, loadModelProgram, modelInput, parseModelArgs, withModelFlags } from '../model-source.ts';
import { type CommandInput, checkOutputDir, refuseInputAsOutput, writeOutput } from '../outputs.ts';
import { printIr } from '../print-ir.ts';
import { type Timings, withTimings } from '../timings.ts';

/** Parsed command line of `tessera compile`. */
export interface CompileOptions {
  /** The model: FILE.ts, FILE.tir or --config, with --input and --no-typecheck. */
  readonly model: ModelArgs;
  readonly emit: string;
  readonly out?: string;
  /** Program name (default: the file name, e.g. tiny_encoder). */
  readonly name?: string;
  /** Backend whose code `--emit code` prints. */
  readonly backend: string;
  /** The pass after which --emit dot|svg|html draws the program (default: the last one). */
  readonly after?: string;
  readonly printIrAfterAll?: string;
  readonly printIrAfterChange?: string;
  /** Passes turned off with --disable-pass. */
  readonly disabled: readonly string[];
  /** --json: machine-readable output (stats). */
  readonly json: boolean;
  /** --timings: the time of each phase on stderr. */
  readonly timings: boolean;
  /** --attentions[=PATH,...]: trace with attention probes. */
  readonly attentions?: AttentionSelection;
}

/** What an emitter gets: the traced program, the options, and the compiled program on demand. */
export interface CompileContext {
  readonly program: Program;
  readonly options: CompileOptions;
  compiled(): CompiledProgram;
  /** The pipeline's state after the named pass (compiling first), with the pass's name; the last pass's when none is named. */
  stateAfter(pass: string | undefined): { readonly pass: string; readonly state: PipelineState };
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

/** The WebAssembly module the cpu backend runs for the program, as WAT, each kernel's function named by the kernel. */
async function printWat(ctx: CompileContext): Promise<string> {
  const { kernels } = ctx.compiled();
  const threads = await defaultThreads();
  const wasm = emitWasmProgram(kernels, { threads });
  const names = new Map(wasm.kernels.flatMap((k) => (k.kind === 'wasm' ? [[k.exportName, k.name] as const] : [])));
  const header = [
    `;; WebAssembly of the cpu backend for @${kernels.name}: ${wasm.bytes.length} bytes, ${threads} thread(s) (${wasm.shared ? 'shared' : 'unshared'} memory of ${wasm.memory.pages} pages), relaxed SIMD ${wasm.relaxedSimd ? 'on' : 'off'}`,
    ...wasm.kernels.map((k) => (k.kind === 'wasm' ? `;;   ${k.name}: exported as ${k.exportName}` : `;;   ${k.name}: runs as JavaScript (${k.reason})`)),
  ];
  return `${header.join('\n')}\n${await wasmToWat(wasm.bytes, { functionNames: names })}`;
}

/** The picture of the program after --after (default: the last pass) as DOT, and the picture itself. */
function picture(ctx: CompileContext) {
  const { pass, state } = ctx.stateAfter(ctx.options.after);
  const p = graphPicture(state.graph, state.kernels, { after: pass });
  return { picture: p, dot: toDot(p) };
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The output forms, by --emit name. */
export const EMITTERS: Readonly<Record<string, Emitter>> = {
  ir: { summary: 'the traced graph program in the IR text format', emit: ({ program }) => printProgram(program) },
  kernels: { summary: 'the kernel program after the passes (arena size, buffers with their arena byte ranges, kernel launches)', emit: (ctx) => `${printKernelProgram(ctx.compiled().kernels)}\n` },
  code: {
    summary: 'the generated kernel source of --backend (cpu: the JavaScript target; webgpu: WGSL compute shaders)',
    emit: (ctx) => {
      if (ctx.options.backend === 'webgpu') return printWgsl(ctx);
      const { kernels } = ctx.compiled();
      return `${printJsProgram(emitJsProgram(kernels), kernels)}\n`;
    },
  },
  wat: { summary: 'the WebAssembly module the cpu backend runs (WAT text; each kernel a function named by it)', emit: printWat },
  dot: { summary: 'the graph after --after PASS as Graphviz DOT: fused kernels as clusters in repeated layers', emit: (ctx) => picture(ctx).dot },
  svg: { summary: 'the same picture laid out by Graphviz (SVG)', emit: async (ctx) => renderSvg(picture(ctx).dot) },
  html: {
    summary: 'the same picture in a self-contained HTML page with a legend (opens offline)',
    emit: async (ctx) => {
      const { picture: p, dot } = picture(ctx);
      return htmlPage(await renderSvg(dot), p);
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
/** The pass that lowers the graph when fuse is disabled. */
const UNFUSED_LOWERING = 'lower';
/** What --after takes: the passes, and the unfused lowering. */
const AFTER_NAMES = [...PASS_NAMES, UNFUSED_LOWERING];
const PICTURE_FORMS = ['dot', 'svg', 'html'];

const USAGE = `usage: tessera compile (FILE.ts | FILE.tir | --config C.json) [--emit FORM] [--after PASS] [--json] [--input NAME=DTYPE[SHAPE]]...
                       [--print-ir-after-all DIR] [--print-ir-after-change DIR] [--disable-pass NAME]...
                       [--backend cpu|webgpu] [-o OUT] [--name NAME] [--no-typecheck] [--timings]

  Traces a model, runs the pass pipeline (${PASS_NAMES.join(', ')}) and prints
  the requested form. FILE.ts is type-checked, imported and traced: its default
  export (a Module, or a function returning one) on the inputs named by
  \`export const inputs = { x: 'f32[2,16]' }\`. Type errors and shape errors are
  reported as FILE:line:col: message (exit 1). FILE.tir is a program in the IR
  text format. --config takes a model config (ViT or Transformer JSON); its
  input shapes default to batch 1, the config's image size and sequence lengths 16.

  --emit FORM                 what to print (default ir):
${Object.entries(EMITTERS)
  .map(([n, e]) => `                                ${n.padEnd(8)} ${e.summary}`)
  .join('\n')}
  --after PASS                with --emit dot|svg|html: draw the program after PASS (default the last);
                              passes: ${AFTER_NAMES.join(', ')} (${UNFUSED_LOWERING}: with --disable-pass fuse)
  --json                      with --emit stats: one JSON object
  --input NAME=DTYPE[SHAPE]   set an input's type: of a model file (another shape, the same dtype),
                              or of a --config model, e.g. --input src=i64[2,9]
  --print-ir-after-all DIR    write the IR after every pass to DIR/NNN_pass.tir (DIR is created)
  --print-ir-after-change DIR the same, only after passes that changed it
  --disable-pass NAME         skip a pass (fuse: one kernel per core op)
  --backend NAME              backend for --emit code: cpu (JavaScript, the default) or webgpu (WGSL)
  -o, --out FILE              write to FILE instead of stdout (atomically; never the model or config file)
  --name NAME                 program name (default: the file's base name)
  --attentions[=PATH,...]     trace with attention probes: outputs attn/<module path> (all, or those)
  --no-typecheck              skip the TypeScript check (faster; errors then surface while loading)
  --timings                   print the time of each phase on stderr (start-up, type check, load,
                              trace, each pass, emit)`;

/** Parses `compile`'s arguments (`--flag VALUE` or `--flag=VALUE`), or throws UsageError. */
export function parseCompileArgs(args: readonly string[]): CompileOptions {
  const parsed = parseCommandArgs(
    args,
    withModelFlags({
      values: ['--emit', '--out', '--name', '--backend', '--after', '--print-ir-after-all', '--print-ir-after-change'],
      repeated: ['--disable-pass'],
      booleans: ['--json'],
      optionalValues: ['--attentions'],
      aliases: { '-o': '--out' },
    }),
  );
  const model = parseModelArgs(parsed, ['file', 'program', 'config']);
  const v = parsed.values;
  const emit = v.get('--emit') ?? 'ir';
  if (!(emit in EMITTERS)) throw new UsageError(`unknown --emit form '${emit}' (expected one of ${Object.keys(EMITTERS).join(', ')})`);
  const backend = v.get('--backend') ?? 'cpu';
  if (!(COMPILE_BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`unknown --backend '${backend}' (expected one of ${COMPILE_BACKENDS.join(', ')})`);
  const disabled = parsed.repeated.get('--disable-pass')!;
  for (const d of disabled) if (!PASS_NAMES.includes(d)) throw new UsageError(`unknown pass '${d}' for --disable-pass (passes: ${PASS_NAMES.join(', ')})`);
  const after = v.get('--after');
  if (after !== undefined) {
    if (!PICTURE_FORMS.includes(emit)) throw new UsageError(`--after applies to --emit ${PICTURE_FORMS.join(', ')}, not '${emit}' (--print-ir-after-all writes the IR after every pass)`);
    if (!AFTER_NAMES.includes(after)) throw new UsageError(`unknown pass '${after}' for --after (passes: ${AFTER_NAMES.join(', ')})`);
    if (disabled.includes(after)) throw new UsageError(`--after ${after}: that pass is disabled (--disable-pass ${after})`);
    const fused = !disabled.includes('fuse');
    if (after === UNFUSED_LOWERING && fused) throw new UsageError(`--after ${UNFUSED_LOWERING}: the unfused lowering runs only with --disable-pass fuse (passes: ${PASS_NAMES.join(', ')})`);
  }
  const optional = (flag: string, key: string) => (v.has(flag) ? { [key]: v.get(flag)! } : {});
  const attentions = attentionsFlag(parsed, model);
  return {
    model,
    emit,
    backend,
    disabled,
    json: parsed.booleans.has('--json'),
    timings: parsed.booleans.has('--timings'),
    ...optional('--out', 'out'),
    ...optional('--name', 'name'),
    ...optional('--after', 'after'),
    ...optional('--print-ir-after-all', 'printIrAfterAll'),
    ...optional('--print-ir-after-change', 'printIrAfterChange'),
    ...(attentions !== undefined ? { attentions } : {}),
  };
}

/** An instrument that records each pass's time in `timings` (as a part of the passes). */
function passTimings(timings: Timings): Instrument {
  return { afterPass: ({ pass, ms }) => timings.add(pass.name, ms, 1) };
}

/** The `compile` command. */
export const compileCommand: Command = {
  name: 'compile',
  summary: 'trace a model (FILE.ts, FILE.tir or a config), run the passes, print its IR, kernels, code (JavaScript, WGSL, WAT), stats or a picture (DOT, SVG, HTML)',
  usage: USAGE,
  async run(args) {
    const options = parseCompileArgs(args);
    // Outputs are checked before the model is traced: none may name the model or config file.
    const inputs: CommandInput[] = [modelInput(options.model.source)];
    if (options.out !== undefined) refuseInputAsOutput('--out', options.out, inputs);
    if (options.printIrAfterAll !== undefined) checkOutputDir('--print-ir-after-all', options.printIrAfterAll, inputs);
    if (options.printIrAfterChange !== undefined) checkOutputDir('--print-ir-after-change', options.printIrAfterChange, inputs);
    return withTimings(options.timings, async (timings) => {
      const program = await loadModelProgram(options.model, timings, options.name, options.attentions);
      const instruments: Instrument[] = [verifyEach];
      if (options.printIrAfterAll !== undefined) instruments.push(printIr('--print-ir-after-all', options.printIrAfterAll, inputs));
      if (options.printIrAfterChange !== undefined) instruments.push(printIr('--print-ir-after-change', options.printIrAfterChange, inputs, true));
      if (timings) instruments.push(passTimings(timings));
      // The state after each pass, for pictures after any of them.
      const states = new Map<string, PipelineState>();
      instruments.push({ afterPass: ({ pass, after }) => void states.set(pass.name, after) });
      let compiled: CompiledProgram | undefined;
      let passesMs = 0;
      const compiledOnce = () => {
        if (compiled) return compiled;
        const t0 = performance.now();
        // The passes' time includes verifying after each of them (verifyEach), which the per-pass figures leave out.
        compiled = compileProgram(program, { disabled: options.disabled, instruments, verify: false });
        passesMs = performance.now() - t0;
        timings?.add('passes', passesMs);
        return compiled;
      };
      // The dumps are written whatever the emitted form.
      if (options.printIrAfterAll !== undefined || options.printIrAfterChange !== undefined) compiledOnce();
      const t0 = performance.now();
      const before = passesMs;
      const stateAfter = (pass: string | undefined) => {
        compiledOnce();
        const name = pass ?? [...states.keys()].at(-1)!;
        return { pass: name, state: states.get(name)! };
      };
      const text = await EMITTERS[options.emit]!.emit({ program, options, compiled: compiledOnce, stateAfter });
      // An emitter that needs the compiled program runs the passes: their time is theirs, not the emitter's.
      timings?.add('emit', performance.now() - t0 - (passesMs - before));
      if (options.out !== undefined) writeOutput('--out', options.out, text, inputs);
      else process.stdout.write(text);
      return 0;
    });
  },
};
