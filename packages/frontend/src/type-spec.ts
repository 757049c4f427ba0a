import { type DType, type TensorType, DTYPES, TesseraError, isDType, tensorType } from '@tessera/ir';

/** A tensor type as a user writes it: `'f32[2,16]'` (scalar `'f32[]'`) or `{ dtype, shape }`. */
export type TypeSpec = string | { readonly dtype: DType; readonly shape: readonly number[] };

/** Named model inputs, in the order `forward` takes them. */
export type InputSpecs = Readonly<Record<string, TypeSpec>>;

const TYPE_TEXT = /^\s*([a-z0-9]+)\s*\[\s*((?:-?\d+\s*(?:,\s*-?\d+\s*)*)?)\]\s*$/;

/** Parses a type spec into a checked tensor type; `what` names it in errors (e.g. "input 'x'"). */
export function parseTypeSpec(spec: TypeSpec, what = 'type'): TensorType {
  const fail = (why: string): never => {
    throw new TesseraError(`${what}: ${why}`);
  };
  let dtype: string;
  let shape: number[];
  if (typeof spec === 'string') {
    const m = TYPE_TEXT.exec(spec);
    if (!m) return fail(`'${spec}' is not a tensor type, expected dtype[d0,d1,...] such as 'f32[2,16]' or 'i32[]'`);
    dtype = m[1]!;
    shape = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((s) => Number(s.trim()));
  } else if (typeof spec === 'object' && spec !== null && Array.isArray(spec.shape)) {
    dtype = String(spec.dtype);
    shape = [...spec.shape];
  } else {
    return fail(`${JSON.stringify(spec)} is not a tensor type, expected a string such as 'f32[2,16]' or { dtype, shape }`);
  }
  if (!isDType(dtype)) return fail(`unknown dtype '${dtype}', expected one of ${DTYPES.join(', ')}`);
  try {
    return tensorType(dtype, shape);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}
