/**
 * `--timings`: the milliseconds each phase of a command took (start-up,
 * type check, load, trace, passes, ...), printed on stderr when the command
 * ends, whether it succeeded or not, so stdout keeps only what the command
 * emits.
 */

/** One timed phase; `depth` 1 is a part of the phase above it (one pass of the passes). */
interface Row {
  readonly name: string;
  readonly ms: number;
  readonly depth: number;
}

/** The phases a command timed, in the order they ended. */
export class Timings {
  private readonly rows: Row[] = [];

  /** Starts the table with the time from the process's start to now: Node, the CLI's modules, argument parsing. */
  constructor() {
    this.add('startup', performance.now());
  }

  /** Records a phase (`depth` 1: a part of the next phase recorded at depth 0, such as one pass of the passes). */
  add(name: string, ms: number, depth = 0): void {
    this.rows.push({ name, ms, depth });
  }

  /** The milliseconds recorded as `name` (0 when none). */
  total(name: string): number {
    return this.rows.filter((r) => r.name === name).reduce((s, r) => s + r.ms, 0);
  }

  /** Runs `f` and records how long it took as `name`, also when it throws. */
  async time<T>(name: string, f: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.add(name, performance.now() - t0);
    }
  }

  /** The table: one line per phase, parts indented under their phase, and the total of the top-level phases. */
  format(): string {
    const top = this.rows.filter((r) => r.depth === 0);
    const total = top.reduce((s, r) => s + r.ms, 0);
    const width = Math.max(5, ...this.rows.map((r) => r.name.length + 2 * r.depth));
    const line = (r: Row) => `  ${'  '.repeat(r.depth)}${r.name.padEnd(width - 2 * r.depth)}  ${r.ms.toFixed(1).padStart(9)}`;
    // Parts end before their phase does: each is printed under the phase that ends next.
    const lines: string[] = [];
    let parts: Row[] = [];
    for (const r of this.rows) {
      if (r.depth > 0) parts.push(r);
      else {
        lines.push(line(r), ...parts.map(line));
        parts = [];
      }
    }
    return ['timings (ms):', ...lines, ...parts.map(line), line({ name: 'total', ms: total, depth: 0 })].join('\n');
  }
}

/** Runs a command's work with a Timings when `enabled` (undefined otherwise), and prints the table on stderr when it ends, however it ends. */
export async function withTimings<T>(enabled: boolean, work: (timings: Timings | undefined) => Promise<T>): Promise<T> {
  const timings = enabled ? new Timings() : undefined;
  try {
    return await work(timings);
  } finally {
    if (timings) process.stderr.write(`${timings.format()}\n`);
  }
}
