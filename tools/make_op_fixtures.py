"""Makes the PyTorch fixtures of single ops under packages/compiler/test/fixtures:
inputs and weights drawn from a seeded generator (stored as float32) and
PyTorch's outputs computed in float64 from those float32 values.

conv2d.safetensors: torch.nn.functional.conv2d on odd shapes (kernel 3,
stride 2, padding 1, dilation 2 on 7x9 images, groups 1 with bias, grouped,
depthwise with and without a channel multiplier, 1x1, padding='same' with
an even kernel). Tensors CASE.input,
CASE.weight, CASE.bias (when the case has one) and CASE.output; the
metadata entry CASE holds the arguments as JSON (F.conv2d's names).

conv_transpose2d.safetensors: torch.nn.functional.conv_transpose2d on odd
shapes (stride 2 with padding 1 and output_padding 1, unequal strides,
paddings and dilations per axis, two groups, a 1x1 kernel with stride 3).
Tensors and metadata as conv2d.safetensors' (F.conv_transpose2d's names).

rms_norm.safetensors: torch.nn.functional.rms_norm (its documented formula
on a torch older than 2.4, which lacks it) over one and two trailing axes,
with and without a weight, PyTorch's default eps and a given one.

spatial.safetensors: ops over the spatial axes of [N, C, ...]:
F.max_pool1d/2d/3d and F.avg_pool1d/2d/3d on odd shapes (strides other than
the kernel, padding, dilation, ceil_mode, count_include_pad off, an image
whose last ceil-mode window starts in the padding), F.adaptive_avg_pool2d to
1x1 and to a divisor, F.group_norm (groups 1, 2 and C, with and without
weight and bias, 1-D to 3-D), F.instance_norm and F.interpolate (nearest,
linear, bilinear, bicubic and trilinear, up and down, align_corners both
ways). Tensors CASE.input,
CASE.weight and CASE.bias (when given) and CASE.output; the metadata entry
CASE holds the function and its arguments.

transformer.safetensors: torch.nn.Transformer with seeded, perturbed
weights (CASE.state.* is its state_dict), post-norm ReLU sequence-first and
pre-norm GELU batch-first, padded sources and causal targets.

    /usr/bin/python3 tools/make_op_fixtures.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, write_safetensors  # noqa: E402

OUT = os.path.join(ROOT, "packages", "compiler", "test", "fixtures")

CONV2D = {
    # The odd case: kernel 3, stride 2, padding 1, dilation 2, 7x9 images, groups 1 with bias.
    "odd": dict(input=[2, 3, 7, 9], weight=[4, 3, 3, 3], bias=True, stride=2, padding=1, dilation=2, groups=1),
    # The same geometry, depthwise with a channel multiplier of 2.
    "depthwise_mult2": dict(input=[2, 4, 7, 9], weight=[8, 1, 3, 3], bias=True, stride=2, padding=1, dilation=2, groups=4),
    # Depthwise, multiplier 1, 'same' padding, no bias.
    "depthwise": dict(input=[1, 5, 7, 9], weight=[5, 1, 3, 3], bias=False, stride=1, padding=1, dilation=1, groups=5),
    # Two groups of two channels, unequal strides, paddings and dilations per axis.
    "grouped": dict(input=[1, 4, 7, 9], weight=[6, 2, 3, 3], bias=False, stride=[2, 1], padding=[1, 2], dilation=[1, 2], groups=2),
    # Enough channels that the GEMM has several panels (k = 16 * 9 = 144), no padding, groups 1 with bias.
    "wide": dict(input=[1, 16, 9, 7], weight=[20, 16, 3, 3], bias=True, stride=1, padding=0, dilation=1, groups=1),
    # A pointwise (1x1) convolution, stride 2.
    "pointwise": dict(input=[2, 6, 7, 9], weight=[3, 6, 1, 1], bias=True, stride=2, padding=0, dilation=1, groups=1),
    # padding='same' with an even kernel and a dilation: PyTorch pads the odd one out after (bottom, right).
    "same_even": dict(input=[1, 2, 5, 6], weight=[3, 2, 2, 4], bias=True, stride=1, padding="same", dilation=[1, 2], groups=1),
}


def make_convolutions(g, cases, fn, out_channels, arg_names, file):
    """One convolution fixture: per case the input, weight, bias (of out_channels(case) entries) and fn's float64 output."""
    tensors, meta = {}, {}
    for name, c in cases.items():
        x = torch.randn(c["input"], generator=g)
        w = torch.randn(c["weight"], generator=g) * 0.5
        b = torch.randn(out_channels(c), generator=g) if c["bias"] else None
        args = {k: c[k] for k in arg_names}
        y = fn(x.double(), w.double(), None if b is None else b.double(), **args)
        tensors[f"{name}.input"] = x
        tensors[f"{name}.weight"] = w
        if b is not None:
            tensors[f"{name}.bias"] = b
        tensors[f"{name}.output"] = y.float()
        meta[name] = json.dumps(args)
    meta["computed_in"] = "float64"
    meta["torch"] = torch.__version__
    write_safetensors(os.path.join(OUT, file), tensors, meta)


