import { type SourceLoc, TesseraError } from '../errors.ts';

/** A syntax error in IR text; the message reads `file:line:col: expected ..., found ...`. */
export class ParseError extends TesseraError {
  constructor(
    /** The message without the location prefix. */
    readonly detail: string,
    override readonly loc: SourceLoc,
  ) {
    super(detail, loc);
    this.name = 'ParseError';
  }
}
