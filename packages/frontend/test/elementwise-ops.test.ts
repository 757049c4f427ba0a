import { fileURLToPath } from 'node:url';
import { OpTypeError, TesseraError, verify } from '@tessera/ir';
import { describe, expect, it } from 'vitest';
import { Module, type Tensor, nn, ops, trace } from '../src/index.ts';
import { expectClose, positionOf, run, shownPath } from './helpers.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const SHOWN = shownPath(import.meta.url);

describe('the DSL of issue 13: methods, ops functions and nn modules emit the registry ops', () => {
  it('rounding, sign, predicates, sigmoid and relu as Tensor methods', () => {
    const p = trace(
      (x: Tensor) => ({ floor: x.floor(), ceil: x.ceil(), round: x.round(), sign: x.sign(), isnan: x.isnan(), isinf: x.isinf(), sigmoid: x.sigmoid(), relu: x.relu() }),
      { x: 'f32[6]' },
    );
    expect(p.nodes.map((n) => n.op)).toEqual(['floor', 'ceil', 'round', 'sign', 'isnan', 'isinf', 'sigmoid', 'relu']);
    expect(verify(p)).toEqual([]);
    const x = [-2.5, -0.5, 0.5, 1.5, Infinity, NaN];
    expect(run(p, { x }, 'floor')).toEqual([-3, -1, 0, 1, Infinity, NaN]);
    expect(run(p, { x }, 'round')).toEqual([-2, -0, 0, 2, Infinity, NaN]);
    expect(run(p, { x }, 'sign')).toEqual([-1, -1, 1, 1, 1, 0]);
    expect(run(p, { x }, 'isnan')).toEqual([0, 0, 0, 0, 0, 1]);
    expect(run(p, { x }, 'relu')).toEqual([0, 0, 0.5, 1.5, Infinity, NaN]);
  });

  it('ops functions: silu, clamp (both bounds, one, tensors), floorDivide, remainder, logicalXor', () => {
    const p = trace(
      (x: Tensor, lo: Tensor, i: Tensor) => ({
        silu: ops.silu(x),
        both: ops.clamp(x, -1, 1),
        lower: x.clamp(0),
        upper: x.clamp(null, 0),
        tensor: x.clamp(lo, 1),
        div: ops.floorDivide(i, 2),
        mod: i.remainder(-3),
        xor: ops.logicalXor(x, i),
      }),
      { x: 'f32[4]', lo: 'f32[4]', i: 'i32[4]' },
    );
    expect(p.nodes.filter((n) => n.op !== 'constant').map((n) => n.op)).toEqual(['silu', 'clamp', 'max', 'min', 'clamp', 'floor_div', 'mod', 'logical_xor']);
    const inputs = { x: [-3, -0.5, 0.25, 2], lo: [0, 0, 0.5, 5], i: [7, -7, 0, 5] };
    expect(run(p, inputs, 'both')).toEqual([-1, -0.5, 0.25, 1]);
    expect(run(p, inputs, 'lower')).toEqual([0, 0, 0.25, 2]);
    expect(run(p, inputs, 'upper')).toEqual([-3, -0.5, 0, 0]);
    expect(run(p, inputs, 'tensor')).toEqual([0, 0, 0.5, 1]);
    expect(run(p, inputs, 'div')).toEqual([3, -4, 0, 2]);
    expect(run(p, inputs, 'mod')).toEqual([-2, -1, 0, -1]);
    expect(run(p, inputs, 'xor')).toEqual([0, 0, 1, 0]);
    expectClose(run(p, inputs, 'silu'), inputs.x.map((v) => v / (1 + Math.exp(-v))));
  });

  it('nn.SiLU, nn.Sigmoid, nn.ReLU and nn.GELU(approximate: tanh) are modules of those ops', () => {
    class M extends Module {
      readonly silu = new nn.SiLU();
      readonly sigmoid = new nn.Sigmoid();
      readonly relu = new nn.ReLU();
      readonly gelu = new nn.GELU({ approximate: 'tanh' });
      readonly geluExact = new nn.GELU('none');
      forward(x: Tensor): Tensor {
        return this.geluExact.forward(this.gelu.forward(this.relu.forward(this.sigmoid.forward(this.silu.forward(x)))));
      }
    }
    const p = trace(new M(), { x: 'f32[3]' });
    expect(p.nodes.map((n) => n.op)).toEqual(['silu', 'sigmoid', 'relu', 'gelu', 'gelu']);
    expect(p.nodes.slice(3).map((n) => n.attrs.approximate)).toEqual(['tanh', 'none']);
    expect(new nn.GELU().approximate).toBe('none');
  });

  it('errors at the user line: div on i32 points at floorDivide, clamp needs a bound, floor_div refuses f32', () => {
    let error: unknown;
    try {
      trace((i: Tensor) => i.div(2), { i: 'i32[2]' }); // div-on-i32
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OpTypeError);
    const at = positionOf(THIS_FILE, 'div-on-i32', 'i.div');
    expect((error as Error).message).toContain(`${SHOWN}:${at.line}:`);
    expect((error as Error).message).toMatch(/div is true division: for integer division use floor_div \(Tensor\.floorDivide, Python \/\/\), or cast to f32/);
    expect(() => trace((x: Tensor) => x.clamp(), { x: 'f32[2]' })).toThrow(TesseraError);
    expect(() => trace((x: Tensor) => x.clamp(null, undefined), { x: 'f32[2]' })).toThrow(/clamp: expected a min or a max bound/);
    expect(() => trace((x: Tensor) => x.floorDivide(2), { x: 'f32[2]' })).toThrow(/floor_div\(f32\[2\], f32\[\]\).*expected an integer dtype \(i32\)/);
  });
});
