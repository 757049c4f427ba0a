// A deliberate TypeScript type error (used by the tests): the layer size is a string.
// Named .mts so the repository-wide `tsc -p tsconfig.json` (which includes examples/**/*.ts) stays clean.
import { Module, type Tensor, nn } from '@tessera/frontend';

class Broken extends Module {
  readonly fc = new nn.Linear('16', 8);

  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

export const inputs = { x: 'f32[2,16]' };

export default new Broken();
