/**
 * The model a command runs, taken the same way by every command that runs
 * one (compile, run, bench, compare): a TypeScript model file (FILE.ts,
 * type-checked, its `inputs` overridable with --input), a program in the IR
 * text format (FILE.tir), or a model config (--config C.json, its input
 * shapes set with --input).
 */
import { basename, extname } from 'node:path';
import type { AttentionSelection, TypeSpec } from '@tessera/frontend';
import { traceModelFile } from '@tessera/frontend/node';
import type { Program } from '@tessera/ir';
import type { ArgsSpec, ParsedArgs } from './args.ts';
import { UsageError } from './command.ts';
import { withConsoleOnStderr } from './console-to-stderr.ts';
import type { CommandInput } from './outputs.ts';
import { readProgramFile } from './program-file.ts';
import type { Timings } from './timings.ts';
import { type InputOverride, parseInputOverride, traceConfig } from './trace-config.ts';

/** Where a model comes from. */
export type ModelSource = { readonly kind: 'file' | 'program' | 'config'; readonly path: string };

/** What selects and shapes the model of a command line. */
export interface ModelArgs {
  readonly source: ModelSource;
  /** --input NAME=DTYPE[SHAPE]: input types replacing the model file's or the config's defaults. */
  readonly inputs: Readonly<Record<string, InputOverride>>;
  /** Type-check a model file (false with --no-typecheck). */
  readonly typeCheck: boolean;
}

/** How each source is written on the command line, for messages. */
const SPELLING: Readonly<Record<ModelSource['kind'], string>> = { file: 'FILE.ts', program: 'FILE.tir', config: '--config C.json' };

/** The kind of model a positional argument names by its extension, if any. */
function kindOf(path: string): ModelSource['kind'] | undefined {
  const ext = extname(path).toLowerCase();
  return ext === '.ts' || ext === '.mts' ? 'file' : ext === '.tir' ? 'program' : undefined;
}

/** The flags of every command that runs a model: what selects it and shapes its inputs, and --timings. */
export const MODEL_FLAGS = { values: ['--config'], repeated: ['--input'], booleans: ['--no-typecheck', '--timings'] } as const satisfies ArgsSpec;

/** `spec` with MODEL_FLAGS added. */
export function withModelFlags(spec: ArgsSpec): ArgsSpec {
  return { ...spec, values: [...MODEL_FLAGS.values, ...(spec.values ?? [])], repeated: [...MODEL_FLAGS.repeated, ...(spec.repeated ?? [])], booleans: [...MODEL_FLAGS.booleans, ...(spec.booleans ?? [])] };
}

/**
 * The model of a command line (parsed with MODEL_FLAGS): its positional
 * argument or --config, its --input values and --no-typecheck, checked
 * against the sources the command accepts, or a UsageError naming what was
 * expected.
 */
export function parseModelArgs(parsed: ParsedArgs, accepts: readonly ModelSource['kind'][]): ModelArgs {
  const { positionals } = parsed;
  const config = parsed.values.get('--config');
  const inputs = parsed.repeated.get('--input') ?? [];
  const typeCheck = !parsed.booleans.has('--no-typecheck');
  const spelled = accepts.map((k) => SPELLING[k]);
  const expected = spelled.length > 1 ? `${spelled.slice(0, -1).join(', ')} or ${spelled.at(-1)}` : spelled.join('');
  let source: ModelSource;
  if (config !== undefined) {
    if (!accepts.includes('config')) throw new UsageError(`--config is not taken here; expected ${expected}`);
    if (positionals.length) throw new UsageError(`--config takes no model file as well, got ${positionals.join(' ')}`);
    source = { kind: 'config', path: config };
  } else {
    if (positionals.length !== 1) throw new UsageError(`expected one model (${expected}), got ${positionals.length ? positionals.join(' ') : 'none'}`);
    const path = positionals[0]!;
    const kind = kindOf(path);
    if (kind === undefined || !accepts.includes(kind)) throw new UsageError(`${path}: expected a model ${expected}`);
    source = { kind, path };
  }
  if (inputs.length && source.kind === 'program') throw new UsageError(`--input sets the input types of a model file or --config model; the program ${source.path} declares its own`);
  let overrides: Record<string, InputOverride>;
  try {
    overrides = Object.fromEntries(inputs.map(parseInputOverride));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { source, inputs: overrides, typeCheck };
}

/** The model a config file describes, with `inputs` setting its input shapes (for scripts that call the commands' functions). */
export function configModel(path: string, inputs: Readonly<Record<string, InputOverride>> = {}): ModelArgs {
  return { source: { kind: 'config', path }, inputs, typeCheck: true };
}

/** The model's file as a command input (an output that names it is refused). */
export function modelInput(source: ModelSource): CommandInput {
  return { what: source.kind === 'file' ? 'model file' : source.kind === 'program' ? 'program file' : '--config file', path: source.path };
}

/** An --input type as the DSL takes it: integer inputs given as i64 are i32, as Tessera computes them. */
function typeSpec(o: InputOverride): TypeSpec {
  return { dtype: o.dtype === 'i64' ? 'i32' : (o.dtype as 'f32' | 'i32' | 'bool'), shape: o.shape };
}

/** The default program name: the file's base name as an identifier (tiny-encoder.ts -> tiny_encoder). */
export function programNameFor(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(base) ? base : `m_${base}`;
}

/** `--attentions` (every attention module) or `--attentions=PATH,...` (those), refused for an IR program; undefined when absent. */
export function attentionsFlag(parsed: ParsedArgs, model: ModelArgs): AttentionSelection | undefined {
  const paths = parsed.values.get('--attentions');
  const attentions = paths !== undefined ? paths.split(',').map((p) => p.trim()) : parsed.booleans.has('--attentions') ? true : undefined;
  if (attentions !== undefined && model.source.kind === 'program') throw new UsageError('--attentions applies to model files and --config models (an IR program asks for probes with its own attention_probs nodes)');
  return attentions;
}

/**
 * The program of a command line's model: a model file loaded (type-checked
 * unless turned off, its `@tessera/*` imports resolved from this CLI's own
 * install first, its console output on stderr so stdout carries only what
 * the command emits) and traced; an IR program read and verified; a config
 * traced. `name` names a traced model file's program (default: after the file); `attentions` adds
 * attention probes to a traced one. Phases are recorded
 * in `timings` when given.
 */
export async function loadModelProgram(args: ModelArgs, timings?: Timings, name?: string, attentions?: AttentionSelection): Promise<Program> {
  const { source } = args;
  if (source.kind === 'program') return timings ? timings.time('load', () => readProgramFile(source.path)) : readProgramFile(source.path);
  if (source.kind === 'config') return timings ? timings.time('trace', () => traceConfig(source.path, args.inputs, attentions)) : traceConfig(source.path, args.inputs, attentions);
  const inputs = Object.fromEntries(Object.entries(args.inputs).map(([k, o]) => [k, typeSpec(o)]));
  return withConsoleOnStderr(() =>
    traceModelFile(source.path, {
      typeCheck: args.typeCheck,
      inputs,
      resolveFrom: [import.meta.url],
      note: (m) => process.stderr.write(`tessera: ${m}\n`),
      name: name ?? programNameFor(source.path),
      ...(attentions !== undefined ? { attentions } : {}),
      ...(timings ? { onPhase: (phase: string, ms: number) => timings.add(phase, ms) } : {}),
    }),
  );
}
