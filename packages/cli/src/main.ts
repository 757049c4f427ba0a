#!/usr/bin/env node
/** The `tessera` command: dispatches to the subcommands under commands/. */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd } from '@tessera/backend-cpu';
import { TesseraError } from '@tessera/ir';
import { type Command, UsageError } from './command.ts';
import { irCommand } from './commands/ir.ts';
import { compileCommand } from './commands/compile.ts';
import { evalCommand } from './commands/eval.ts';
import { infoCommand } from './commands/info.ts';
import { runCommand } from './commands/run.ts';
import { generateCommand } from './commands/generate.ts';
import { benchCommand } from './commands/bench.ts';
import { compareCommand } from './commands/compare.ts';
import { onnxCommand } from './commands/onnx.ts';
import { cliVersion } from './version.ts';

const COMMANDS: readonly Command[] = [irCommand, compileCommand, evalCommand, compareCommand, runCommand, generateCommand, benchCommand, infoCommand, onnxCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'tessera: a dataflow-graph compiler for transformer models',
    '',
    'usage: tessera <command> [options]    (tessera <command> --help for details; tessera --version)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** Whether `path` (the script node was started with) is this module's file, through any links. */
function isThisFile(path: string): boolean {
  try {
    return realpathSync(path) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** This package's (@tessera/cli) version: its package.json sits one folder above src/ and dist/ alike. */
const version = () => (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A usage error (no command): the help goes to stderr, as every usage error's text does.
    process.stderr.write(`${help()}\n`);
    return 2;
  }
  if (name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${cliVersion()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`tessera: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tessera ${cmd.name}: ${e.message}\n\n${cmd.usage}\n`);
      return 2;
    }
    if (e instanceof TesseraError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

// Run as a program (not imported): an npm bin is a link or a shim to this file, so compare real paths.
const isEntry = process.argv[1] !== undefined && isThisFile(process.argv[1]);
if (isEntry) {
  // Node 20 has relaxed SIMD (fused multiply-adds in the CPU backend's matmuls) only behind a V8 flag; the backend still
  // leaves it unused when TESSERA_WASM_RELAXED_SIMD=0.
  enableRelaxedSimd();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tessera: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
