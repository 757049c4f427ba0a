"""torchvision.models.VisionTransformer's module structure and state_dict
names (conv_proj, class_token, encoder.pos_embedding,
encoder.layers.encoder_layer_N.{ln_1, self_attention, ln_2, mlp.0, mlp.3},
encoder.ln, heads.head), for Pythons without torchvision: the same function
of the same weights, and the same nn.Linear modules for quantize_dynamic.
Imported by tools/int8_pytorch_dynamic.py and tools/export_vit_onnx.py.
"""
import torch
from torch import nn


class EncoderBlock(nn.Module):
    def __init__(self, heads, d, mlp, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.self_attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp, d), nn.Dropout(0.0))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + y
        return x + self.mlp(self.ln_2(x))


class Vit(nn.Module):
    """torchvision.models.VisionTransformer's structure and state_dict names."""

    def __init__(self, c):
        super().__init__()
        d, p = c["hidden_dim"], c["patch_size"]
        self.patch = p
        self.conv_proj = nn.Conv2d(3, d, p, p)
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))
        n = (c["image_size"] // p) ** 2 + 1
        self.encoder = nn.Module()
        self.encoder.pos_embedding = nn.Parameter(torch.zeros(1, n, d))
        self.encoder.layers = nn.Module()
        for i in range(c["num_layers"]):
            self.encoder.layers.add_module(f"encoder_layer_{i}", EncoderBlock(c["num_heads"], d, c["mlp_dim"], c["layer_norm_eps"]))
        self.encoder.ln = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.heads = nn.Module()
        self.heads.head = nn.Linear(d, c["num_classes"])

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], 1) + self.encoder.pos_embedding
        for layer in self.encoder.layers.children():
            x = layer(x)
        return self.heads.head(self.encoder.ln(x)[:, 0])
