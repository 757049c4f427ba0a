/** Which ops an ONNX model uses, how often, and which of them Tessera does not convert (`tessera onnx ops`). */
import { int64, decodeModel } from './proto.ts';
import { CONVERTERS } from './ops/index.ts';

/** One op type of a model. */
export interface OnnxOpUse {
  readonly domain: string;
  readonly op: string;
  readonly count: number;
  readonly supported: boolean;
}

/** The ops of a model. */
export interface OnnxOpReport {
  /** Opsets imported, by domain ('' is the default domain). */
  readonly opsets: Readonly<Record<string, number>>;
  readonly producer: string;
  /** Every op type used, most used first. */
  readonly ops: readonly OnnxOpUse[];
  /** The op types Tessera lacks (a subset of ops). */
  readonly missing: readonly OnnxOpUse[];
}

/** Counts the op types of a model's graph. */
export function onnxOpReport(bytes: Uint8Array, source?: string): OnnxOpReport {
  const model = decodeModel(bytes, source);
  const counts = new Map<string, OnnxOpUse>();
  for (const n of model.graph!.node) {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain;
    const key = `${domain}\u0000${n.op_type}`;
    const prev = counts.get(key);
    counts.set(key, { domain, op: n.op_type, count: (prev?.count ?? 0) + 1, supported: domain === '' && Object.hasOwn(CONVERTERS, n.op_type) });
  }
  const ops = [...counts.values()].sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
  const opsets = Object.fromEntries(model.opset_import.map((o) => [o.domain === 'ai.onnx' ? '' : o.domain, int64(o.version)]));
  return { opsets, producer: `${model.producer_name} ${model.producer_version}`.trim(), ops, missing: ops.filter((o) => !o.supported) };
}

/** The report as text: one line per op (count, name, and `MISSING` where Tessera lacks it), then a summary. */
export function formatOpReport(r: OnnxOpReport, source: string): string {
  const name = (o: OnnxOpUse) => (o.domain ? `${o.domain}.${o.op}` : o.op);
  const width = Math.max(...r.ops.map((o) => name(o).length), 2);
  const opsets = Object.entries(r.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ');
  const lines = [`${source}: ${r.producer || 'unknown producer'}; opsets ${opsets}`, ...r.ops.map((o) => `${String(o.count).padStart(6)}  ${name(o).padEnd(width)}${o.supported ? '' : '  MISSING'}`)];
  const total = r.ops.reduce((s, o) => s + o.count, 0);
  lines.push(r.missing.length ? `${r.ops.length} op types (${total} nodes); Tessera lacks ${r.missing.length}: ${r.missing.map(name).join(', ')}` : `${r.ops.length} op types (${total} nodes); Tessera supports all of them`);
  return lines.join('\n');
}
