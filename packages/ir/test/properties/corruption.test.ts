import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbProgram } from '@tessera/harness';
import { type AttrValue, type Node, type OpName, type Program, type VerifyIssue, DTYPES, findOp, valueTypes, verify } from '../../src/index.ts';
import { NUM_RUNS } from './runs.ts';

/** A generated program plus a number that picks what to corrupt. */
const arbCase = fc.tuple(arbProgram(), fc.nat());

const withNodes = (p: Program, nodes: Node[]): Program => ({ ...p, nodes });

/** Runs the verifier (it must report, not throw) and finds an issue about `value` matching `pattern`. */
function expectIssue(p: Program, value: string | undefined, pattern: RegExp): void {
  let issues: VerifyIssue[] = [];
  expect(() => (issues = verify(p))).not.toThrow();
  const hit = issues.find((i) => (value === undefined || i.value === value) && pattern.test(i.message));
  expect(hit, `expected an issue${value === undefined ? '' : ` about %${value}`} matching ${pattern}, got ${JSON.stringify(issues, null, 1)}`).toBeDefined();
}

/** An attribute value the op must reject: out-of-range axes and perms, else a value of the wrong kind. */
function invalidAttr(op: string, key: string, old: AttrValue): AttrValue {
  if (key === 'axes') return [99];
  if (key === 'axis') return 99;
  if (key === 'perm') return [...(old as number[]), 99];
  if (key === 'shape') return [...(old as number[]), 0];
  const kind = findOp(op)?.attrs[key]?.kind;
  switch (kind) {
    case 'int':
      return 0.5;
    case 'float':
      return 'not a number';
    case 'bool':
      return 1;
    case 'ints':
      return [...(old as number[]), 0.5];
    case 'floats':
      return ['x' as unknown as number];
    case 'dtype':
      return 'f64';
    default:
      return 'no_such_choice';
  }
}

describe('the verifier rejects targeted corruptions of generated programs, naming the value', () => {
  it('a use before definition (a node moved after one of its users)', () => {
    fc.assert(
      fc.property(arbCase, ([p, k]) => {
        const pos = new Map(p.nodes.map((n, i) => [n.name, i]));
        const users = p.nodes.filter((n) => n.operands.some((o) => pos.has(o)));
        fc.pre(users.length > 0);
        const user = users[k % users.length]!;
        const def = user.operands.find((o) => pos.has(o))!;
        const nodes = p.nodes.filter((n) => n.name !== def);
        nodes.splice(nodes.indexOf(user) + 1, 0, p.nodes[pos.get(def)!]!);
        expectIssue(withNodes(p, nodes), user.name, new RegExp(`%${def.replace(/\./g, '\\.')} is used before its definition`));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a wrong declared type (one extent or the dtype changed)', () => {
    fc.assert(
      fc.property(arbCase, ([p, k]) => {
        const i = k % p.nodes.length;
        const n = p.nodes[i]!;
        const shape = [...n.type.shape];
        let dtype = n.type.dtype;
        if (shape.length > 0 && k % 2 === 0) shape[(k >> 1) % shape.length]! += 1;
        else dtype = DTYPES.filter((d) => d !== dtype)[(k >> 1) % 2]!;
        const nodes = [...p.nodes];
        nodes[i] = { ...n, type: { dtype, shape } };
        expectIssue(withNodes(p, nodes), n.name, /declared type .* differs from the inferred type/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a dangling output (its node deleted, or a name never defined)', () => {
    fc.assert(
      fc.property(arbCase, ([p, k]) => {
        const o = p.outputs[k % p.outputs.length]!;
        const isNode = p.nodes.some((n) => n.name === o.value);
        const broken: Program = isNode
          ? withNodes(p, p.nodes.filter((n) => n.name !== o.value))
          : { ...p, outputs: p.outputs.map((x) => (x === o ? { ...x, value: 'never_defined' } : x)) };
        const missing = isNode ? o.value : 'never_defined';
        expectIssue(broken, undefined, new RegExp(`output '${o.name}' refers to undefined value %${missing.replace(/\./g, '\\.')}`));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a duplicate definition (a node renamed to an earlier value)', () => {
    fc.assert(
      fc.property(arbCase, ([p, k]) => {
        const i = k % p.nodes.length;
        const earlier = [...p.inputs.map((x) => x.name), ...p.nodes.slice(0, i).map((n) => n.name)];
        const dup = earlier[(k >> 3) % earlier.length]!;
        const nodes = [...p.nodes];
        nodes[i] = { ...p.nodes[i]!, name: dup };
        expectIssue(withNodes(p, nodes), dup, /is defined more than once/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('an unknown op', () => {
    fc.assert(
      fc.property(arbCase, ([p, k]) => {
        const i = k % p.nodes.length;
        const nodes = [...p.nodes];
        // Plain data can hold any string; the verifier must catch what the type checker cannot.
        nodes[i] = { ...p.nodes[i]!, op: 'frobnicate' as OpName };
        expectIssue(withNodes(p, nodes), p.nodes[i]!.name, /unknown op 'frobnicate'/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('an invalid attribute (axes out of range, wrong kind, or unknown)', () => {
    fc.assert(
      fc.property(arbCase, ([p, k]) => {
        const i = k % p.nodes.length;
        const n = p.nodes[i]!;
        const keys = Object.keys(n.attrs);
        const key = keys.length ? keys[(k >> 4) % keys.length]! : 'bogus';
        const value = key === 'bogus' ? 1 : invalidAttr(n.op, key, n.attrs[key]!);
        const nodes = [...p.nodes];
        nodes[i] = { ...n, attrs: { ...n.attrs, [key]: value } };
        expectIssue(withNodes(p, nodes), n.name, new RegExp(`^%${n.name.replace(/\./g, '\\.')} = ${n.op}: `));
        // The operand types in the message say what the attribute was checked against.
        const types = valueTypes(p);
        expect(verify(withNodes(p, nodes)).some((x) => x.value === n.name && n.operands.every((o) => x.message.includes(`${types.get(o)!.dtype}[`)))).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
