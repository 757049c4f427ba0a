import type { Program } from '@tessera/ir';
import { type CompareOptions, type CompareReport, compareBackends } from './compare-backends.ts';
import { formatDisagreement } from './format.ts';

/** Thrown by expectBackendsAgree: a short message, and the whole report for a test that wants to look closer. */
export class BackendsDisagreeError extends Error {
  constructor(readonly report: CompareReport) {
    super(formatDisagreement(report));
    this.name = 'BackendsDisagreeError';
  }
}

/**
 * Asserts, in any test framework, that every backend computes what the
 * reference interpreter computes for a program (a traced model): resolves
 * to the report when they agree, rejects with a BackendsDisagreeError naming
 * the outputs that differ and the first kernel that diverges otherwise.
 * Inputs left out of `options.inputs` (weights, token ids) are drawn.
 */
export async function expectBackendsAgree(program: Program, options: CompareOptions = {}): Promise<CompareReport> {
  const report = await compareBackends(program, options);
  if (!report.agree) throw new BackendsDisagreeError(report);
  return report;
}
