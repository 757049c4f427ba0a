/**
 * Recurrent layers with torch.nn.GRU's and torch.nn.LSTM's parameters,
 * names and gate order. The time loop is unrolled at trace time over the
 * static sequence length: each layer and direction projects every input
 * step at once (one matmul), then each step adds the hidden state's
 * projection and applies the gates, elementwise.
 */
import { Module } from '../module.ts';
import { zeros } from '../ops/create.ts';
import { linear } from '../ops/nn.ts';
import { concat } from '../ops/shape.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** Options of nn.GRU and nn.LSTM (torch.nn.GRU's keyword arguments). */
export interface RNNOptions {
  /** Stacked layers (default 1). */
  readonly numLayers?: number;
  /** Whether the projections have biases (default true): bias_ih_l{k} and bias_hh_l{k}. */
  readonly bias?: boolean;
  /** Inputs and outputs [B, T, F] instead of [T, B, F] (default false, as PyTorch). */
  readonly batchFirst?: boolean;
  /** A second direction reading the sequence backwards, its outputs concatenated after the first's (default false). */
  readonly bidirectional?: boolean;
  /** Dropout between layers: accepted for PyTorch parity, ignored (inference). */
  readonly dropout?: number;
}

/** One layer and direction's weights: `weight_ih` [G·H, in], `weight_hh` [G·H, H] and their biases [G·H]. */
interface CellWeights {
  readonly ih: Parameter;
  readonly hh: Parameter;
  readonly bih: Parameter | undefined;
  readonly bhh: Parameter | undefined;
}

/** The recurrent state of one layer and direction: h (and c for an LSTM), each [B, H]. */
interface CellState {
  readonly h: Tensor;
  readonly c?: Tensor;
}

/**
 * What GRU and LSTM share: the parameters of every layer and direction,
 * named as PyTorch's (`weight_ih_l0`, ..., `_reverse` for the backward
 * direction) and registered in its order, and the unrolled loop over
 * layers, directions and steps. Subclasses give the gate count and the step.
 */
abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  /** Weights per layer, then direction (index 2k + d when bidirectional). */
  private readonly cells: CellWeights[] = [];

  constructor(
    readonly kind: 'GRU' | 'LSTM',
    gates: number,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RNNOptions,
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.batchFirst = opts.batchFirst ?? false;
    this.bidirectional = opts.bidirectional ?? false;
    for (const [what, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['numLayers', this.numLayers]] as const) {
      if (!Number.isInteger(v) || v < 1) dslError(`${kind}: ${what} must be a positive integer, got ${v}`);
    }
    const dirs = this.directions;
    const g = gates * hiddenSize;
    for (let k = 0; k < this.numLayers; k++) {
      for (let d = 0; d < dirs; d++) {
        const suffix = `_l${k}${d === 1 ? '_reverse' : ''}`;
        const inSize = k === 0 ? inputSize : hiddenSize * dirs;
        const ih = this.registerParameter(`weight_ih${suffix}`, this.parameter([g, inSize]));
        const hh = this.registerParameter(`weight_hh${suffix}`, this.parameter([g, hiddenSize]));
        const withBias = opts.bias !== false;
        const bih = withBias ? this.registerParameter(`bias_ih${suffix}`, this.parameter([g])) : undefined;
        const bhh = withBias ? this.registerParameter(`bias_hh${suffix}`, this.parameter([g])) : undefined;
        this.cells.push({ ih, hh, bih, bhh });
      }
    }
  }

  /** 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * One step from `state` given the input's projection `gx` [B, G·H] (bias
   * included) and the weights (for the hidden state's projection).
   */
  protected abstract step(gx: Tensor, state: CellState, w: CellWeights): CellState;

  /** Gate i ([B, H]) of projections [B, G·H]. */
  protected gate(x: Tensor, i: number): Tensor {
    const h = this.hiddenSize;
    return x.slice(-1, i * h, (i + 1) * h);
  }

  /** The hidden state's projection h W_hhᵀ + b_hh [B, G·H]. */
  protected hidden(h: Tensor, w: CellWeights): Tensor {
    return linear(h, w.hh, w.bhh);
  }

  /** Checks an initial state [L·D, B, H] (or [L·D, H] unbatched), naming it. */
  private checkState(what: string, s: Tensor, batch: number | undefined): void {
    const want = batch === undefined ? [this.numLayers * this.directions, this.hiddenSize] : [this.numLayers * this.directions, batch, this.hiddenSize];
    if (s.rank !== want.length || s.shape.some((d, i) => d !== want[i])) {
      dslError(`${this.kind}: ${what} has shape [${s.shape.join(', ')}], expected [${want.join(', ')}] (num_layers x directions, ${batch === undefined ? '' : 'batch, '}hidden_size)`);
    }
  }

  /**
   * Runs the layers over `input` ([B, T, in] batch first, [T, B, in]
   * otherwise, or unbatched [T, in]) from initial states [L·D, B, H] (zeros
   * when absent); returns the last layer's outputs [B, T, D·H] (same layout
   * as the input) and the final states [L·D, B, H] in PyTorch's order
   * (layer 0 forward, layer 0 backward, layer 1 forward, ...).
   */
  protected run(input: Tensor, h0: Tensor | undefined, c0: Tensor | undefined): { output: Tensor; h: Tensor; c: Tensor | undefined } {
    const unbatched = input.rank === 2;
    if (input.rank !== 2 && input.rank !== 3) dslError(`${this.kind}: input must be [T, ${this.inputSize}] or rank 3, got shape [${input.shape.join(', ')}]`);
    let x = unbatched ? input.unsqueeze(0) : this.batchFirst ? input : input.transpose([1, 0, 2]);
    const [b, t, f] = x.shape as [number, number, number];
    if (f !== this.inputSize) dslError(`${this.kind}: input has ${f} features, expected input_size ${this.inputSize}`);
    for (const [what, s] of [['h0', h0], ['c0', c0]] as const) if (s) this.checkState(what, s, unbatched ? undefined : b);
    const initial = (s: Tensor | undefined, i: number) => (s ? (unbatched ? s.select(0, i).unsqueeze(0) : s.select(0, i)) : undefined);
    const finals: CellState[] = [];
    for (let k = 0; k < this.numLayers; k++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.directions; d++) {
        const i = k * this.directions + d;
        const w = this.cells[i]!;
        // Every step's input projection in one matmul.
        const gx = linear(x, w.ih, w.bih);
        const h = initial(h0, i) ?? zeros([b, this.hiddenSize]);
        let state: CellState = this.kind === 'LSTM' ? { h, c: initial(c0, i) ?? zeros([b, this.hiddenSize]) } : { h };
        const ys: Tensor[] = new Array<Tensor>(t);
        for (let n = 0; n < t; n++) {
          const step = d === 0 ? n : t - 1 - n;
          state = this.step(gx.select(1, step), state, w);
          ys[step] = state.h.unsqueeze(1);
        }
        outs.push(t === 1 ? ys[0]! : concat(ys, 1));
        finals.push(state);
      }
      x = outs.length === 1 ? outs[0]! : concat(outs, 2);
    }
    // One layer and direction: its state reshaped, not copied by a concat.
    const stack = (xs: Tensor[]) => (xs.length === 1 ? (unbatched ? xs[0]! : xs[0]!.unsqueeze(0)) : unbatched ? concat(xs, 0) : concat(xs.map((s) => s.unsqueeze(0)), 0));
    const output = unbatched ? x.squeeze(0) : this.batchFirst ? x : x.transpose([1, 0, 2]);
    return { output, h: stack(finals.map((s) => s.h)), c: this.kind === 'LSTM' ? stack(finals.map((s) => s.c!)) : undefined };
  }
}

