import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttrKind,
  ProgramBuilder,
  allOps,
  formatNumber,
  parseNumber,
  parseProgram,
  parseTensorType,
  printProgram,
  tensorType,
  verify,
} from '../src/index.ts';
import { FIXTURES, exactKey, movementProgram, withoutLocs } from './text-fixtures.ts';

describe('text format: round trip of hand-built programs', () => {
  it('the fixtures use every registered op and every attribute kind', () => {
    const programs = FIXTURES.map(([, make]) => make());
    const used = new Set(programs.flatMap((p) => p.nodes.map((n) => n.op)));
    expect(allOps().map((d) => d.name).filter((n) => !used.has(n))).toEqual([]);
    const kinds = new Set<AttrKind>();
    for (const p of programs) for (const n of p.nodes) for (const k of Object.keys(n.attrs)) kinds.add(allOps().find((d) => d.name === n.op)!.attrs[k]!.kind);
    expect([...kinds].sort()).toEqual(['bool', 'dtype', 'enum', 'float', 'floats', 'int', 'ints']);
  });

  for (const [name, make] of FIXTURES) {
    it(`parse(print(p)) is p for the ${name} program`, () => {
      const p = make();
      expect(verify(p)).toEqual([]);
      const text = printProgram(p);
      const back = parseProgram(text, `${name}.ir`);
      expect(withoutLocs(back)).toEqual(withoutLocs(p));
      expect(exactKey(back)).toBe(exactKey(p));
      expect(verify(back)).toEqual([]);
      expect(printProgram(back)).toBe(text);
    });
  }

  it('records the line and column of every input, node and output', () => {
    const p = movementProgram();
    const lines = printProgram(p).split('\n');
    const back = parseProgram(printProgram(p), 'm.ir');
    for (const [i, inp] of back.inputs.entries()) expect(inp.loc).toEqual({ file: 'm.ir', line: 2 + i, col: 1 });
    for (const [i, n] of back.nodes.entries()) {
      expect(n.loc).toEqual({ file: 'm.ir', line: 2 + p.inputs.length + i, col: 1 });
      expect(lines[n.loc!.line - 1]!.startsWith(`%${n.name} = ${n.op}(`)).toBe(true);
    }
    for (const o of back.outputs) expect(lines[o.loc!.line - 1]).toBe(`output ${o.name} = %${o.value}`);
    const indented = parseProgram('\n  program @p\n\tinput %x : f32[2]\n   %y = neg(%x) : f32[2]\n     output y = %y\n');
    expect(indented.inputs[0]!.loc).toEqual({ line: 3, col: 2 });
    expect(indented.nodes[0]!.loc).toEqual({ line: 4, col: 4 });
    expect(indented.outputs[0]!.loc).toEqual({ line: 5, col: 6 });
  });

  it('prints the canonical form: schema order, all attributes, no braces without attributes', () => {
    const b = new ProgramBuilder('mlp');
    const x = b.input('x', tensorType('f32', [2, 3]));
    const w = b.param('encoder.layers.0.w', tensorType('f32', [3, 4]));
    const h = b.emit('matmul', [x, w], {}, { name: 'h' });
    const s = b.emit('reduce_sum', [h], { keepdims: true, axes: [-1] }, { name: 's' });
    b.emit('constant', [], { value: [0.5], shape: [] }, { name: 'c' });
    const g = b.emit('gelu', [s], { approximate: 'tanh' }, { name: 'g' });
    b.output('logits', g);
    b.output('hidden', h);
    expect(printProgram(b.build())).toBe(
      [
        'program @mlp',
        'input %x : f32[2,3]',
        'param %encoder.layers.0.w : f32[3,4]',
        '%h = matmul(%x, %encoder.layers.0.w) : f32[2,4]',
        '%s = reduce_sum(%h) {axes = [1], keepdims = true} : f32[2,1]',
        '%c = constant() {shape = [], dtype = f32, value = [0.5]} : f32[]',
        '%g = gelu(%s) {approximate = "tanh"} : f32[2,1]',
        'output logits = %g',
        'output hidden = %h',
        '',
      ].join('\n'),
    );
  });

  it('canonicalises hand-written text: comments, spacing, attribute order, defaults, negative axes', () => {
    const text = [
      '# an MLP block',
      '',
      'program   @mlp   # header',
      'input %x:f32[ 2 , 3 ]',
      'param %w : f32[3,4]',
      '%h=matmul( %x,%w ):f32[2,4]',
      '%s = reduce_sum(%h) {keepdims = true, axes = [-1]} : f32[2,1]   # sum rows',
      '%c = constant() {value = [0.1], shape = []} : f32[]',
      '%z = add(%s, %c) {} : f32[2,1]',
      '%t = transpose(%h) {perm = [1, 0]} : f32[4,2]',
      '%sm = softmax(%t) : f32[4,2]',
      '%r = reshape(%t) {shape = [-1, 2]} : f32[4,2]',
      'output out = %z',
      'output r = %r',
      'output sm = %sm',
    ].join('\n');
    const canonical = [
      'program @mlp',
      'input %x : f32[2,3]',
      'param %w : f32[3,4]',
      '%h = matmul(%x, %w) : f32[2,4]',
      '%s = reduce_sum(%h) {axes = [1], keepdims = true} : f32[2,1]',
      `%c = constant() {shape = [], dtype = f32, value = [${Math.fround(0.1)}]} : f32[]`,
      '%z = add(%s, %c) : f32[2,1]',
      '%t = transpose(%h) {perm = [1, 0]} : f32[4,2]',
      '%sm = softmax(%t) {axis = 1} : f32[4,2]',
      '%r = reshape(%t) {shape = [4, 2]} : f32[4,2]',
      'output out = %z',
      'output r = %r',
      'output sm = %sm',
      '',
    ].join('\n');
    const p = parseProgram(text);
    expect(verify(p)).toEqual([]);
    expect(printProgram(p)).toBe(canonical);
    expect(printProgram(parseProgram(canonical))).toBe(canonical);
  });

  it('keeps attributes as written (defaults filled) when operand types are unknown or do not fit', () => {
    const p = parseProgram(
      ['program @p', 'input %x : f32[2,3]', '%a = reduce_sum(%later) {axes = [-1]} : f32[2]', '%b = softmax(%x) {axis = 5} : f32[2,3]', '%later = neg(%x) : f32[2,3]', 'output a = %a', 'output b = %b'].join('\n'),
    );
    expect(p.nodes[0]!.attrs).toEqual({ axes: [-1], keepdims: false });
    expect(p.nodes[1]!.attrs).toEqual({ axis: 5 });
    expect(verify(p).map((i) => i.loc?.line)).toEqual([3, 4]);
  });

  it('quotes a program name outside the value-name charset', () => {
    const b = new ProgramBuilder('gpt2-small "v1"');
    b.output('y', b.emit('neg', [b.input('x', tensorType('i32', [1]))]));
    const text = printProgram(b.build());
    expect(text.split('\n')[0]).toBe('program @"gpt2-small \\"v1\\""');
    expect(parseProgram(text).name).toBe('gpt2-small "v1"');
  });

  it('parses tensor types on their own', () => {
    expect(parseTensorType('f32[2,197,768]')).toEqual({ dtype: 'f32', shape: [2, 197, 768] });
    expect(parseTensorType('bool[]')).toEqual({ dtype: 'bool', shape: [] });
    expect(() => parseTensorType('i32[2] x')).toThrow("1:8: expected end of input after the tensor type, found 'x'");
  });
});

