/** Options of the random program generator. */
export interface ProgramGenOptions {
  /**
   * Ops the generator picks for its steps (default: every registered op).
   * Adapters that make operands fit (cast, reshape, broadcast_to, slice, pad,
   * constant, and in tame mode abs/add/max/min) may still appear.
   */
  readonly ops?: readonly string[];
  /**
   * Whether steps may also be model blocks (linear, MLP, token mixing,
   * multi-head attention, softmax attention over a [batch, tokens, width]
   * stream; see gen/blocks.ts), about a third of them. Default: true unless
   * `ops` restricts the op set.
   */
  readonly blocks?: boolean;
  /**
   * Programs shaped like a model's forward pass: one activation input
   * `x` [batch > 1, tokens, width], sometimes a linear stem, then only
   * blocks, each continuing the latest stream (implies `blocks`).
   */
  readonly model?: boolean;
  /** Maximum number of generated steps, each one op or block plus any adapters it needs (default 12). */
  readonly maxNodes?: number;
  /** Maximum number of free program inputs, 1 or more (default 4); blocks add their own parameters and masks (named `blk.*`, `stem.*`). */
  readonly maxInputs?: number;
  /** Maximum number of program outputs, 1 or more (default 3). */
  readonly maxOutputs?: number;
  /**
   * Every value f32: f32 inputs, casts only to f32, iota/constant f32, f32
   * attention masks; ops that need another dtype (compare, where, gather) are left out.
   */
  readonly floatOnly?: boolean;
  /** Maximum elements of any tensor in the program (default 256). */
  readonly maxElements?: number;
  /**
   * Keep values finite and comparable between float64 and f32 evaluation:
   * domain adapters before log/sqrt/rsqrt/recip/div/pow, clamps that keep every
   * |value| <= TAME_LIMIT, finite constants, and compare/cast-from-f32 only on
   * values that are exact in f32. For differential tests of f32 backends.
   */
  readonly tame?: boolean;
  /** Largest |x| of generated f32 inputs (default 3); tame mode's bounds rely on it. */
  readonly floatMax?: number;
  /** Largest |x| of generated f32 parameters (default floatMax); tame mode's bounds rely on it. */
  readonly paramMax?: number;
  /** Largest |x| of generated i32 inputs (default 4). */
  readonly intMax?: number;
}

/** Bound on |value| that tame mode keeps every value under. */
export const TAME_LIMIT = 64;

/** Options with defaults filled. */
export type ResolvedGenOptions = Required<Omit<ProgramGenOptions, 'ops'>> & { readonly ops?: readonly string[] };

/** Fills the defaults of generator options, checking they make sense. */
export function resolveGenOptions(o: ProgramGenOptions = {}): ResolvedGenOptions {
  const r = {
    blocks: o.blocks ?? (o.model === true || !o.ops),
    model: o.model ?? false,
    maxNodes: o.maxNodes ?? 12,
    maxInputs: o.maxInputs ?? 4,
    maxOutputs: o.maxOutputs ?? 3,
    floatOnly: o.floatOnly ?? false,
    maxElements: o.maxElements ?? 256,
    tame: o.tame ?? false,
    floatMax: o.floatMax ?? 3,
    paramMax: o.paramMax ?? o.floatMax ?? 3,
    intMax: o.intMax ?? 4,
    ...(o.ops ? { ops: o.ops } : {}),
  };
  for (const k of ['maxNodes', 'maxInputs', 'maxOutputs'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new Error(`generator option ${k} is ${r[k]}, expected an integer >= 1`);
  }
  if (r.model && !r.blocks) throw new Error('generator option model needs blocks');
  // Adapters flatten and tile values; below 8 elements there is no room to build matmuls and attention.
  if (!Number.isInteger(r.maxElements) || r.maxElements < 8) throw new Error(`generator option maxElements is ${r.maxElements}, expected an integer >= 8`);
  return r;
}
