#!/usr/bin/python3
"""Build the model zoo in models/zoo/: small versions of real network families exported by PyTorch.

Where make_models.py keeps to the eight core ops, these are the export patterns of real models:
ResNet (residual Add, MaxPool, Flatten, Gemm), MobileNetV2 (depthwise conv, ReLU6 as Clip),
EfficientNet (SiLU as x*sigmoid(x), squeeze-and-excitation), SqueezeNet (Fire modules: Concat,
ceil-mode MaxPool), ShuffleNetV2 (channel shuffle: Reshape/Transpose, Split), a DeepLab-style
segmentation head (dilated conv, pooled branch, bilinear Resize to the input size), a U-Net
(ConvTranspose, Resize, Concat skips), a hand-written feature fusion (odd sizes 29 -> 57, bilinear
and nearest, BatchNorm, Linear on the last axis), SE and CBAM attention blocks (ReduceMean,
ReduceMax, GlobalMaxPool, 7x7 conv, Mul) and a small ViT encoder (patch conv, class token,
position embedding, LayerNorm, multi-head attention, GELU via Erf).

The layers are the families' own (torchvision building blocks where they exist, otherwise
compact re-implementations with the same op pattern) at reduced widths and small inputs, so the
whole zoo stays small. Weights are PyTorch's default initialisation after a fixed seed; BatchNorm
running statistics come from a few training-mode passes on random data (momentum None: the
cumulative mean), then its affine parameters are spread, so the folded Conv+BN weights are not
the identity and activations keep a healthy range.

Each model is exported at opsets 11, 13 and 17 to models/zoo/<name>_op<N>/ (model.onnx and
test_data_set_K/input_J.pb, output_J.pb holding PyTorch's own float32 outputs; tensor names are
the graph's input and output names). `resnet` has a dynamic batch axis and two data sets: batch 1
and batch 3, run through one session. Before writing, every export passes onnx.checker (full
check), its graph inputs and outputs must match PyTorch's shapes, and every output must have a
healthy spread (not constant, not saturated). Prints each export's op histogram.

It also trains models/digits/ (see build_digits): a small CNN on scikit-learn's bundled 8x8
digits, exported at opset 13 with a dynamic batch axis, plus 32 held-out images (images.pb),
their labels (labels.pb) and PyTorch's predictions (torch_pred.pb) for
examples/classify_digits.c.

Run with Debian's interpreter (torch 1.13, torchvision 0.14, onnx 1.12, sklearn; no pip):
    /usr/bin/python3 models/make_zoo.py [NAME...]     (NAME: a zoo model or "digits")
Two runs give byte-identical files.
"""

import argparse
import collections
import io
import os
import shutil
import sys
import warnings
import zlib

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper
from torchvision.models.mobilenetv2 import MobileNetV2
from torchvision.models.resnet import BasicBlock
from torchvision.models.shufflenetv2 import InvertedResidual as ShuffleUnit
from torchvision.ops import Conv2dNormActivation, SqueezeExcitation

OPSETS = (11, 13, 17)
HERE = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------------------------------------
# Models


class ResNet(nn.Module):
    """ResNet-10 shape (one torchvision BasicBlock per stage) at widths 8..32."""

    def __init__(self, widths=(8, 16, 32), classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        blocks, inp = [], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inp != w:
                down = nn.Sequential(nn.Conv2d(inp, w, 1, stride=stride, bias=False),
                                     nn.BatchNorm2d(w))
            blocks.append(BasicBlock(inp, w, stride=stride, downsample=down))
            inp = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(inp, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def mobilenet_v2():
    """torchvision's MobileNetV2 with a short inverted-residual setting at width 0.5; the
    1280-channel last layer is cut to 128 to keep the file small."""
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2]]
    net = MobileNetV2(num_classes=10, width_mult=0.5, inverted_residual_setting=setting)
    last = net.features[-1][0].in_channels
    net.features[-1] = Conv2dNormActivation(last, 128, kernel_size=1, activation_layer=nn.ReLU6)
    net.classifier[-1] = nn.Linear(128, 10)
    return net


