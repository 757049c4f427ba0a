/**
 * `tessera compile FILE.ts [--emit ir] [-o OUT]`: type-checks and loads a
 * model file, traces it to a graph program, and emits the requested form.
 * Each output form is one entry of EMITTERS, so new forms (kernels, code,
 * stats) are one entry each.
 */
import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type LoadedModel, loadModelFile, trace } from '@tessera/frontend';
import { type Program, TesseraError, printProgram } from '@tessera/ir';
import { printKernelProgram } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { emitJsProgram, printJsProgram } from '@tessera/backend-cpu';
import { type Command, UsageError } from '../command.ts';

/** Parsed command line of `tessera compile`. */
export interface CompileOptions {
  readonly file: string;
  readonly emit: string;
  readonly out?: string;
  /** Program name (default: the file name, e.g. tiny_encoder). */
  readonly name?: string;
  readonly typeCheck: boolean;
  /** Backend whose code `--emit code` prints. */
  readonly backend: string;
}

/** What an emitter gets: the loaded model, its traced program, the options. */
export interface CompileContext {
  readonly loaded: LoadedModel;
  readonly program: Program;
  readonly options: CompileOptions;
}

/** One output form of `compile --emit NAME`. */
export interface Emitter {
  readonly summary: string;
  emit(ctx: CompileContext): string | Promise<string>;
}

/** The output forms, by --emit name. */
export const EMITTERS: Readonly<Record<string, Emitter>> = {
  ir: { summary: 'the traced graph program in the IR text format', emit: ({ program }) => printProgram(program) },
  kernels: { summary: 'the kernel program (buffers and kernel launches)', emit: ({ program }) => `${printKernelProgram(lowerToKernels(program))}\n` },
  code: {
    summary: 'the generated kernel source of --backend (cpu: JavaScript)',
    emit: ({ program, options }) => {
      if (options.backend !== 'cpu') throw new UsageError(`--emit code needs --backend cpu (the only backend that generates code so far), got '${options.backend}'`);
      const kernels = lowerToKernels(program);
      return `${printJsProgram(emitJsProgram(kernels), kernels)}\n`;
    },
  },
};

/** Backends `compile --backend` accepts. */
const COMPILE_BACKENDS = ['cpu'] as const;

const USAGE = `usage: tessera compile FILE.ts [--emit FORM] [--backend cpu] [-o OUT] [--name NAME] [--no-typecheck]

  Type-checks FILE.ts, imports it and traces its model: the default export
  (a Module, or a function returning one) called on the inputs named by
  \`export const inputs = { x: 'f32[2,16]' }\`. Type errors and shape errors
  are reported as FILE:line:col: message (exit 1).

  --emit FORM      what to print (default ir):
${Object.entries(EMITTERS)
  .map(([n, e]) => `                     ${n.padEnd(8)} ${e.summary}`)
  .join('\n')}
  --backend NAME   backend for --emit code (default cpu)
  -o, --out FILE   write to FILE instead of stdout
  --name NAME      program name (default: the file's base name)
  --no-typecheck   skip the TypeScript check (faster; errors then surface while loading)`;

const VALUE_FLAGS: Readonly<Record<string, string>> = { '--emit': 'emit', '-o': 'out', '--out': 'out', '--name': 'name', '--backend': 'backend' };

/** Parses `compile`'s arguments (`--flag VALUE` or `--flag=VALUE`), or throws UsageError. */
export function parseCompileArgs(args: readonly string[]): CompileOptions {
  const values: Record<string, string> = {};
  const positional: string[] = [];
  let typeCheck = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--no-typecheck') {
      typeCheck = false;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const key = VALUE_FLAGS[flag];
    if (key) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      values[key] = v;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option '${a}'`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 1) throw new UsageError(`expected exactly one model FILE.ts, got ${positional.length}`);
  const emit = values.emit ?? 'ir';
  if (!(emit in EMITTERS)) throw new UsageError(`unknown --emit form '${emit}' (expected one of ${Object.keys(EMITTERS).join(', ')})`);
  const backend = values.backend ?? 'cpu';
  if (!(COMPILE_BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`unknown --backend '${backend}' (expected one of ${COMPILE_BACKENDS.join(', ')})`);
  return {
    file: positional[0]!,
    emit,
    typeCheck,
    backend,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
  };
}

/** The default program name: the file's base name as an identifier (tiny-encoder.ts -> tiny_encoder). */
export function programNameFor(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(base) ? base : `m_${base}`;
}

/** Loads and traces the model file; errors thrown by the user's code become located Tessera errors (exit 1). */
export async function compileModel(options: CompileOptions): Promise<CompileContext> {
  try {
    const loaded = await loadModelFile(options.file, { typeCheck: options.typeCheck });
    const program = trace(loaded.model, loaded.inputs, { name: options.name ?? programNameFor(options.file) });
    return { loaded, program, options };
  } catch (e) {
    if (e instanceof TesseraError || !(e instanceof Error)) throw e;
    // An exception from the model's own code (not a Tessera diagnostic): show where it came from.
    throw new TesseraError(`${options.file}: error while loading or tracing the model: ${e.stack ?? e.message}`);
  }
}

/** The `compile` command. */
export const compileCommand: Command = {
  name: 'compile',
  summary: 'trace a TypeScript model file and print its IR, kernel program or generated code',
  usage: USAGE,
  async run(args) {
    const options = parseCompileArgs(args);
    const ctx = await compileModel(options);
    const text = await EMITTERS[options.emit]!.emit(ctx);
    if (options.out !== undefined) await writeFile(options.out, text, 'utf8');
    else process.stdout.write(text);
    return 0;
  },
};
