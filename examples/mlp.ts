/**
 * A small MLP: Linear -> GELU -> LayerNorm -> Linear.
 *   pnpm tessera compile examples/mlp.ts --emit ir
 */
import { Module, type Tensor, nn } from '@tessera/frontend';

class MLP extends Module {
  readonly fc1 = new nn.Linear(16, 32);
  readonly act = new nn.GELU();
  readonly norm = new nn.LayerNorm(32);
  readonly fc2 = new nn.Linear(32, 8);

  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.norm.forward(this.act.forward(this.fc1.forward(x))));
  }
}

export const inputs = { x: 'f32[2,16]' };

export default new MLP();
