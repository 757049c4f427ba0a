/**
 * ONNX's backend node tests (copied by tools/make_onnx_conformance.py) run
 * through the importer: each case imported on its own (an import error is
 * that case's failure), the importable ones merged into one program per
 * batch so every backend compiles once for many cases, and every output
 * compared with ONNX's expected values under the harness tolerance policy.
 * Shared by the conformance test and scripts/onnx-conformance.ts (the table).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Program, type ProgramInput, type Node, TesseraError, formatShape, interpret, toHost } from '@tessera/ir';
import { type BackendName, compile } from '@tessera/compiler';
import { describeMismatch, longestReduction } from '@tessera/harness';
import { type OnnxImport, type OnnxTensor, computeDType, importOnnx, onnxDTypeName, readTensorProto } from '../../src/index.ts';
import { decodeModel } from '../../src/proto.ts';

/** Where the cases are. */
export const CASES_DIR = new URL('./cases/', import.meta.url).pathname;

/** One case of ONNX's node tests. */
export interface ConformanceCase {
  readonly name: string;
  /** The op the case tests (from its name). */
  readonly op: string;
  readonly model: Uint8Array;
  readonly inputs: readonly OnnxTensor[];
  readonly outputs: readonly OnnxTensor[];
}

/** The manifest the tool writes: cases by name, and what it skipped with why. */
export interface Manifest {
  readonly cases: Readonly<Record<string, { op: string; ops: string[]; opset: number }>>;
  readonly skipped: Readonly<Record<string, { op: string; reason: string }>>;
}

/** Reads the manifest. */
export function readManifest(): Manifest {
  return JSON.parse(readFileSync(join(CASES_DIR, 'manifest.json'), 'utf8')) as Manifest;
}

/** Reads every case (or those `only` names). */
export function readCases(only?: (name: string) => boolean): ConformanceCase[] {
  const m = readManifest();
  return Object.entries(m.cases)
    .filter(([name]) => !only || only(name))
    .map(([name, info]) => {
      const dir = join(CASES_DIR, name);
      const files = readdirSync(dir);
      const tensors = (prefix: string) =>
        files
          .filter((f) => f.startsWith(prefix))
          .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
          .map((f) => readTensorProto(readFileSync(join(dir, f)), join(dir, f)));
      return { name, op: info.op, model: readFileSync(join(dir, 'model.onnx')), inputs: tensors('input_'), outputs: tensors('output_') };
    });
}

/** A case's outcome on one backend: passed, or why not. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The backends every case runs on. */
export const CONFORMANCE_BACKENDS = ['interp', 'eval', 'cpu', 'webgpu'] as const satisfies readonly BackendName[];

/** A case imported: its program and its inputs (by program input name), or the import's error. */
type Imported = { readonly c: ConformanceCase; readonly imp: OnnxImport; readonly feeds: Record<string, Float32Array | Int32Array | Uint8Array> } | { readonly c: ConformanceCase; readonly error: string };

/** A tensor's values as the host array of a Tessera dtype. */
function hostArray(t: OnnxTensor): Float32Array | Int32Array | Uint8Array {
  const dtype = computeDType(t.dataType);
  if (!dtype) throw new TesseraError(`test input '${t.name}' is ${onnxDTypeName(t.dataType)}, which Tessera does not compute`);
  return dtype === 'f32' ? Float32Array.from(t.values) : dtype === 'i32' ? Int32Array.from(t.values) : Uint8Array.from(t.values);
}

/**
 * Imports a case with its inputs' shapes from the test data. A case whose
 * shape operands (axes, pads, a reshape's shape) are graph inputs is
 * imported again with its integer inputs bound as constants, as a static
 * compiler takes them; then, if that is not enough (Resize's float scales
 * and roi), with every input but the first bound.
 */
function importWithData(c: ConformanceCase): OnnxImport {
  const names = onnxInputNames(c.model);
  const tensors = names.map((n, i) => (c.inputs.find((x) => x.name === n) ?? c.inputs[i])!);
  const shapes = Object.fromEntries(names.map((n, i) => [n, { shape: [...tensors[i]!.dims] }]));
  const bound = (keep: (t: OnnxTensor, i: number) => boolean) => {
    const constants = Object.fromEntries(tensors.filter(keep).map((t) => [t.name, t]));
    return importOnnx(c.model, { source: c.name, inputs: Object.fromEntries(Object.entries(shapes).filter(([n]) => !(n in constants))), constants });
  };
  const attempts = [() => importOnnx(c.model, { source: c.name, inputs: shapes }), () => bound((t) => t.dataType !== 1 || t.dims.length === 0), () => bound((_, i) => i > 0)];
  for (const [i, attempt] of attempts.entries()) {
    try {
      return attempt();
    } catch (e) {
      if (!(e instanceof TesseraError) || !e.message.includes('computed at run time') || i === attempts.length - 1) throw e;
    }
  }
  throw new Error('unreachable');
}

function importCase(c: ConformanceCase): Imported {
  try {
    const imp = importWithData(c);
    const onnxInputs = Object.keys(imp.inputNames);
    const feeds: Record<string, Float32Array | Int32Array | Uint8Array> = { ...imp.weights };
    onnxInputs.forEach((name, i) => {
      const t = c.inputs.find((x) => x.name === name) ?? c.inputs[i];
      if (!t) throw new TesseraError(`no test data for input '${name}'`);
      feeds[imp.inputNames[name]!] = hostArray(t);
    });
    return { c, imp, feeds };
  } catch (e) {
    if (e instanceof TesseraError) return { c, error: e.message.replace(`${c.name}: `, '') };
    throw e;
  }
}

