/** The error a converter raises for what it cannot convert. */
import { TesseraError } from '@tessera/ir';

/** A node the importer cannot convert: the detail (what is missing); the importer names the node. */
export class UnsupportedError extends TesseraError {
  constructor(detail: string) {
    super(detail);
    this.name = 'UnsupportedError';
  }
}

/** Throws an UnsupportedError. */
export function unsupported(detail: string): never {
  throw new UnsupportedError(detail);
}