describe('text format: numbers', () => {
  it('prints special values by name and reads them back', () => {
    expect([Infinity, -Infinity, NaN, -0, 0, 1e-5, 0.5, 1e21, -1.5e-300].map(formatNumber)).toEqual(['inf', '-inf', 'nan', '-0', '0', '0.00001', '0.5', '1e+21', '-1.5e-300']);
    for (const s of ['1e-05', '1E5', '.5', '5.', '-0.0', '2.5e+10']) expect(parseNumber(s)).toBe(Number(s));
    for (const s of ['1x', '--1', '1e', '0x10', 'Infinity', 'NaN', '+1', '1.2.3', '']) expect(parseNumber(s)).toBeUndefined();
  });

  it('every double survives formatNumber then parseNumber bit for bit', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(Object.is(parseNumber(formatNumber(x)), x)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('every f32 constant survives print then parse', () => {
    fc.assert(
      fc.property(fc.array(fc.float(), { minLength: 1, maxLength: 8 }), (values) => {
        const b = new ProgramBuilder('k');
        b.output('c', b.emit('constant', [], { shape: [values.length], dtype: 'f32', value: values }));
        const p = b.build();
        expect(exactKey(parseProgram(printProgram(p)))).toBe(exactKey(p));
      }),
      { numRuns: 300 },
    );
  });
});
