/**
 * importOnnx on hand-written models: shape subgraphs fold away, names and
 * weights are kept, external data is read next to the model, and every
 * unsupported thing is a TesseraError naming the node, its op type and
 * opset and what is missing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import { TesseraError, interpret, printProgram } from '@tessera/ir';
import { importOnnx, onnxOpReport, formatOpReport } from '../src/index.ts';
import { readOnnxFile } from '../src/node.ts';
import { ONNX_PROTO_DESCRIPTOR } from '../src/onnx-proto.generated.ts';
import { compile } from '@tessera/compiler';
import { seeded, writeModel } from './support.ts';

const f32 = (name: string, dims: (number | string)[]) => ({ name, type: 1, dims });

/** x [2, 3, 4] reshaped to [2, 12] through the shape arithmetic exporters write. */
function shapeArithmeticModel(dims: (number | string)[] = [2, 3, 4]): Uint8Array {
  return writeModel({
    inputs: [f32('x', dims)],
    outputs: [f32('y', [2, 12])],
    initializers: [
      { name: 'zero', type: 7, dims: [], values: [0] },
      { name: 'axes0', type: 7, dims: [1], values: [0] },
      { name: 'minus1', type: 7, dims: [1], values: [-1] },
    ],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['b', 'axes0'], outputs: ['b1'] },
      { op: 'Concat', inputs: ['b1', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'], name: 'reshape' },
    ],
  });
}

/** The error message of `f`, which must throw a TesseraError. */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    return (e as Error).message;
  }
  throw new Error('expected a TesseraError');
}

