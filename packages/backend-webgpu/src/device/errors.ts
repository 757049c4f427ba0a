import { TesseraError } from '@tessera/ir';

/** No adapter could be found or no device created. */
export class WebgpuUnavailableError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'WebgpuUnavailableError';
  }
}
