/**
 * `tessera compile --emit dot|svg|html [--after PASS]` and `--emit wat`:
 * the picture of the program after the pass asked for (fused kernels as
 * clusters once lowered, one kernel per op without fusion, none before
 * lowering), the SVG and the offline page, and the WAT of the module the
 * cpu backend runs, each kernel's function named.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { type Captured, capture } from './capture.ts';

const VIT = join(import.meta.dirname, '..', '..', 'models', 'fixtures', 'vit-torchvision-37tok-3head.json');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-pictures-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const compile = (...args: string[]): Promise<Captured> => capture(() => main(['compile', '--config', VIT, ...args]));

/** Runs a compile that must succeed quietly; its stdout. */
async function out(...args: string[]): Promise<string> {
  const r = await compile(...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return r.out;
}

const kernelClusters = (dot: string) => [...dot.matchAll(/subgraph "cluster_kernel-(\w+)"/g)].map((m) => m[1]);

describe('tessera compile --emit dot', () => {
  it('after the last pass by default: the fused kernels as clusters inside the 2 encoder layers, 7 in each', async () => {
    const dot = await out('--emit', 'dot');
    expect(dot).toMatch(/^digraph "vit" \{\n {2}graph \[.*label="@vit after plan-memory: \d+ values, 21 kernels, 2 repeated layers"/);
    const kernels = (await out('--emit', 'kernels')).match(/^kernel (\w+)/gm)!.map((l) => l.slice(7));
    expect(kernelClusters(dot)).toEqual(expect.arrayContaining(kernels));
    expect(kernelClusters(dot)).toHaveLength(kernels.length);
    for (const i of [0, 1]) {
      const layer = dot.slice(dot.indexOf(`id="layer-encoder.layers.encoder_layer_${i}"`));
      expect(kernelClusters(layer.slice(0, layer.indexOf('\n  }\n')))).toHaveLength(7);
    }
  });

  it('--after canonicalize: the graph before lowering, layers of nodes and no kernel; --after lower with fuse disabled: one kernel per op', async () => {
    const before = await out('--emit', 'dot', '--after', 'canonicalize');
    expect(before).toContain('after canonicalize');
    expect(kernelClusters(before)).toEqual([]);
    expect(before.match(/class="layer pattern-A"/g)).toHaveLength(2);
    const unfused = await out('--emit', 'dot', '--after', 'lower', '--disable-pass', 'fuse');
    const fused = await out('--emit', 'dot', '--after', 'fuse');
    expect(kernelClusters(unfused).length).toBeGreaterThan(2 * kernelClusters(fused).length);
    // What fusion did is visible: a fused kernel draws several nodes, an unfused one only its own.
    expect(fused).toMatch(/subgraph "cluster_kernel-k\d+_matmul" \{\n(?:.*\n){2}(?:\s*"\d+" \[.*\n){3}/);
  });

  it('an unknown --after names the passes (exit 2)', async () => {
    const r = await compile('--emit', 'svg', '--after', 'fusion');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown pass 'fusion' for --after (passes: canonicalize, decompose-composites, fuse, plan-memory, lower)");
    expect(r.err).toContain('--after PASS');
  });
});

describe('tessera compile --emit svg | html', () => {
  it('writes the SVG Graphviz lays out, with a group per layer and kernel cluster', async () => {
    const path = join(tmp, 'vit.svg');
    await out('--emit', 'svg', '-o', path);
    const svg = readFileSync(path, 'utf8');
    expect(svg).toMatch(/^<\?xml[^]*<svg [^>]*viewBox=/);
    expect(svg.match(/class="cluster layer pattern&#45;A"/g)).toHaveLength(2);
    expect(svg.match(/class="cluster kernel /g)).toHaveLength(21);
  });

  it('writes a self-contained page: the SVG inline with a legend, nothing fetched', async () => {
    const html = await out('--emit', 'html');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<svg ');
    expect(html).not.toContain('<?xml');
    expect(html).toContain('matmul kernel');
    expect(html).not.toMatch(/\b(?:src|href)="(?!#)/);
  });
});

describe('tessera compile --emit wat', () => {
  it('prints the WebAssembly the cpu backend runs, every kernel a named function', async () => {
    const wat = await out('--emit', 'wat');
    const kernels = (await out('--emit', 'kernels')).match(/^kernel (\w+)/gm)!.map((l) => l.slice(7));
    expect(wat).toMatch(/^;; WebAssembly of the cpu backend for @vit: \d+ bytes/);
    kernels.forEach((k, i) => expect(wat).toContain(`(func $${k} (export "k${i}")`));
    expect(wat).toMatch(/\bf32x4\.mul\b/);
  });
});
