/**
 * Ops the wasm targets have no instruction for but whose registry
 * decomposition is long (erf's polynomial), emitted once per module as
 * functions the kernels call: f64 -> f64 for the scalar path, v128 -> v128
 * for the f32x4 path. Inlining the decomposition into every kernel that
 * uses it (a GELU epilogue in each of ViT-B's 12 MLPs) made every later
 * step over kernel expressions (hoisting, sharing, encoding) do that work
 * again per kernel. The bodies are the registry decomposition rendered by
 * the same renderers, so the numbers are the inlined code's, bit for bit.
 */
import { E, type Expr, type ScalarOp, legalizeExpr } from '@tessera/kernel';
import { F64, FunctionBuilder, type ModuleBuilder, V128, type ValType } from './binary.ts';
import { WasmScalarRenderer } from './scalar-expr.ts';
import { Addresser, type ProgramFacts } from './scope.ts';
import { WASM_SUPPORT } from './support.ts';
import { WasmVectorRenderer } from './vector-expr.ts';

/** The name the decomposition's operand has inside the function body. */
const ARG = 'x';

/** The registry decomposition of unary `op` over the function's parameter, legalised for wasm: what inlining wrote into each kernel. */
function body(op: 'erf'): Expr {
  return legalizeExpr(E.unary(op, E.ref('f32', ARG)), (o: ScalarOp) => o !== op && WASM_SUPPORT(o));
}

/** `op`'s decomposition as a one-parameter function of `type`, rendered by the renderer `make` gives (its ref reads the parameter). */
function emitFunction(op: 'erf', type: ValType, make: (f: FunctionBuilder) => { count(e: Expr): void; emit(e: Expr): void }): FunctionBuilder {
  const f = new FunctionBuilder([type], [type]);
  const r = make(f);
  const e = body(op);
  r.count(e);
  r.emit(e);
  return f;
}

/** `op` as a scalar function f64 -> f64 (f32 values are held in f64 on the scalar path). */
function emitScalar(op: 'erf', facts: ProgramFacts): FunctionBuilder {
  return emitFunction(op, F64, (f) => new WasmScalarRenderer(f, facts, new Addresser(f, facts, []), () => f.get(0)));
}

/** `op` as an f32x4 function v128 -> v128. */
function emitVector(op: 'erf', facts: ProgramFacts): FunctionBuilder {
  const site = (f: FunctionBuilder) => ({ va: 0, j: -1, ref: () => void f.get(0), variantRefs: new Set([ARG]) });
  return emitFunction(op, V128, (f) => new WasmVectorRenderer(f, facts, new Addresser(f, facts, []), site(f)));
}

/** Function indices of the decomposed ops, each added to the module the first time a kernel calls it. */
export interface DecomposedFunctions {
  readonly erf: number;
  readonly verf: number;
}

/** The decomposed ops' functions of module `m`, rendered with `facts()` (read when first called, so facts may hold these getters). */
export function decomposedOnDemand(m: ModuleBuilder, facts: () => ProgramFacts): DecomposedFunctions {
  let erf: number | undefined;
  let verf: number | undefined;
  return {
    get erf() {
      return (erf ??= m.addFunc(emitScalar('erf', facts())));
    },
    get verf() {
      return (verf ??= m.addFunc(emitVector('erf', facts())));
    },
  };
}
