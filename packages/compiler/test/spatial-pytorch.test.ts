/**
 * The ops over spatial axes against PyTorch on every backend configuration:
 * max_pool and avg_pool as F.max_pool1d/2d/3d, F.avg_pool1d/2d/3d and
 * F.adaptive_avg_pool2d, group_norm as F.group_norm and F.instance_norm,
 * resize as F.interpolate (nearest, linear, bilinear, bicubic, trilinear,
 * align_corners both ways).
 * The committed fixture (tools/make_op_fixtures.py) holds odd shapes
 * (strides other than the kernel, padding, dilation, ceil mode,
 * count_include_pad off, a last ceil-mode window that starts in the padding;
 * groups 1, 2 and C, with and without weight and bias), inputs and PyTorch's
 * outputs computed in float64. Each case is traced through the DSL function
 * of the same name with the fixture's arguments.
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
  fixture = await readFixture('spatial.safetensors');
});

const CASES = [
  'max2d_odd',
  'max2d_default',
  'max1d',
  'max3d',
  'avg2d_pad',
  'avg2d_ceil_no_pad_count',
  'avg2d_last_window',
  'avg1d',
  'avg3d',
  'adaptive_global',
  'adaptive_divisor',
  'group_norm2',
  'group_norm1_1d',
  'group_norm_per_channel_3d',
  'instance_norm',
  'nearest_up',
  'nearest_odd',
  'bilinear_up',
  'bilinear_corners',
  'bilinear_scale',
  'bicubic',
  'bicubic_corners',
  'linear_1d',
  'trilinear',
];

type Args = {
  fn: string;
  kernel_size?: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  ceil_mode?: boolean;
  count_include_pad?: boolean;
  output_size?: number | number[];
  num_groups?: number;
  eps?: number;
  size?: number[];
  scale_factor?: number;
  mode?: 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear';
  align_corners?: boolean;
};
type Input = Parameters<typeof ops.maxPool2d>[0];

/** The DSL call of a case: the function of F's name, with F's arguments under the DSL's names (weight and bias as inputs w and b). */
function call(a: Args): (x: Input, w?: Input, b?: Input) => Input {
  const opts = { stride: a.stride, padding: a.padding, dilation: a.dilation, ceilMode: a.ceil_mode, countIncludePad: a.count_include_pad };
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const pools = {
    max_pool1d: ops.maxPool1d,
    max_pool2d: ops.maxPool2d,
    max_pool3d: ops.maxPool3d,
    avg_pool1d: ops.avgPool1d,
    avg_pool2d: ops.avgPool2d,
    avg_pool3d: ops.avgPool3d,
  } as const;
  if (a.fn === 'adaptive_avg_pool2d') return (x) => ops.adaptiveAvgPool2d(x, a.output_size!);
  if (a.fn === 'group_norm') return (x, w, b) => ops.groupNorm(x, a.num_groups!, w, b, a.eps);
  if (a.fn === 'instance_norm') return (x, w, b) => ops.groupNorm(x, x.shape[1]!, w, b, a.eps);
  if (a.fn === 'interpolate') {
    const opts = { size: a.size, scaleFactor: a.scale_factor, mode: a.mode, alignCorners: a.align_corners };
    return (x) => ops.interpolate(x, Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)));
  }
  const pool = pools[a.fn as keyof typeof pools];
  return (x) => pool(x, a.kernel_size!, defined);
}

/** The length of the sums behind each output: a pooling window, or a normalised group. */
function sumLength(a: Args, input: readonly number[], output: readonly number[]): number {
  if (a.kernel_size !== undefined) return numelOf(a.kernel_size);
  if (a.fn === 'adaptive_avg_pool2d') return numelOf(input.slice(2)) / numelOf(output.slice(2));
  // A few neighbours per resized axis (4 for cubic).
  if (a.fn === 'interpolate') return 4 ** (input.length - 2);
  return numelOf(input.slice(1)) / (a.num_groups ?? input[1]!);
}

describe('max_pool, avg_pool, group_norm and resize match PyTorch on every backend', () => {
  for (const { name: config, backend } of CONFIGS) {
    it.each(CASES)(`${config}: %s`, async (name) => {
      const args = JSON.parse(fixture.metadata[name]!) as Args;
      const x = fixtureTensor(fixture, `${name}.input`);
      const expected = fixtureTensor(fixture, `${name}.output`);
      const affine = fixture.tensors.has(`${name}.weight`);
      const vector = `f32[${x.shape[1]}]`;
      const program = trace(call(args), affine ? { x: `f32[${x.shape.join(',')}]`, w: vector, b: vector } : { x: `f32[${x.shape.join(',')}]` });
      const exe = await compile(program, { backend: backend(), verify: true });
      const inputs: Record<string, Float32Array> = affine ? { x: x.data, w: fixtureTensor(fixture, `${name}.weight`).data, b: fixtureTensor(fixture, `${name}.bias`).data } : { x: x.data };
      try {
        const out = Object.values(await exe.run(inputs))[0]!;
        expect(out.dims).toEqual(expected.shape);
        const cmp = compareClose(out.data as Float32Array, expected.data, { reductionLength: sumLength(args, x.shape, expected.shape) });
        expect(cmp.ok, `${config} ${name}: ${cmp.mismatches} mismatches, worst ${JSON.stringify(cmp.worst)}`).toBe(true);
      } finally {
        exe.dispose();
      }
    });
  }
});

const numelOf = (k: number | readonly number[]) => (typeof k === 'number' ? k : k.reduce((a, b) => a * b, 1));