def make_conv2d(g):
    make_convolutions(g, CONV2D, F.conv2d, lambda c: c["weight"][0], ("stride", "padding", "dilation", "groups"), "conv2d.safetensors")


RMS_NORM = {
    # The last axis, PyTorch's default eps (float32's epsilon), a weight.
    "last": dict(input=[2, 3, 7], normalized_shape=[7], weight=True, eps=None),
    # Two normalised axes, a weight of their shape.
    "two_axes": dict(input=[2, 3, 4], normalized_shape=[3, 4], weight=True, eps=None),
    # No weight, eps given; a row of zeros (0 / sqrt(eps) = 0) and a row of tiny values (eps dominates).
    "no_weight_eps": dict(input=[3, 5], normalized_shape=[5], weight=False, eps=1e-3),
    # Values of about 3e-4, whose mean square is near the default eps: a wrong default shows.
    "tiny_default_eps": dict(input=[2, 6], normalized_shape=[6], weight=True, eps=None, scale=3e-4),
}


def rms_norm(x, shape, weight, eps):
    """torch.nn.functional.rms_norm where torch has it (2.4+), else its documented formula."""
    if hasattr(F, "rms_norm"):
        return F.rms_norm(x, shape, weight, eps)
    eps = torch.finfo(torch.float32).eps if eps is None else eps
    dims = tuple(range(-len(shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    return y if weight is None else y * weight


def make_rms_norm(g):
    tensors, meta = {}, {}
    for name, c in RMS_NORM.items():
        x = torch.randn(c["input"], generator=g) * c.get("scale", 1.0)
        if name == "no_weight_eps":
            x[1] = 0
            x[2] *= 1e-3
        w = torch.randn(c["normalized_shape"], generator=g) if c["weight"] else None
        y = rms_norm(x.double(), c["normalized_shape"], None if w is None else w.double(), c["eps"])
        tensors[f"{name}.input"] = x
        if w is not None:
            tensors[f"{name}.weight"] = w
        tensors[f"{name}.output"] = y.float()
        meta[name] = json.dumps({"normalized_shape": c["normalized_shape"], "eps": c["eps"]})
    meta["computed_in"] = "float64"
    meta["torch"] = torch.__version__
    meta["formula"] = "F.rms_norm" if hasattr(F, "rms_norm") else "x * rsqrt(mean(x^2) + eps) * weight, eps = finfo(float32).eps when None"
    write_safetensors(os.path.join(OUT, "rms_norm.safetensors"), tensors, meta)


TRANSFORMERS = {
    # PyTorch's defaults (post-norm, ReLU, sequence first) at a small size; padded sources, a float causal target mask.
    "post_relu_seq_first": dict(
        module=dict(d_model=12, nhead=3, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=20),
        batch_first=False, src_len=7, tgt_len=5, batch=2, src_lengths=[7, 4],
    ),
    # norm_first, GELU, batch first, LayerNorm eps 1e-3, one head per 4 channels, a bool causal target mask.
    "pre_gelu_batch_first": dict(
        module=dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=3, dim_feedforward=11, activation="gelu", norm_first=True, layer_norm_eps=1e-3),
        batch_first=True, src_len=6, tgt_len=4, batch=3, src_lengths=[6, 2, 5],
    ),
}


def perturb(model, g):
    """Moves every parameter off its initial value (LayerNorm ones and zeros, zero biases hide bugs)."""
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.add_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() == 1 else 0.1))


