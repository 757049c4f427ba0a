import { attrsEqual } from './attrs.ts';
import { isDType } from './dtype.ts';
import { OpTypeError, type SourceLoc, TesseraError, VerifyError, type VerifyIssue } from './errors.ts';
import { type Program, OUTPUT_NAME, VALUE_NAME } from './program.ts';
import { findOp, typeCheckOp } from './registry.ts';
import { type TensorType, formatType, shapeProblem, typesEqual } from './tensor-type.ts';

function typeProblem(t: TensorType): string | undefined {
  if (!isDType(t.dtype)) return `unknown dtype '${String(t.dtype)}'`;
  return shapeProblem(t.shape);
}

/**
 * Checks every invariant of a program and returns all findings (empty when
 * valid): SSA (each name defined once, before its uses, hence acyclic),
 * known ops, valid and canonical attributes, declared types equal to inferred
 * ones, outputs defined and uniquely named.
 */
export function verify(p: Program): VerifyIssue[] {
  const issues: VerifyIssue[] = [];
  const report = (message: string, loc?: SourceLoc, value?: string) =>
    issues.push({ message, ...(loc ? { loc } : {}), ...(value !== undefined ? { value } : {}) });
  const defined = new Map<string, TensorType>();
  const laterNames = new Set(p.nodes.map((n) => n.name));

  for (const inp of p.inputs) {
    if (!VALUE_NAME.test(inp.name)) report(`input name '${inp.name}' is not a valid value name`, inp.loc, inp.name);
    if (defined.has(inp.name)) report(`%${inp.name} is defined more than once (SSA)`, inp.loc, inp.name);
    if (inp.kind !== 'activation' && inp.kind !== 'parameter') report(`input %${inp.name} has unknown kind '${String(inp.kind)}'`, inp.loc, inp.name);
    const bad = typeProblem(inp.type);
    if (bad) report(`input %${inp.name}: ${bad}`, inp.loc, inp.name);
    defined.set(inp.name, inp.type);
  }

  p.nodes.forEach((n) => {
    laterNames.delete(n.name);
    const where = `%${n.name} = ${n.op}`;
    if (!VALUE_NAME.test(n.name)) report(`value name '${n.name}' is not valid`, n.loc, n.name);
    if (defined.has(n.name)) report(`%${n.name} is defined more than once (SSA)`, n.loc, n.name);
    const def = findOp(n.op);
    if (!def) report(`${where}: unknown op '${n.op}'`, n.loc, n.name);
    const bad = typeProblem(n.type);
    if (bad) report(`${where}: declared type: ${bad}`, n.loc, n.name);
    const operandTypes: TensorType[] = [];
    for (const o of n.operands) {
      const t = defined.get(o);
      if (t) operandTypes.push(t);
      else if (laterNames.has(o) || o === n.name) report(`${where}: operand %${o} is used before its definition`, n.loc, n.name);
      else report(`${where}: operand %${o} is not defined`, n.loc, n.name);
    }
    if (def && !bad && operandTypes.length === n.operands.length) {
      try {
        const checked = typeCheckOp(n.op, operandTypes, n.attrs);
        if (!typesEqual(checked.type, n.type)) {
          report(`${where}: declared type ${formatType(n.type)} differs from the inferred type ${formatType(checked.type)}`, n.loc, n.name);
        } else if (!attrsEqual(checked.attrs, n.attrs)) {
          report(`${where}: attributes are not in canonical form (expected ${JSON.stringify(checked.attrs)})`, n.loc, n.name);
        }
      } catch (e) {
        if (e instanceof OpTypeError || e instanceof TesseraError) report(`${where}: ${e.message}`, n.loc, n.name);
        else throw e;
      }
    }
    defined.set(n.name, n.type);
  });

  if (p.outputs.length === 0) report(`program @${p.name} has no outputs`);
  const outNames = new Set<string>();
  for (const o of p.outputs) {
    if (!OUTPUT_NAME.test(o.name)) report(`output name '${o.name}' is not valid`, o.loc);
    if (outNames.has(o.name)) report(`output '${o.name}' is declared more than once`, o.loc);
    outNames.add(o.name);
    if (!defined.has(o.value)) report(`output '${o.name}' refers to undefined value %${o.value}`, o.loc);
  }
  return issues;
}

/** Throws a VerifyError listing every finding, or returns when the program is valid. */
export function assertVerified(p: Program): void {
  const issues = verify(p);
  if (issues.length === 0) return;
  const lines = issues.map((i) => (i.loc ? `${i.loc.file ? `${i.loc.file}:` : ''}${i.loc.line}:${i.loc.col}: ${i.message}` : i.message));
  const first = issues[0]!;
  throw new VerifyError(
    issues.length === 1 ? first.message : `${issues.length} problems in program @${p.name}:\n  ${lines.join('\n  ')}`,
    issues.length === 1 ? first.loc : undefined,
    issues,
  );
}
