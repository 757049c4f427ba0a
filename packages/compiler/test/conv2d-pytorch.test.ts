/**
 * conv2d against PyTorch's F.conv2d and conv_transpose2d against
 * F.conv_transpose2d on every backend configuration: the committed fixtures
 * (tools/make_op_fixtures.py) hold odd shapes (kernel 3, stride 2, padding
 * 1, dilation 2 on 7x9 images; grouped; depthwise with and without a
 * channel multiplier; 1x1; padding 'same' with an even kernel; transposed:
 * output_padding, unequal strides and dilations, groups, a stride past the
 * kernel), inputs, weights and PyTorch's outputs computed in float64. Each
 * case is traced through nn.Conv2d or nn.ConvTranspose2d with the fixture's
 * arguments, so the weights load under PyTorch's names.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nn, trace } from '@tessera/frontend';
import { compareClose } from '@tessera/harness';
import type { SafetensorsFile } from '@tessera/ir';
import { compile } from '../src/index.ts';
import { fixtureTensor, readFixture, useBackendConfigs } from './backend-configs.ts';

const CONFIGS = useBackendConfigs();
let fixture: SafetensorsFile;
let transposed: SafetensorsFile;
beforeAll(async () => {
  fixture = await readFixture('conv2d.safetensors');
  transposed = await readFixture('conv_transpose2d.safetensors');
});

const CASES = ['odd', 'depthwise_mult2', 'depthwise', 'grouped', 'wide', 'pointwise', 'same_even'];
const TRANSPOSED_CASES = ['upsample', 'odd', 'grouped', 'sparse'];

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

/** A transposed case's layer (nn.ConvTranspose2d with the fixture's F.conv_transpose2d arguments), program, weights, input and PyTorch's output. */
function transposedCaseOf(name: string) {
  type Pair = number | [number, number];
  const args = JSON.parse(transposed.metadata[name]!) as { stride: Pair; padding: Pair; output_padding: Pair; dilation: Pair; groups: number };
  const x = fixtureTensor(transposed, `${name}.input`);
  const w = fixtureTensor(transposed, `${name}.weight`);
  const hasBias = transposed.tensors.has(`${name}.bias`);
  const [inChannels, outPerGroup, kh, kw] = w.shape as [number, number, number, number];
  const layer = new nn.ConvTranspose2d(inChannels, outPerGroup * args.groups, [kh, kw], { stride: args.stride, padding: args.padding, outputPadding: args.output_padding, dilation: args.dilation, groups: args.groups, bias: hasBias });
  const program = trace(layer, { input: `f32[${x.shape.join(',')}]` });
  const weights: Record<string, Float32Array> = hasBias ? { weight: w.data, bias: fixtureTensor(transposed, `${name}.bias`).data } : { weight: w.data };
  return { program, weights, input: x.data, expected: fixtureTensor(transposed, `${name}.output`), k: (inChannels / args.groups) * kh * kw };
}

describe('conv2d matches PyTorch F.conv2d, and conv_transpose2d F.conv_transpose2d, on every backend', () => {
  const cases = [...CASES.map((name) => ({ name, make: () => caseOf(name) })), ...TRANSPOSED_CASES.map((name) => ({ name: `transposed ${name}`, make: () => transposedCaseOf(name) }))];
  for (const { name: config, backend } of CONFIGS) {
    it.each(cases)(`${config}: $name`, async ({ name, make }) => {
      const c = make();
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
