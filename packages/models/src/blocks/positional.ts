/** Positional encodings: the sinusoidal table of "Attention Is All You Need", computed in the graph. */
import { type Tensor, ops } from '@tessera/frontend';

/**
 * The angle rates 1 / 10000^(2i/d) for i < d/2, computed in float64 here
 * and held as an f32 constant (exp(-2i·ln(10000)/d), as PyTorch tutorials write it).
 */
function angleRates(d: number): Float32Array {
  return Float32Array.from({ length: d / 2 }, (_, i) => Math.exp((2 * i * -Math.log(10000)) / d));
}

/**
 * Sinusoidal encodings of f32 positions [..., T] giving [..., T, d]:
 * sin(pos·rate_i) on even dimensions 2i and cos(pos·rate_i) on odd ones
 * 2i+1. The interleave is the idea itself: stack sin and cos on a new last
 * axis of extent 2 and merge it into the feature axis.
 */
export function sinusoidalEncoding(positions: Tensor, d: number): Tensor {
  if (d % 2 !== 0) throw new RangeError(`sinusoidal encoding needs an even width, got d_model ${d}`);
  const angles = positions.unsqueeze(-1).mul(ops.constant(angleRates(d))); // [..., T, d/2]
  const pair = ops.concat([angles.sin().unsqueeze(-1), angles.cos().unsqueeze(-1)], -1); // [..., T, d/2, 2]
  return pair.reshape([...positions.shape, d]);
}

/** Encodings of positions 0..T-1, [T, d]. */
export function sinusoidalTable(t: number, d: number): Tensor {
  return sinusoidalEncoding(ops.arange(t, 'f32'), d);
}