/**
 * A gated recurrent unit, as torch.nn.GRU (gates r, z, n in that order):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super('GRU', 3, inputSize, hiddenSize, opts);
  }

  protected step(gx: Tensor, { h }: CellState, w: CellWeights): CellState {
    const gh = this.hidden(h, w);
    const r = this.gate(gx, 0).add(this.gate(gh, 0)).sigmoid();
    const z = this.gate(gx, 1).add(this.gate(gh, 1)).sigmoid();
    const n = this.gate(gx, 2).add(r.mul(this.gate(gh, 2))).tanh();
    // n is used once, so the fuser computes the whole step (gates and new state) in one kernel.
    return { h: z.neg().add(1).mul(n).add(z.mul(h)) };
  }

  /** Outputs [B, T, D·H] (or [T, B, D·H] unless batchFirst) and the final hidden states [L·D, B, H] from h0 (zeros when absent). */
  forward(input: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const r = this.run(input, h0, undefined);
    return [r.output, r.h];
  }
}

/**
 * A long short-term memory, as torch.nn.LSTM (gates i, f, g, o in that order):
 *   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of W_i· x + b_i· + W_h· h + b_h·,
 *   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c').
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super('LSTM', 4, inputSize, hiddenSize, opts);
  }

  protected step(gx: Tensor, { h, c }: CellState, w: CellWeights): CellState {
    const gates = gx.add(this.hidden(h, w));
    const i = this.gate(gates, 0).sigmoid();
    const f = this.gate(gates, 1).sigmoid();
    const g = this.gate(gates, 2).tanh();
    const o = this.gate(gates, 3).sigmoid();
    const next = f.mul(c!).add(i.mul(g));
    return { h: o.mul(next.tanh()), c: next };
  }

  /**
   * Outputs [B, T, D·H] (or [T, B, D·H] unless batchFirst) and the final
   * states [h_n, c_n], each [L·D, B, H], from [h0, c0] (zeros when absent).
   */
  forward(input: Tensor, state?: readonly [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const r = this.run(input, state?.[0], state?.[1]);
    return [r.output, [r.h, r.c!]];
  }
}
