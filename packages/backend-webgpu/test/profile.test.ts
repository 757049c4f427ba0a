/**
 * `WebgpuExecutable.profile`: one timing per dispatched shader in launch
 * order (prepasses their own entries, parameter-only prepasses only when
 * they run), the same input checks as `run`, queued with the runs; and the
 * pure helpers that summarise a profile.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { type KernelTiming, type WebgpuExecutable, describeAdapter, slowestFirst, timestampPairsToMs, totalsByKind } from '../src/index.ts';
import { releaseBackend, testBackend } from './support.ts';

afterAll(releaseBackend);

/** y = softmax(exp(x) @ w) with w a parameter: a map, a matmul (with prepasses under `texture`) and a reduce kernel. */
function mapMatmulSoftmax() {
  const b = new ProgramBuilder('mms');
  const x = b.input('x', tensorType('f32', [5, 6]));
  const w = b.param('w', tensorType('f32', [6, 7]));
  b.output('y', b.emit('softmax', [b.emit('matmul', [b.emit('exp', [x]), w])], { axis: 1 }));
  return lowerToKernels(b.build());
}

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const X = seq(30, (i) => ((i * 7) % 11) / 11 - 0.5);
const W = seq(42, (i) => ((i * 5) % 13) / 13 - 0.5);

/** Every shader `exe` can dispatch, in launch order, with whether it is a parameter-only prepass. */
function launchOrder(exe: WebgpuExecutable): { name: string; kind: string; variant: string; dispatch: readonly number[]; paramsOnly: boolean }[] {
  return exe.shaders.flatMap((s) => [...(s.prepasses ?? []).map((p) => ({ ...p })), { ...s, paramsOnly: false }]).map(({ name, kind, variant, dispatch, paramsOnly }) => ({ name, kind, variant, dispatch, paramsOnly }));
}

/** The entries a profile should list: every shader, parameter-only prepasses only when `packed` is false. */
function expectedEntries(exe: WebgpuExecutable, packed: boolean) {
  return launchOrder(exe)
    .filter((s) => !(packed && s.paramsOnly))
    .map(({ name, kind, variant, dispatch }) => ({ name, kind, variant, dispatch }));
}

function expectTimes(p: readonly KernelTiming[], method: 'timestamp' | 'wall'): void {
  for (const t of p) {
    expect(Number.isFinite(t.ms), t.name).toBe(true);
    expect(t.ms, t.name).toBeGreaterThanOrEqual(0);
    expect(t.method).toBe(method);
  }
}

