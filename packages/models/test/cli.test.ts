/**
 * `tessera run` and `tessera generate` on the PyTorch fixtures: outputs by
 * the interface's names and dtypes, --batch-size, and errors that name the
 * file, key or tensor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMismatch } from '@tessera/harness';
import { type SafetensorsTensor } from '@tessera/ir';
import { readSafetensorsFile, writeSafetensorsFile } from '@tessera/ir/node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { generateCommand } from '../../cli/src/commands/generate.ts';
import { progressBar, runCommand } from '../../cli/src/commands/run.ts';
import { main } from '../../cli/src/main.ts';
import { Seq2SeqTransformer, compileGenerator } from '../src/index.ts';
import { loadModel } from '../src/node.ts';
import { FIXTURES, loadFixture } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VIT = 'vit-torchvision-37tok-3head';
const TR = 'transformer-vocab41-3head';
const cfg = (n: string) => join(FIXTURES, `${n}.json`);
const weights = (n: string) => join(FIXTURES, `${n}.safetensors`);

let count = 0;
/** Writes tensors to a fresh file in the temp folder; returns its path. */
async function put(tensors: Record<string, SafetensorsTensor>): Promise<string> {
  const path = join(dir, `${count++}.safetensors`);
  await writeSafetensorsFile(path, tensors);
  return path;
}