def make_transformers(g):
    """nn.Transformer: CASE.state.NAME (its state_dict), CASE.src, CASE.tgt, CASE.src_key_padding_mask (bool, [N, S]), CASE.output."""
    tensors, meta = {}, {}
    for name, c in TRANSFORMERS.items():
        model = torch.nn.Transformer(**c["module"], dropout=0.0, batch_first=c["batch_first"]).eval()
        perturb(model, g)
        e, n = c["module"]["d_model"], c["batch"]
        first = (n, c["src_len"]) if c["batch_first"] else (c["src_len"], n)
        src = torch.randn(*first, e, generator=g)
        tgt = torch.randn(*((n, c["tgt_len"]) if c["batch_first"] else (c["tgt_len"], n)), e, generator=g)
        pad = torch.arange(c["src_len"]).unsqueeze(0) >= torch.tensor(c["src_lengths"]).unsqueeze(1)
        t = c["tgt_len"]
        causal = model.generate_square_subsequent_mask(t) if not c["batch_first"] else torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        for k, v in model.state_dict().items():
            tensors[f"{name}.state.{k}"] = v.float()
        # With gradients enabled PyTorch skips its inference fast path (nested tensors): the plain math, in float64.
        with torch.enable_grad():
            out = model.double()(src.double(), tgt.double(), tgt_mask=causal if causal.dtype == torch.bool else causal.double(),
                                 src_key_padding_mask=pad, memory_key_padding_mask=pad).detach()
        tensors[f"{name}.src"] = src
        tensors[f"{name}.tgt"] = tgt
        tensors[f"{name}.src_key_padding_mask"] = pad
        tensors[f"{name}.output"] = out.float()
        meta[name] = json.dumps({**c["module"], "batch_first": c["batch_first"], "tgt_mask": "bool" if c["batch_first"] else "float"})
    meta["computed_in"] = "float64"
    meta["torch"] = torch.__version__
    write_safetensors(os.path.join(OUT, "transformer.safetensors"), tensors, meta)


