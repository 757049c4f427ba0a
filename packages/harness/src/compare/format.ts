/** Text forms of a comparison: the table `tessera compare` prints, the localised divergence, and the short failure message of expectBackendsAgree. */
import { formatLoc } from '@tessera/ir';
import type { Tolerance } from '../tolerance.ts';
import type { CompareReport, CompareRow, Localisation } from './compare-backends.ts';
import type { Divergence, KernelSite, NodeSite } from './localise.ts';

/** A number in 3 significant digits (0, inf and nan as such). */
function g(x: number | undefined): string {
  if (x === undefined) return '-';
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
}

const showTolerance = (t: Tolerance | undefined) => (t === undefined ? '-' : t.atol === 0 && t.rtol === 0 ? 'exact' : `${g(t.atol)} + ${g(t.rtol)}*|e|`);

/** A row's verdict: pass, FAIL with the count, or why the backend did not run. */
function verdict(r: CompareRow): string {
  if (r.status === 'pass') return r.withinSpread ? `pass (${r.withinSpread} of ${r.elements} elements only within the leeway of f32 rounding)` : 'pass';
  if (r.status === 'fail') return `FAIL (${r.mismatches} of ${r.elements} elements)`;
  return `${r.status === 'error' ? 'ERROR' : 'unavailable'}: ${r.message}`;
}

/** `%13 = add(%2, %12) at model.ts:18:15`. */
export function formatNode(n: NodeSite): string {
  return `%${n.name} = ${n.op}(${n.operands.map((o) => `%${o}`).join(', ')})${n.loc ? ` at ${formatLoc(n.loc)}` : ''}`;
}

const kernelName = (k: KernelSite) => `kernel ${k.index} (${k.name}, ${k.kind})`;

/** The localised divergence in a few lines: the kernel, the value that differs, its nodes and source lines, and in-place writes of the memory plan. */
export function formatDivergence(d: Divergence): string {
  const computes = d.kernel.nodes.map((n) => `    ${formatNode(n)}`);
  const lines =
    d.cause === 'computed'
      ? [
          `${d.backend}: first divergence at ${kernelName(d.kernel)}, which computes %${d.value.name} wrong: ${d.mismatch}`,
          ...(d.inputsMatched.length ? [`  the stored values it reads agree with the interpreter just before it runs: ${d.inputsMatched.map((v) => `%${v}`).join(', ')}`] : []),
          `  ${d.kernel.name} computes:`,
          ...computes,
        ]
      : [
          `${d.backend}: first divergence: %${d.value.name} was right after ${d.writer!.name} wrote it, but had changed before ${d.reader!.name} read it: ${d.mismatch}`,
          `    ${formatNode(d.value)}`,
          `  a kernel from ${d.writer!.name} to ${d.reader!.name} wrote where it should not (the memory plan is verified: a code-generation fault)`,
        ];
  lines.push(...d.arena.map((a) => `  ${a}`));
  return lines.join('\n');
}

function formatLocalisation(l: Localisation, trials: number): string {
  const text = l.divergence ? formatDivergence(l.divergence) : `${l.backend}: the first divergence could not be localised: ${l.note}`;
  return trials > 1 ? `${text}\n  (on input set ${l.trial + 1} of ${trials})` : text;
}

/** What the comparison ran on, in one line. */
function heading(r: CompareReport, inputs: string): string {
  return `@${r.program}: ${r.backends.join(', ') || 'no backend'} against interp (the reference interpreter, float64) on ${inputs}; L = ${r.reductionLength}`;
}

/** The whole report: a heading, one row per backend and output, then each localised divergence. */
export function formatCompareReport(r: CompareReport, inputs = describeInputs(r)): string {
  const header = ['backend', 'output', 'max |diff|', 'rel err', 'tolerance', 'result'];
  const cells = r.rows.map((row) => [row.backend, row.output ?? '-', g(row.maxAbsDiff), g(row.relError), showTolerance(row.tolerance), verdict(row)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((x, i) => (i < 5 ? x.padEnd(widths[i]!) : x)).join('  ').trimEnd();
  const out = [heading(r, inputs), line(header), ...cells.map(line)];
  for (const l of r.localised) out.push('', formatLocalisation(l, r.trials));
  out.push('', r.agree ? 'every backend agrees with the interpreter' : 'backends DISAGREE with the interpreter');
  return out.join('\n');
}

/** The inputs a report compared on, as the heading says it. */
export function describeInputs(r: Pick<CompareReport, 'seed' | 'trials'>): string {
  return r.trials === 1 ? `inputs drawn with seed ${r.seed}` : `${r.trials} input sets drawn with seeds ${r.seed}..${r.seed + r.trials - 1}`;
}

/**
 * A short failure message: the outputs that differ (or the backends that
 * could not run) and each localised kernel, never the values themselves.
 */
export function formatDisagreement(r: CompareReport): string {
  const bad = r.rows.filter((row) => row.status !== 'pass');
  const rows = bad.map((row) =>
    row.status === 'fail'
      ? `  ${row.backend} output '${row.output}': ${row.mismatches} of ${row.elements} elements differ, max |diff| ${g(row.maxAbsDiff)} (tolerance ${showTolerance(row.tolerance)})`
      : `  ${row.backend}: ${verdict(row)}`,
  );
  const where = r.localised.map((l) => {
    const d = l.divergence;
    if (!d) return `  ${l.backend}: not localised (${l.note})`;
    const what = d.cause === 'computed' ? `computes ${formatNode(d.value)}` : `overwrites ${formatNode(d.value)} while it is live`;
    return `  ${l.backend}: first divergence at ${kernelName(d.kernel)}, which ${what}; ${d.mismatch}`;
  });
  return [`backends disagree with the interpreter on @${r.program} (${describeInputs(r)}):`, ...rows, ...where].join('\n');
}
