import { Module } from '../module.ts';
import type { Tensor } from '../tensor.ts';

/** softmax along `dim`, as torch.nn.Softmax(dim) (default the last axis). */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  /** Applies softmax along dim. */
  forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
}

/** log(softmax(x)) along `dim`, computed stably, as torch.nn.LogSoftmax(dim) (default the last axis). */
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  /** Applies log_softmax along dim. */
  forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
}
