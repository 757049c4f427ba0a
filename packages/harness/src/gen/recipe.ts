import { type DType, type OpDef, type OpName, type Program, type Value, allOps, tensorType } from '@tessera/ir';
import { BLOCKS, type BlockGenerator, blocksFor, modelInput, streamFor } from './blocks.ts';
import { Choices } from './choices.ts';
import { ProgramGen } from './context.ts';
import { type OpGenerator, generatorFor } from './op-generators.ts';
import { type ProgramGenOptions, type ResolvedGenOptions, resolveGenOptions } from './options.ts';
import { randomShape } from './shapes.ts';

/**
 * The plain-data recipe a random program is built from. fast-check generates
 * and shrinks recipes; `buildProgram` turns any recipe into a valid program,
 * so shrinking (dropping steps, lowering numbers) always yields valid programs.
 */
export interface ProgramRecipe {
  /** One choice stream per input: dtype, kind, rank, extents. */
  readonly inputs: readonly (readonly number[])[];
  /** One entry per step: which op or model block, and the choices that build its operands and attributes. */
  readonly steps: readonly { readonly op: number; readonly choices: readonly number[] }[];
  /** Picks of extra outputs (the last step's result is always an output). */
  readonly outputs: readonly number[];
}

/** How many single ops each model block weighs when a step picks what to emit (about a third of steps are blocks). */
const BLOCK_WEIGHT = 4;

/** Registered ops that have no generator: each should get one (a test lists them). */
export function missingGenerators(): string[] {
  return allOps()
    .filter((d) => generatorFor(d) === undefined)
    .map((d) => d.name);
}

/** The ops a generator with these options picks from, each with its generator, in registry order. */
export function generatedOps(options: ProgramGenOptions = {}): { name: OpName; gen: OpGenerator }[] {
  const opts = resolveGenOptions(options);
  const wanted = opts.ops ? new Set(opts.ops) : undefined;
  const known = new Map(allOps().map((d): [string, OpDef] => [d.name, d]));
  for (const name of wanted ?? []) {
    if (!known.has(name)) throw new Error(`generator option ops names '${name}', which is not a registered op`);
    if (!generatorFor(known.get(name)!)) throw new Error(`op '${name}' has no program generator yet (add one in packages/harness/src/gen/op-generators.ts)`);
  }
  const out: { name: OpName; gen: OpGenerator }[] = [];
  for (const def of allOps()) {
    const gen = generatorFor(def);
    if (!gen || (wanted && !wanted.has(def.name)) || (opts.floatOnly && gen.nonFloat)) continue;
    out.push({ name: def.name, gen });
  }
  if (out.length === 0) throw new Error(`no op can be generated with options ${JSON.stringify(options)}`);
  return out;
}

function inputDType(c: Choices, opts: ResolvedGenOptions): DType {
  if (opts.floatOnly) return 'f32';
  const r = c.int(6);
  return r < 4 ? 'f32' : r === 4 ? 'i32' : 'bool';
}

/** What a step of a general program emits: an op or (about a third of the time) a block; ops first, so shrinking the pick toward 0 gives a single op. */
function pickStep(ops: readonly { name: OpName; gen: OpGenerator }[], blocks: boolean, pick: number): { name: OpName; gen: OpGenerator } | BlockGenerator {
  const kinds = ops.length + (blocks ? BLOCKS.length * BLOCK_WEIGHT : 0);
  const i = pick % kinds;
  return i < ops.length ? ops[i]! : BLOCKS[Math.floor((i - ops.length) / BLOCK_WEIGHT)]!;
}

/** Step `i` of a model: layers alternate a token-mixing block and a channel block, as in transformers and MLP-Mixers. */
function modelBlock(pick: number, i: number): BlockGenerator {
  const choices = blocksFor(i % 2 === 0 ? 'tokens' : 'channels');
  return choices[pick % choices.length]!;
}

/** Builds the program a recipe describes (deterministic; never fails for any recipe). */
export function buildProgram(recipe: ProgramRecipe, options: ProgramGenOptions = {}): Program {
  const opts = resolveGenOptions(options);
  const ops = generatedOps(options);
  const g = new ProgramGen(opts);
  if (opts.model) {
    g.c = new Choices(recipe.inputs[0] ?? []);
    modelInput(g);
  } else {
    const inputs = recipe.inputs.length ? recipe.inputs.slice(0, opts.maxInputs) : [[]];
    inputs.forEach((stream, i) => {
      g.c = new Choices(stream);
      const dtype = inputDType(g.c, opts);
      const param = g.c.oneIn(3);
      g.input(param ? `w.${i}` : `x${i}`, tensorType(dtype, randomShape(g.c, opts.maxElements)), param ? 'parameter' : 'activation');
    });
  }
  let last: Value | undefined;
  recipe.steps.slice(0, opts.maxNodes).forEach((step, i) => {
    g.c = new Choices(step.choices);
    const block = opts.model ? modelBlock(step.op, i) : pickStep(ops, opts.blocks, step.op);
    last = 'role' in block ? block.generate(g, streamFor(g, block)) : block.gen.generate(g, block.name);
    g.pool.push(last);
  });
  g.b.output('out0', last ?? g.pool[g.pool.length - 1]!);
  recipe.outputs.slice(0, opts.maxOutputs - 1).forEach((pick, i) => g.b.output(`out${i + 1}`, g.pool[pick % g.pool.length]!));
  return g.b.build();
}
