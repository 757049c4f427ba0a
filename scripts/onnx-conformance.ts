/**
 * Writes docs/onnx-conformance.md: ONNX's node tests (packages/onnx/test/conformance/cases)
 * run through @tessera/onnx on interp, eval, cpu and webgpu.
 *
 *     pnpm exec tsx scripts/onnx-conformance.ts
 */
import { writeFileSync } from 'node:fs';
import { readCases, readManifest, runConformance } from '../packages/onnx/test/conformance/cases.ts';
import { CONFORMANCE_DOC, renderConformance } from '../packages/onnx/test/conformance/report.ts';

const verdicts = await runConformance(readCases());
const out = new URL(`../${CONFORMANCE_DOC}`, import.meta.url);
writeFileSync(out, renderConformance(readManifest(), verdicts));
process.stdout.write(`wrote ${out.pathname}\n`);
process.exit(0);
