import { type DType, type SourceLoc, type Value, TesseraError } from '@tessera/ir';
import { userCallSite } from './call-site.ts';
import { type TypeSpec, parseTypeSpec } from './type-spec.ts';
import { Tensor } from './tensor.ts';
import type { Tracer } from './tracer.ts';

/** Options of a new parameter. */
export interface ParameterOptions {
  /** Element type (default f32). */
  readonly dtype?: DType;
}

/**
 * A weight of a module. It has a type but no value: a trace turns each
 * parameter forward uses into a program `param` input named by the
 * parameter's path in the model (`encoder.layers.0.linear1.weight`).
 */
export class Parameter extends Tensor {
  /** Where the user created it (the `new nn.Linear(...)` line, say): named in errors. */
  readonly createdAt: SourceLoc | undefined;

  /** A parameter of the given shape (`[out, in]`) or type (`'f32[out,in]'`). */
  constructor(shapeOrType: readonly number[] | TypeSpec, opts: ParameterOptions = {}) {
    const loc = userCallSite();
    const spec: TypeSpec = Array.isArray(shapeOrType) ? { dtype: opts.dtype ?? 'f32', shape: shapeOrType } : (shapeOrType as TypeSpec);
    let type;
    try {
      type = parseTypeSpec(spec, 'parameter');
    } catch (e) {
      throw new TesseraError(e instanceof Error ? e.message : String(e), loc);
    }
    super(type);
    this.createdAt = loc;
  }

  override valueIn(t: Tracer, loc: SourceLoc | undefined): Value {
    return t.paramValue(this, loc);
  }

  override toString(): string {
    return `Parameter(${this.dtype}[${this.shape.join(',')}])`;
  }
}
