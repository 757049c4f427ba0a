"""torchvision's VisionTransformer (torchvision 0.28, BSD-3-Clause),
reproduced module for module for the ONNX tools: no torchvision build
matches the torch 2.13 of /work/pyenv. Same module tree, parameter names
(conv_proj, class_token, encoder.pos_embedding,
encoder.layers.encoder_layer_N.{ln_1, self_attention, ln_2, mlp.0, mlp.3},
encoder.ln, heads.head) and forward as
torchvision.models.vision_transformer.VisionTransformer without a conv stem
or representation layer. Weights are whatever the caller sets.
"""
from collections import OrderedDict
from functools import partial

import torch
from torch import nn

LayerNorm = partial(nn.LayerNorm, eps=1e-6)


class EncoderBlock(nn.Module):
    def __init__(self, num_heads, hidden_dim, mlp_dim):
        super().__init__()
        self.ln_1 = LayerNorm(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=0.0, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = LayerNorm(hidden_dim)
        # torchvision's MLPBlock is an MLP: Sequential(Linear, GELU, Dropout, Linear, Dropout).
        self.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_dim), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp_dim, hidden_dim), nn.Dropout(0.0))

    def forward(self, input):
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x)
        x = x + input
        y = self.ln_2(x)
        y = self.mlp(y)
        return x + y


class Encoder(nn.Module):
    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(0.0)
        self.layers = nn.Sequential(OrderedDict((f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim)) for i in range(num_layers)))
        self.ln = LayerNorm(hidden_dim)

    def forward(self, input):
        input = input + self.pos_embedding
        return self.ln(self.layers(self.dropout(input)))


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes=1000):
        super().__init__()
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.conv_proj = nn.Conv2d(in_channels=3, out_channels=hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim)
        self.seq_length = seq_length
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(hidden_dim, num_classes)))

    def _process_input(self, x):
        n, c, h, w = x.shape
        p = self.patch_size
        n_h = h // p
        n_w = w // p
        x = self.conv_proj(x)
        x = x.reshape(n, self.hidden_dim, n_h * n_w)
        x = x.permute(0, 2, 1)
        return x

    def forward(self, x):
        x = self._process_input(x)
        n = x.shape[0]
        batch_class_token = self.class_token.expand(n, -1, -1)
        x = torch.cat([batch_class_token, x], dim=1)
        x = self.encoder(x)
        x = x[:, 0]
        x = self.heads(x)
        return x


def randomize(model, seed):
    """Seeded random weights of a useful scale for every parameter (LayerNorm weights near 1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if ".ln" in name or name.startswith("ln") or "LayerNorm" in name or "layernorm" in name or "ln_f" in name:
                p.copy_(1 + 0.1 * r if name.endswith("weight") else 0.1 * r)
            else:
                fan_in = p.shape[-1] if p.dim() > 1 else 8
                p.copy_(r / fan_in ** 0.5 if p.dim() > 1 else 0.1 * r)
    return model


def Vit(c):
    """The ViT of a Tessera ViT config dict (image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim,
    num_classes, layer_norm_eps), as the int8 tools build it."""
    m = VisionTransformer(c["image_size"], c["patch_size"], c["num_layers"], c["num_heads"], c["hidden_dim"], c["mlp_dim"], c["num_classes"])
    for ln in (x for x in m.modules() if isinstance(x, nn.LayerNorm)):
        ln.eps = c.get("layer_norm_eps", ln.eps)
    return m
