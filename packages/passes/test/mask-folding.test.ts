import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, type Value, interpret, tensorType } from '@tessera/ir';
import { type AttentionKernel, evaluateKernelProgram } from '@tessera/kernel';
import { describeMismatch, inputsFor } from '@tessera/harness';
import { compileProgram } from '../src/index.ts';

const B = 2;
const H = 3;
const T = 6;
const D = 4;

type MaskBuilder = (b: ProgramBuilder) => Value;

const iotas = (b: ProgramBuilder) => [b.emit('iota', [], { shape: [T, T], axis: 0 }), b.emit('iota', [], { shape: [T, T], axis: 1 })] as const;
const scalar = (b: ProgramBuilder, v: number, dtype: 'f32' | 'i32' | 'bool' = 'f32') => b.emit('constant', [], { shape: [], dtype, value: [v] });
const triangle = (keep: (i: number, j: number) => boolean, yes: number, no: number) => Array.from({ length: T * T }, (_, n) => (keep(Math.floor(n / T), n % T) ? yes : no));

/** Attention over [B, H, T, D] with a mask from `mask`; returns the program. */
function program(mask?: MaskBuilder): Program {
  const b = new ProgramBuilder('att');
  const q = b.input('q', tensorType('f32', [B, H, T, D]));
  const k = b.input('k', tensorType('f32', [B, H, T, D]));
  const v = b.input('v', tensorType('f32', [B, H, T, D]));
  b.output('o', b.emit('attention', mask ? [q, k, v, mask(b)] : [q, k, v]));
  return b.build();
}

/** Compiles, checks against the interpreter, and returns the attention kernel and the temporaries' shapes. */
function compileChecked(p: Program): { kernel: AttentionKernel; temps: string[] } {
  const { kernels } = compileProgram(p);
  const inputs = inputsFor(p, 3);
  const expected = interpret(p, inputs);
  const actual = evaluateKernelProgram(kernels, inputs);
  expect(describeMismatch(actual.o!, expected.o!.data, { atol: 1e-9, rtol: 1e-9 })).toBeUndefined();
  const attention = kernels.kernels.filter((k): k is AttentionKernel => k.kind === 'attention');
  expect(attention).toHaveLength(1);
  const temps = kernels.buffers.filter((x) => x.role === 'temp').map((x) => `${x.dtype}[${x.shape.join(',')}]`);
  return { kernel: attention[0]!, temps };
}

const CAUSAL: [string, MaskBuilder][] = [
  ['le(j, i) from iotas', (b) => { const [i, j] = iotas(b); return b.emit('le', [j, i]); }],
  ['ge(i, j)', (b) => { const [i, j] = iotas(b); return b.emit('ge', [i, j]); }],
  ['lt(j, i + 1)', (b) => { const [i, j] = iotas(b); return b.emit('lt', [j, b.emit('add', [i, scalar(b, 1, 'i32')])]); }],
  ['not(gt(j, i))', (b) => { const [i, j] = iotas(b); return b.emit('eq', [b.emit('gt', [j, i]), scalar(b, 0, 'bool')]); }],
  ['a triangular bool constant', (b) => b.emit('constant', [], { shape: [T, T], dtype: 'bool', value: triangle((i, j) => j <= i, 1, 0) })],
  ['an additive -inf mask where(j <= i, 0, -inf)', (b) => { const [i, j] = iotas(b); return b.emit('where', [b.emit('le', [j, i]), scalar(b, 0), scalar(b, -Infinity)]); }],
  ['an additive triangular f32 constant of 0 and -inf', (b) => b.emit('constant', [], { shape: [T, T], value: triangle((i, j) => j <= i, 0, -Infinity) })],
];

describe('mask folding', () => {
  it.each(CAUSAL)('folds a causal mask written as %s into the loop bound j <= i', (_, mask) => {
    const { kernel, temps } = compileChecked(program(mask));
    expect(kernel.causalOffset).toBe(0);
    expect(kernel.keep).toBeUndefined();
    expect(kernel.bias).toBeUndefined();
    expect(temps).toEqual([]);
  });

  it('folds a shifted causal mask (j <= i + 2) with its offset', () => {
    const { kernel } = compileChecked(program((b) => { const [i, j] = iotas(b); return b.emit('le', [j, b.emit('add', [i, scalar(b, 2, 'i32')])]); }));
    expect(kernel.causalOffset).toBe(2);
  });

  it('folds a key-padding mask from eq(tokens, pad) into an index predicate, with no mask buffer', () => {
    const b = new ProgramBuilder('pad');
    const tokens = b.input('tokens', tensorType('i32', [B, T]));
    const q = b.input('q', tensorType('f32', [B, H, T, D]));
    const keep = b.emit('reshape', [b.emit('ne', [tokens, scalar(b, 0, 'i32')])], { shape: [B, 1, 1, T] });
    const additive = b.emit('where', [keep, scalar(b, 0), scalar(b, -Infinity)]);
    b.output('o', b.emit('attention', [q, q, q, additive]));
    const p = b.build();
    const { kernels } = compileProgram(p);
    const inputs = { ...inputsFor(p, 5), tokens: Int32Array.from({ length: B * T }, (_, n) => (n % T < 4 ? 7 : 0)) };
    expect(describeMismatch(evaluateKernelProgram(kernels, inputs).o!, interpret(p, inputs).o!.data, { atol: 1e-9, rtol: 1e-9 })).toBeUndefined();
    const att = kernels.kernels.find((k): k is AttentionKernel => k.kind === 'attention')!;
    expect(att.keep).toBeDefined();
    expect(att.bias).toBeUndefined();
    expect(kernels.buffers.filter((x) => x.role === 'temp')).toEqual([]);
  });

  it('removes an all-zero additive mask (ViT)', () => {
    const { kernel } = compileChecked(program((b) => b.emit('constant', [], { shape: [T, T], value: [0] })));
    expect([kernel.keep, kernel.bias, kernel.causalOffset]).toEqual([undefined, undefined, undefined]);
  });

  it('does not fold a data-dependent mask: it stays a predicate read from the input', () => {
    const b = new ProgramBuilder('data');
    const m = b.input('m', tensorType('bool', [T, T]));
    const q = b.input('q', tensorType('f32', [B, H, T, D]));
    b.output('o', b.emit('attention', [q, q, q, m]));
    const { kernels } = compileProgram(b.build());
    const att = kernels.kernels.find((k): k is AttentionKernel => k.kind === 'attention')!;
    expect(att.causalOffset).toBeUndefined();
    expect(att.keep?.k).toBe('load');
  });

  it('does not fold a constant that is not triangular, nor a comparison that is not j <= i + k', () => {
    const { kernel } = compileChecked(program((b) => b.emit('constant', [], { shape: [T, T], dtype: 'bool', value: triangle((i, j) => (i + j) % 3 !== 0 || j === 0, 1, 0) })));
    expect(kernel.causalOffset).toBeUndefined();
    expect(kernel.keep).toBeDefined();
    const lower = compileChecked(program((b) => { const [i, j] = iotas(b); return b.emit('ge', [j, i]); })).kernel;
    expect(lower.causalOffset).toBeUndefined();
    expect(lower.keep).toBeDefined();
  });

  it('keeps a general additive mask as a bias', () => {
    const { kernel } = compileChecked(program((b) => { const [i, j] = iotas(b); return b.emit('cast', [b.emit('sub', [i, j])], { to: 'f32' }); }));
    expect(kernel.bias).toBeDefined();
    expect(kernel.causalOffset).toBeUndefined();
  });
});
