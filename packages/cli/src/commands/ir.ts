/** `tessera ir check|fmt FILE`: verify or pretty-print a program in the IR text format. */
import { writeFileAtomic } from '@tessera/ir/node';
import { checkProgramText, formatDiagnostic, ParseError, parseProgram, printProgram, TesseraError } from '@tessera/ir';
import { type Command, UsageError } from '../command.ts';
import { readProgramText } from '../program-file.ts';

const USAGE = `usage: tessera ir check FILE
       tessera ir fmt [--write] FILE

  check   parse and verify FILE; prints 'FILE: ok (...)', or every problem as
          FILE:line:col: message on stderr and exits 1
  fmt     print FILE in canonical form on stdout (exits 1 on a syntax error);
          comments are not kept
          --write, -w   rewrite FILE in place instead (atomically: replaced whole or
                        not at all)`;

/** Reads the program file, or reports why not (exit 1) and returns undefined. */
async function readSource(file: string): Promise<string | undefined> {
  try {
    return await readProgramText(file);
  } catch (e) {
    if (!(e instanceof TesseraError)) throw e;
    process.stderr.write(`tessera ir: ${e.message}\n`);
    return undefined;
  }
}

/** Splits `args` into flags and positional arguments, rejecting flags the subcommand does not know. */
function parseArgs(sub: string, args: readonly string[], known: readonly string[]): { flags: Set<string>; files: string[] } {
  const flags = new Set<string>();
  const files: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && a !== '-') {
      if (!known.includes(a)) throw new UsageError(`unknown option '${a}' for 'ir ${sub}'`);
      flags.add(a);
    } else files.push(a);
  }
  if (files.length !== 1) throw new UsageError(`'ir ${sub}' takes exactly one FILE, got ${files.length}`);
  return { flags, files };
}

async function check(args: readonly string[]): Promise<number> {
  const file = parseArgs('check', args, []).files[0]!;
  const text = await readSource(file);
  if (text === undefined) return 1;
  const { program, diagnostics } = checkProgramText(text, file);
  if (diagnostics.length > 0 || !program) {
    process.stderr.write(diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join(''));
    return 1;
  }
  process.stdout.write(`${file}: ok (${program.inputs.length} inputs, ${program.nodes.length} nodes, ${program.outputs.length} outputs)\n`);
  return 0;
}

async function fmt(args: readonly string[]): Promise<number> {
  const { flags, files } = parseArgs('fmt', args, ['--write', '-w']);
  const file = files[0]!;
  const text = await readSource(file);
  if (text === undefined) return 1;
  let canonical: string;
  try {
    canonical = printProgram(parseProgram(text, file));
  } catch (e) {
    if (e instanceof ParseError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (flags.has('--write') || flags.has('-w')) {
    if (canonical !== text) writeFileAtomic(file, canonical);
    process.stdout.write(`${file}: ${canonical === text ? 'already canonical' : 'formatted'}\n`);
  } else {
    process.stdout.write(canonical);
  }
  return 0;
}

/** The `ir` command: `check` and `fmt` subcommands on IR text files. */
export const irCommand: Command = {
  name: 'ir',
  summary: 'check or format a program in the IR text format',
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'check') return check(rest);
    if (sub === 'fmt') return fmt(rest);
    throw new UsageError(sub === undefined ? "missing subcommand (expected 'check' or 'fmt')" : `unknown subcommand '${sub}' (expected 'check' or 'fmt')`);
  },
};
