/** The activations of transformers' ACT2FN that Tessera computes, by their config names (hidden_act, activation_function, pooler_act). */
import { type Tensor, ops } from '@tessera/frontend';

/** One activation function, as Tessera computes it. */
export type HfActivation = 'gelu' | 'gelu_tanh' | 'quick_gelu' | 'relu' | 'relu2' | 'relu6' | 'silu' | 'tanh' | 'sigmoid' | 'linear';

/**
 * ACT2FN's names that Tessera supports, and the function each is:
 * gelu/gelu_python are the exact (erf) GELU; gelu_new, gelu_pytorch_tanh,
 * gelu_fast and gelu_accurate are the tanh approximation written four ways
 * (the same function); swish is silu. Not supported: gelu_10, mish,
 * leaky_relu, prelu, laplace, xielu and any other name.
 */
export const HF_ACTIVATIONS: Readonly<Record<string, HfActivation>> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_accurate: 'gelu_tanh',
  quick_gelu: 'quick_gelu',
  relu: 'relu',
  relu2: 'relu2',
  relu6: 'relu6',
  silu: 'silu',
  swish: 'silu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  linear: 'linear',
};

/** Applies activation `act` elementwise. */
export function applyActivation(x: Tensor, act: HfActivation): Tensor {
  switch (act) {
    case 'gelu':
      return ops.gelu(x);
    case 'gelu_tanh':
      return ops.gelu(x, 'tanh');
    case 'quick_gelu':
      return x.mul(ops.sigmoid(x.mul(1.702)));
    case 'relu':
      return ops.relu(x);
    case 'relu2':
      return ops.relu(x).mul(ops.relu(x));
    case 'relu6':
      return ops.clamp(x, 0, 6);
    case 'silu':
      return ops.silu(x);
    case 'tanh':
      return ops.tanh(x);
    case 'sigmoid':
      return ops.sigmoid(x);
    case 'linear':
      return x;
  }
}
