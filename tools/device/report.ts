/**
 * The device check's record and clock: every figure goes into one JSON
 * object that is rewritten after each step (a run killed at its limit still
 * leaves what it measured), and one global time budget that sections and
 * their loops ask before starting anything.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Settings read from the environment once. */
export interface CheckSettings {
  /** DEVICE_CHECK_QUICK=1: fewer programs, runs and sizes (for llvmpipe here). */
  readonly quick: boolean;
  /** DEVICE_CHECK_BUDGET_S: seconds for the whole check (default 240; 600 in quick mode). */
  readonly budgetS: number;
  /** Where device-check.json goes: $OUT, else the working directory. */
  readonly outDir: string;
}

/** Reads the settings from the environment, checking the numbers. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): CheckSettings {
  const quick = env.DEVICE_CHECK_QUICK === '1';
  // Quick mode runs on llvmpipe, where onnxruntime-web alone takes a minute to set up.
  const budget = env.DEVICE_CHECK_BUDGET_S === undefined || env.DEVICE_CHECK_BUDGET_S === '' ? (quick ? 600 : 240) : Number(env.DEVICE_CHECK_BUDGET_S);
  if (!(budget > 0)) throw new Error(`DEVICE_CHECK_BUDGET_S=${env.DEVICE_CHECK_BUDGET_S} is not a positive number of seconds`);
  return { quick, budgetS: budget, outDir: env.OUT || '.' };
}

/** The JSON record plus the budget clock. */
export class Report {
  readonly data: Record<string, unknown>;
  private readonly t0 = performance.now();
  private readonly path: string;

  constructor(readonly settings: CheckSettings) {
    mkdirSync(settings.outDir, { recursive: true });
    this.path = join(settings.outDir, 'device-check.json');
    this.data = { started: new Date().toISOString(), quick: settings.quick, budget_s: settings.budgetS, sections: {} };
    this.save();
  }

  /** Seconds since the check began. */
  elapsedS(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Seconds left until the end of the budget share `fraction` (0..1] of the whole budget. */
  leftS(fraction = 1): number {
    return this.settings.budgetS * fraction - this.elapsedS();
  }

  /** The record of one section (created on first use). */
  section(name: string): Record<string, unknown> {
    const sections = this.data.sections as Record<string, Record<string, unknown>>;
    sections[name] ??= {};
    return sections[name];
  }

  /** Writes the JSON now (after every step, so a killed run keeps its figures). */
  save(): void {
    this.data.elapsed_s = Number(this.elapsedS().toFixed(1));
    writeFileSync(this.path, `${JSON.stringify(this.data, replacer, 1)}\n`);
  }
}

/** JSON has no NaN or Infinity: write them as strings rather than null. */
function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

/** Prints a line with the elapsed time in front, so the log shows where the minutes went. */
export function log(report: Report, line: string): void {
  console.log(`[${report.elapsedS().toFixed(1).padStart(6)} s] ${line}`);
}

/** The first line of an error's message (or the value as text). */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs one section: skipped with a printed reason when less than `needS`
 * seconds of its share are left; its errors are caught, printed and recorded
 * so the next section still runs.
 */
export async function runSection(report: Report, name: string, share: number, needS: number, body: (rec: Record<string, unknown>, deadline: () => number) => Promise<void>): Promise<void> {
  const rec = report.section(name);
  const left = report.leftS(share);
  console.log(`\n=== ${name} (until ${(report.settings.budgetS * share).toFixed(0)} s of the ${report.settings.budgetS} s budget) ===`);
  if (left < needS) {
    rec.skipped = `only ${left.toFixed(0)} s of its budget share left, needs about ${needS} s`;
    log(report, `skipped: ${String(rec.skipped)}`);
    report.save();
    return;
  }
  const t = performance.now();
  try {
    await body(rec, () => report.leftS(share));
  } catch (e) {
    rec.error = errorText(e);
    log(report, `section failed: ${rec.error}`);
    if (e instanceof Error && e.stack) console.log(e.stack.split('\n').slice(0, 8).join('\n'));
  }
  rec.seconds = Number(((performance.now() - t) / 1000).toFixed(1));
  log(report, `${name} done in ${String(rec.seconds)} s`);
  report.save();
}
