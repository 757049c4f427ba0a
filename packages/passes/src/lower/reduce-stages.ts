/**
 * What a reduce kernel computes for each reduction-like graph op: the
 * stages folding its operand, and the value its stores write. One table for
 * the reductions over axes (one store per output element) and one for the
 * row kernels (a row store at every point: softmax, log_softmax, and
 * cumsum, a scan). layer_norm, which reads its weights, stays in lower.ts.
 */
import { type DType, type OpName, reductionFold } from '@tessera/ir';
import { E, type Expr, type ReductionStage } from '@tessera/kernel';

/** The stages of one op's kernel and the value it stores (`scan`: the row stores see running values). */
export interface ReduceStages {
  readonly stages: readonly ReductionStage[];
  readonly value: Expr;
  readonly scan?: boolean;
}

/** What a rule is given: the operand at the current point, the result dtype, and for one-axis ops the reduced axis. */
export interface StageInputs {
  readonly x: Expr;
  readonly dtype: DType;
  /** Elements each output folds (the mean divides by it). */
  readonly count: number;
  /** The index along the reduced axis (the kernel's last axis), and that axis's extent. */
  readonly index: Expr;
  readonly extent: number;
}

type Rule = (inputs: StageInputs) => ReduceStages;

const stage = (name: string, combiner: ReductionStage['combiner'], value: Expr): ReductionStage => ({ name, combiner, dtype: value.dtype, value });
const f32 = (v: number): Expr => E.const('f32', v);

/** The maximum and the sum of exp(x - shift) of softmax-like kernels; `shift` of the maximum ref. */
function expSumStages(x: Expr, shift: (max: Expr) => Expr): { stages: ReductionStage[]; shifted: Expr; sum: Expr } {
  const shifted = E.binary('sub', x, shift(E.ref('f32', 'max')));
  return { stages: [stage('max', 'max', x), stage('sum', 'sum', E.unary('exp', shifted))], shifted, sum: E.ref('f32', 'sum') };
}

/** Bool values fold as i32 0/1 (no backend keeps bool accumulators); any/all fold truth (x != 0, NaN true). */
function foldAxes(op: string): Rule | undefined {
  const fold = reductionFold(op);
  if (!fold) return undefined;
  return ({ x, dtype, count }) => {
    const truth = fold.truth && x.dtype !== 'bool' ? E.cast('bool', x) : x;
    const folded = truth.dtype === 'bool' ? E.cast('i32', truth) : truth;
    const acc = E.ref(folded.dtype, 'r');
    const value = dtype === 'bool' ? E.cast('bool', acc) : fold.mean ? E.binary('div', acc, E.const(dtype, count)) : acc;
    return { stages: [stage('r', fold.combiner, folded)], value };
  };
}

/** argmax/argmin: the extreme, then the least index holding it (NaN is the extreme: only NaNs hit where the line has one). */
const argExtreme =
  (combiner: 'max' | 'min'): Rule =>
  ({ x, index, extent }) => {
    const eq = E.compare('eq', x, E.ref(x.dtype, 'best'));
    const hit = x.dtype === 'f32' ? E.select(E.compare('ne', x, x), E.const('bool', 1), eq) : eq;
    return { stages: [stage('best', combiner, x), stage('at', 'min', E.select(hit, index, E.const('i32', extent)))], value: E.ref('i32', 'at') };
  };

/** logsumexp: max, sum of exp(x - shift) with the shift 0 where the max is infinite (logsumexpShift), then log(sum) + shift. */
const logsumexp: Rule = ({ x }) => {
  const shift = (max: Expr) => E.select(E.compare('eq', E.unary('abs', max), f32(Infinity)), f32(0), max);
  const { stages, sum } = expSumStages(x, shift);
  return { stages, value: E.binary('add', E.unary('log', sum), shift(E.ref('f32', 'max'))) };
};

const OTHER_REDUCTIONS: Readonly<Partial<Record<OpName, Rule>>> = { argmax: argExtreme('max'), argmin: argExtreme('min'), logsumexp };

/** The stages of a reduction over axes (sum, max, mean, min, prod, any, all, argmax, argmin, logsumexp), or undefined. */
export function reductionStages(op: OpName): Rule | undefined {
  return foldAxes(op) ?? OTHER_REDUCTIONS[op];
}

/** Row kernels: stages over the row, and the value of each point of it. */
const ROW_RULES: Readonly<Partial<Record<OpName, Rule>>> = {
  softmax: ({ x }) => {
    const { stages, shifted, sum } = expSumStages(x, (m) => m);
    return { stages, value: E.binary('div', E.unary('exp', shifted), sum) };
  },
  log_softmax: ({ x }) => {
    const { stages, shifted, sum } = expSumStages(x, (m) => m);
    return { stages, value: E.binary('sub', shifted, E.unary('log', sum)) };
  },
  cumsum: ({ x }) => ({ stages: [stage('sum', 'sum', x)], value: E.ref(x.dtype, 'sum'), scan: true }),
};

/** The stages of a row kernel (softmax, log_softmax, cumsum), or undefined. */
export function rowStages(op: OpName): Rule | undefined {
  return ROW_RULES[op];
}
