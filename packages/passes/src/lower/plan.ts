import { type Node, type Program, shapesEqual } from '@tessera/ir';
import { isCheapElementwise, isElementwiseOp, isRootOp, isViewOp, lowerRule } from './rules.ts';
import { denseView, reshapeView, transposeView } from './view.ts';

/**
 * Which values get a buffer, which are computed inside their consumers.
 * - `deferred`: never stored; every consumer evaluates it inline (an
 *   elementwise prologue, a cheap index computation such as a mask).
 * - `members`: the elementwise epilogue (and trailing transposes/reshapes)
 *   of a root (matmul, reduction, row kernel, attention), computed by the
 *   root's kernel; `sinks` maps each root to the value its kernel stores.
 * Everything else is stored by its own kernel, or is a view.
 */
export interface FusionPlan {
  readonly deferred: ReadonlySet<string>;
  readonly members: ReadonlyMap<string, string>;
  readonly sinks: ReadonlyMap<string, string>;
}

/** The plan with fusion off: every op gets its own kernel. */
export const NO_FUSION: FusionPlan = { deferred: new Set(), members: new Map(), sinks: new Map() };

/** A reshape that only adds or removes 1-sized axes: an affine re-indexing even of a computed value. */
export function isUnitReshape(from: readonly number[], to: readonly number[]): boolean {
  const a = from.filter((d) => d !== 1);
  const b = to.filter((d) => d !== 1);
  return shapesEqual(a, b);
}

/**
 * Whether a kernel can store in its root's coordinates into the dense buffer
 * of the last of `moves` (transposes and reshapes after the root): the
 * inverse view of that buffer, back through each move, must stay strided.
 */
function storeViewExists(moves: readonly Node[], shapeOf: (name: string) => readonly number[]): boolean {
  let view: ReturnType<typeof denseView> | undefined = denseView(0, moves.at(-1)!.type.shape);
  for (const m of [...moves].reverse()) {
    if (!view) return false;
    if (m.op === 'transpose') {
      const perm = m.attrs.perm as number[];
      view = transposeView(view, perm.map((_, i) => perm.indexOf(i)));
    } else view = reshapeView(view, shapeOf(m.operands[0]!));
  }
  return view !== undefined;
}

/**
 * Plans fusion over the graph, following the lattice: elementwise chains
 * fuse into their single consumer; reductions, row kernels and matmuls
 * absorb elementwise prologues (matmul: views only, since a tiled matmul
 * would recompute a prologue per tile) and their single-consumer
 * elementwise epilogue; cheap index computations (iota, comparisons,
 * selects over integer inputs and constants: masks) are recomputed in every
 * consumer rather than stored. `ignoredConsumers` (paired attention
 * probes) count as no consumer of their operands.
 */
export function planFusion(p: Program, ignoredConsumers: ReadonlySet<string> = new Set()): FusionPlan {
  const nodes = new Map(p.nodes.map((n) => [n.name, n] as const));
  const inputs = new Map(p.inputs.map((i) => [i.name, i] as const));
  const outputs = new Set(p.outputs.map((o) => o.value));
  const users = new Map<string, Node[]>();
  // Paired attention probes read their operands through their attention's kernel: they are no consumer to plan for.
  for (const n of p.nodes) if (!ignoredConsumers.has(n.name)) for (const o of new Set(n.operands)) users.set(o, [...(users.get(o) ?? []), n]);
  const usersOf = (name: string) => users.get(name) ?? [];

  const cheapMemo = new Map<string, boolean>();
  /** Cheap to recompute anywhere: index arithmetic over iota, constants and integer/bool inputs. */
  const cheap = (name: string): boolean => {
    const known = cheapMemo.get(name);
    if (known !== undefined) return known;
    const inp = inputs.get(name);
    let result: boolean;
    if (inp) result = inp.type.dtype !== 'f32';
    else {
      const n = nodes.get(name)!;
      if (n.op === 'iota' || n.op === 'constant') result = true;
      else if (isViewOp(n.op)) result = (n.op !== 'reshape' || isUnitReshape(typeOf(n.operands[0]!), n.type.shape)) && cheap(n.operands[0]!);
      else if (isCheapElementwise(n.op)) result = n.operands.every(cheap);
      else result = false;
    }
    cheapMemo.set(name, result);
    return result;
  };
  const typeOf = (name: string) => (nodes.get(name)?.type ?? inputs.get(name)!.type).shape;

  // Epilogue groups first: a root, then single-consumer elementwise ops of the
  // same shape, then transposes/reshapes whose store can still be a view.
  const members = new Map<string, string>();
  const sinks = new Map<string, string>();
  for (const root of p.nodes) {
    if (!isRootOp(root.op)) continue;
    let tail = root;
    const moves: Node[] = [];
    for (;;) {
      const next = usersOf(tail.name);
      if (outputs.has(tail.name) || next.length !== 1) break;
      const c = next[0]!;
      // A consumer of two roots joins the first one's kernel; the second root stores its result.
      if (members.has(c.name)) break;
      if (moves.length === 0 && isElementwiseOp(c.op) && shapesEqual(c.type.shape, root.type.shape)) {
        tail = c;
      } else if ((c.op === 'transpose' || c.op === 'reshape') && storeViewExists([...moves, c], typeOf)) {
        moves.push(c);
        tail = c;
      } else break;
      members.set(tail.name, root.name);
    }
    sinks.set(root.name, tail.name);
  }

  const deferred = new Set<string>();
  const acceptsMemo = new Map<string, boolean>();
  /** Whether value `name` can be computed inside every consumer instead of stored. */
  const canDefer = (name: string): boolean => {
    const known = acceptsMemo.get(name);
    if (known !== undefined) return known;
    const n = nodes.get(name);
    let ok = false;
    if (n && !outputs.has(name) && !isRootOp(n.op) && !members.has(name) && n.op !== 'constant') {
      const elementwise = isElementwiseOp(n.op) || n.op === 'iota';
      const movement = isViewOp(n.op) && (n.op !== 'reshape' || isUnitReshape(typeOf(n.operands[0]!), n.type.shape));
      if (elementwise || movement) {
        const cs = usersOf(name);
        ok = cheap(name) || (cs.length === 1 && consumerAccepts(cs[0]!, name));
      }
    }
    acceptsMemo.set(name, ok);
    return ok;
  };
  /** Whether consumer `c` can evaluate a non-cheap operand inline. */
  const consumerAccepts = (c: Node, operand: string): boolean => {
    const rule = lowerRule(c.op);
    if (rule.kind === 'elementwise') return true;
    if (rule.kind === 'view') return canDefer(c.name) || members.has(c.name);
    // Reductions, row kernels and scans read their operand at each point of their iteration space: a prologue fuses in.
    // Attention inlines only its mask; a tiled matmul (and a convolution) reads views only.
    if (rule.kind === 'reduce' || rule.kind === 'row') return true;
    if (rule.kind === 'attention') return c.operands.indexOf(operand) === 3;
    return false;
  };
  for (const n of p.nodes) {
    // A movement of a stored value is a view, never deferred; of a deferred value it is deferred.
    if (isViewOp(n.op) && !deferred.has(n.operands[0]!)) continue;
    if (canDefer(n.name)) deferred.add(n.name);
  }
  return { deferred, members, sinks };
}
