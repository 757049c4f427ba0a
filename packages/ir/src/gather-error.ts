/**
 * The out-of-range gather index, the one run-time error of the op set
 * (PyTorch's IndexError). Every backend reports it with the same message:
 * the interpreter from the op's semantics, the kernel backends from the
 * fault their generated kernels record, so a user sees the same line
 * whichever backend ran the program.
 */
import { type SourceLoc, TesseraError, TypeRuleError } from './errors.ts';

/** How errors name a node: `%y = gather(%table, %ids)`. */
export function describeNode(name: string, op: string, operands: readonly string[]): string {
  return `%${name} = ${op}(${operands.map((o) => `%${o}`).join(', ')})`;
}

/** What the gather op's semantics throw: the detail, without the node (the interpreter adds it). */
export class IndexRangeError extends TypeRuleError {
  constructor(
    readonly index: number,
    /** Flat (row-major) position of the offending value in the indices tensor. */
    readonly position: number,
    readonly extent: number,
  ) {
    super(`index ${index} at position ${position} of the indices is out of range [0, ${extent})`);
    this.name = 'IndexRangeError';
  }
}

/** The gather node an out-of-range index belongs to: its name, operands and source location. */
export interface GatherNode {
  readonly node: string;
  readonly operands: readonly string[];
  readonly loc?: SourceLoc;
}

/**
 * An index outside a gather's table, on any backend. When several indices
 * are out of range, the one reported is the one at the least position (the
 * first the interpreter meets), so every backend names the same one.
 */
export class GatherIndexError extends TesseraError {
  constructor(
    readonly gather: GatherNode,
    readonly index: number,
    readonly position: number,
    readonly extent: number,
  ) {
    super(`while evaluating ${describeNode(gather.node, 'gather', gather.operands)}: ${new IndexRangeError(index, position, extent).message}`, gather.loc);
    this.name = 'GatherIndexError';
  }
}
