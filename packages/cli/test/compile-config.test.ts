import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProgram, verify } from '@tessera/ir';
import type { CompileStats } from '@tessera/passes';
import { main } from '../src/main.ts';
import { type Captured, capture } from './capture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-compile-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI in-process, capturing what it writes. */
const run = (...args: string[]): Promise<Captured> => capture(() => main(args));

function config(name: string, body: object): string {
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

const VIT_B = { model: 'vit', image_size: 224, patch_size: 16, num_layers: 12, num_heads: 12, hidden_dim: 768, mlp_dim: 3072, num_classes: 1000 };
const TRANSFORMER = { model: 'transformer', d_model: 32, nhead: 4, num_encoder_layers: 2, num_decoder_layers: 2, dim_feedforward: 64, src_vocab: 50, tgt_vocab: 40, pad_id: 0, bos_id: 1, eos_id: 2 };

describe('tessera compile --config', () => {
  it('ViT-B/16: at most 7 kernels per encoder layer and a peak under 8 MiB (--emit stats --json)', async () => {
    const r = await run('compile', '--config', config('vit-b.json', VIT_B), '--emit', 'stats', '--json');
    expect(r.err).toBe('');
    const s = JSON.parse(r.out) as CompileStats;
    // 12 layers of 7 (2 layer norms, 4 matmuls, 1 attention) plus the patch embedding, class token, head.
    expect(s.kernelsByKind.attention).toBe(12);
    expect(s.kernels).toBeLessThanOrEqual(12 * 7 + 8);
    expect(s.unfusedKernels).toBeGreaterThan(4 * s.kernels);
    expect(s.peakActivationBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(s.parameterBytes).toBe(4 * 86_567_656);
    expect(s.flops).toBeGreaterThan(35e9);
    // No attention scores are stored: no temporary of shape [.., 197, 197].
    expect(s.buffers.filter((b) => b.shape.slice(-2).join() === '197,197')).toEqual([]);
  });

  it('Transformer: no [.., T, T], [.., T, S] or mask-shaped buffer with src=i64[2,9], tgt=i64[2,7]', async () => {
    const r = await run('compile', '--config', config('t.json', TRANSFORMER), '--input', 'src=i64[2,9]', '--input', 'tgt=i64[2,7]', '--emit', 'stats', '--json');
    expect(r.err).toBe('');
    const s = JSON.parse(r.out) as CompileStats;
    const bad = s.buffers.filter((b) => ['7,7', '7,9', '9,9', '2,9', '2,7'].includes(b.shape.slice(-2).join()) || b.dtype === 'bool');
    expect(bad).toEqual([]);
    expect(s.kernelsByKind.attention).toBe(2 + 2 * 2);
  });

  it('writes NNN_pass.tir after every pass, and disabling fuse gives one kernel per core op', async () => {
    const dir = join(tmp, 'dump');
    const r = await run('compile', '--config', config('t2.json', TRANSFORMER), '--print-ir-after-all', dir, '--emit', 'kernels', '--disable-pass', 'fuse');
    expect(r.err).toBe('');
    expect(readdirSync(dir).sort()).toEqual(['001_canonicalize.tir', '002_decompose-composites.tir', '003_lower.tir', '004_plan-memory.tir']);
    const graph = parseProgram(readFileSync(join(dir, '001_canonicalize.tir'), 'utf8'));
    expect(verify(graph)).toEqual([]);
    expect(readFileSync(join(dir, '004_plan-memory.tir'), 'utf8')).toMatch(/^kernels @transformer/);
    expect(r.out).not.toMatch(/attention batch/);
  });

  it('reports bad configs and inputs naming the key or input', async () => {
    const r1 = await run('compile', '--config', config('bad.json', { ...VIT_B, patch_size: 'x' }));
    expect(r1.code).toBe(1);
    expect(r1.err).toMatch(/patch_size/);
    const r2 = await run('compile', '--config', config('v.json', VIT_B), '--input', 'pixel_values=f32[1,3,32,32]');
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/expected f32\[B,3,224,224\] \(the config's image_size\), got f32\[1,3,32,32\]/);
  });
});