class MBConv(nn.Module):
    """EfficientNet's mobile inverted bottleneck: expand, depthwise, SE, project, residual."""

    def __init__(self, inp, out, expand, k, stride):
        super().__init__()
        mid = inp * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(inp, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.SiLU()]
        layers += [
            nn.Conv2d(mid, mid, k, stride=stride, padding=k // 2, groups=mid, bias=False),
            nn.BatchNorm2d(mid),
            nn.SiLU(),
            SqueezeExcitation(mid, max(1, inp // 4), activation=nn.SiLU),
            nn.Conv2d(mid, out, 1, bias=False),
            nn.BatchNorm2d(out),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        y = self.block(x)
        return x + y if self.residual else y


class EfficientNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.SiLU())
        self.blocks = nn.Sequential(
            MBConv(16, 8, 1, 3, 1),
            MBConv(8, 16, 4, 3, 2),
            MBConv(16, 16, 4, 3, 1),
            MBConv(16, 24, 4, 5, 2),
        )
        self.head = nn.Sequential(nn.Conv2d(24, 64, 1, bias=False), nn.BatchNorm2d(64), nn.SiLU())
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Fire(nn.Module):
    """SqueezeNet's Fire module (as torchvision's): squeeze 1x1, expand 1x1 and 3x3, Concat."""

    def __init__(self, inp, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(inp, squeeze, 1)
        self.e1 = nn.Conv2d(squeeze, e1, 1)
        self.e3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.e1(s)), F.relu(self.e3(s))], 1)


class SqueezeNet(nn.Module):
    """SqueezeNet 1.1 layout: ceil-mode max pools between Fire modules, conv classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(16, 4, 8, 8),
            Fire(16, 4, 8, 8),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            Fire(16, 8, 16, 16),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(32, classes, 1),
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class ShuffleNet(nn.Module):
    """ShuffleNetV2 from torchvision's units (chunk -> Split, channel shuffle -> Reshape,
    Transpose), global pool as mean([2, 3]) -> ReduceMean, as torchvision does."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 12, 3, 2, 1, bias=False), nn.BatchNorm2d(12),
                                   nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.stage2 = nn.Sequential(ShuffleUnit(12, 16, 2), ShuffleUnit(16, 16, 1))
        self.stage3 = nn.Sequential(ShuffleUnit(16, 32, 2), ShuffleUnit(32, 32, 1))
        self.conv5 = nn.Sequential(nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64),
                                   nn.ReLU(inplace=True))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.maxpool(self.conv1(x))))
        return self.fc(self.conv5(x).mean([2, 3]))