SPATIAL = {
    # The functions' odd cases: kernel 3, stride 2, padding 1, dilation 2 on a 7x9 image, ceil mode.
    "max2d_odd": dict(fn="max_pool2d", input=[2, 3, 7, 9], kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
    "max2d_default": dict(fn="max_pool2d", input=[1, 2, 6, 7], kernel_size=2),
    "max1d": dict(fn="max_pool1d", input=[2, 3, 11], kernel_size=4, stride=3, padding=2, ceil_mode=True),
    "max3d": dict(fn="max_pool3d", input=[1, 2, 5, 6, 7], kernel_size=[2, 3, 2], stride=[1, 2, 2], padding=[1, 1, 0]),
    "avg2d_pad": dict(fn="avg_pool2d", input=[2, 3, 7, 9], kernel_size=3, stride=2, padding=1),
    "avg2d_ceil_no_pad_count": dict(fn="avg_pool2d", input=[1, 2, 7, 8], kernel_size=[3, 2], stride=[2, 3], padding=[1, 1], ceil_mode=True, count_include_pad=False),
    # The last ceil-mode window starts past the input, inside the padding: dropped.
    "avg2d_last_window": dict(fn="avg_pool2d", input=[1, 1, 5, 5], kernel_size=2, stride=2, padding=1, ceil_mode=True),
    "avg1d": dict(fn="avg_pool1d", input=[2, 3, 10], kernel_size=3, stride=2, padding=1, count_include_pad=False),
    "avg3d": dict(fn="avg_pool3d", input=[1, 2, 4, 5, 6], kernel_size=2, stride=[2, 1, 2], ceil_mode=True),
    "adaptive_global": dict(fn="adaptive_avg_pool2d", input=[2, 4, 7, 9], output_size=1),
    "adaptive_divisor": dict(fn="adaptive_avg_pool2d", input=[1, 3, 6, 8], output_size=[3, 2]),
    "group_norm2": dict(fn="group_norm", input=[2, 6, 5, 7], num_groups=2, affine=True, eps=1e-5),
    "group_norm1_1d": dict(fn="group_norm", input=[3, 4, 9], num_groups=1, affine=True, eps=1e-3),
    "group_norm_per_channel_3d": dict(fn="group_norm", input=[1, 3, 2, 3, 4], num_groups=3, affine=False, eps=1e-5),
    "instance_norm": dict(fn="instance_norm", input=[2, 5, 6, 7], affine=True, eps=1e-5),
    "nearest_up": dict(fn="interpolate", input=[1, 2, 3, 5], scale_factor=2, mode="nearest"),
    "nearest_odd": dict(fn="interpolate", input=[1, 2, 5, 7], size=[3, 11], mode="nearest"),
    "bilinear_up": dict(fn="interpolate", input=[2, 3, 4, 5], size=[7, 9], mode="bilinear", align_corners=False),
    "bilinear_corners": dict(fn="interpolate", input=[1, 2, 4, 5], size=[7, 3], mode="bilinear", align_corners=True),
    "bilinear_scale": dict(fn="interpolate", input=[1, 2, 4, 6], scale_factor=1.5, mode="bilinear", align_corners=False),
    "bicubic": dict(fn="interpolate", input=[1, 2, 5, 6], size=[8, 4], mode="bicubic", align_corners=False),
    "bicubic_corners": dict(fn="interpolate", input=[1, 1, 4, 4], size=[6, 7], mode="bicubic", align_corners=True),
    "linear_1d": dict(fn="interpolate", input=[2, 3, 7], size=[11], mode="linear", align_corners=False),
    "trilinear": dict(fn="interpolate", input=[1, 2, 3, 4, 5], size=[5, 3, 7], mode="trilinear", align_corners=False),
}


def make_spatial(g):
    tensors, meta = {}, {}
    for name, c in SPATIAL.items():
        # Values off zero mean and unit variance, so a normalisation's statistics matter.
        x = torch.randn(c["input"], generator=g) * 2 + 0.5
        args = {k: v for k, v in c.items() if k not in ("fn", "input", "affine")}
        if c.get("affine"):
            channels = c["input"][1]
            w = torch.randn(channels, generator=g) * 0.5 + 1
            b = torch.randn(channels, generator=g) * 0.5
            tensors[f"{name}.weight"], tensors[f"{name}.bias"] = w, b
            args_t = dict(args, weight=w.double(), bias=b.double())
        else:
            args_t = args
        y = getattr(F, c["fn"])(x.double(), **args_t)
        tensors[f"{name}.input"] = x
        tensors[f"{name}.output"] = y.float()
        meta[name] = json.dumps({"fn": c["fn"], **args})
    meta["computed_in"] = "float64"
    meta["torch"] = torch.__version__
    write_safetensors(os.path.join(OUT, "spatial.safetensors"), tensors, meta)


CONV_TRANSPOSE2D = {
    # The decoder's upsampling: kernel 3, stride 2, padding 1, output_padding 1, with bias.
    "upsample": dict(input=[2, 3, 5, 7], weight=[3, 4, 3, 3], bias=True, stride=2, padding=1, output_padding=1, groups=1, dilation=1),
    # Unequal strides, paddings and dilations per axis, no bias.
    "odd": dict(input=[1, 2, 4, 6], weight=[2, 3, 3, 2], bias=False, stride=[2, 3], padding=[0, 1], output_padding=[1, 0], groups=1, dilation=[2, 1]),
    # Two groups of two input channels, three outputs per group.
    "grouped": dict(input=[1, 4, 5, 5], weight=[4, 3, 2, 3], bias=True, stride=1, padding=[1, 0], output_padding=0, groups=2, dilation=1),
    # A 1x1 kernel with stride 3: outputs between the inputs receive no product (the bias alone).
    "sparse": dict(input=[2, 2, 3, 4], weight=[2, 2, 1, 1], bias=True, stride=3, padding=0, output_padding=2, groups=1, dilation=1),
}


def make_conv_transpose2d(g):
    make_convolutions(g, CONV_TRANSPOSE2D, F.conv_transpose2d, lambda c: c["weight"][1] * c["groups"], ("stride", "padding", "output_padding", "groups", "dilation"), "conv_transpose2d.safetensors")


def main():
    g = torch.Generator().manual_seed(13)
    make_conv2d(g)
    make_rms_norm(g)
    make_transformers(g)
    # Its own generator: adding cases here leaves the other fixtures' values as they were.
    make_spatial(torch.Generator().manual_seed(17))
    make_conv_transpose2d(torch.Generator().manual_seed(19))


if __name__ == "__main__":
    main()
