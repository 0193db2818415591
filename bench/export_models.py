#!/usr/bin/python3
"""Exports the benchmark models to ONNX (opset 13, batch 1, random weights, eval mode).

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, onnx). Each model goes to
OUT/<name>.onnx (default bench/.work/models); models that already exist are skipped, so a
re-run only adds what is missing. Weights are random from a fixed seed: the benchmark times
the runtimes, not the predictions, and nothing is downloaded.

usage: /usr/bin/python3 bench/export_models.py [--out DIR] [--only NAME[,NAME...]] [--list]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def small_unet():
    """A 3-level U-Net: conv blocks, max-pool encoder, nearest Resize + Concat decoder."""
    import torch
    from torch import nn

    def block(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self, c=(16, 32, 64, 128)):
            super().__init__()
            self.enc = nn.ModuleList([block(3, c[0]), block(c[0], c[1]), block(c[1], c[2])])
            self.mid = block(c[2], c[3])
            self.dec = nn.ModuleList([block(c[3] + c[2], c[2]), block(c[2] + c[1], c[1]),
                                      block(c[1] + c[0], c[0])])
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Conv2d(c[0], 2, 1)

        def forward(self, x):
            skips = []
            for e in self.enc:
                x = e(x)
                skips.append(x)
                x = self.pool(x)
            x = self.mid(x)
            for d, s in zip(self.dec, reversed(skips)):
                # exported as Resize (nearest, scale 2) followed by Concat
                x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
                x = d(torch.cat([x, s], dim=1))
            return self.head(x)

    return UNet(), (1, 3, 128, 128)


def small_vit():
    """A ViT encoder: 16x16 patch embedding (Conv), class token, 4 pre-norm layers of
    dim 192 with 3 heads, written with explicit MatMul + Softmax attention (no fused
    attention op), then LayerNorm and a linear head."""
    import torch
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.heads, self.scale = heads, (dim // heads) ** -0.5
            self.qkv = nn.Linear(dim, dim * 3)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            b, n, d = x.shape
            qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            a = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
            return self.proj(torch.matmul(a, v).transpose(1, 2).reshape(b, n, d))

    class Layer(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.n1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
            self.n2 = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

        def forward(self, x):
            x = x + self.attn(self.n1(x))
            return x + self.mlp(self.n2(x))

    class ViT(nn.Module):
        def __init__(self, dim=192, depth=4, heads=3, patch=16, size=224, classes=1000):
            super().__init__()
            self.embed = nn.Conv2d(3, dim, patch, stride=patch)
            self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
            self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, dim) * 0.02)
            self.layers = nn.Sequential(*[Layer(dim, heads) for _ in range(depth)])
            self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)

        def forward(self, x):
            x = self.embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            x = self.norm(self.layers(x))
            return self.head(x[:, 0])

    return ViT(), (1, 3, 224, 224)


def torchvision_model(name, **kw):
    def make():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kw), (1, 3, 224, 224)
    return make


MODELS = {
    "squeezenet1_1": torchvision_model("squeezenet1_1"),
    "resnet18": torchvision_model("resnet18"),
    "mobilenet_v2": torchvision_model("mobilenet_v2"),
    "googlenet": torchvision_model("googlenet", aux_logits=False, init_weights=True),
    "densenet121": torchvision_model("densenet121"),
    "efficientnet_b0": torchvision_model("efficientnet_b0"),
    "unet_small": small_unet,
    "vit_small": small_vit,
}


def export(name, path):
    import torch
    torch.manual_seed(0)
    model, shape = MODELS[name]()
    model.eval()
    x = torch.randn(*shape)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, x, tmp, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(tmp))
    os.replace(tmp, path)  # only complete, checked files get the final name


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, ".work", "models"))
    p.add_argument("--only", default="", help="comma-separated model names")
    p.add_argument("--list", action="store_true", help="print the model names and exit")
    a = p.parse_args()
    if a.list:
        print("\n".join(MODELS))
        return 0
    names = [n for n in a.only.split(",") if n] or list(MODELS)
    bad = [n for n in names if n not in MODELS]
    if bad:
        print("unknown model(s): %s (known: %s)" % (", ".join(bad), ", ".join(MODELS)),
              file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    for n in names:
        path = os.path.join(a.out, n + ".onnx")
        if os.path.exists(path):
            print("exists:   %s" % path)
            continue
        export(n, path)
        print("exported: %s (%.1f MB)" % (path, os.path.getsize(path) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
