import { describe, expect, it } from 'vitest';
import { E, type MapKernel } from '@tessera/kernel';
import { emitJsKernel } from '../src/index.ts';

const x = () => E.load('f32', 0, { offset: 0, strides: [1] });
const y = () => E.load('f32', 1, { offset: 0, strides: [1] });
const mapKernel = (value: ReturnType<typeof x>): MapKernel => ({ kind: 'map', name: 'k', shape: [4], stores: [{ buffer: 2, map: { offset: 0, strides: [1] }, value }] });

describe('JavaScript code generation (through the shared renderer)', () => {
  it('computes a sub-expression built twice once (structural sharing)', () => {
    const { body } = emitJsKernel(mapKernel(E.binary('add', E.unary('exp', E.binary('mul', x(), y())), E.unary('exp', E.binary('mul', x(), y())))));
    expect(body.match(/Math\.exp/g)).toHaveLength(1);
    expect(body).toContain('const t0 = Math.exp((b0[a0] * b1[a0]));');
  });

  it('folds constant sub-trees', () => {
    const { body } = emitJsKernel(mapKernel(E.binary('mul', x(), E.binary('add', E.const('f32', 2), E.unary('neg', E.const('f32', 3))))));
    expect(body).toContain('b2[a0] = (b0[a0] * (-1));');
  });

  it('computes erf through its decomposition (no erf helper of its own)', () => {
    const k = emitJsKernel(mapKernel(E.unary('erf', x())));
    expect(k.helpers).toEqual([]);
    // The rational's leading coefficient.
    expect(k.body).toContain('2.72614225801306e-10');
    expect(k.body).not.toContain('erf(');
  });
});