/** The names of a model's graph inputs (without initializers). */
function onnxInputNames(model: Uint8Array): string[] {
  const g = decodeModel(model).graph!;
  const init = new Set(g.initializer.map((t) => t.name));
  return g.input.filter((vi) => !init.has(vi.name)).map((vi) => vi.name);
}

/** Checks a case's outputs (by ONNX output order) against the expected tensors. */
function check(ok: Extract<Imported, { imp: OnnxImport }>, outputs: Record<string, ArrayLike<number>>): Verdict {
  const { c, imp } = ok;
  const names = Object.keys(imp.outputNames);
  const reductionLength = longestReduction(imp.program);
  for (let i = 0; i < names.length; i++) {
    const expected = c.outputs[i]!;
    const out = imp.program.outputs.find((o) => o.name === imp.outputNames[names[i]!])!;
    const type = [...imp.program.inputs.map((x) => ({ name: x.name, type: x.type })), ...imp.program.nodes].find((n) => n.name === out.value)!.type;
    if (formatShape(type.shape) !== formatShape(expected.dims)) return { ok: false, reason: `output '${names[i]}' has shape ${formatShape(type.shape)}, expected ${formatShape(expected.dims)}` };
    const why = describeMismatch(outputs[out.name]!, expected.values, { dtype: type.dtype, reductionLength }, { what: `output '${names[i]}'`, shape: type.shape });
    if (why) return { ok: false, reason: why.split('\n').slice(0, 2).join(' ') };
  }
  return { ok: true };
}

/** Every case's program in one, its values prefixed `cN_` (and its outputs), so a backend compiles them at once. */
function mergePrograms(batch: readonly Extract<Imported, { imp: OnnxImport }>[]): Program {
  const inputs: ProgramInput[] = [];
  const nodes: Node[] = [];
  const outputs: { name: string; value: string }[] = [];
  batch.forEach(({ imp }, k) => {
    const p = imp.program;
    const r = (n: string) => `c${k}_${n}`;
    for (const i of p.inputs) inputs.push({ ...i, name: r(i.name) });
    for (const n of p.nodes) nodes.push({ ...n, name: r(n.name), operands: n.operands.map(r) });
    for (const o of p.outputs) outputs.push({ name: r(o.name), value: r(o.value) });
  });
  return { name: 'conformance', inputs, nodes, outputs };
}

/** Runs a batch of imported cases on `backend` in one compile and one run; a batch that fails to compile or run is split. */
async function runBatch(backend: BackendName, batch: readonly Extract<Imported, { imp: OnnxImport }>[], verdicts: Map<string, Verdict>): Promise<void> {
  let outputs: Record<string, ArrayLike<number>>;
  try {
    const merged = mergePrograms(batch);
    const feeds = Object.fromEntries(batch.flatMap(({ feeds: f }, k) => Object.entries(f).map(([n, v]) => [`c${k}_${n}`, v])));
    if (backend === 'interp') {
      const r = interpret(merged, feeds);
      outputs = Object.fromEntries(Object.entries(r).map(([n, t]) => [n, t.data]));
    } else {
      const exe = await compile(merged, { backend });
      try {
        const r = await exe.run(feeds);
        outputs = Object.fromEntries(Object.entries(r).map(([n, t]) => [n, t.data]));
      } finally {
        exe.dispose();
      }
    }
  } catch (e) {
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await runBatch(backend, batch.slice(0, half), verdicts);
      await runBatch(backend, batch.slice(half), verdicts);
      return;
    }
    verdicts.set(batch[0]!.c.name, { ok: false, reason: `${backend}: ${(e as Error).message.split('\n')[0]}` });
    return;
  }
  batch.forEach((b, k) => {
    const prefix = `c${k}_`;
    const own = Object.fromEntries(Object.entries(outputs).filter(([n]) => n.startsWith(prefix)).map(([n, v]) => [n.slice(prefix.length), v]));
    verdicts.set(b.c.name, check(b, own));
  });
}

/** Every case's verdict on every backend: case name -> backend -> verdict. */
export async function runConformance(cases: readonly ConformanceCase[], backends: readonly BackendName[] = CONFORMANCE_BACKENDS, batchSize = 64): Promise<Map<string, Map<BackendName, Verdict>>> {
  const imported = cases.map(importCase);
  const result = new Map<string, Map<BackendName, Verdict>>(cases.map((c) => [c.name, new Map()]));
  const ok = imported.filter((x): x is Extract<Imported, { imp: OnnxImport }> => 'imp' in x);
  for (const x of imported) if ('error' in x) for (const b of backends) result.get(x.c.name)!.set(b, { ok: false, reason: `import: ${x.error}` });
  for (const backend of backends) {
    const verdicts = new Map<string, Verdict>();
    for (let i = 0; i < ok.length; i += batchSize) await runBatch(backend, ok.slice(i, i + batchSize), verdicts);
    for (const [name, v] of verdicts) result.get(name)!.set(backend, v);
  }
  return result;
}

export { toHost };
