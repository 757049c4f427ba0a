import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { type SafetensorsTensor, interpret, parseProgram, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/command.ts';
import { evalCommand, parseEvalArgs } from '../src/commands/eval.ts';
import { type Captured, capture } from './capture.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** Writes a file into the temp folder and returns its path. */
function put(name: string, contents: string | Uint8Array): string {
  const path = join(dir, `${count++}-${name}`);
  writeFileSync(path, contents);
  return path;
}

/** Writes a safetensors file of the given tensors. */
const st = (name: string, tensors: Record<string, SafetensorsTensor>) => put(name, writeSafetensors(tensors));

/** Runs `tessera eval ...args` in process, capturing what it writes. */
const run = (...args: string[]): Promise<Captured> => capture(() => evalCommand.run(args));

const MLP = `program @mlp
input %x : f32[2,3]
param %w : f32[3,2]
param %b : f32[2]
input %i : i32[2]
%h = matmul(%x, %w) : f32[2,2]
%y = add(%h, %b) : f32[2,2]
%n = cast(%y) {to = i32} : i32[2,2]
%g = gt(%h, %y) : bool[2,2]
%j = add(%i, %i) : i32[2]
output y = %y
output n = %n
output g = %g
output j = %j
`;

// x = [[1,2,3],[4,5,6]], w = [[1,0],[0,1],[1,1]], b = [0.5,-1], i = [3,-7]
// h = x@w = [[4,5],[10,11]]; y = h + b = [[4.5,4],[10.5,10]]; n = [[4,4],[10,10]];
// g = h > y = [[F,T],[F,T]]; j = [6,-14].
const x = (): SafetensorsTensor => ({ dtype: 'F16', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
const i = (): SafetensorsTensor => ({ dtype: 'I64', shape: [2], data: new BigInt64Array([3n, -7n]) });
const w = (): SafetensorsTensor => ({ dtype: 'F32', shape: [3, 2], data: new Float32Array([1, 0, 0, 1, 1, 1]) });
const b = (): SafetensorsTensor => ({ dtype: 'BF16', shape: [2], data: new Float32Array([0.5, -1]) });

describe('tessera eval', () => {
  const prog = put('mlp.tir', MLP);

  it('runs a program on inputs and weights, writes outputs by name with their dtypes, prints a summary', async () => {
    const inputs = st('in.safetensors', { x: x(), i: i() });
    const weights = st('w.safetensors', { w: w(), b: b() });
    const out = join(dir, 'out.safetensors');
    const r = await run(prog, '--inputs', inputs, '--weights', weights, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      ['y: f32[2,2] min=4 max=10.5 mean=7.25', 'n: i32[2,2] min=4 max=10 mean=7', 'g: bool[2,2] min=0 max=1 mean=0.5', 'j: i32[2] min=-14 max=6 mean=-4', ''].join('\n'),
    );
    const f = await readSafetensorsFile(out);
    expect([...f.tensors.keys()].sort()).toEqual(['g', 'j', 'n', 'y']);
    expect(f.tensors.get('y')).toEqual({ dtype: 'F32', shape: [2, 2], data: new Float32Array([4.5, 4, 10.5, 10]) });
    expect(f.tensors.get('n')).toEqual({ dtype: 'I32', shape: [2, 2], data: new Int32Array([4, 4, 10, 10]) });
    expect(f.tensors.get('g')).toEqual({ dtype: 'BOOL', shape: [2, 2], data: new Uint8Array([0, 1, 0, 1]) });
    expect(f.tensors.get('j')).toEqual({ dtype: 'I32', shape: [2], data: new Int32Array([6, -14]) });
    expect(f.metadata).toMatchObject({ program: 'mlp', backend: 'interp' });
  });

  it('takes parameters from --inputs when there is no weights file, and accepts --flag=value and --backend interp', async () => {
    const inputs = st('all.safetensors', { x: x(), i: i(), w: w(), b: b() });
    const out = join(dir, 'out2.safetensors');
    const r = await run(prog, `--inputs=${inputs}`, `--out=${out}`, '--backend', 'interp');
    expect(r.code).toBe(0);
    expect([...(await readSafetensorsFile(out)).tensors.get('j')!.data]).toEqual([6, -14]);
  });

  it.each(['eval', 'cpu', 'webgpu'])('writes the same outputs with --backend %s as the interpreter', async (backend) => {
    const inputs = st('in-b.safetensors', { x: x(), i: i() });
    const weights = st('w-b.safetensors', { w: w(), b: b() });
    const outRef = join(dir, `ref-${backend}.safetensors`);
    const outB = join(dir, `out-${backend}.safetensors`);
    expect((await run(prog, '--inputs', inputs, '--weights', weights, '--out', outRef)).code).toBe(0);
    const r = await run(prog, '--inputs', inputs, '--weights', weights, '--out', outB, '--backend', backend);
    expect(r.err).toBe('');
    const [ref, got] = [await readSafetensorsFile(outRef), await readSafetensorsFile(outB)];
    for (const name of ['y', 'n', 'g', 'j']) expect(got.tensors.get(name)).toEqual(ref.tensors.get(name));
    expect(got.metadata).toMatchObject({ backend });
  });

  it('runs a program without inputs when --inputs is left out', async () => {
    const p = put('iota.tir', 'program @src\n%a = iota() {shape = [4], axis = 0, dtype = f32} : f32[4]\noutput a = %a\n');
    const out = join(dir, 'iota.safetensors');
    const r = await run(p, '--out', out);
    expect(r).toEqual({ code: 0, out: 'a: f32[4] min=0 max=3 mean=1.5\n', err: '' });
  });

  it('writes what the interpreter computes, for random inputs (rounded to f32 on the way out)', async () => {
    const p = put('poly.tir', 'program @poly\ninput %x : f32[5]\n%s = mul(%x, %x) : f32[5]\n%t = tanh(%s) : f32[5]\noutput t = %t\n');
    const program = parseProgram(readFileSync(p, 'utf8'), p);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 5, maxLength: 5 }), async (vals) => {
        const inputs = st('rnd.safetensors', { x: { dtype: 'F32', shape: [5], data: new Float32Array(vals) } });
        const out = join(dir, 'rnd-out.safetensors');
        const r = await run(p, '--inputs', inputs, '--out', out);
        expect(r.code).toBe(0);
        const want = Float32Array.from(interpret(program, { x: new Float32Array(vals) }).t!.data);
        expect((await readSafetensorsFile(out)).tensors.get('t')!.data).toEqual(want);
      }),
      { numRuns: 15 },
    );
  });

  it('reports verifier findings as file:line:col and exits 1', async () => {
    const bad = put('bad.tir', MLP.replace('%y = add(%h, %b) : f32[2,2]', '%y = add(%h, %b) : f32[2,3]'));
    const r = await run(bad, '--inputs', st('in.safetensors', { x: x(), i: i(), w: w(), b: b() }), '--out', join(dir, 'never.safetensors'));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${bad}:7:1: `);
    expect(r.err).toMatch(/declared type f32\[2,3\] differs from the inferred type f32\[2,2\]/);
  });

  it('reports a syntax error with its location and exits 1', async () => {
    const bad = put('syntax.tir', 'program @p\ninput %x : f32[2\noutput x = %x\n');
    const r = await run(bad, '--out', join(dir, 'never.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: `));
  });

  it('lists every missing input with its expected type', async () => {
    const r = await run(prog, '--inputs', st('in.safetensors', { x: x() }), '--out', join(dir, 'never.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/missing inputs of program @mlp, not found in .*in\.safetensors: w: f32\[3,2\] \(param\), b: f32\[2\] \(param\), i: i32\[2\] \(input\)/);
  });

  it('names tensor, expected and found shape on a shape mismatch', async () => {
    const r = await run(prog, '--inputs', st('in.safetensors', { x: { dtype: 'F32', shape: [3, 2], data: new Float32Array(6) }, i: i() }), '--weights', st('w.safetensors', { w: w(), b: b() }), '--out', join(dir, 'never.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/in\.safetensors: tensor 'x': shape \[3,2\] differs from the expected \[2,3\] \(f32\[2,3\]\)/);
  });

  it('rejects a dtype that cannot load as the declared type, and an out-of-range I64', async () => {
    const inputs = st('in.safetensors', { x: x(), i: { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
    const r = await run(prog, '--inputs', inputs, '--weights', st('w.safetensors', { w: w(), b: b() }), '--out', join(dir, 'never.safetensors'));
    expect(r.err).toMatch(/tensor 'i': dtype F32 cannot be loaded as i32\[2\] \(expected I32 or I64\)/);
    const big = st('in.safetensors', { x: x(), i: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 1n << 40n]) } });
    const r2 = await run(prog, '--inputs', big, '--weights', st('w.safetensors', { w: w(), b: b() }), '--out', join(dir, 'never.safetensors'));
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/tensor 'i': I64 element 1 is 1099511627776, outside the i32 range/);
  });

  it('rejects tensors that name no input, an activation in the weights file, and a name in both files', async () => {
    const extra = await run(prog, '--inputs', st('in.safetensors', { x: x(), i: i(), stray: w() }), '--weights', st('w.safetensors', { w: w(), b: b(), 'blocks.9.w': b() }), '--out', join(dir, 'never.safetensors'));
    expect(extra.code).toBe(1);
    expect(extra.err).toMatch(/cannot bind the inputs of program @mlp:/);
    expect(extra.err).toMatch(/in\.safetensors has tensors that name no input of program @mlp: stray \(inputs are x, w, b, i\)/);
    expect(extra.err).toMatch(/w\.safetensors has tensors that name no input of program @mlp: blocks\.9\.w/);
    const act = await run(prog, '--inputs', st('in.safetensors', { x: x() }), '--weights', st('w.safetensors', { w: w(), b: b(), i: i() }), '--out', join(dir, 'never.safetensors'));
    expect(act.err).toMatch(/'i' is an activation input \(i32\[2\]\) but was found in the weights file .*w\.safetensors; pass it in --inputs/);
    const both = await run(prog, '--inputs', st('in.safetensors', { x: x(), i: i(), b: b() }), '--weights', st('w.safetensors', { w: w(), b: b() }), '--out', join(dir, 'never.safetensors'));
    expect(both.err).toMatch(/'b' is in both .*in\.safetensors and .*w\.safetensors/);
  });

  it('reports a gather index out of range at its line, with the same message on every backend, and exits 1', async () => {
    const p = put('embed.tir', 'program @embed\ninput %ids : i32[3]\nparam %t : f32[4,2]\n%e = gather(%t, %ids) {axis = 0} : f32[3,2]\noutput e = %e\n');
    const inputs = st('ids.safetensors', { ids: { dtype: 'I32', shape: [3], data: new Int32Array([1, 4, 0]) } });
    const weights = st('t.safetensors', { t: { dtype: 'F32', shape: [4, 2], data: new Float32Array(8) } });
    for (const backend of ['interp', 'eval', 'cpu', 'webgpu']) {
      const r = await run(p, '--inputs', inputs, '--weights', weights, '--backend', backend, '--out', join(dir, 'never.safetensors'));
      expect({ backend, code: r.code, err: r.err }).toEqual({ backend, code: 1, err: `tessera eval: ${p}:4:1: while evaluating %e = gather(%t, %ids): index 4 at position 1 of the indices is out of range [0, 4)\n` });
    }
  });

  it('reports an unreadable program or tensor file and exits 1', async () => {
    const r = await run(join(dir, 'nope.tir'), '--out', join(dir, 'never.safetensors'));
    expect(r).toMatchObject({ code: 1, err: expect.stringMatching(/cannot read .*nope\.tir: no such file/) });
    // A model file, a config or a tensor file where the program belongs: named, with the command that makes a program.
    const ts = await run('examples/mlp.ts', '--out', join(dir, 'never.safetensors'));
    expect(ts).toMatchObject({ code: 1, err: 'tessera eval: examples/mlp.ts is a TypeScript model file, not a program in the IR text format: run `tessera compile examples/mlp.ts -o examples/mlp.tir` first\n' });
    const json = await run(join(dir, 'vit.json'), '--out', join(dir, 'never.safetensors'));
    expect(json.err).toMatch(/vit\.json is a JSON file \(a model config\?\), not a program in the IR text format: run `tessera compile --config \S+vit\.json -o model\.tir` first/);
    const r2 = await run(prog, '--inputs', put('junk.safetensors', new Uint8Array([1, 2, 3])), '--out', join(dir, 'never.safetensors'));
    expect(r2).toMatchObject({ code: 1, err: expect.stringMatching(/junk\.safetensors: file is 3 bytes/) });
  });

  it("--help says what each backend runs (cpu: WebAssembly, not JavaScript)", () => {
    expect(evalCommand.usage).toContain('cpu: generated WebAssembly SIMD kernels on every core');
    expect(evalCommand.usage).not.toContain('JavaScript');
  });

  it('rejects bad command lines with a UsageError', async () => {
    await expect(run(prog, '--out', 'o', '--backend', 'tpu')).rejects.toThrow(new UsageError("unknown backend 'tpu' (allowed: interp, eval, cpu, webgpu)"));
    await expect(run(prog, '--inputs', 'a')).rejects.toThrow(/missing --out/);
    await expect(run('--out', 'o')).rejects.toThrow(/missing the program FILE\.tir/);
    await expect(run(prog, prog, '--out', 'o')).rejects.toThrow(/expected one program file, got 2/);
    await expect(run(prog, '--out', 'o', '--frob', '1')).rejects.toThrow(/unknown option '--frob'/);
    await expect(run(prog, '--out')).rejects.toThrow(/option '--out' needs a value/);
    await expect(run(prog, '--out', 'a', '--out', 'b')).rejects.toThrow(/option '--out' is given twice/);
    expect(parseEvalArgs([prog, '--out', 'o'])).toEqual({ program: prog, out: 'o', backend: 'interp' });
  });
});