def conv_bn_relu(inp, out, k=3, stride=1, dilation=1):
    pad = dilation * (k // 2)
    return nn.Sequential(nn.Conv2d(inp, out, k, stride, pad, dilation=dilation, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU(inplace=True))


class Segmenter(nn.Module):
    """DeepLabV3-style: stride-4 backbone, ASPP (1x1, two dilated 3x3, image pooling branch
    upsampled from 1x1), projection, then class logits resized bilinearly to the input size
    (Resize with sizes computed from the input's shape)."""

    def __init__(self, classes=5):
        super().__init__()
        self.backbone = nn.Sequential(conv_bn_relu(3, 12, stride=2), conv_bn_relu(12, 16),
                                      conv_bn_relu(16, 24, stride=2))
        self.b0 = conv_bn_relu(24, 16, k=1)
        self.b1 = conv_bn_relu(24, 16, dilation=2)
        self.b2 = conv_bn_relu(24, 16, dilation=3)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(24, 16, 1, bias=False),
                                  nn.ReLU())
        self.project = conv_bn_relu(64, 16, k=1)
        self.cls = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        f = self.backbone(x)
        size = f.shape[-2:]
        p = F.interpolate(self.pool(f), size=size, mode="bilinear", align_corners=False)
        y = self.project(torch.cat([self.b0(f), self.b1(f), self.b2(f), p], 1))
        return F.interpolate(self.cls(y), size=x.shape[-2:], mode="bilinear",
                             align_corners=False)


class UNet(nn.Module):
    """Three-level U-Net: MaxPool down, ConvTranspose (stride 2) up at one level and bilinear
    Resize + conv at the other, Concat skip connections, sigmoid mask output."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(conv_bn_relu(3, 8), conv_bn_relu(8, 8))
        self.e2 = nn.Sequential(conv_bn_relu(8, 16), conv_bn_relu(16, 16))
        self.mid = nn.Sequential(conv_bn_relu(16, 32), conv_bn_relu(32, 32))
        self.up2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.d2 = nn.Sequential(conv_bn_relu(32, 16), conv_bn_relu(16, 16))
        self.up1 = nn.Conv2d(16, 8, 1)
        self.d1 = nn.Sequential(conv_bn_relu(16, 8), conv_bn_relu(8, 8))
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        s1 = self.e1(x)
        s2 = self.e2(F.max_pool2d(s1, 2))
        m = self.mid(F.max_pool2d(s2, 2))
        d2 = self.d2(torch.cat([self.up2(m), s2], 1))
        u1 = self.up1(F.interpolate(d2, scale_factor=2.0, mode="bilinear", align_corners=False))
        d1 = self.d1(torch.cat([u1, s1], 1))
        logits = self.out(d1)
        return logits, torch.sigmoid(logits)


class FeatureFusion(nn.Module):
    """Hand-written multi-scale fusion: a 29x23 map and a 15x12 map are brought to 57x45 with
    bilinear and nearest resizes (odd sizes, non-integer scales), concatenated with BatchNorm,
    reduced by a 1x1 conv, and a Linear on the last (width) axis mixes the columns."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 6, 3, padding=1)
        self.b = nn.Conv2d(3, 6, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(18)
        self.reduce = nn.Conv2d(18, 4, 1)
        self.mix = nn.Linear(45, 45)

    def forward(self, x):
        a, b = F.relu(self.a(x)), F.relu(self.b(x))
        size = (57, 45)
        up_a = F.interpolate(a, size=size, mode="bilinear", align_corners=False)
        up_b = F.interpolate(b, size=size, mode="nearest")
        up_x = F.interpolate(x, scale_factor=1.97, mode="bilinear", align_corners=False)
        cat = torch.cat([up_a, up_b, up_x, F.interpolate(x, size=size)], 1)
        fused = self.reduce(F.relu(self.bn(cat)))
        return fused, self.mix(fused)


class CBAM(nn.Module):
    """Convolutional block attention: channel attention (avg and max pool -> shared MLP ->
    sigmoid) then spatial attention (mean and max over channels -> concat -> 7x7 conv ->
    sigmoid)."""

    def __init__(self, c, r=4):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(c, c // r, 1, bias=False), nn.ReLU(),
                                 nn.Conv2d(c // r, c, 1, bias=False))
        self.spatial = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x):
        avg = self.mlp(F.adaptive_avg_pool2d(x, 1))
        mx = self.mlp(F.adaptive_max_pool2d(x, 1))
        x = x * torch.sigmoid(avg + mx)
        s = torch.cat([torch.mean(x, dim=1, keepdim=True), torch.max(x, dim=1, keepdim=True)[0]],
                      1)
        return x * torch.sigmoid(self.spatial(s))


class SEBlock(nn.Module):
    """Squeeze-and-excitation with Linear layers on the pooled vector (Flatten, Gemm, Reshape
    back to [N, C, 1, 1]), as in the original SENet."""

    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Linear(c, c // r)
        self.fc2 = nn.Linear(c // r, c)

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1).flatten(1)))))
        return x * w.view(n, c, 1, 1)


class Attention(nn.Module):
    """SE and CBAM blocks on conv features; both blocks' outputs are graph outputs."""

    def __init__(self):
        super().__init__()
        self.conv = conv_bn_relu(3, 16)
        self.se = SEBlock(16)
        self.cbam = CBAM(16)
        self.out = nn.Conv2d(16, 4, 3, padding=1)

    def forward(self, x):
        se = self.se(self.conv(x))
        cb = self.cbam(se)
        return se, self.out(cb)


