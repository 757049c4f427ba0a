/**
 * One shape for every fuzz target (IR text, safetensors files, JSON
 * configs, CLI argument combinations): seeded cases, each bounded in time,
 * each ending in one of four ways, counted.
 *
 * - accepted: the input was valid and what it produced passed the target's checks;
 * - rejected: a clean error that says where (a TesseraError with file, line or key);
 * - unlocated: a clean error that does not say where;
 * - crash: anything else (a TypeError, a RangeError, a failed check);
 * - hang: a case that ran past its time bound.
 *
 * CI runs a fixed number of cases from a fixed seed (reproducible, a few
 * seconds per target); `TESSERA_FUZZ_BUDGET=SECONDS` runs each target for
 * that long instead, from `TESSERA_FUZZ_SEED` (default: the time).
 */
import { makeRng } from './gen/choices.ts';

/** Random choices for one case, from a seeded mulberry32 stream. */
export class FuzzRng {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = makeRng(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

/** What a target makes of an error its case threw. */
export type ErrorVerdict = 'located' | 'unlocated' | 'crash';

/** A fuzz target: how to make a case, run it, and judge what it threw. */
export interface FuzzTarget<C> {
  readonly name: string;
  /** One case from the random stream. */
  generate(rng: FuzzRng): C;
  /** Runs a case. Returns when the input was accepted (after checking what it produced); throws when it was rejected or a check failed. */
  run(c: C): void | Promise<void>;
  /** Judges an error `run` threw: a clean error that says where, one that does not, or a crash. */
  classify(e: unknown, c: C): ErrorVerdict;
  /** The case as short text, to reproduce a failure. */
  show?(c: C): string;
}

/** How much to run: a case count, or seconds (whichever is given), from a seed; the time bound of one case. */
export interface FuzzBudget {
  readonly seed: number;
  readonly cases?: number;
  readonly seconds?: number;
  readonly caseTimeoutMs: number;
}

/** One failing case of a report. */
export interface FuzzFailure {
  readonly kind: 'crash' | 'hang' | 'unlocated';
  /** The case's index: with the report's seed, it rebuilds the case. */
  readonly index: number;
  readonly input: string;
  readonly error: string;
}

/** What a fuzz run found. */
export interface FuzzReport {
  readonly target: string;
  readonly seed: number;
  readonly cases: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly unlocated: number;
  readonly crashes: number;
  readonly hangs: number;
  readonly seconds: number;
  /** The first failures of each kind (at most 5 per kind). */
  readonly failures: readonly FuzzFailure[];
}

/**
 * The budget of a fuzz test: `ciCases` cases from seed 1 by default;
 * `TESSERA_FUZZ_BUDGET=SECONDS` for a large run (from `TESSERA_FUZZ_SEED`,
 * default the current time); `caseTimeoutMs` bounds each case.
 */
export function fuzzBudget(ciCases: number, caseTimeoutMs: number, env: Readonly<Record<string, string | undefined>> = process.env): FuzzBudget {
  const seconds = Number(env.TESSERA_FUZZ_BUDGET);
  const seedText = env.TESSERA_FUZZ_SEED;
  const large = env.TESSERA_FUZZ_BUDGET !== undefined && env.TESSERA_FUZZ_BUDGET !== '' && seconds > 0;
  const seed = seedText !== undefined && seedText !== '' ? Number(seedText) >>> 0 : large ? Date.now() >>> 0 : 1;
  return large ? { seed, seconds, caseTimeoutMs } : { seed, cases: ciCases, caseTimeoutMs };
}

/** The vitest timeout a fuzz test needs for its budget (CI runs get `ciMs`). */
export function fuzzTestTimeout(budget: FuzzBudget, ciMs = 120_000): number {
  return budget.seconds !== undefined ? budget.seconds * 1000 + Math.max(ciMs, 2 * budget.caseTimeoutMs) : ciMs;
}

/** The seed of case `index` of a run seeded `seed` (cases are independent: any one can be rebuilt alone). */
export function caseSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

const HANG = Symbol('hang');

/** Runs `target` for the budget and counts how its cases ended. */
export async function runFuzz<C>(target: FuzzTarget<C>, budget: FuzzBudget): Promise<FuzzReport> {
  const counts = { accepted: 0, rejected: 0, unlocated: 0, crashes: 0, hangs: 0 };
  const failures: FuzzFailure[] = [];
  const start = performance.now();
  const more = (i: number) => (budget.cases !== undefined ? i < budget.cases : performance.now() - start < budget.seconds! * 1000);
  const fail = (kind: FuzzFailure['kind'], index: number, c: C, error: unknown) => {
    if (failures.filter((f) => f.kind === kind).length >= 5) return;
    const text = error instanceof Error ? `${error.name}: ${error.message}${kind === 'crash' && error.stack ? `\n${error.stack.split('\n').slice(1, 6).join('\n')}` : ''}` : String(error);
    failures.push({ kind, index, input: (target.show?.(c) ?? '').slice(0, 2000), error: text.slice(0, 2000) });
  };
  let i = 0;
  for (; more(i); i++) {
    const c = target.generate(new FuzzRng(caseSeed(budget.seed, i)));
    const t0 = performance.now();
    let outcome: 'accepted' | 'rejected' | 'unlocated' | 'crash' | 'hang';
    let error: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const done = Promise.resolve().then(() => target.run(c));
      const hang = new Promise<typeof HANG>((resolve) => (timer = setTimeout(() => resolve(HANG), budget.caseTimeoutMs)));
      if ((await Promise.race([done, hang])) === HANG) {
        outcome = 'hang';
        error = `no answer within ${budget.caseTimeoutMs} ms`;
        // A hung case keeps running; its eventual error must not surface as an unhandled rejection.
        done.catch(() => undefined);
      } else outcome = 'accepted';
    } catch (e) {
      const verdict = target.classify(e, c);
      outcome = verdict === 'located' ? 'rejected' : verdict;
      error = e;
    } finally {
      clearTimeout(timer);
    }
    // A synchronous case cannot be interrupted: one that ran past the bound counts as a hang all the same.
    const ms = performance.now() - t0;
    if (outcome !== 'hang' && ms > budget.caseTimeoutMs) {
      outcome = 'hang';
      error = `took ${Math.round(ms)} ms, over the ${budget.caseTimeoutMs} ms bound`;
    }
    if (outcome === 'crash') counts.crashes++;
    else if (outcome === 'hang') counts.hangs++;
    else counts[outcome]++;
    if (outcome === 'crash' || outcome === 'hang' || outcome === 'unlocated') fail(outcome, i, c, error);
  }
  return { target: target.name, seed: budget.seed, cases: i, ...counts, seconds: (performance.now() - start) / 1000, failures };
}

/** A report as text: one line of counts, then each failure with how to rebuild it. */
export function formatFuzzReport(r: FuzzReport): string {
  const head = `fuzz ${r.target}: ${r.cases} cases in ${r.seconds.toFixed(1)} s (seed ${r.seed}): ${r.accepted} accepted, ${r.rejected} rejected with a located error, ${r.unlocated} unlocated, ${r.crashes} crashes, ${r.hangs} hangs`;
  const lines = r.failures.map((f) => `  ${f.kind} in case ${f.index} (TESSERA_FUZZ_SEED=${r.seed}): ${f.error.replace(/\n/g, '\n    ')}\n    input: ${f.input.replace(/\n/g, '\n      ')}`);
  return [head, ...lines].join('\n');
}

/**
 * What every fuzz test asserts: runs the target for its budget, prints the
 * counts, and throws (with the report) on any crash, hang or unlocated
 * error, or when the cases never reach one side (all accepted or all rejected).
 */
export async function expectCleanFuzz<C>(target: FuzzTarget<C>, budget: FuzzBudget): Promise<FuzzReport> {
  const r = await runFuzz(target, budget);
  const text = formatFuzzReport(r);
  console.log(text);
  if (r.crashes + r.hangs + r.unlocated > 0) throw new Error(text);
  if (r.accepted === 0 || r.rejected === 0) throw new Error(`${text}\n(the cases must reach both sides: some accepted, some rejected)`);
  return r;
}
