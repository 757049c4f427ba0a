/** The position-wise feed-forward block: Linear -> activation -> Linear. */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';

/** The activation between the two linear layers. */
export type Activation = 'relu' | 'gelu';

/** Child names of the two linear layers, as each checkpoint spells them. */
export interface FeedForwardNames {
  readonly fc1: string;
  readonly fc2: string;
}

/** torchvision's MLPBlock (Linear, GELU, Dropout, Linear, Dropout): children `0` and `3`. */
export const TORCHVISION_MLP: FeedForwardNames = { fc1: '0', fc2: '3' };
/** timm's Mlp: children `fc1` and `fc2`. */
export const TIMM_MLP: FeedForwardNames = { fc1: 'fc1', fc2: 'fc2' };

/** fc2(act(fc1(x))) with the linear layers registered under checkpoint names. */
export class FeedForward extends Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;

  constructor(
    dModel: number,
    dHidden: number,
    readonly activation: Activation,
    names: FeedForwardNames,
  ) {
    super();
    this.fc1 = this.registerModule(names.fc1, new nn.Linear(dModel, dHidden));
    this.fc2 = this.registerModule(names.fc2, new nn.Linear(dHidden, dModel));
  }

  /** [..., d] -> [..., d]. */
  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x);
    return this.fc2.forward(this.activation === 'relu' ? ops.relu(h) : ops.gelu(h));
  }
}
