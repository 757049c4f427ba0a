/**
 * One pre-norm transformer encoder block (as torch.nn.TransformerEncoderLayer
 * with norm_first=True, batch_first=True, GELU), batch 2, 7 tokens, width 12,
 * 3 heads. Parameter names match PyTorch's state_dict: self_attn.in_proj_weight,
 * linear1.weight, norm1.bias, ...
 *   pnpm tessera compile examples/tiny-encoder.ts --emit ir
 */
import { Module, type Tensor, nn } from '@tessera/frontend';

class EncoderBlock extends Module {
  readonly selfAttn: nn.MultiHeadAttention;
  readonly linear1: nn.Linear;
  readonly linear2: nn.Linear;
  readonly norm1: nn.LayerNorm;
  readonly norm2: nn.LayerNorm;
  readonly dropout = new nn.Dropout(0.1);
  readonly activation = new nn.GELU();

  constructor(dModel: number, nHead: number, dFeedforward: number) {
    super();
    this.selfAttn = this.registerModule('self_attn', new nn.MultiHeadAttention(dModel, nHead));
    this.linear1 = new nn.Linear(dModel, dFeedforward);
    this.linear2 = new nn.Linear(dFeedforward, dModel);
    this.norm1 = new nn.LayerNorm(dModel);
    this.norm2 = new nn.LayerNorm(dModel);
  }

  forward(x: Tensor): Tensor {
    const h = this.norm1.forward(x);
    const a = x.add(this.dropout.forward(this.selfAttn.forward(h, h, h)));
    const f = this.linear2.forward(this.activation.forward(this.linear1.forward(this.norm2.forward(a))));
    return a.add(this.dropout.forward(f));
  }
}

export const inputs = { x: 'f32[2,7,12]' };

export default new EncoderBlock(12, 3, 48);