/** Every module the main entry imports, transitively (relative imports followed; packages listed). */
function importGraph(entry: URL): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const visit = (url: URL) => {
    if (files.includes(url.pathname)) return;
    files.push(url.pathname);
    for (const m of readFileSync(url, 'utf8').matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(new URL(spec, url));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('importOnnx', () => {
  it('is browser-safe: the main entry imports no Node built-in (files on disk are @tessera/onnx/node)', () => {
    const { files, packages } = importGraph(new URL('../src/index.ts', import.meta.url));
    expect(files.some((f) => f.endsWith('/node.ts'))).toBe(false);
    expect([...packages].sort()).toEqual(['@tessera/ir', 'protobufjs/light.js']);
  });

  it('folds shape subgraphs: Shape, Gather, Unsqueeze, Concat leave one reshape', () => {
    const { program } = importOnnx(shapeArithmeticModel());
    expect(program.nodes.map((n) => n.op)).toEqual(['reshape']);
    expect(program.nodes[0]!.attrs.shape).toEqual([2, 12]);
    expect(program.outputs).toEqual([{ name: 'y', value: program.nodes[0]!.name }]);
  });

  it('needs a value for a symbolic dimension, naming the input and the dimension', () => {
    const bytes = shapeArithmeticModel(['batch', 3, 4]);
    const msg = errorOf(() => importOnnx(bytes));
    expect(msg).toContain("input 'x' has the symbolic dimension 'batch' on axis 0");
    const { program } = importOnnx(bytes, { inputs: { x: { shape: [2, 3, 4] } } });
    expect(program.inputs[0]!.type).toEqual({ dtype: 'f32', shape: [2, 3, 4] });
    expect(errorOf(() => importOnnx(bytes, { inputs: { x: { shape: [2, 5, 4] } } }))).toContain("extent 3 on axis 1");
    expect(errorOf(() => importOnnx(bytes, { inputs: { nope: { shape: [1] } } }))).toContain("no input named 'nope'");
  });

  it('keeps initializers as parameters named as in ONNX (made value names) and returns their data as weights', () => {
    const w = seeded(12, 3);
    const bytes = writeModel({
      inputs: [f32('input/0', [2, 3])],
      outputs: [f32('out:0', [2, 4])],
      initializers: [{ name: 'enc.layer.0/weight', type: 1, dims: [3, 4], values: w }],
      nodes: [{ op: 'MatMul', inputs: ['input/0', 'enc.layer.0/weight'], outputs: ['out:0'] }],
    });
    const imp = importOnnx(bytes);
    expect(imp.inputNames).toEqual({ 'input/0': 'input_0' });
    expect(imp.outputNames).toEqual({ 'out:0': 'out_0' });
    expect(imp.program.inputs.map((i) => [i.name, i.kind])).toEqual([['input_0', 'activation'], ['enc.layer.0_weight', 'parameter']]);
    expect(Array.from(imp.weights['enc.layer.0_weight']!)).toEqual(w.map(Math.fround));
    const x = seeded(6, 4);
    const y = interpret(imp.program, { input_0: Float32Array.from(x), 'enc.layer.0_weight': imp.weights['enc.layer.0_weight']! }).out_0!;
    const want = [0, 1].flatMap((i) => [0, 1, 2, 3].map((j) => [0, 1, 2].reduce((s, k) => s + Math.fround(x[i * 3 + k]!) * Math.fround(w[k * 4 + j]!), 0)));
    expect(Array.from(y.data).map((v, i) => Math.abs(v - want[i]!) < 1e-12)).toEqual(want.map(() => true));
  });

  it('reads external data relative to the model file, and refuses it without a reader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-'));
    const w = Float32Array.from(seeded(6, 9));
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array([1, 2, 3, 4, ...new Uint8Array(w.buffer)]));
    const root = protobuf.Root.fromJSON(ONNX_PROTO_DESCRIPTOR as protobuf.INamespace);
    const type = root.lookupType('onnx.ModelProto');
    const model = type.decode(writeModel({ inputs: [f32('x', [2, 3])], outputs: [f32('y', [2, 3])], nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }] })) as unknown as { graph: { initializer: unknown[] } };
    model.graph.initializer.push({
      name: 'w',
      data_type: 1,
      dims: [2, 3],
      data_location: 1,
      external_data: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '4' }, { key: 'length', value: '24' }],
    });
    const bytes = type.encode(type.fromObject(model)).finish();
    const path = join(dir, 'model.onnx');
    writeFileSync(path, bytes);
    expect(Array.from(readOnnxFile(path).weights.w!)).toEqual(Array.from(w));
    expect(errorOf(() => importOnnx(bytes))).toContain('external file');
  });

  it('names the node, its index, op type and opset of an op Tessera lacks', () => {
    const bytes = writeModel({
      inputs: [f32('x', [2, 3])],
      outputs: [f32('y', [2, 3])],
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Hardmax', inputs: ['r'], outputs: ['y'], name: 'hm' },
      ],
    });
    expect(errorOf(() => importOnnx(bytes))).toBe("node 'hm' (#1, Hardmax, opset 17): op Hardmax is not supported by Tessera (`tessera onnx ops` lists what a model needs)");
    const report = onnxOpReport(bytes);
    expect(report.ops.map((o) => [o.op, o.count, o.supported])).toEqual([['Hardmax', 1, false], ['Relu', 1, true]]);
    expect(formatOpReport(report, 'm.onnx')).toContain('Tessera lacks 1: Hardmax');
  });

  it('names what is missing: an attribute value, a dtype, a dynamic shape, a domain, an opset', () => {
    const one = (node: Parameters<typeof writeModel>[0]['nodes'][number], inputs = [f32('x', [2, 3])], opset = 17) => () =>
      importOnnx(writeModel({ inputs, outputs: [f32(node.outputs[0]!, [2, 3])], nodes: [node], opset }));
    expect(errorOf(one({ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode: 'reflect' } }, [f32('x', [2, 3]), { name: 'p', type: 7, dims: [4] }]))).toBe(
      "node 'n0' (#0, Pad, opset 17): mode = 'reflect' (Tessera pads with a constant only)",
    );
    expect(errorOf(one({ op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to: 11 } }))).toBe(
      "node 'n0' (#0, Cast, opset 17): cast to double: Tessera computes float (f32), the integer types (i32) and bool",
    );
    expect(errorOf(one({ op: 'Gelu', inputs: ['x'], outputs: ['y'], attrs: { approximate: 'cubic' } }, undefined, 20))).toBe(
      "node 'n0' (#0, Gelu, opset 20): approximate = 'cubic' (expected 'none' or 'tanh')",
    );
    expect(errorOf(one({ op: 'FusedGemm', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }))).toContain("(#0, com.microsoft.FusedGemm, opset 17): ops of domain 'com.microsoft' are not supported");
    expect(errorOf(one({ op: 'Relu', inputs: ['x'], outputs: ['y'] }, undefined, 11))).toContain('opset 11 is not supported (Tessera imports opsets 13 to 28');
    expect(errorOf(one({ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }, [f32('x', [2, 3]), { name: 's', type: 7, dims: [2] }]))).toContain(
      'shape (input 1, i32[2]) is computed at run time; Tessera needs it constant at import (a dynamic shape)',
    );
    expect(errorOf(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff])))).toContain('not an ONNX model');
  });

  it('computes integer division and modulo with ONNX semantics (truncation, sign of the divisor)', () => {
    const i64 = (name: string) => ({ name, type: 7, dims: [4] });
    const bytes = writeModel({
      inputs: [i64('a'), i64('b')],
      outputs: [i64('q'), i64('r')],
      nodes: [
        { op: 'Div', inputs: ['a', 'b'], outputs: ['q'] },
        { op: 'Mod', inputs: ['a', 'b'], outputs: ['r'] },
      ],
    });
    const { program } = importOnnx(bytes);
    const out = interpret(program, { a: Int32Array.of(7, -7, 7, -7), b: Int32Array.of(2, 2, -2, -2) });
    expect(Array.from(out.q!.data)).toEqual([3, -3, -3, 3]);
    expect(Array.from(out.r!.data)).toEqual([1, 1, -1, -1]);
    expect(printProgram(program)).toContain('floor_div');
  });

  it('gathers elements (GatherElements, torch.gather) at indices computed at run time, negative ones from the end, on every backend', async () => {
    const bytes = writeModel({
      inputs: [f32('x', [3, 4]), { name: 'i', type: 7, dims: [2, 4] }, { name: 'j', type: 7, dims: [3, 2] }],
      outputs: [f32('down', [2, 4]), f32('across', [3, 2])],
      nodes: [
        { op: 'GatherElements', inputs: ['x', 'i'], outputs: ['down'], attrs: { axis: 0 } },
        { op: 'GatherElements', inputs: ['x', 'j'], outputs: ['across'], attrs: { axis: -1 } },
      ],
    });
    const { program } = importOnnx(bytes);
    const x = Float32Array.from(seeded(12));
    const i = Int32Array.of(2, 0, -1, 1, 0, 1, 2, -3);
    const j = Int32Array.of(3, 0, -4, 2, 1, 1);
    // torch.gather by its definition: down[r][c] = x[i[r][c]][c], across[r][c] = x[r][j[r][c]], wrapping negatives.
    const wrap = (v: number, n: number) => (v < 0 ? v + n : v);
    const down = Array.from(i, (v, k) => x[wrap(v, 3) * 4 + (k % 4)]!);
    const across = Array.from(j, (v, k) => x[Math.floor(k / 2) * 4 + wrap(v, 4)]!);
    for (const backend of ['interp', 'eval', 'cpu', 'webgpu'] as const) {
      const exe = await compile(program, { backend });
      const out = await exe.run({ x, i, j });
      expect([...out.down!.data], backend).toEqual(down);
      expect([...out.across!.data], backend).toEqual(across);
      // An index out of range is a located error, never a neighbouring row's value.
      await expect(exe.run({ x, i: Int32Array.of(2, 0, 3, 1, 0, 1, 2, 0), j }), backend).rejects.toThrow(/out of range/);
      exe.dispose();
    }
  });

  it('resizes with constant scales as the registry resize; run-time scales are refused, saying so', () => {
    const resize = (mode: string, scalesAsInput = false) =>
      importOnnx(
        writeModel({
          inputs: [f32('x', [1, 2, 3, 4]), ...(scalesAsInput ? [f32('scales', [4])] : [])],
          outputs: [f32('y', [1, 2, 6, 8])],
          initializers: scalesAsInput ? [] : [{ name: 'scales', type: 1, dims: [4], values: [1, 1, 2, 2] }],
          nodes: [{ op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['y'], attrs: { mode } }],
        }),
      ).program;
    // One registry resize, its output extents and scales resolved from the scales input.
    const node = resize('linear').nodes.find((n) => n.op === 'resize')!;
    expect(node.attrs).toMatchObject({ sizes: [1, 2, 6, 8], scales: [1, 1, 2, 2], mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
    // The scales initializer shapes the program; it is no parameter.
    expect(resize('nearest').inputs.map((i) => i.name)).toEqual(['x']);
    // Upsampling nearest by 2 repeats each element twice along both axes.
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const y = interpret(resize('nearest'), { x }).y!.data;
    expect(Array.from(y.slice(0, 8))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Array.from(y.slice(8, 16))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(errorOf(() => resize('linear', true))).toContain("node 'n0' (#0, Resize, opset 17): scales (input 2, f32[4]) is computed at run time");
    expect(errorOf(() => resize('bilinear'))).toContain("mode 'bilinear'");
  });

  it('pools as the max or sum of strided taps of the padded input, an average dividing each window by its count; refuses the Indices output', () => {
    const pool = (op: string, attrs: Record<string, number | number[]>, outputs = ['y']) =>
      importOnnx(writeModel({ inputs: [f32('x', [1, 1, 4, 5])], outputs: outputs.map((o) => f32(o, [1, 1, 2, 3])), nodes: [{ op, inputs: ['x'], outputs, attrs }] })).program;
    const x = Float32Array.from({ length: 20 }, (_, i) => (i * 7) % 11);
    // 2x2 windows, stride 2, ceil mode: the last column's windows hold one input column (the other is padding).
    const max = interpret(pool('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }), { x }).y!.data;
    const at = (r: number, c: number) => x[r * 5 + c]!;
    expect(Array.from(max)).toEqual([
      Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1)), Math.max(at(0, 2), at(0, 3), at(1, 2), at(1, 3)), Math.max(at(0, 4), at(1, 4)),
      Math.max(at(2, 0), at(2, 1), at(3, 0), at(3, 1)), Math.max(at(2, 2), at(2, 3), at(3, 2), at(3, 3)), Math.max(at(2, 4), at(3, 4)),
    ]);
    const avg = interpret(pool('AveragePool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }), { x }).y!.data;
    expect(avg[2]).toBeCloseTo((at(0, 4) + at(1, 4)) / 2, 12);
    expect(errorOf(() => pool('MaxPool', { kernel_shape: [2, 2] }, ['y', 'i']))).toContain('the Indices output');
    expect(errorOf(() => pool('MaxPool', {}))).toContain('kernel_shape is missing');
  });

  it('normalises groups of channels (GroupNormalization: scale and bias per group in opset 18, per channel in 21)', () => {
    const x = Float32Array.from(seeded(2 * 4 * 3, 5), (v, i) => v * 3 + (i % 5));
    const run = (opset: number, perGroup: boolean) => {
      const n = perGroup ? 2 : 4;
      const program = importOnnx(
        writeModel({
          opset,
          inputs: [f32('x', [2, 4, 3])],
          outputs: [f32('y', [2, 4, 3])],
          initializers: [
            { name: 's', type: 1, dims: [n], values: perGroup ? [2, -1] : [2, 2, -1, -1] },
            { name: 'b', type: 1, dims: [n], values: perGroup ? [0.5, 1] : [0.5, 0.5, 1, 1] },
          ],
          nodes: [{ op: 'GroupNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: { num_groups: 2, epsilon: 1e-5 } }],
        }),
      );
      return Array.from(interpret(program.program, { x, ...program.weights }).y!.data);
    };
    // By the definition: each (batch, group) of 2 channels x 3 positions normalised, then the group's scale and bias.
    const expected = Array.from(x, (_, i) => {
      const start = Math.floor(i / 6) * 6;
      const g = x.slice(start, start + 6);
      const mean = g.reduce((a, b) => a + b, 0) / 6;
      const variance = g.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
      const group = Math.floor(i / 6) % 2;
      return ((x[i]! - mean) / Math.sqrt(variance + 1e-5)) * [2, -1][group]! + [0.5, 1][group]!;
    });
    for (const got of [run(18, true), run(21, false)]) got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('computes Einsum as numpy does: matmuls, transposes, diagonals, traces, sums, outer products, three operands, a broadcast ellipsis, the implicit output', async () => {
    /** numpy's einsum by its definition, letters only: every assignment of the labels, extent-1 axes broadcast. */
    const naive = (eq: string, xs: { dims: number[]; data: Float32Array }[]): { dims: number[]; data: number[] } => {
      const [lhs, rhs] = eq.split('->') as [string, string];
      const terms = lhs.split(',');
      const size = new Map<string, number>();
      terms.forEach((t, i) => [...t].forEach((l, a) => size.set(l, Math.max(size.get(l) ?? 1, xs[i]!.dims[a]!))));
      const labels = [...size.keys()];
      const dims = [...rhs].map((l) => size.get(l)!);
      const data = new Array<number>(dims.reduce((a, b) => a * b, 1)).fill(0);
      const at = new Map<string, number>();
      const visit = (k: number): void => {
        if (k === labels.length) {
          let product = 1;
          terms.forEach((t, i) => {
            const off = [...t].reduce((o, l, a) => o * xs[i]!.dims[a]! + (xs[i]!.dims[a] === 1 ? 0 : at.get(l)!), 0);
            product *= xs[i]!.data[off]!;
          });
          data[[...rhs].reduce((o, l) => o * size.get(l)! + at.get(l)!, 0)]! += product;
          return;
        }
        for (let v = 0; v < size.get(labels[k]!)!; v++) {
          at.set(labels[k]!, v);
          visit(k + 1);
        }
      };
      visit(0);
      return { dims, data };
    };
    const cases: [string, number[][], string?][] = [
      ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
      ['ij->ji', [[3, 4]]],
      ['ii->i', [[4, 4]]],
      ['ii', [[4, 4]], 'ii->'],
      ['bii->b', [[3, 4, 4]]],
      ['i,i', [[5], [5]], 'i,i->'],
      ['i,j->ij', [[3], [4]]],
      ['ijk->', [[2, 3, 4]]],
      ['ij,ij->i', [[3, 4], [3, 4]]],
      ['bhqd,bhkd->bhqk', [[2, 3, 4, 5], [2, 3, 6, 5]]],
      ['ij,jk,kl->il', [[2, 3], [3, 4], [4, 5]]],
      ['ba,ca', [[3, 4], [2, 4]], 'ba,ca->bc'],
      ['...ij,...jk->...ik', [[2, 1, 3, 4], [5, 4, 2]], 'abij,bjk->abik'],
    ];
    for (const [eq, shapes, letters] of cases) {
      const xs = shapes.map((dims, i) => ({ dims, data: Float32Array.from(seeded(dims.reduce((a, b) => a * b, 1), 7 + i)) }));
      const want = naive(letters ?? eq, xs);
      const bytes = writeModel({
        inputs: xs.map((x, i) => f32(`x${i}`, x.dims)),
        outputs: [f32('y', want.dims)],
        nodes: [{ op: 'Einsum', inputs: xs.map((_, i) => `x${i}`), outputs: ['y'], attrs: { equation: eq } }],
      });
      const { program } = importOnnx(bytes);
      const feeds = Object.fromEntries(xs.map((x, i) => [`x${i}`, x.data]));
      for (const backend of eq === 'bhqd,bhkd->bhqk' || eq.startsWith('...') ? (['interp', 'cpu', 'webgpu'] as const) : (['interp'] as const)) {
        await using exe = await compile(program, { backend });
        const y = (await exe.run(feeds)).y!;
        expect(y.dims, `${eq} on ${backend}`).toEqual(want.dims);
        Array.from(y.data).forEach((v, i) => expect(v, `${eq} on ${backend} [${i}]`).toBeCloseTo(want.data[i]!, 5));
      }
    }
    const one = (eq: string) => () => importOnnx(writeModel({ inputs: [f32('x0', [3, 3])], outputs: [f32('y', [3])], nodes: [{ op: 'Einsum', inputs: ['x0'], outputs: ['y'], attrs: { equation: eq } }] }));
    expect(errorOf(one('ij,jk->ik'))).toContain("equation 'ij,jk->ik' has 2 terms for 1 inputs");
    expect(errorOf(one('ijk->i'))).toContain("term 'ijk' has 3 labels for an operand of rank 2");
    expect(errorOf(one('ij->k'))).toContain("output label 'k' is in no input");
  });
});
