/**
 * ONNX's backend node tests through the importer on interp, eval, cpu and
 * webgpu (every backend compiles the cases in a few merged programs, in one
 * WebGPU device session). A case either passes everywhere or fails at
 * import with a TesseraError saying what Tessera lacks: no backend may
 * compute a wrong answer or crash. docs/onnx-conformance.md must be the
 * table of these very results.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE_BACKENDS, type Verdict, readCases, readManifest, runConformance } from './conformance/cases.ts';
import { CONFORMANCE_DOC, renderConformance } from './conformance/report.ts';

describe('ONNX node tests', async () => {
  const manifest = readManifest();
  const verdicts = await runConformance(readCases());

  it('every case that imports passes on interp, eval, cpu and webgpu; the rest fail at import, saying why', () => {
    const wrong: string[] = [];
    for (const [name, byBackend] of verdicts) {
      const failures = CONFORMANCE_BACKENDS.map((b) => [b, byBackend.get(b)] as const).filter(([, v]) => !v?.ok) as [string, Extract<Verdict, { ok: false }>][];
      if (failures.length === 0) continue;
      // An import failure is the same on every backend and names the node (or the input) and what is missing.
      const importOnly = failures.length === CONFORMANCE_BACKENDS.length && failures.every(([, v]) => v.reason.startsWith('import: '));
      if (!importOnly) wrong.push(`${name}: ${failures.map(([b, v]) => `${b}: ${v.reason}`).join('; ')}`);
    }
    expect(wrong).toEqual([]);
    // Most cases pass (a regression in a converter shows up here as well as in the table).
    const passed = [...verdicts.values()].filter((m) => CONFORMANCE_BACKENDS.every((b) => m.get(b)?.ok)).length;
    expect(passed).toBeGreaterThan(0.75 * Object.keys(manifest.cases).length);
  });

  it(`${CONFORMANCE_DOC} is the table of these results (regenerate: pnpm exec tsx scripts/onnx-conformance.ts)`, () => {
    const doc = readFileSync(new URL(`../../../${CONFORMANCE_DOC}`, import.meta.url), 'utf8');
    expect(doc).toBe(renderConformance(manifest, verdicts));
  });
});
