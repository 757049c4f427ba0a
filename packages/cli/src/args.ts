/** Command-line arguments of the subcommands: one parser, and the checks of flag values they share. */
import { type BackendName, availableBackends } from '@tessera/compiler';
import { UsageError } from './command.ts';

/** The flags a command takes, by kind. */
export interface ArgsSpec {
  /** Flags with one value (`--flag VALUE` or `--flag=VALUE`), each given at most once. */
  readonly values?: readonly string[];
  /** Flags with a value that may be given several times (`--input`). */
  readonly repeated?: readonly string[];
  /** Flags without a value (`--json`). */
  readonly booleans?: readonly string[];
  /** Flags given alone (recorded as booleans) or with a value written `--flag=VALUE` (recorded as values): `--attentions[=PATHS]`. */
  readonly optionalValues?: readonly string[];
  /** Short spellings of flags (`-o` for `--out`). */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** A parsed command line. */
export interface ParsedArgs {
  readonly values: Map<string, string>;
  /** The values of each repeated flag, in order (an empty list when it is not given). */
  readonly repeated: ReadonlyMap<string, readonly string[]>;
  readonly booleans: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

/** Parses `args` by `spec`, or throws a UsageError naming the flag: unknown, missing its value, given twice, or given a value it does not take. */
export function parseCommandArgs(args: readonly string[], spec: ArgsSpec): ParsedArgs {
  const [valueFlags, repeatedFlags, booleanFlags] = [spec.values ?? [], spec.repeated ?? [], spec.booleans ?? []];
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>(repeatedFlags.map((f) => [f, []]));
  const booleans = new Set<string>();
  const positionals: string[] = [];
  const optionalFlags = spec.optionalValues ?? [];
  const known = [...valueFlags, ...repeatedFlags, ...booleanFlags, ...optionalFlags];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const written = eq > 0 ? a.slice(0, eq) : a;
    const flag = spec.aliases?.[written] ?? written;
    if (!known.includes(flag)) throw new UsageError(`unknown option '${written}' (expected ${known.join(', ')})`);
    if (optionalFlags.includes(flag)) {
      if (eq > 0 && a.slice(eq + 1) === '') throw new UsageError(`option '${written}' needs a value after '='`);
      if (eq > 0) values.set(flag, a.slice(eq + 1));
      else booleans.add(flag);
      continue;
    }
    if (booleanFlags.includes(flag)) {
      if (eq > 0) throw new UsageError(`option '${written}' takes no value`);
      booleans.add(flag);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') throw new UsageError(`option '${written}' needs a value`);
    if (repeatedFlags.includes(flag)) repeated.get(flag)!.push(value);
    else if (values.has(flag)) throw new UsageError(`option '${written}' is given twice`);
    else values.set(flag, value);
  }
  return { values, repeated, booleans, positionals };
}

/** Parses `--flag VALUE` / `--flag=VALUE` arguments, all of them named in `flags`; no positionals. */
export function parseFlags(args: readonly string[], flags: readonly string[]): Map<string, string> {
  const parsed = parseCommandArgs(args, { values: flags });
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}' (every argument is a --flag with a value)`);
  return parsed.values;
}

/** A required flag's value. */
export function required(values: Map<string, string>, flag: string, what: string): string {
  const v = values.get(flag);
  if (v === undefined) throw new UsageError(`missing ${flag} ${what}`);
  return v;
}

/** A positive integer flag, at most `max` (`why` says where the bound comes from), or undefined when absent. */
export function positiveFlag(values: Map<string, string>, flag: string, max = Number.MAX_SAFE_INTEGER, why = ''): number | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${v}'`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}${why ? ` (${why})` : ''}, got ${v}`);
  return n;
}

/** The --backend value (default cpu), checked against the backends available in this process. */
export function backendFlag(values: Map<string, string>): BackendName {
  const b = values.get('--backend') ?? 'cpu';
  const available = availableBackends();
  if (!available.includes(b)) throw new UsageError(`unknown or unavailable backend '${b}' (available: ${available.join(', ')})`);
  return b as BackendName;
}
