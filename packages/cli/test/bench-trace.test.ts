/**
 * `tessera bench --profile --trace OUT.json`: a Chrome trace (Trace Event
 * Format, JSON object form) of the profiled run on cpu (wasm) and webgpu,
 * one complete event per kernel run, named by the module path the kernel
 * computes. The format is checked against what chrome://tracing and
 * Perfetto require of the events written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { traceConfig } from '../src/trace-config.ts';
import { capture } from './capture.ts';

const VIT = join(import.meta.dirname, '..', '..', 'models', 'fixtures', 'vit-torchvision-37tok-3head.json');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-trace-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Event {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** The trace file's events, after checking the Trace Event Format's rules for the events it has. */
function readTrace(path: string): Event[] {
  const trace = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: Event[]; displayTimeUnit?: string };
  expect(Array.isArray(trace.traceEvents)).toBe(true);
  expect(['ms', 'ns', undefined]).toContain(trace.displayTimeUnit);
  for (const e of trace.traceEvents) {
    expect(typeof e.name).toBe('string');
    expect(e.name.length).toBeGreaterThan(0);
    expect(['X', 'M']).toContain(e.ph);
    expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
    expect(Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
    if (e.ph === 'X') expect(Number.isFinite(e.dur) && e.dur! >= 0).toBe(true);
    if (e.ph === 'M') expect(['process_name', 'thread_name']).toContain(e.name);
  }
  // Kernels run one after another: complete events follow each other without overlapping.
  const runs = trace.traceEvents.filter((e) => e.ph === 'X');
  for (let i = 1; i < runs.length; i++) expect(runs[i]!.ts).toBeCloseTo(runs[i - 1]!.ts + runs[i - 1]!.dur!, 6);
  return runs;
}

async function benchTrace(backend: string): Promise<{ events: Event[]; kernels: { name: string; kind: string }[] }> {
  const out = join(tmp, `${backend}.json`);
  const r = await capture(() => main(['bench', '--config', VIT, '--backend', backend, '--runs', '1', '--profile', '--trace', out, '--json']));
  expect(r.code).toBe(0);
  return { events: readTrace(out), kernels: (JSON.parse(r.out) as { kernels: { name: string; kind: string }[] }).kernels };
}

/** What each kernel's event must be named: checked on the kernels whose module is plain from what they compute. */
async function expectModuleNames(events: Event[]): Promise<void> {
  const program = await traceConfig(VIT, {});
  const params = program.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name);
  for (const e of events) {
    // A module path: a prefix of some parameter's state_dict name (or the program, for kernels of the root module).
    if (e.name.startsWith('@')) expect(e.name.split(' ')[0]).toBe('@vit');
    else expect(params.some((p) => p.startsWith(`${e.name.split(' ')[0]}.`)), e.name).toBe(true);
  }
  const named = (kind: string) => events.filter((e) => e.args!.kind === kind && !String(e.args!.kernel).includes('.')).map((e) => e.name);
  expect(named('attention')).toEqual(['encoder.layers.encoder_layer_0.self_attention', 'encoder.layers.encoder_layer_1.self_attention']);
  expect(named('reduce')).toEqual([
    'encoder.layers.encoder_layer_0.ln_1', 'encoder.layers.encoder_layer_0.ln_2',
    'encoder.layers.encoder_layer_1.ln_1', 'encoder.layers.encoder_layer_1.ln_2',
    'encoder.ln',
  ]);
  expect(named('matmul')).toContain('heads.head');
  expect(named('matmul')).toContain('encoder.layers.encoder_layer_1.mlp.0');
}

describe('tessera bench --profile --trace', () => {
  it('cpu (wasm): one event per kernel of the run, in launch order, named by module path, the kernel and its variant in args', async () => {
    const { events, kernels } = await benchTrace('cpu');
    expect(events.map((e) => e.args!.kernel)).toEqual(kernels.map((k) => k.name));
    expect(events.map((e) => e.cat)).toEqual(kernels.map((k) => k.kind));
    expect(events.every((e) => String(e.args!.variant).startsWith('wasm'))).toBe(true);
    await expectModuleNames(events);
  });

  it('webgpu: the same, every shader dispatched (a prepass under its kernel\'s module with its own suffix)', async () => {
    const { events, kernels } = await benchTrace('webgpu');
    expect(events.map((e) => e.args!.kernel)).toEqual(kernels.map((k) => k.name));
    for (const e of events) {
      const kernel = String(e.args!.kernel);
      if (kernel.includes('.')) expect(e.name).toMatch(new RegExp(` \\(${kernel.slice(kernel.indexOf('.') + 1)}\\)$`));
    }
    await expectModuleNames(events);
  });

  it('needs --profile, and never writes over the model', async () => {
    const r = await capture(() => main(['bench', '--config', VIT, '--trace', join(tmp, 'x.json')]));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--trace writes the kernel profile: add --profile');
    const over = await capture(() => main(['bench', '--config', VIT, '--profile', '--trace', VIT]));
    expect(over.code).toBe(1);
    expect(over.err).toMatch(/--trace.*--config file/);
  });
});
