import type { AttrSpec, AttrValue, Attrs } from '../attrs.ts';
import type { Node, Program, ProgramInput, ProgramOutput } from '../program.ts';
import { findOp } from '../registry.ts';
import { formatType } from '../tensor-type.ts';

/** Names the format writes bare: the value-name charset. Anything else is quoted. */
const BARE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;

/**
 * Prints a number so that parsing it gives back exactly the same double:
 * JavaScript's shortest round-trip form, with `inf`, `-inf`, `nan` and `-0`
 * spelled out (String() loses the sign of zero).
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/** Quotes a string with `"`, escaping `"` and `\`. */
export function quoteString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Prints one attribute value; `spec` (when the op is known) says whether a name is a bare dtype or a quoted enum. */
export function formatAttrValue(v: AttrValue, spec?: AttrSpec): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return spec?.kind === 'dtype' && BARE_NAME.test(v) ? v : quoteString(v);
  return `[${v.map(formatNumber).join(', ')}]`;
}

/** Prints `{a = 1, b = [2, 3]}` in the op's schema order (unknown keys after), or '' when there are none. */
export function formatAttrs(op: string, attrs: Attrs): string {
  const schema = findOp(op)?.attrs ?? {};
  const keys = [...Object.keys(schema).filter((k) => k in attrs), ...Object.keys(attrs).filter((k) => !(k in schema))];
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k} = ${formatAttrValue(attrs[k]!, schema[k])}`).join(', ')}}`;
}

/** Prints an input declaration: `input %x : f32[2,3]` or `param %w : f32[3,4]`. */
export function printInput(i: ProgramInput): string {
  return `${i.kind === 'parameter' ? 'param' : 'input'} %${i.name} : ${formatType(i.type)}`;
}

/** Prints one node: `%h = op(%a, %b) {attrs} : type`. */
export function printNode(n: Node): string {
  const attrs = formatAttrs(n.op, n.attrs);
  return `%${n.name} = ${n.op}(${n.operands.map((o) => `%${o}`).join(', ')})${attrs ? ` ${attrs}` : ''} : ${formatType(n.type)}`;
}

/** Prints an output binding: `output logits = %g`. */
export function printOutput(o: ProgramOutput): string {
  return `output ${o.name} = %${o.value}`;
}

/**
 * Prints a program in the canonical text form: the header, inputs, nodes and
 * outputs, one per line, ending with a newline. `parseProgram` reads it back
 * to the same program.
 */
export function printProgram(p: Program): string {
  const name = BARE_NAME.test(p.name) ? p.name : quoteString(p.name);
  const lines = [`program @${name}`, ...p.inputs.map(printInput), ...p.nodes.map(printNode), ...p.outputs.map(printOutput)];
  return `${lines.join('\n')}\n`;
}
