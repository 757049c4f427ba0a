/**
 * A model file is user code and may log while it loads or traces; the CLI
 * meanwhile writes IR, code or JSON on stdout (`compile m.ts --emit ir >
 * m.tir`). While user code runs, the console's stdout methods write to
 * stderr instead, so the output stays valid.
 */
import { Console } from 'node:console';

/** The console methods that print to stdout. */
const STDOUT_METHODS = ['log', 'info', 'debug', 'dir', 'dirxml', 'table', 'group', 'groupCollapsed', 'groupEnd', 'count', 'countReset', 'time', 'timeLog', 'timeEnd'] as const;

/** Runs `fn` with console.log and the other stdout methods writing to stderr; restores them afterwards. */
export async function withConsoleOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const onStderr = new Console({ stdout: process.stderr, stderr: process.stderr });
  const saved = STDOUT_METHODS.map((m) => [m, console[m]] as const);
  for (const m of STDOUT_METHODS) (console as unknown as Record<string, unknown>)[m] = (onStderr[m] as (...a: unknown[]) => void).bind(onStderr);
  try {
    return await fn();
  } finally {
    for (const [m, f] of saved) (console as unknown as Record<string, unknown>)[m] = f;
  }
}
