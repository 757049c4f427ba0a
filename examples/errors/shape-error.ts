// A deliberate shape mismatch (used by the tests): fc2 expects 32 features but gets 24.
import { Module, type Tensor, nn } from '@tessera/frontend';

class Mismatched extends Module {
  readonly fc1 = new nn.Linear(16, 24);
  readonly fc2 = new nn.Linear(32, 8);

  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x).tanh();
    return this.fc2.forward(h);
  }
}

export const inputs = { x: 'f32[2,16]' };

export default new Mismatched();
