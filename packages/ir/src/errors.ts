/** A position in a source file: IR text or a user's DSL file. Lines and columns count from 1. */
export interface SourceLoc {
  readonly file?: string;
  readonly line: number;
  readonly col: number;
}

/** Formats a location as `file:line:col` (or `line:col` without a file). */
export function formatLoc(loc: SourceLoc): string {
  return `${loc.file ? `${loc.file}:` : ''}${loc.line}:${loc.col}`;
}

/** Base class of every error Tessera reports to a user; carries an optional location. */
export class TesseraError extends Error {
  constructor(
    message: string,
    readonly loc?: SourceLoc,
  ) {
    super(loc ? `${formatLoc(loc)}: ${message}` : message);
    this.name = 'TesseraError';
  }
}

/**
 * Thrown by an op's type rule with only the detail ("expected ..."). The
 * builder and verifier wrap it with the op name and operand types, so type
 * rules stay short and every message has the same shape.
 */
export class TypeRuleError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'TypeRuleError';
  }
}

/** An op applied to operands or attributes its type rule rejects. */
export class OpTypeError extends TesseraError {
  constructor(
    readonly op: string,
    readonly operandTypes: readonly string[],
    readonly detail: string,
    loc?: SourceLoc,
  ) {
    super(`${op}(${operandTypes.join(', ')}): ${detail}`, loc);
    this.name = 'OpTypeError';
  }
}

/** A program that breaks an IR invariant (SSA, types, outputs, attributes). */
export class VerifyError extends TesseraError {
  constructor(
    message: string,
    loc?: SourceLoc,
    readonly issues: readonly VerifyIssue[] = [],
  ) {
    super(message, loc);
    this.name = 'VerifyError';
  }
}

/** One verifier finding: what is wrong and, where known, where. */
export interface VerifyIssue {
  readonly message: string;
  readonly loc?: SourceLoc;
  /** Name of the value (node or input) the issue is about, when there is one. */
  readonly value?: string;
}
