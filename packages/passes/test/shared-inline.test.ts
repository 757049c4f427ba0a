/**
 * A small elementwise value used several times inside one elementwise
 * kernel is recomputed there instead of stored by a kernel of its own (a
 * GRU step's update gate z in (1 − z) n + z h: one kernel, not two); a
 * value whose uses reach different kernels, or a large one, is still stored.
 */
import { ProgramBuilder, type Value, interpret, tensorType } from '@tessera/ir';
import { evaluateKernelProgram } from '@tessera/kernel';
import { describeMismatch, inputsFor } from '@tessera/harness';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../src/index.ts';

const S = [3, 5];

/** Compiles, checks every output against the interpreter, returns the kernel kinds. */
function kernelsOf(build: (b: ProgramBuilder, x: Value, y: Value) => Record<string, Value>): string[] {
  const b = new ProgramBuilder('p');
  const x = b.input('x', tensorType('f32', S));
  const y = b.input('y', tensorType('f32', S));
  for (const [name, v] of Object.entries(build(b, x, y))) b.output(name, v);
  const p = b.build();
  const { kernels } = compileProgram(p);
  const inputs = inputsFor(p, 5);
  const expected = interpret(p, inputs);
  const actual = evaluateKernelProgram(kernels, inputs);
  for (const o of p.outputs) expect(describeMismatch(actual[o.name]!, expected[o.name]!.data, { atol: 1e-12, rtol: 1e-12 })).toBeUndefined();
  return kernels.kernels.map((k) => k.kind);
}

const one = (b: ProgramBuilder) => b.emit('constant', [], { shape: [], value: [1] });

describe('shared elementwise values inside one kernel', () => {
  it('(1 - z) * n + z * h with z = sigmoid(x): one kernel', () => {
    const kinds = kernelsOf((b, x, y) => {
      const z = b.emit('sigmoid', [x]);
      const n = b.emit('tanh', [y]);
      return { h: b.emit('add', [b.emit('mul', [b.emit('sub', [one(b), z]), n]), b.emit('mul', [z, x])]) };
    });
    expect(kinds).toEqual(['map']);
  });

  it('a value whose uses end in two kernels (two outputs) is stored once, not recomputed', () => {
    const kinds = kernelsOf((b, x, y) => {
      const z = b.emit('sigmoid', [b.emit('mul', [x, y])]);
      return { a: b.emit('exp', [z]), c: b.emit('log', [b.emit('add', [z, one(b)])]) };
    });
    expect(kinds).toEqual(['map', 'map', 'map']);
  });

  it('nested shared values past the size bound are stored (no expression blow-up)', () => {
    const kinds = kernelsOf((b, x) => {
      let v = x;
      // Each level uses the one below twice: inlining every level would double the expression per level.
      for (let i = 0; i < 8; i++) v = b.emit('add', [b.emit('tanh', [v]), b.emit('mul', [v, v])]);
      return { out: v };
    });
    expect(kinds.length).toBeGreaterThan(1);
  });
});
