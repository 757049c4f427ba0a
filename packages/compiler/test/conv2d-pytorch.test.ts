/**
 * conv2d against PyTorch's F.conv2d on every backend configuration: the
 * committed fixture (tools/make_op_fixtures.py) holds odd shapes (kernel 3,
 * stride 2, padding 1, dilation 2 on 7x9 images; grouped; depthwise with and
 * without a channel multiplier; 1x1; padding 'same' with an even kernel),
 * inputs, weights and PyTorch's outputs computed in float64. Each case is
 * traced through nn.Conv2d with the fixture's F.conv2d arguments, so the
 * weights load under PyTorch's names.
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
  fixture = await readFixture('conv2d.safetensors');
});

const CASES = ['odd', 'depthwise_mult2', 'depthwise', 'grouped', 'wide', 'pointwise', 'same_even'];

/** The case's layer (nn.Conv2d with the fixture's F.conv2d arguments), program, weights, input and PyTorch's output. */
function caseOf(name: string) {
  const args = JSON.parse(fixture.metadata[name]!) as { stride: number | [number, number]; padding: number | [number, number] | 'same'; dilation: number | [number, number]; groups: number };
  const x = fixtureTensor(fixture, `${name}.input`);
  const w = fixtureTensor(fixture, `${name}.weight`);
  const hasBias = fixture.tensors.has(`${name}.bias`);
  const [out, inPerGroup, kh, kw] = w.shape as [number, number, number, number];
  const layer = new nn.Conv2d(inPerGroup * args.groups, out, [kh, kw], { ...args, bias: hasBias });
  const program = trace(layer, { input: `f32[${x.shape.join(',')}]` });
  // The layer's parameters are named as in PyTorch's state_dict: weight and bias.
  const weights: Record<string, Float32Array> = hasBias ? { weight: w.data, bias: fixtureTensor(fixture, `${name}.bias`).data } : { weight: w.data };
  return { program, weights, input: x.data, expected: fixtureTensor(fixture, `${name}.output`), k: inPerGroup * kh * kw };
}

describe('conv2d matches PyTorch F.conv2d on every backend', () => {
  for (const { name: config, backend } of CONFIGS) {
    it.each(CASES)(`${config}: %s`, async (name) => {
      const c = caseOf(name);
      const exe = await compile(c.program, { backend: backend(), weights: c.weights, verify: true });
      try {
        const got = (await exe.run({ input: c.input })).output!.data as Float32Array;
        expect(got.length).toBe(c.expected.data.length);
        const cmp = compareClose(got, c.expected.data, { reductionLength: c.k });
        expect(cmp.ok, `${config} ${name}: ${cmp.mismatches} mismatches, worst ${JSON.stringify(cmp.worst)}`).toBe(true);
      } finally {
        exe.dispose();
      }
    });
  }
});
