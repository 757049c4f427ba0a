import { type DType, type Program, type RefTensor, formatNumber, formatType, printProgram } from '@tessera/ir';

/** Input values as host arrays or reference tensors, keyed by input name. */
export type InputValues = Readonly<Record<string, ArrayLike<number> | RefTensor>>;

/** Values printed per input before eliding (shrunk counterexamples are small). */
const MAX_SHOWN = 256;

/** The shortest decimal that reads back (through f32 rounding) to the same f32. */
function formatF32(x: number): string {
  if (!Number.isFinite(x) || Object.is(x, -0)) return formatNumber(x);
  for (let p = 1; p <= 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === Math.fround(x)) return String(s);
  }
  return formatNumber(x);
}

/** Prints values compactly: shortest f32 forms for f32, integers otherwise, elided past `max`. */
export function formatValues(values: ArrayLike<number>, dtype: DType = 'f32', max = MAX_SHOWN): string {
  const shown = Array.from({ length: Math.min(values.length, max) }, (_, i) => {
    const v = Number(values[i]);
    return dtype === 'f32' ? formatF32(v) : formatNumber(v);
  });
  const more = values.length > max ? `, ... (${values.length - max} more)` : '';
  return `[${shown.join(', ')}${more}]`;
}

const dataOf = (v: ArrayLike<number> | RefTensor): ArrayLike<number> => ('data' in v && 'type' in v ? v.data : (v as ArrayLike<number>));

/**
 * A failing case as text: the program in the IR text format, then its input
 * values as `#` comment lines, so the whole counterexample still parses as IR
 * (`tessera ir check` reads it back).
 */
export function formatCounterexample(program: Program, inputs?: InputValues): string {
  const text = printProgram(program);
  if (!inputs) return text;
  const lines = program.inputs.map((inp) => {
    const v = inputs[inp.name];
    return `# %${inp.name} : ${formatType(inp.type)} = ${v === undefined ? '(missing)' : formatValues(dataOf(v), inp.type.dtype)}`;
  });
  return `${text}# inputs:\n${lines.join('\n')}\n`;
}
