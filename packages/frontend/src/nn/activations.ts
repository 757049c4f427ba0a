import { Module } from '../module.ts';
import { gelu, relu, sigmoid, silu } from '../ops/nn.ts';
import type { Tensor } from '../tensor.ts';

/** max(x, 0), as torch.nn.ReLU. */
export class ReLU extends Module {
  /** Applies relu elementwise. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x * sigmoid(x), as torch.nn.SiLU. */
export class SiLU extends Module {
  /** Applies silu elementwise. */
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** 1 / (1 + e^-x), as torch.nn.Sigmoid. */
export class Sigmoid extends Module {
  /** Applies the sigmoid elementwise. */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Which GELU: the exact (erf) form, or the tanh approximation. */
export type GeluApproximation = 'none' | 'tanh';

/** GELU, as torch.nn.GELU(approximate='none' | 'tanh'): `new GELU('tanh')` or `new GELU({ approximate: 'tanh' })`. */
export class GELU extends Module {
  readonly approximate: GeluApproximation;

  constructor(approximate: GeluApproximation | { readonly approximate?: GeluApproximation } = 'none') {
    super();
    this.approximate = typeof approximate === 'string' ? approximate : (approximate.approximate ?? 'none');
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