class MHSA(nn.Module):
    """Multi-head self-attention written as timm's ViT does: one qkv Linear, reshape to heads,
    q k^T scaled, softmax, weighted sum, heads merged, output projection."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = MHSA(dim, heads)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.mlp(self.n2(x))


class ViT(nn.Module):
    """Patch 4 on 32x32 (64 patches), dim 32, 2 heads, 2 layers, class token head."""

    def __init__(self, dim=32, heads=2, depth=2, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, 65, dim) * 0.5)
        self.layers = nn.Sequential(*[EncoderLayer(dim, heads, dim * 2) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(x.shape[0], -1, -1), p], dim=1) + self.pos
        t = self.norm(self.layers(t))
        return self.head(t[:, 0]), t


# name -> (constructor, input names, output names, input shape, dynamic batch)
MODELS = {
    "resnet": (ResNet, ["x"], ["logits"], (1, 3, 32, 32), True),
    "mobilenetv2": (mobilenet_v2, ["x"], ["logits"], (1, 3, 32, 32), False),
    "efficientnet": (EfficientNet, ["x"], ["logits"], (1, 3, 32, 32), False),
    "squeezenet": (SqueezeNet, ["x"], ["logits"], (1, 3, 47, 47), False),
    "shufflenet": (ShuffleNet, ["x"], ["logits"], (1, 3, 32, 32), False),
    "segmenter": (Segmenter, ["x"], ["mask"], (1, 3, 30, 38), False),
    "unet": (UNet, ["x"], ["logits", "probs"], (1, 3, 24, 32), False),
    "feature_fusion": (FeatureFusion, ["x"], ["fused", "mixed"], (1, 3, 29, 23), False),
    "attention_blocks": (Attention, ["x"], ["se", "cbam"], (1, 3, 20, 24), False),
    "vit": (ViT, ["x"], ["logits", "tokens"], (1, 3, 32, 32), False),
}
DYNAMIC_BATCHES = (1, 3)


# ----------------------------------------------------------------------------------------------
# Initialisation, export, checks


def _seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _calibrate(module, shape, gen):
    """Gives BatchNorm layers running statistics of real activations and non-trivial affine
    parameters, so that eval-mode outputs keep a healthy range."""
    bns = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    module.train()
    with torch.no_grad():
        for _ in range(4):
            module(torch.randn(8, *shape[1:], generator=gen))
        for bn in bns:
            bn.weight.copy_(0.75 + 0.5 * torch.rand(bn.weight.shape, generator=gen))
            bn.bias.copy_(0.1 * torch.randn(bn.bias.shape, generator=gen))
    module.eval()


def _export(module, inputs, in_names, out_names, opset, dynamic):
    axes = None
    if dynamic:
        axes = {n: {0: "batch"} for n in in_names + out_names}
    buf = io.BytesIO()
    torch.onnx.export(module, tuple(inputs), buf, opset_version=opset, input_names=in_names,
                      output_names=out_names, do_constant_folding=True, export_params=True,
                      keep_initializers_as_inputs=False, training=torch.onnx.TrainingMode.EVAL,
                      dynamic_axes=axes, verbose=False)
    return buf.getvalue()


def _require(cond, msg):
    if not cond:
        sys.exit("make_zoo.py: " + msg)


def _histogram(graph, hist):
    for node in graph.node:
        hist[node.op_type] += 1
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                _histogram(a.g, hist)
    return hist


def _check_export(name, blob, in_names, out_names, data_sets, dynamic):
    model = onnx.load_from_string(blob)
    onnx.checker.check_model(model, full_check=True)
    g = model.graph
    _require([i.name for i in g.input] == in_names, f"{name}: graph inputs {list(g.input)}")
    _require([o.name for o in g.output] == out_names, f"{name}: graph outputs")
    inputs, outputs = data_sets[0]
    for vi, t in list(zip(g.input, inputs)) + list(zip(g.output, outputs)):
        dims = vi.type.tensor_type.shape.dim
        _require(len(dims) == t.dim(), f"{name}: rank of {vi.name}")
        for k, d in enumerate(dims):
            if dynamic and k == 0:
                _require(d.dim_param == "batch", f"{name}: {vi.name} batch axis not symbolic")
            else:
                _require(d.dim_value == t.shape[k], f"{name}: {vi.name} dim {k} is {d} not "
                         f"{t.shape[k]}")
    return _histogram(g, collections.Counter())


def _check_healthy(name, out_names, outputs):
    """A reference output that is (nearly) constant or saturated would hide errors."""
    for n, t in zip(out_names, outputs):
        a = t.numpy().astype(np.float64)
        _require(np.isfinite(a).all(), f"{name}: output {n} not finite")
        std, span = a.std(), np.abs(a).max()
        _require(std > 1e-2 and std > 1e-3 * span, f"{name}: output {n} std {std:g} too small")
        distinct = len(np.unique(np.round(a, 5))) / a.size
        _require(distinct > 0.3 or a.size < 16, f"{name}: output {n} saturated "
                 f"({distinct:.0%} distinct values)")


def _write(folder, blob, in_names, out_names, data_sets):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(blob)
    for s, (inputs, outputs) in enumerate(data_sets):
        data = os.path.join(folder, f"test_data_set_{s}")
        os.makedirs(data)
        for kind, names, tensors in (("input", in_names, inputs), ("output", out_names, outputs)):
            for k, (n, t) in enumerate(zip(names, tensors)):
                proto = numpy_helper.from_array(t.numpy().astype(np.float32), name=n)
                with open(os.path.join(data, f"{kind}_{k}.pb"), "wb") as f:
                    f.write(proto.SerializeToString())


def _run(module, inputs):
    with torch.no_grad():
        out = module(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def build(name, out_dir):
    ctor, in_names, out_names, shape, dynamic = MODELS[name]
    seed = _seed_of(name)
    torch.manual_seed(seed)
    module = ctor()
    gen = torch.Generator().manual_seed(seed + 1)
    _calibrate(module, shape, gen)
    module.eval()
    batches = DYNAMIC_BATCHES if dynamic else (shape[0],)
    data_sets = []
    for b in batches:
        inputs = [torch.randn(b, *shape[1:], generator=gen)]
        outputs = _run(module, inputs)
        _check_healthy(name, out_names, outputs)
        data_sets.append((inputs, outputs))
    params = sum(p.numel() for p in module.parameters())
    for opset in OPSETS:
        blob = _export(module, data_sets[0][0], in_names, out_names, opset, dynamic)
        hist = _check_export(name, blob, in_names, out_names, data_sets, dynamic)
        folder = os.path.join(out_dir, f"{name}_op{opset}")
        _write(folder, blob, in_names, out_names, data_sets)
        print(f"{name}_op{opset}: {dict(sorted(hist.items()))}")
    desc = "; ".join(
        ", ".join(f"{n}{list(t.shape)}" for n, t in zip(in_names + out_names, ins + outs))
        for ins, outs in data_sets)
    print(f"    {params} parameters; {desc}")


# ----------------------------------------------------------------------------------------------
# models/digits: a CNN trained on scikit-learn's 8x8 handwritten digits (1797 images, bundled
# with sklearn, no download), for examples/classify_digits.c.

DIGITS_SAMPLES = 32  # held-out images committed with labels and PyTorch's predictions


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)  # 8x8 -> 4x4
        x = F.max_pool2d(F.relu(self.c2(x)), 2)  # 4x4 -> 2x2
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def _save_pb(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name=name).SerializeToString())


def build_digits(out_dir):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # [N,1,8,8] in [0, 1]
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    torch.manual_seed(_seed_of("digits"))
    net = DigitsNet()
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(_seed_of("digits") + 1)
    for _epoch in range(30):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x_te)).argmax(1).numpy()
    acc = float((pred == y_te).mean())
    print(f"digits: trained on {len(x_tr)}, held-out accuracy {acc:.4f} "
          f"({int((pred == y_te).sum())}/{len(y_te)})")
    _require(acc > 0.9, f"digits: held-out accuracy {acc:.3f} too low")

    # The committed sample: the first DIGITS_SAMPLES held-out images.
    images = torch.from_numpy(x_te[:DIGITS_SAMPLES])
    labels = y_te[:DIGITS_SAMPLES]
    with torch.no_grad():
        logits = net(images)
    torch_pred = logits.argmax(1).numpy().astype(np.int64)
    blob = _export(net, [images], ["image"], ["logits"], 13, True)
    hist = _check_export("digits", blob, ["image"], ["logits"], [([images], [logits])], True)
    print(f"digits_op13: {dict(sorted(hist.items()))}")
    print(f"    sample of {DIGITS_SAMPLES}: PyTorch right on "
          f"{int((torch_pred == labels).sum())}/{DIGITS_SAMPLES}")
    _write(out_dir, blob, ["image"], ["logits"], [([images], [logits])])
    _save_pb(os.path.join(out_dir, "images.pb"), images.numpy(), "images")
    _save_pb(os.path.join(out_dir, "labels.pb"), labels, "labels")
    _save_pb(os.path.join(out_dir, "torch_pred.pb"), torch_pred, "torch_pred")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=HERE,
                    help="directory to write zoo/ and digits/ into (default models/)")
    ap.add_argument("only", nargs="*", help="model names to build (default: all, and digits)")
    args = ap.parse_args()
    names = args.only or list(MODELS) + ["digits"]
    unknown = [n for n in names if n not in MODELS and n != "digits"]
    if unknown:
        sys.exit(f"unknown model(s): {unknown}; known: {list(MODELS) + ['digits']}")
    warnings.filterwarnings("ignore")  # exporter chatter about constant folding and tracing
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # fixed reduction order, hence fixed float32 outputs
    for name in names:
        if name == "digits":
            build_digits(os.path.join(args.out, "digits"))
        else:
            build(name, os.path.join(args.out, "zoo"))


if __name__ == "__main__":
    main()
