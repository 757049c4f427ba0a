/**
 * rms_norm against PyTorch (tools/make_op_fixtures.py: F.rms_norm, or its
 * documented formula on a torch older than 2.4) on every backend
 * configuration, through nn.RMSNorm: one and two normalised axes, with and
 * without a weight, PyTorch's default eps (float32's epsilon, on values small
 * enough that it matters) and a given one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nn, trace } from '@tessera/frontend';
import { compareClose } from '@tessera/harness';
import type { SafetensorsFile } from '@tessera/ir';
import { compile } from '../src/index.ts';
import { fixtureTensor, readFixture, useBackendConfigs } from './backend-configs.ts';

const CONFIGS = useBackendConfigs();
let fixture: SafetensorsFile;
beforeAll(async () => {
  fixture = await readFixture('rms_norm.safetensors');
});

describe('rms_norm matches PyTorch on every backend', () => {
  for (const { name: config, backend } of CONFIGS) {
    it.each(['last', 'two_axes', 'no_weight_eps', 'tiny_default_eps'])(`${config}: %s`, async (name) => {
      const args = JSON.parse(fixture.metadata[name]!) as { normalized_shape: number[]; eps: number | null };
      const x = fixtureTensor(fixture, `${name}.input`);
      const hasWeight = fixture.tensors.has(`${name}.weight`);
      const layer = new nn.RMSNorm(args.normalized_shape, { ...(args.eps === null ? {} : { eps: args.eps }), elementwiseAffine: hasWeight });
      const program = trace(layer, { input: `f32[${x.shape.join(',')}]` });
      const weights: Record<string, Float32Array> = hasWeight ? { weight: fixtureTensor(fixture, `${name}.weight`).data } : {};
      const expected = fixtureTensor(fixture, `${name}.output`).data;
      const exe = await compile(program, { backend: backend(), weights, verify: true });
      try {
        const got = (await exe.run({ input: x.data })).output!.data as Float32Array;
        const cmp = compareClose(got, expected, { reductionLength: args.normalized_shape.reduce((a, b) => a * b, 1) });
        expect(cmp.ok, `${config} ${name}: ${cmp.mismatches} mismatches, worst ${JSON.stringify(cmp.worst)}`).toBe(true);
      } finally {
        exe.dispose();
      }
    });
  }
});
