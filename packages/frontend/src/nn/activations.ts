import { Module } from '../module.ts';
import { gelu, relu } from '../ops/nn.ts';
import type { Tensor } from '../tensor.ts';

/** max(x, 0), as torch.nn.ReLU. */
export class ReLU extends Module {
  /** Applies relu elementwise. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** GELU, as torch.nn.GELU(approximate='none' | 'tanh'). */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  /** Applies gelu elementwise. */
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** Hyperbolic tangent, as torch.nn.Tanh. */
export class Tanh extends Module {
  /** Applies tanh elementwise. */
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** Dropout, as torch.nn.Dropout(p): the identity, since traced programs are for inference. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }

  /** Returns x unchanged (inference). */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Returns its input, as torch.nn.Identity. */
export class Identity extends Module {
  /** Returns x. */
  forward(x: Tensor): Tensor {
    return x;
  }
}