describe('WebgpuExecutable.profile', () => {
  it('the adapter report says whether the device has timestamp-query (requested whenever the adapter offers it)', async () => {
    const be = await testBackend();
    expect(be.adapter.timestamps).toBe(be.context.device.features.has('timestamp-query'));
    expect(describeAdapter(be.adapter).endsWith(', GPU timestamps')).toBe(be.adapter.timestamps);
  });

  it('times every dispatched shader in launch order; a parameter-only prepass only after parameters were written (matmul texture)', async () => {
    const be = await testBackend();
    const method = be.adapter.timestamps ? 'timestamp' : 'wall';
    const exe = await be.compile(mapMatmulSoftmax(), { matmul: 'texture' });
    try {
      // The shapes the test relies on: the texture matmul packs A every run and B (the weight) once.
      const order = launchOrder(exe);
      expect(order.map((s) => [s.name, s.kind, s.paramsOnly])).toEqual([
        ['k0_exp', 'map', false],
        ['k1_matmul.pack_a', 'matmul', false],
        ['k1_matmul.pack_b', 'matmul', true],
        ['k1_matmul', 'matmul', false],
        ['k2_softmax', 'reduce', false],
      ]);
      exe.setInputs({ w: W });
      const first = await exe.profile({ x: X });
      expect(first.map(({ name, kind, variant, dispatch }) => ({ name, kind, variant, dispatch }))).toEqual(expectedEntries(exe, false));
      expectTimes(first, method);
      // Nothing written since: B stays packed.
      const second = await exe.profile({ x: X });
      expect(second.map((t) => t.name)).toEqual(['k0_exp', 'k1_matmul.pack_a', 'k1_matmul', 'k2_softmax']);
      expectTimes(second, method);
      // A parameter passed with a profile is written, so packed again; a run that packed it leaves nothing to pack for the next profile.
      expect((await exe.profile({ x: X, w: W })).map((t) => t.name)).toContain('k1_matmul.pack_b');
      await exe.run({ x: X, w: W });
      expect((await exe.profile({ x: X })).map((t) => t.name)).not.toContain('k1_matmul.pack_b');
    } finally {
      exe.dispose();
    }
  });

  it('interleaved with runs (queued, and back to back) leaves the runs computing the same outputs, with the parameter packed by a profile', async () => {
    const exe = await (await testBackend()).compile(mapMatmulSoftmax(), { matmul: 'texture' });
    const reference = await (await testBackend()).compile(mapMatmulSoftmax(), { matmul: 'register' });
    try {
      const X2 = seq(30, (i) => Math.sin(i));
      const expected1 = Array.from((await reference.run({ x: X, w: W })).y!.data);
      const expected2 = Array.from((await reference.run({ x: X2, w: W })).y!.data);
      // The profile is the first to see w: it packs it, and the runs after it rely on that.
      exe.setInputs({ w: W });
      const [p, r1, p2, r2] = await Promise.all([exe.profile({ x: X2 }), exe.run({ x: X }), exe.profile({ x: X }), exe.run({ x: X2 })]);
      expect(p.map((t) => t.name)).toContain('k1_matmul.pack_b');
      expect(p2.map((t) => t.name)).not.toContain('k1_matmul.pack_b');
      const close = (a: ArrayLike<number>, b: readonly number[]) => Array.from(a).every((v, i) => Math.abs(v - b[i]!) < 1e-6);
      expect(close(r1.y!.data, expected1)).toBe(true);
      expect(close(r2.y!.data, expected2)).toBe(true);
      // Not vacuous: the two inputs give different outputs.
      expect(close(r1.y!.data, expected2)).toBe(false);
      const again = await exe.run({ x: X, w: W });
      expect(Array.from(again.y!.data)).toEqual(Array.from(r1.y!.data));
    } finally {
      exe.dispose();
      reference.dispose();
    }
  });

  it("checks its inputs as run does, and a failed profile does not block the runs queued after it", async () => {
    const exe = await (await testBackend()).compile(mapMatmulSoftmax());
    const bad = exe.profile({ x: X });
    const good = exe.run({ x: X, w: W });
    await expect(bad).rejects.toThrow("missing input 'w' (f32[6,7])");
    await expect(exe.profile({ x: new Int32Array(30) as unknown as Float32Array, w: W })).rejects.toThrow("input 'x' must be a Float32Array for dtype f32 (or a tensor { data, dims } of one), got Int32Array");
    await expect(exe.profile({ x: X.subarray(1), w: W })).rejects.toThrow("input 'x' of shape [5,6] needs 30 elements, got 29");
    expect((await good).y!.data.length).toBe(35);
    exe.dispose();
    await expect(exe.profile({ x: X, w: W })).rejects.toThrow('this executable has been disposed');
  });
});

describe('profile summaries', () => {
  const t = (name: string, kind: 'map' | 'matmul' | 'reduce', ms: number): KernelTiming => ({ name, kind, variant: kind, ms, dispatch: [1, 1, 1], method: 'wall' });
  const p = [t('k0', 'map', 1), t('k1.pack_a', 'matmul', 0.5), t('k1', 'matmul', 4), t('k2', 'reduce', 2), t('k3', 'map', 2)];

  it('totals per kind, largest first', () => {
    expect(totalsByKind(p)).toEqual([
      { kind: 'matmul', ms: 4.5, dispatches: 2 },
      { kind: 'map', ms: 3, dispatches: 2 },
      { kind: 'reduce', ms: 2, dispatches: 1 },
    ]);
    expect(totalsByKind([])).toEqual([]);
  });

  it('sorts slowest first, launch order among equals', () => {
    expect(slowestFirst(p).map((x) => x.name)).toEqual(['k1', 'k2', 'k3', 'k0', 'k1.pack_a']);
  });

  it('turns nanosecond timestamp pairs into milliseconds (a pair running backwards reads 0)', () => {
    const ns = BigUint64Array.from([1_000_000n, 3_500_000n, 10n, 10n, 5_000n, 4_000n, 0n, 0n]);
    expect(timestampPairsToMs(ns, 3)).toEqual([2.5, 0, 0]);
  });
});
