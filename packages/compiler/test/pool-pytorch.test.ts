/**
 * max_pool and avg_pool against PyTorch's F.max_pool1d/2d/3d,
 * F.avg_pool1d/2d/3d and F.adaptive_avg_pool2d on every backend
 * configuration: the committed fixture (tools/make_op_fixtures.py) holds odd
 * shapes (strides other than the kernel, padding, dilation, ceil mode,
 * count_include_pad off, a last ceil-mode window that starts in the
 * padding), inputs and PyTorch's outputs computed in float64. Each case is
 * traced through the DSL function of the same name with the fixture's
 * arguments.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ops, trace } from '@tessera/frontend';
import { compareClose } from '@tessera/harness';
import type { SafetensorsFile } from '@tessera/ir';
import { compile } from '../src/index.ts';
import { fixtureTensor, readFixture, useBackendConfigs } from './backend-configs.ts';

const CONFIGS = useBackendConfigs();
let fixture: SafetensorsFile;
beforeAll(async () => {
  fixture = await readFixture('pool.safetensors');
});

const CASES = ['max2d_odd', 'max2d_default', 'max1d', 'max3d', 'avg2d_pad', 'avg2d_ceil_no_pad_count', 'avg2d_last_window', 'avg1d', 'avg3d', 'adaptive_global', 'adaptive_divisor'];

type Args = { fn: string; kernel_size?: number | number[]; stride?: number | number[]; padding?: number | number[]; dilation?: number | number[]; ceil_mode?: boolean; count_include_pad?: boolean; output_size?: number | number[] };

/** The DSL call of a case: the function of F's name, with F's arguments under the DSL's names. */
function call(a: Args) {
  const opts = { stride: a.stride, padding: a.padding, dilation: a.dilation, ceilMode: a.ceil_mode, countIncludePad: a.count_include_pad };
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const fns = {
    max_pool1d: ops.maxPool1d,
    max_pool2d: ops.maxPool2d,
    max_pool3d: ops.maxPool3d,
    avg_pool1d: ops.avgPool1d,
    avg_pool2d: ops.avgPool2d,
    avg_pool3d: ops.avgPool3d,
  } as const;
  if (a.fn === 'adaptive_avg_pool2d') return (x: Parameters<typeof ops.adaptiveAvgPool2d>[0]) => ops.adaptiveAvgPool2d(x, a.output_size!);
  const fn = fns[a.fn as keyof typeof fns];
  return (x: Parameters<typeof ops.maxPool2d>[0]) => fn(x, a.kernel_size!, defined);
}

describe('max_pool and avg_pool match PyTorch on every backend', () => {
  for (const { name: config, backend } of CONFIGS) {
    it.each(CASES)(`${config}: %s`, async (name) => {
      const args = JSON.parse(fixture.metadata[name]!) as Args;
      const x = fixtureTensor(fixture, `${name}.input`);
      const expected = fixtureTensor(fixture, `${name}.output`);
      const program = trace(call(args), { x: `f32[${x.shape.join(',')}]` });
      const exe = await compile(program, { backend: backend(), verify: true });
      try {
        const out = Object.values(await exe.run({ x: x.data }))[0]!;
        expect(out.dims).toEqual(expected.shape);
        // The sum an average takes: the kernel, or an adaptive pool's input extents over its output's.
        const window = args.kernel_size === undefined ? numelOf(x.shape.slice(2)) / numelOf(expected.shape.slice(2)) : numelOf(args.kernel_size);
        const cmp = compareClose(out.data as Float32Array, expected.data, { reductionLength: window });
        expect(cmp.ok, `${config} ${name}: ${cmp.mismatches} mismatches, worst ${JSON.stringify(cmp.worst)}`).toBe(true);
      } finally {
        exe.dispose();
      }
    });
  }
});

const numelOf = (k: number | readonly number[]) => (typeof k === 'number' ? k : k.reduce((a, b) => a * b, 1));
