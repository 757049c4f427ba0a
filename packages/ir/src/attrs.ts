import { DTYPES, isDType } from './dtype.ts';
import { TypeRuleError } from './errors.ts';

/** An attribute value: a number, a flag, a name, or a list of numbers. */
export type AttrValue = number | boolean | string | readonly number[];

/** The attributes of one node, keyed by attribute name. */
export type Attrs = Readonly<Record<string, AttrValue>>;

/** What one attribute may hold. `floats` carries constant data. */
export type AttrKind = 'int' | 'float' | 'bool' | 'ints' | 'floats' | 'dtype' | 'enum';

/** The declaration of one attribute of an op. */
export interface AttrSpec {
  readonly kind: AttrKind;
  /** Allowed names for `enum`. */
  readonly values?: readonly string[];
  /** Used when the attribute is absent; an attribute without default is required. */
  readonly default?: AttrValue;
  readonly doc?: string;
}

/** An op's attribute declarations, in the order the printer writes them. */
export type AttrSchema = Readonly<Record<string, AttrSpec>>;

/** Checks one attribute value against its declaration; returns a reason when it does not fit. */
export function attrMismatch(spec: AttrSpec, v: AttrValue): string | undefined {
  switch (spec.kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) ? undefined : 'expected an integer';
    case 'float':
      return typeof v === 'number' ? undefined : 'expected a number';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'expected true or false';
    case 'ints':
      return Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? undefined : 'expected a list of integers';
    case 'floats':
      return Array.isArray(v) && v.every((x) => typeof x === 'number') ? undefined : 'expected a list of numbers';
    case 'dtype':
      return typeof v === 'string' && isDType(v) ? undefined : `expected a dtype (${DTYPES.join(', ')})`;
    case 'enum':
      return typeof v === 'string' && spec.values!.includes(v) ? undefined : `expected one of ${spec.values!.map((s) => `"${s}"`).join(', ')}`;
  }
}

/**
 * Validates attributes against a schema and fills defaults. Unknown,
 * missing and ill-typed attributes throw a TypeRuleError naming the attribute.
 */
export function completeAttrs(schema: AttrSchema, attrs: Attrs): Record<string, AttrValue> {
  for (const key of Object.keys(attrs)) {
    if (!(key in schema)) {
      const known = Object.keys(schema);
      throw new TypeRuleError(`unknown attribute '${key}' (expected ${known.length ? known.join(', ') : 'no attributes'})`);
    }
  }
  const out: Record<string, AttrValue> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const v = attrs[key] ?? spec.default;
    if (v === undefined) throw new TypeRuleError(`missing attribute '${key}' (${spec.kind})`);
    const why = attrMismatch(spec, v);
    if (why) throw new TypeRuleError(`attribute '${key}': ${why}, got ${JSON.stringify(v)}`);
    out[key] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

/** Structural equality of attribute values. */
export function attrValuesEqual(a: AttrValue, b: AttrValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => Object.is(x, b[i]) || x === b[i]);
  }
  return Object.is(a, b) || a === b;
}

/** Structural equality of two attribute sets. */
export function attrsEqual(a: Attrs, b: Attrs): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && attrValuesEqual(a[k]!, b[k]!));
}

/** Reads an integer-list attribute (the registry has validated it). */
export const ints = (attrs: Attrs, key: string): readonly number[] => attrs[key] as readonly number[];
/** Reads a number attribute. */
export const num = (attrs: Attrs, key: string): number => attrs[key] as number;
/** Reads a flag attribute. */
export const flag = (attrs: Attrs, key: string): boolean => attrs[key] as boolean;
/** Reads a name attribute. */
export const str = (attrs: Attrs, key: string): string => attrs[key] as string;