/** Runs argv through the CLI's main, capturing stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const io = (n: string) => loadFixture(n).io;
const asI32 = (t: SafetensorsTensor): SafetensorsTensor => ({ dtype: 'I32', shape: t.shape, data: Int32Array.from(t.data as BigInt64Array, Number) });

describe('tessera run', () => {
  it('ViT: writes logits f32 [B, num_classes] matching PyTorch, the same with --batch-size 1', async () => {
    const inputs = await put({ pixel_values: io(VIT).get('pixel_values')! });
    const [a, b] = [join(dir, 'va.safetensors'), join(dir, 'vb.safetensors')];
    const r = await cli('run', '--config', cfg(VIT), '--weights', weights(VIT), '--inputs', inputs, '--out', a);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^logits: f32\[2,7\] min=/);
    expect((await cli('run', `--config=${cfg(VIT)}`, `--weights=${weights(VIT)}`, `--inputs=${inputs}`, `--out=${b}`, '--batch-size', '1', '--backend', 'interp')).code).toBe(0);
    const [fa, fb] = [await readSafetensorsFile(a), await readSafetensorsFile(b)];
    const la = fa.tensors.get('logits')!;
    expect([la.dtype, la.shape]).toEqual(['F32', [2, 7]]);
    expect(fa.metadata).toMatchObject({ model: 'vit', backend: 'cpu' });
    const expected = io(VIT).get('logits')!.data as Float32Array;
    expect(describeMismatch(la.data as Float32Array, expected, { reductionLength: 40 })).toBeUndefined();
    expect(describeMismatch(fb.tensors.get('logits')!.data as Float32Array, expected, { reductionLength: 40 })).toBeUndefined();
  });

  it('Transformer: takes src/tgt as I64 or I32 and writes logits f32 [B, T, tgt_vocab]', async () => {
    const t = io(TR);
    const out64 = join(dir, 't64.safetensors');
    const out32 = join(dir, 't32.safetensors');
    const in64 = await put({ src: t.get('src')!, tgt: t.get('tgt')! });
    const in32 = await put({ src: asI32(t.get('src')!), tgt: asI32(t.get('tgt')!) });
    expect((await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', in64, '--out', out64, '--batch-size', '2')).code).toBe(0);
    expect((await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', in32, '--out', out32)).code).toBe(0);
    const [a, b] = [(await readSafetensorsFile(out64)).tensors.get('logits')!, (await readSafetensorsFile(out32)).tensors.get('logits')!];
    expect(a.shape).toEqual([3, 7, 37]);
    expect(describeMismatch(a.data as Float32Array, t.get('logits')!.data as Float32Array, { reductionLength: 29 })).toBeUndefined();
    expect(describeMismatch(b.data as Float32Array, a.data as Float32Array, { reductionLength: 29 })).toBeUndefined();
  });

  it('names what is wrong: config key, input tensor, shape, token range, backend, flags', async () => {
    const t = io(TR);
    const good = await put({ src: t.get('src')!, tgt: t.get('tgt')! });
    const out = join(dir, 'err.safetensors');
    const badConfig = join(dir, 'bad.json');
    const { writeFileSync } = await import('node:fs');
    const { num_encoder_layers: _, ...rest } = loadFixture(TR).config as unknown as Record<string, unknown>;
    writeFileSync(badConfig, JSON.stringify(rest));
    const cases: [string[], number, RegExp][] = [
      [['--config', badConfig, '--weights', weights(TR), '--inputs', good, '--out', out], 1, /bad\.json: missing key "num_encoder_layers"/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', await put({ src: t.get('src')! }), '--out', out], 1, /missing 'tgt' \(a Transformer takes 'src', 'tgt'\)/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', await put({ src: t.get('src')!, tgt: t.get('tgt')!, extra: t.get('tgt')! }), '--out', out], 1, /unexpected 'extra'/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', await put({ src: { dtype: 'I32', shape: [1, 2], data: Int32Array.of(3, 41) }, tgt: asI32(t.get('tgt')!) }), '--out', out], 1, /'src' element 1 \(row 0\) is 41, expected a token id in \[0, 41\) \("src_vocab"\)/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', await put({ src: { dtype: 'F32', shape: [1, 2], data: Float32Array.of(3, 4) }, tgt: asI32(t.get('tgt')!) }), '--out', out], 1, /'src' has dtype F32, expected I64 or I32/],
      [['--config', cfg(VIT), '--weights', weights(VIT), '--inputs', await put({ pixel_values: { dtype: 'F32', shape: [1, 1, 24, 24], data: new Float32Array(576) } }), '--out', out], 1, /'pixel_values' has shape \[1,1,24,24\], expected \[B, 3, 24, 24\]/],
      [['--config', cfg(VIT), '--weights', weights(TR), '--inputs', good, '--out', out], 1, /the checkpoint does not fit the model/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', good, '--out', out, '--backend', 'tpu'], 2, /unknown or unavailable backend 'tpu'/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', good], 2, /missing --out OUT\.safetensors/],
      [['--config', cfg(TR), '--weights', weights(TR), '--inputs', good, '--out', out, '--batch-size', '0'], 2, /--batch-size must be a positive integer, got '0'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli('run', ...args);
      expect(r.code, r.err).toBe(code);
      expect(r.err).toMatch(message);
    }
  });
});

describe('tessera generate', () => {
  it("writes generated I64 [B, 1+N]: PyTorch's greedy tokens, bos first, pad after eos", async () => {
    const t = io(TR);
    const inputs = await put({ src: t.get('src')! });
    const out = join(dir, 'gen.safetensors');
    const r = await cli('generate', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--max-new-tokens', '6', '--out', out, '--backend', 'cpu');
    expect(r.err).toBe('');
    expect(r.out).toBe('generated: i64[3,7], 2 of 3 rows reached eos_id 2\n');
    const g = (await readSafetensorsFile(out)).tensors.get('generated')!;
    expect([g.dtype, g.shape]).toEqual(['I64', [3, 7]]);
    expect(Array.from(g.data as BigInt64Array)).toEqual(Array.from(t.get('generated')!.data as BigInt64Array));
  });

  it('needs a Transformer config and --max-new-tokens', async () => {
    const inputs = await put({ src: io(TR).get('src')! });
    const out = join(dir, 'gen2.safetensors');
    const vit = await cli('generate', '--config', cfg(VIT), '--weights', weights(VIT), '--inputs', inputs, '--max-new-tokens', '2', '--out', out);
    expect(vit.code).toBe(1);
    expect(vit.err).toContain('"model" is "vit", but generate needs "model": "transformer"');
    const noN = await cli('generate', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--out', out);
    expect(noN.code).toBe(2);
    expect(noN.err).toContain('missing --max-new-tokens N');
    expect(generateCommand.usage).toContain('--max-new-tokens N');
    expect(runCommand.usage).toContain('--batch-size N');
  });

  it('--max-new-tokens is bounded (65536, and key/value caches of at most 4 GiB), with a message', async () => {
    const inputs = await put({ src: io(TR).get('src')! });
    const out = join(dir, 'gen3.safetensors');
    for (const n of ['2147483648', '65537']) {
      const r = await cli('generate', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--max-new-tokens', n, '--out', out);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--max-new-tokens must be at most 65536 (the key/value caches and the decode loop are bounded), got ${n}`);
    }
    // The library checks the same bound, and the caches' size for the batch, before tracing.
    const { model } = await loadModel(cfg(TR), weights(TR));
    if (model instanceof Seq2SeqTransformer) {
      await expect(compileGenerator(model, {}, { backend: 'cpu', batch: 1, srcLen: 4, maxNewTokens: 2 ** 31 })).rejects.toThrow('max new tokens must be an integer in [1, 65536], got 2147483648');
      await expect(compileGenerator(model, {}, { backend: 'cpu', batch: 1000, srcLen: 4, maxNewTokens: 65536 })).rejects.toThrow(
        /generating 65536 tokens for 1000 sequences at a time needs key\/value caches of 17\.6 GiB \(2 x 2 decoder layers x 1000 x 65536 x d_model 18 f32\)/,
      );
    } else throw new Error('expected the Transformer fixture');
  });
});

describe('progress bar', () => {
  it('draws on a terminal and stays silent otherwise', () => {
    let text = '';
    const tty = { isTTY: true, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
    const bar = progressBar('images', tty)!;
    bar(1, 4);
    bar(4, 4);
    expect(text).toBe(`\rimages [${'#'.repeat(8)}${'.'.repeat(22)}] 1/4\rimages [${'#'.repeat(30)}] 4/4\n`);
    expect(progressBar('images', { isTTY: false } as unknown as NodeJS.WriteStream)).toBeUndefined();
  });
});

describe('--attentions', () => {
  it('run: writes attn/<module path> [B, heads, queries, keys] next to logits (PyTorch\'s weights), or only the paths given', async () => {
    const t = io(TR);
    const inputs = await put({ src: t.get('src')!, tgt: t.get('tgt')! });
    const [all, one] = [join(dir, 'att-all.safetensors'), join(dir, 'att-one.safetensors')];
    const r = await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--out', all, '--attentions');
    expect([r.code, r.err]).toEqual([0, '']);
    const written = (await readSafetensorsFile(all)).tensors;
    const expected = (await readSafetensorsFile(join(FIXTURES, `${TR}.attn.safetensors`))).tensors;
    expect([...written.keys()].sort()).toEqual(['logits', ...expected.keys()].sort());
    for (const [name, want] of expected) {
      expect(written.get(name)!.shape, name).toEqual(want.shape);
      expect(describeMismatch(written.get(name)!.data as Float32Array, want.data as Float32Array, { reductionLength: 6 + 11 }), name).toBeUndefined();
    }
    expect(describeMismatch(written.get('logits')!.data as Float32Array, t.get('logits')!.data as Float32Array, { reductionLength: 29 })).toBeUndefined();
    const path = 'transformer.decoder.layers.1.multihead_attn';
    expect((await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--out', one, `--attentions=${path}`, '--backend', 'interp')).code).toBe(0);
    expect([...(await readSafetensorsFile(one)).tensors.keys()].sort()).toEqual([`attn/${path}`, 'logits']);
  });

  it('run: the torchvision ViT names its layers encoder.layers.encoder_layer_{i}.self_attention', async () => {
    const out = join(dir, 'att-vit.safetensors');
    const r = await cli('run', '--config', cfg(VIT), '--weights', weights(VIT), '--inputs', await put({ pixel_values: io(VIT).get('pixel_values')! }), '--out', out, '--attentions');
    expect(r.code, r.err).toBe(0);
    const written = (await readSafetensorsFile(out)).tensors;
    expect([...written.keys()].sort()).toEqual(['attn/encoder.layers.encoder_layer_0.self_attention', 'attn/encoder.layers.encoder_layer_1.self_attention', 'logits']);
    expect(written.get('attn/encoder.layers.encoder_layer_1.self_attention')!.shape).toEqual([2, 3, 37, 37]);
  });

  it('generate: each decoder layer\'s cross-attention per generated token, [B, heads, N, S]', async () => {
    const out = join(dir, 'att-gen.safetensors');
    const r = await cli('generate', '--config', cfg(TR), '--weights', weights(TR), '--inputs', await put({ src: io(TR).get('src')! }), '--max-new-tokens', '6', '--out', out, '--attentions');
    expect(r.code, r.err).toBe(0);
    const written = (await readSafetensorsFile(out)).tensors;
    expect([...written.keys()].sort()).toEqual(['attn/transformer.decoder.layers.0.multihead_attn', 'attn/transformer.decoder.layers.1.multihead_attn', 'generated']);
    const a = written.get('attn/transformer.decoder.layers.1.multihead_attn')!;
    expect(a.shape).toEqual([3, 3, 6, 11]);
    // Source row 2 has one real token: every step attends to it alone.
    const row2 = (a.data as Float32Array).subarray(2 * 3 * 6 * 11);
    for (let q = 0; q < 3 * 6; q++) expect(Array.from(row2.subarray(q * 11, (q + 1) * 11))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('names what is wrong: a path that is no attention module, an IR program, --batch-size', async () => {
    const t = io(TR);
    const inputs = await put({ src: t.get('src')!, tgt: t.get('tgt')! });
    const out = join(dir, 'att-err.safetensors');
    const bad = await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--out', out, '--attentions=transformer.encoder.layers.7.self_attn');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no attention module at 'transformer\.encoder\.layers\.7\.self_attn' was called by forward; attention modules: transformer\.encoder\.layers\.0\.self_attn, /);
    const batched = await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--out', out, '--attentions', '--batch-size', '1');
    expect([batched.code, batched.err]).toEqual([2, expect.stringContaining('--attentions runs the whole batch at once')]);
    const tir = await cli('run', join(dir, 'm.tir'), '--out', out, '--attentions');
    expect([tir.code, tir.err]).toEqual([2, expect.stringContaining('--attentions applies to model files and --config models')]);
    const empty = await cli('run', '--config', cfg(TR), '--weights', weights(TR), '--inputs', inputs, '--out', out, '--attentions=');
    expect([empty.code, empty.err]).toEqual([2, expect.stringContaining("option '--attentions' needs a value after '='")]);
  });
});

describe('compile --attentions', () => {
  it('adds one matmul kernel per attention module and changes no other kernel count', async () => {
    const stats = async (...extra: string[]) => {
      const r = await cli('compile', '--config', cfg(VIT), '--emit', 'stats', '--json', ...extra);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as { kernels: number; kernelsByKind: Record<string, number> };
    };
    const [plain, probed] = [await stats(), await stats('--attentions')];
    const layers = (loadFixture(VIT).config as { num_layers: number }).num_layers;
    expect(probed.kernels).toBe(plain.kernels + layers);
    expect(probed.kernelsByKind).toEqual({ ...plain.kernelsByKind, matmul: plain.kernelsByKind.matmul! + layers });
  });
});
