/**
 * nn.Transformer (and through it TransformerEncoder/DecoderLayer) against
 * torch.nn.Transformer: the committed fixture (tools/make_op_fixtures.py)
 * holds two seeded models' state_dicts (post-norm ReLU sequence-first, and
 * pre-norm GELU batch-first), inputs with padded sources and causal target
 * masks, and PyTorch's outputs computed in float64. The state_dict loads
 * into the DSL module by its own names.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Module, type Tensor, nn, ops, trace } from '@tessera/frontend';
import { compareClose, longestReduction } from '@tessera/harness';
import type { SafetensorsFile } from '@tessera/ir';
import { compile } from '../src/index.ts';
import { fixtureTensor, readFixture, useBackendConfigs } from './backend-configs.ts';

const CONFIGS = useBackendConfigs().filter((c) => ['interp', 'eval', 'cpu js', 'cpu wasm, 2 threads', 'webgpu'].includes(c.name));
let fixture: SafetensorsFile;
beforeAll(async () => {
  fixture = await readFixture('transformer.safetensors');
});

interface FixtureConfig {
  d_model: number;
  nhead: number;
  num_encoder_layers: number;
  num_decoder_layers: number;
  dim_feedforward: number;
  activation?: 'relu' | 'gelu';
  norm_first?: boolean;
  layer_norm_eps?: number;
  batch_first: boolean;
  tgt_mask: 'float' | 'bool';
}

/** nn.Transformer as child `transformer`, called as the fixture calls it: padded sources, a causal target mask. */
class Harness extends Module {
  constructor(
    readonly transformer: nn.Transformer,
    readonly floatMask: boolean,
  ) {
    super();
  }

  forward(src: Tensor, tgt: Tensor, pad: Tensor): Tensor {
    const t = tgt.shape[this.transformer.encoder.layers.at(0).batchFirst ? 1 : 0]!;
    // PyTorch's float mask (-inf above the diagonal), or a bool one (true above the diagonal: not allowed).
    const tgtMask = this.floatMask ? nn.Transformer.generateSquareSubsequentMask(t) : ops.ones([t, t], 'bool').triu(1);
    return this.transformer.forward(src, tgt, { tgtMask, srcKeyPaddingMask: pad, memoryKeyPaddingMask: pad });
  }
}

function caseOf(name: string) {
  const c = JSON.parse(fixture.metadata[name]!) as FixtureConfig;
  const transformer = new nn.Transformer({
    dModel: c.d_model,
    nhead: c.nhead,
    numEncoderLayers: c.num_encoder_layers,
    numDecoderLayers: c.num_decoder_layers,
    dimFeedforward: c.dim_feedforward,
    batchFirst: c.batch_first,
    ...(c.activation ? { activation: c.activation } : {}),
    ...(c.norm_first !== undefined ? { normFirst: c.norm_first } : {}),
    ...(c.layer_norm_eps !== undefined ? { layerNormEps: c.layer_norm_eps } : {}),
  });
  const model = new Harness(transformer, c.tgt_mask === 'float');
  const prefix = `${name}.state.`;
  const state = new Map([...fixture.tensors.keys()].filter((k) => k.startsWith(prefix)).map((k) => [`transformer.${k.slice(prefix.length)}`, fixtureTensor(fixture, k).data]));
  const [src, tgt] = [fixtureTensor(fixture, `${name}.src`), fixtureTensor(fixture, `${name}.tgt`)];
  const pad = fixture.tensors.get(`${name}.src_key_padding_mask`)!;
  const program = trace(model, { src: `f32[${src.shape.join(',')}]`, tgt: `f32[${tgt.shape.join(',')}]`, pad: `bool[${pad.shape.join(',')}]` });
  return { model, state, program, inputs: { src: src.data, tgt: tgt.data, pad: pad.data as Uint8Array }, expected: fixtureTensor(fixture, `${name}.output`).data };
}

const CASES = ['post_relu_seq_first', 'pre_gelu_batch_first'];

describe('nn.Transformer matches torch.nn.Transformer', () => {
  it.each(CASES)('%s: the state_dict names are exactly the DSL module\'s parameter names', (name) => {
    const { model, state } = caseOf(name);
    expect([...model.namedParameters()].map(([n]) => n).sort()).toEqual([...state.keys()].sort());
    for (const [n, p] of model.namedParameters()) expect(p.shape.reduce((a, b) => a * b, 1), n).toBe(state.get(n)!.length);
  });

  for (const { name: config, backend } of CONFIGS) {
    it.each(CASES)(`${config}: %s`, async (name) => {
      const c = caseOf(name);
      const exe = await compile(c.program, { backend: backend(), weights: Object.fromEntries(c.state), verify: true });
      try {
        const got = (await exe.run(c.inputs)).output!.data as Float32Array;
        const cmp = compareClose(got, c.expected, { reductionLength: longestReduction(c.program) });
        expect(cmp.ok, `${config} ${name}: ${cmp.mismatches} mismatches, worst ${JSON.stringify(cmp.worst)}`).toBe(true);
      } finally {
        exe.dispose();
      }
    });
  }
});
