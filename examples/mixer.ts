/**
 * A Linear stem and one MLP-Mixer block (Tolstikhin et al., 2021): token
 * mixing (LayerNorm, transpose, an MLP across the 16 tokens, transpose
 * back, residual add), then channel mixing (LayerNorm, an MLP across the 32
 * channels, residual add). The model that found the memory-plan bug: its
 * first residual add reads the token MLP's transposed output.
 *   pnpm tessera compile examples/mixer.ts --emit kernels
 */
import { Module, type Tensor, nn } from '@tessera/frontend';

class MixerBlock extends Module {
  readonly token_norm = new nn.LayerNorm(32);
  readonly token_fc1 = new nn.Linear(16, 24);
  readonly token_act = new nn.GELU();
  readonly token_fc2 = new nn.Linear(24, 16);
  readonly channel_norm = new nn.LayerNorm(32);
  readonly channel_fc1 = new nn.Linear(32, 64);
  readonly channel_act = new nn.GELU();
  readonly channel_fc2 = new nn.Linear(64, 32);

  forward(x: Tensor): Tensor {
    const tokens = this.token_norm.forward(x).transpose(1, 2);
    const mixed = this.token_fc2.forward(this.token_act.forward(this.token_fc1.forward(tokens))).transpose(1, 2);
    const y = x.add(mixed);
    return y.add(this.channel_fc2.forward(this.channel_act.forward(this.channel_fc1.forward(this.channel_norm.forward(y)))));
  }
}

class Mixer extends Module {
  readonly stem = new nn.Linear(32, 32);
  readonly block = new MixerBlock();

  forward(x: Tensor): Tensor {
    return this.block.forward(this.stem.forward(x));
  }
}

export const inputs = { x: 'f32[2,16,32]' };

export default new Mixer();
