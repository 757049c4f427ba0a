import { describe, expect, it } from 'vitest';
import { ParseError, TesseraError, checkProgramText, formatDiagnostic, parseProgram } from '../src/index.ts';

/** A small valid program; each case below breaks one line of it. */
const GOOD = [
  'program @mlp', //                                                  line 1
  'input %x : f32[2,3]', //                                           line 2
  'param %w : f32[3,4]', //                                           line 3
  '%h = matmul(%x, %w) : f32[2,4]', //                                line 4
  '%s = reduce_sum(%h) {axes = [1], keepdims = true} : f32[2,1]', //  line 5
  '%g = gelu(%s) {approximate = "tanh"} : f32[2,1]', //               line 6
  'output logits = %g', //                                            line 7
  'output hidden = %h', //                                            line 8
];

/** GOOD with line `n` (1-based) replaced. */
const withLine = (n: number, line: string): string => GOOD.map((l, i) => (i === n - 1 ? line : l)).join('\n');
/** GOOD without line `n`. */
const withoutLine = (n: number): string => GOOD.filter((_, i) => i !== n - 1).join('\n');

function parseError(text: string): ParseError {
  try {
    parseProgram(text, 'bad.ir');
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    expect(e).toBeInstanceOf(TesseraError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError, but the text parsed');
}

describe('text format: syntax errors name the place and what was expected', () => {
  it('the unbroken program parses and verifies', () => {
    expect(checkProgramText(GOOD.join('\n'), 'good.ir').diagnostics).toEqual([]);
  });

  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['bad dtype in a type', withLine(2, 'input %x : f33[2]'), "bad.ir:2:12: expected a tensor type like f32[2,3], found 'f33[2]'"],
    ['zero extent', withLine(3, 'param %w : f32[3,0]'), "bad.ir:3:12: expected a tensor type like f32[2,3] (extents are positive integers), found 'f32[3,0]'"],
    ['missing type', withLine(4, '%h = matmul(%x, %w) :'), 'bad.ir:4:22: expected a tensor type like f32[2,3], found end of line'],
    ['unknown op', withLine(4, '%h = matmull(%x, %w) : f32[2,4]'), "bad.ir:4:6: unknown op 'matmull' (did you mean 'matmul'?)"],
    ['unknown op, nothing close', withLine(4, '%h = frobnicate(%x, %w) : f32[2,4]'), "bad.ir:4:6: unknown op 'frobnicate' (expected one of neg, abs,"],
    ['missing =', withLine(4, '%h matmul(%x, %w) : f32[2,4]'), "bad.ir:4:4: expected '=' after %h, found 'matmul'"],
    ['missing : after operands', withLine(4, '%h = matmul(%x, %w) f32[2,4]'), "bad.ir:4:21: expected ':' after the operand list, found 'f32'"],
    ['missing : after attributes', withLine(5, '%s = reduce_sum(%h) {axes = [1]} f32[2]'), "bad.ir:5:34: expected ':' after the attributes, found 'f32'"],
    ['bad operand separator', withLine(4, '%h = matmul(%x; %w) : f32[2,4]'), "bad.ir:4:15: expected ',' or ')' in the operand list, found ';'"],
    ['bad number in a list', withLine(5, '%s = reduce_sum(%h) {axes = [1x]} : f32[2]'), "bad.ir:5:30: expected an integer in the list of attribute 'axes', found '1x'"],
    ['float where an integer is expected', withLine(5, '%s = reduce_sum(%h) {axes = [0.5]} : f32[2]'), "bad.ir:5:30: expected an integer in the list of attribute 'axes', found '0.5'"],
    ['bad float', withLine(6, '%g = layer_norm(%s, %s, %s) {eps = 1e-5.3} : f32[2,1]'), "bad.ir:6:36: expected a number for attribute 'eps', found '1e-5.3'"],
    ['unterminated string', withLine(6, '%g = gelu(%s) {approximate = "tanh} : f32[2,1]'), `bad.ir:6:30: unterminated string: expected a closing '"', found end of line`],
    ['bad escape', withLine(6, '%g = gelu(%s) {approximate = "ta\\nh"} : f32[2,1]'), 'bad.ir:6:30: unknown escape'],
    ['unknown attribute, close', withLine(5, '%s = reduce_sum(%h) {axis = [1]} : f32[2,1]'), "bad.ir:5:22: unknown attribute 'axis' of reduce_sum (did you mean 'axes'?)"],
    ['attribute on an op without any', withLine(4, '%h = matmul(%x, %w) {transpose_b = true} : f32[2,4]'), "bad.ir:4:22: unknown attribute 'transpose_b' of matmul (matmul has no attributes)"],
    ['wrong attribute kind: bool', withLine(5, '%s = reduce_sum(%h) {axes = [1], keepdims = 1} : f32[2,1]'), "bad.ir:5:45: expected true or false for attribute 'keepdims', found '1'"],
    ['wrong attribute kind: list', withLine(5, '%s = reduce_sum(%h) {axes = 1} : f32[2,1]'), "bad.ir:5:29: expected a list of integers like [0, 1] for attribute 'axes', found '1'"],
    ['wrong attribute kind: dtype quoted', withLine(6, '%g = cast(%s) {to = "i32"} : i32[2,1]'), `bad.ir:6:21: expected a dtype (f32, i32, bool) for attribute 'to', found '"i32"'`],
    ['enum value not allowed', withLine(6, '%g = gelu(%s) {approximate = "fast"} : f32[2,1]'), `bad.ir:6:30: expected one of "none", "tanh" for attribute 'approximate', found '"fast"'`],
    ['enum value unquoted', withLine(6, '%g = gelu(%s) {approximate = tanh} : f32[2,1]'), `bad.ir:6:30: expected one of "none", "tanh" for attribute 'approximate', found 'tanh'`],
    ['unclosed list', withLine(5, '%s = reduce_sum(%h) {axes = [1, 0} : f32[2,1]'), "bad.ir:5:34: expected ',' or ']' in the list of attribute 'axes', found '}'"],
    ['trailing comma in a list', withLine(5, '%s = reduce_sum(%h) {axes = [1, ]} : f32[2,1]'), "bad.ir:5:33: expected an integer in the list of attribute 'axes', found ']'"],
    ['attribute given twice', withLine(5, '%s = reduce_sum(%h) {axes = [1], axes = [0]} : f32[2,1]'), "bad.ir:5:34: attribute 'axes' is given twice"],
    ['missing attribute', withLine(5, '%s = reduce_sum(%h) {keepdims = true} : f32[2,1]'), "bad.ir:5:6: missing attribute 'axes' of reduce_sum (expected a list of integers like [0, 1])"],
    ['trailing junk', withLine(4, '%h = matmul(%x, %w) : f32[2,4] extra'), "bad.ir:4:32: expected end of line after the type of %h, found 'extra'"],
    ['two definitions on one line', withLine(2, 'input %x : f32[2,3] input %y : f32[2]'), "bad.ir:2:21: expected end of line after the type of %x, found 'input'"],
    ['missing program header', withoutLine(1), "bad.ir:1:1: expected the header 'program @name' first, found 'input'"],
    ['empty text', '# nothing here\n\n', "bad.ir:3:1: expected the header 'program @name' first, found end of input"],
    ['header without a name', withLine(1, 'program mlp'), "bad.ir:1:9: expected '@' and a program name after 'program', found 'mlp'"],
    ['second header', withLine(4, 'program @again'), "bad.ir:4:1: expected 'input', 'param', a node or 'output' (the program header comes once, first), found 'program'"],
    ['input after a node', withLine(5, 'input %y : f32[2]'), "bad.ir:5:1: expected a node or 'output' (inputs are declared before the first node), found 'input'"],
    ['node after an output', `${GOOD.join('\n')}\n%z = neg(%x) : f32[2,3]`, "bad.ir:9:1: expected 'output' (nodes come before the outputs), found '%z'"],
    ['bad output name', withLine(7, 'output -x = %g'), "bad.ir:7:8: expected an output name (letters, digits, '_', '.' and '/') after 'output', found '-x'"],
    ['output name ending in /', withLine(7, 'output attn/ = %g'), "bad.ir:7:12: expected '=' after output name 'attn', found '/'"],
    ['output without a value', withLine(7, 'output logits = g'), "bad.ir:7:17: expected a value like %x after 'output logits =', found 'g'"],
    ['empty value name', withLine(4, '%h = matmul(%, %w) : f32[2,4]'), "bad.ir:4:13: expected an operand like %x, found '%'"],
    ['stray word at line start', withLine(4, 'h = matmul(%x, %w) : f32[2,4]'), "bad.ir:4:1: expected 'input', 'param', a node like '%y = op(%x) : f32[2]' or 'output', found 'h'"],
    // A double holds integers exactly only up to 2^53 - 1: above, the text would be silently changed.
    ['extent above 2^53 - 1', withLine(2, 'input %x : f32[2,9007199254740993]'), 'bad.ir:2:18: extent 9007199254740993 is too large: extents are at most 2^53 - 1 (9007199254740991)'],
    ['extent written with 30 digits', withLine(2, 'input %x : f32[100000000000000000000000000000]'), 'bad.ir:2:16: extent 100000000000000000000000000000 is too large'],
    ['integer attribute above 2^53 - 1', withLine(6, '%g = softmax(%s) {axis = 9007199254740993} : f32[2,1]'), "bad.ir:6:26: integer 9007199254740993 in attribute 'axis' is too large: integers are at most 2^53 - 1"],
    ['integer attribute 1e300', withLine(6, '%g = softmax(%s) {axis = -1e300} : f32[2,1]'), "bad.ir:6:26: integer -1e300 in attribute 'axis' is too large"],
    ['integer in a list above 2^53 - 1', withLine(5, '%s = reduce_sum(%h) {axes = [1, 18014398509481984]} : f32[2,1]'), "bad.ir:5:33: integer 18014398509481984 in the list of attribute 'axes' is too large"],
  ];

  for (const [what, text, message] of cases) {
    it(what, () => {
      const e = parseError(text);
      expect(e.message.startsWith(message), `${e.message}\n  does not start with\n${message}`).toBe(true);
      const [line, col] = message.split(':').slice(1, 3).map(Number);
      expect(e.loc).toEqual({ file: 'bad.ir', line, col });
    });
  }

  it('reports the first error in source order, even when a later line has a bad character', () => {
    const e = parseError(withLine(8, 'output hidden = %h $$').replace('f32[3,4]', 'f32[3,4'));
    expect(e.message).toBe("bad.ir:3:12: expected a tensor type like f32[2,3], found 'f32[3,4'");
  });

  it('checkProgramText turns a syntax error into one diagnostic', () => {
    const r = checkProgramText(withLine(4, '%h = matmull(%x, %w) : f32[2,4]'), 'bad.ir');
    expect(r.program).toBeUndefined();
    expect(r.diagnostics.map(formatDiagnostic)).toEqual(["bad.ir:4:6: unknown op 'matmull' (did you mean 'matmul'?)"]);
  });
});

describe('text format: verifier findings are located at their line', () => {
  const check = (text: string) => checkProgramText(text, 'v.ir').diagnostics.map(formatDiagnostic);

  it('a removed line: an undefined operand and a dangling output', () => {
    expect(check(withoutLine(4))).toEqual(['v.ir:4:1: %s = reduce_sum: operand %h is not defined', "v.ir:7:1: output 'hidden' refers to undefined value %h"]);
  });

  it('lines out of order: use before definition', () => {
    const lines = [...GOOD];
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    expect(check(lines.join('\n'))).toEqual(['v.ir:4:1: %s = reduce_sum: operand %h is used before its definition']);
  });

  it('a wrong declared type', () => {
    expect(check(withLine(4, '%h = matmul(%x, %w) : f32[2,5]'))).toEqual(['v.ir:4:1: %h = matmul: declared type f32[2,5] differs from the inferred type f32[2,4]']);
  });

  it('operands whose types do not fit the op', () => {
    const [d] = check(withLine(4, '%h = matmul(%w, %x) : f32[2,4]'));
    expect(d).toMatch(/^v\.ir:4:1: %h = matmul: matmul\(f32\[3,4\], f32\[2,3\]\): contraction extents differ/);
  });

  it('a wrong operand count', () => {
    const [d] = check(withLine(6, '%g = gelu(%s, %s) : f32[2,1]'));
    expect(d).toMatch(/^v\.ir:6:1: %g = gelu: gelu\(f32\[2,1\], f32\[2,1\]\): expected 1 operand/);
  });

  it('a dangling output', () => {
    expect(check(`${GOOD.join('\n')}\noutput z = %nope`)).toEqual(["v.ir:9:1: output 'z' refers to undefined value %nope"]);
  });

  it('a duplicate definition and a duplicate output name', () => {
    const text = [...GOOD.slice(0, 4), '  %h = neg(%x) : f32[2,3]', ...GOOD.slice(4), 'output logits = %s'].join('\n');
    expect(check(text)).toEqual(['v.ir:5:3: %h is defined more than once (SSA)', "v.ir:10:1: output 'logits' is declared more than once"]);
  });

  it('an input whose element count is not an exact integer (above 2^53 - 1), though each extent is', () => {
    expect(check(withLine(2, 'input %x : f32[4294967296,4294967296]'))).toContain(
      'v.ir:2:1: input %x: shape [4294967296,4294967296] has 18446744073709552000 elements, more than 2^53 - 1 (element counts must be exact integers)',
    );
  });

  it('a node whose result has more than 2^53 - 1 elements, from operands that each have fewer', () => {
    const text = ['program @outer', 'input %a : f32[134217728,1]', 'input %b : f32[1,134217728]', '%c = add(%a, %b) : f32[134217728,134217728]', 'output c = %c'].join('\n');
    const [d] = check(text);
    expect(d).toMatch(/^v\.ir:4:1: %c = add: declared type: shape \[134217728,134217728\] has 18014398509481984 elements, more than 2\^53 - 1/);
  });

  it('a program without outputs is reported at its header', () => {
    expect(check(['', 'program @empty', 'input %x : f32[1]'].join('\n'))).toEqual(['v.ir:2:1: program @empty has no outputs']);
  });
});
