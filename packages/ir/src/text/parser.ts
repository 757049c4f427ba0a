import { type AttrSpec, type AttrValue, type Attrs, completeAttrs } from '../attrs.ts';
import { DTYPES, type DType, isDType } from '../dtype.ts';
import { type SourceLoc, TesseraError } from '../errors.ts';
import type { OpDef } from '../op-def.ts';
import { type Node, type Program, type ProgramInput, type ProgramOutput, OUTPUT_NAME, VALUE_NAME } from '../program.ts';
import { allOps, findOp, typeCheckOp } from '../registry.ts';
import type { TensorType } from '../tensor-type.ts';
import { type Token, describeToken, tokenize } from './lexer.ts';
import { ParseError } from './parse-error.ts';
import { closestName } from './suggest.ts';

/** A parsed program and where its `program` header is (the place for program-wide findings). */
export interface ParsedProgram {
  readonly program: Program;
  readonly header: SourceLoc;
}

const NUMBER = /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Reads a number as the printer writes it (`2`, `-0.5`, `1e-05`, `inf`, `-inf`, `nan`), or undefined. */
export function parseNumber(text: string): number | undefined {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return NUMBER.test(text) ? Number(text) : undefined;
}

const KIND_WANTED: Record<AttrSpec['kind'], string> = {
  int: 'an integer',
  float: 'a number',
  bool: 'true or false',
  ints: 'a list of integers like [0, 1]',
  floats: 'a list of numbers like [0.5, -1]',
  dtype: `a dtype (${DTYPES.join(', ')})`,
  enum: 'a quoted name',
};

/** Recursive descent over the token list; one instance parses one text. */
class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly src: string,
    private readonly file: string | undefined,
  ) {
    this.tokens = tokenize(src);
  }

  loc(t: Token): SourceLoc {
    return { ...(this.file !== undefined ? { file: this.file } : {}), line: t.line, col: t.col };
  }

  peek(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind === 'bad' && t.error) throw new ParseError(t.error, this.loc(t));
    return t;
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  fail(expected: string, t: Token = this.peek(), found = describeToken(t)): never {
    throw new ParseError(`expected ${expected}, found ${found}`, this.loc(t));
  }

  isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  isWord(w: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text === w;
  }

  expectPunct(p: string, context: string): Token {
    if (!this.isPunct(p)) this.fail(`'${p}' ${context}`);
    return this.next();
  }

  expectValue(what: string): Token {
    const t = this.peek();
    if (t.kind !== 'value' || t.text === '') this.fail(what);
    return this.next();
  }

  endLine(after: string): void {
    const t = this.peek();
    if (t.kind === 'newline') this.next();
    else if (t.kind !== 'eof') this.fail(`end of line after ${after}`);
  }

  skipBlankLines(): void {
    while (this.peek().kind === 'newline') this.next();
  }

  parseProgram(): ParsedProgram {
    this.skipBlankLines();
    const head = this.peek();
    if (!this.isWord('program')) this.fail("the header 'program @name' first");
    this.next();
    const name = this.parseProgramName();
    this.endLine('the program header');

    const inputs: ProgramInput[] = [];
    const nodes: Node[] = [];
    const outputs: ProgramOutput[] = [];
    // Declared types seen so far, to canonicalise attributes that depend on operand shapes.
    const types = new Map<string, TensorType>();
    for (;;) {
      this.skipBlankLines();
      const t = this.peek();
      if (t.kind === 'eof') break;
      if (t.kind === 'word' && (t.text === 'input' || t.text === 'param')) {
        if (nodes.length > 0 || outputs.length > 0) this.fail(`${outputs.length ? "'output'" : "a node or 'output'"} (inputs are declared before the first node)`);
        const input = this.parseInput();
        inputs.push(input);
        types.set(input.name, input.type);
      } else if (t.kind === 'value') {
        if (outputs.length > 0) this.fail("'output' (nodes come before the outputs)");
        const node = this.parseNode(types);
        nodes.push(node);
        types.set(node.name, node.type);
      } else if (t.kind === 'word' && t.text === 'output') {
        outputs.push(this.parseOutput());
      } else if (t.kind === 'word' && t.text === 'program') {
        this.fail("'input', 'param', a node or 'output' (the program header comes once, first)");
      } else {
        this.fail("'input', 'param', a node like '%y = op(%x) : f32[2]' or 'output'");
      }
    }
    return { program: { name, inputs, nodes, outputs }, header: this.loc(head) };
  }

  parseProgramName(): string {
    const t = this.peek();
    if (t.kind !== 'symbol') this.fail("'@' and a program name after 'program'");
    this.next();
    if (t.text !== '') return t.text;
    // Names outside the value-name charset are printed quoted: `@"gpt2-small"`.
    const q = this.peek();
    if (q.kind !== 'string' || q.offset !== t.offset + 1) this.fail("a program name after '@'");
    this.next();
    return q.text;
  }

  parseInput(): ProgramInput {
    const kw = this.next();
    const name = this.expectValue(`a value name like %x after '${kw.text}'`).text;
    this.expectPunct(':', `after %${name}`);
    const type = this.parseType();
    this.endLine(`the type of %${name}`);
    return { name, type, kind: kw.text === 'param' ? 'parameter' : 'activation', loc: this.loc(kw) };
  }

  parseOutput(): ProgramOutput {
    const kw = this.next();
    const t = this.peek();
    if (t.kind !== 'word' || !OUTPUT_NAME.test(t.text)) this.fail("an output name (letters, digits, '_', '.' and '/') after 'output'");
    this.next();
    this.expectPunct('=', `after output name '${t.text}'`);
    const value = this.expectValue(`a value like %x after 'output ${t.text} ='`).text;
    this.endLine(`output '${t.text}'`);
    return { name: t.text, value, loc: this.loc(kw) };
  }

  parseNode(types: ReadonlyMap<string, TensorType>): Node {
    const nameTok = this.expectValue('a value name after %');
    const name = nameTok.text;
    this.expectPunct('=', `after %${name}`);
    const opTok = this.peek();
    if (opTok.kind !== 'word') this.fail(`an op name after '%${name} ='`);
    const def = findOp(opTok.text);
    if (!def) {
      const names = allOps().map((d) => d.name);
      const near = closestName(opTok.text, names);
      throw new ParseError(`unknown op '${opTok.text}' (${near ? `did you mean '${near}'?` : `expected one of ${names.join(', ')}`})`, this.loc(opTok));
    }
    this.next();
    this.expectPunct('(', `after op name '${def.name}'`);
    const operands: string[] = [];
    if (this.isPunct(')')) this.next();
    else {
      for (;;) {
        operands.push(this.expectValue('an operand like %x').text);
        if (this.isPunct(')')) {
          this.next();
          break;
        }
        if (!this.isPunct(',')) this.fail("',' or ')' in the operand list");
        this.next();
      }
    }
    let attrs: Attrs = {};
    const hasAttrs = this.isPunct('{');
    if (hasAttrs) attrs = this.parseAttrs(def);
    attrs = this.completeAttrs(def, attrs, opTok, operands, types);
    this.expectPunct(':', hasAttrs ? 'after the attributes' : 'after the operand list');
    const type = this.parseType();
    this.endLine(`the type of %${name}`);
    return { name, op: def.name, operands, attrs, type, loc: this.loc(nameTok) };
  }

  /**
   * Fills defaults and, when every operand's declared type is known, puts the
   * attributes in canonical form (negative axes resolved...). When the types
   * do not fit, the attributes stay as written: the verifier reports the
   * problem at this node's line.
   */
  completeAttrs(def: OpDef, attrs: Attrs, opTok: Token, operands: readonly string[], types: ReadonlyMap<string, TensorType>): Attrs {
    for (const [key, spec] of Object.entries(def.attrs)) {
      if (!(key in attrs) && spec.default === undefined) {
        throw new ParseError(`missing attribute '${key}' of ${def.name} (expected ${KIND_WANTED[spec.kind]})`, this.loc(opTok));
      }
    }
    const full = completeAttrs(def.attrs, attrs);
    const operandTypes = operands.map((o) => types.get(o));
    if (operandTypes.some((t) => t === undefined)) return full;
    try {
      return typeCheckOp(def.name, operandTypes as TensorType[], full).attrs;
    } catch (e) {
      if (e instanceof TesseraError) return full;
      throw e;
    }
  }

  parseAttrs(def: OpDef): Attrs {
    this.next();
    const attrs: Record<string, AttrValue> = {};
    if (this.isPunct('}')) {
      this.next();
      return attrs;
    }
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'word') this.fail('an attribute name');
      const spec = def.attrs[t.text];
      if (!spec) {
        const known = Object.keys(def.attrs);
        const near = closestName(t.text, known);
        const hint = near ? `did you mean '${near}'?` : known.length ? `expected ${known.join(', ')}` : `${def.name} has no attributes`;
        throw new ParseError(`unknown attribute '${t.text}' of ${def.name} (${hint})`, this.loc(t));
      }
      if (t.text in attrs) throw new ParseError(`attribute '${t.text}' is given twice`, this.loc(t));
      this.next();
      this.expectPunct('=', `after attribute name '${t.text}'`);
      attrs[t.text] = this.parseAttrValue(t.text, spec);
      if (this.isPunct('}')) {
        this.next();
        return attrs;
      }
      if (!this.isPunct(',')) this.fail("',' or '}' after an attribute value");
      this.next();
    }
  }

  parseAttrValue(name: string, spec: AttrSpec): AttrValue {
    const what = `attribute '${name}'`;
    const t = this.peek();
    switch (spec.kind) {
      case 'int':
      case 'float': {
        const v = t.kind === 'word' ? parseNumber(t.text) : undefined;
        if (v === undefined || (spec.kind === 'int' && !Number.isInteger(v))) this.fail(`${KIND_WANTED[spec.kind]} for ${what}`);
        if (spec.kind === 'int') this.exactInteger(t, v, what);
        this.next();
        return v;
      }
      case 'bool':
        if (!this.isWord('true') && !this.isWord('false')) this.fail(`true or false for ${what}`);
        return this.next().text === 'true';
      case 'dtype':
        if (t.kind !== 'word' || !isDType(t.text)) this.fail(`${KIND_WANTED.dtype} for ${what}`);
        return this.next().text as DType;
      case 'enum': {
        const values = spec.values ?? [];
        if (t.kind !== 'string' || !values.includes(t.text)) this.fail(`one of ${values.map((v) => `"${v}"`).join(', ')} for ${what}`);
        return this.next().text;
      }
      case 'ints':
      case 'floats':
        return this.parseNumberList(what, spec.kind === 'ints');
    }
  }

  parseNumberList(what: string, integers: boolean): number[] {
    if (!this.isPunct('[')) this.fail(`${KIND_WANTED[integers ? 'ints' : 'floats']} for ${what}`);
    this.next();
    const out: number[] = [];
    if (this.isPunct(']')) {
      this.next();
      return out;
    }
    for (;;) {
      const t = this.peek();
      const v = t.kind === 'word' ? parseNumber(t.text) : undefined;
      if (v === undefined || (integers && !Number.isInteger(v))) this.fail(`${integers ? 'an integer' : 'a number'} in the list of ${what}`);
      if (integers) this.exactInteger(t, v, `the list of ${what}`);
      this.next();
      out.push(v);
      if (this.isPunct(']')) {
        this.next();
        return out;
      }
      if (!this.isPunct(',')) this.fail(`',' or ']' in the list of ${what}`);
      this.next();
    }
  }

  /** Refuses an integer a double does not hold exactly (magnitude above 2^53 - 1): it would be silently changed. */
  exactInteger(t: Token, v: number, where: string): void {
    if (!Number.isSafeInteger(v)) throw new ParseError(`integer ${t.raw} in ${where} is too large: integers are at most 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) in magnitude`, this.loc(t));
  }

  /** `f32[2,3]`, `i32[]`. Extents must be positive integers; the shape is kept as written otherwise. */
  parseType(): TensorType {
    const start = this.pos;
    const first = this.peek();
    const bad = (hint = ''): never => this.fail(`a tensor type like f32[2,3]${hint}`, first, `'${this.snippet(start)}'`);
    if (first.kind === 'newline' || first.kind === 'eof') this.fail('a tensor type like f32[2,3]');
    if (first.kind !== 'word' || !isDType(first.text)) bad();
    this.next();
    if (!this.isPunct('[')) bad();
    this.next();
    const shape: number[] = [];
    if (this.isPunct(']')) this.next();
    else {
      for (;;) {
        const t = this.peek();
        if (t.kind !== 'word' || !/^[0-9]+$/.test(t.text) || Number(t.text) < 1) bad(' (extents are positive integers)');
        // Above 2^53 - 1 a double no longer holds the integer written: refuse it rather than change it.
        if (!Number.isSafeInteger(Number(t.text))) throw new ParseError(`extent ${t.text} is too large: extents are at most 2^53 - 1 (${Number.MAX_SAFE_INTEGER})`, this.loc(t));
        shape.push(Number(this.next().text));
        if (this.isPunct(']')) {
          this.next();
          break;
        }
        if (!this.isPunct(',')) bad();
        this.next();
      }
    }
    return { dtype: first.text as DType, shape };
  }

  /** The source text of a malformed type, from its first token to its `]` or the end of the line. */
  snippet(start: number): string {
    let end = start;
    const firstTok = this.tokens[start]!;
    const second = this.tokens[start + 1];
    if (second?.kind === 'punct' && second.text === '[') {
      end = start + 1;
      while (this.tokens[end + 1] && !['newline', 'eof'].includes(this.tokens[end + 1]!.kind) && !(this.tokens[end]!.kind === 'punct' && this.tokens[end]!.text === ']')) end++;
    }
    const last = this.tokens[end]!;
    return this.src.slice(firstTok.offset, last.offset + last.raw.length);
  }
}

/**
 * Parses IR text into a program and the location of its header. Throws
 * ParseError (`file:line:col: expected ..., found ...`) on a syntax error.
 */
export function parseProgramWithHeader(text: string, file?: string): ParsedProgram {
  return new Parser(text, file).parseProgram();
}

/**
 * Parses IR text into a program. Every input, node and output carries its
 * `loc`. Types are kept as declared and SSA is not checked: run the verifier
 * for that. Throws ParseError on a syntax error.
 */
export function parseProgram(text: string, file?: string): Program {
  return parseProgramWithHeader(text, file).program;
}

/** Parses a tensor type such as `f32[2,3]` (the whole text), or throws ParseError. */
export function parseTensorType(text: string, file?: string): TensorType {
  const p = new Parser(text, file);
  const t = p.parseType();
  if (p.peek().kind === 'newline') p.next();
  if (p.peek().kind !== 'eof') p.fail('end of input after the tensor type');
  return t;
}
