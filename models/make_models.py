#!/usr/bin/python3
"""Build the bundled end-to-end test models in models/ with PyTorch.

Each model is a small network with random weights (fixed seeds) that uses only the ONNX ops
onyx runs today: Conv, Concat, Resize, MatMul, Softmax, GlobalAveragePool, Sigmoid, Constant.
It is exported with torch.onnx.export at several opsets and written as an ONNX backend-test
folder: models/<name>_op<N>/model.onnx plus test_data_set_0/input_K.pb and output_K.pb, where the
expected outputs are PyTorch's own (float32) outputs.

Before anything is written, every export is checked three ways:
  * onnx.checker (full check, including shape inference);
  * the op histogram must stay within ALLOWED_OPS, so the exporter cannot sneak in Reshape,
    Transpose, Shape, Gather, Mul, ... (the histogram is printed);
  * a small float64 NumPy interpreter of those ops, written from the ONNX spec and independent
    of PyTorch, must reproduce PyTorch's outputs. This guards against PyTorch and ONNX meaning
    different things for the same export (e.g. Resize coordinate rules), so that a mismatch in
    onyx points at onyx. align_corners with a fractional scale * in has two readings in the
    wild; every model except those in AMBIGUOUS must match under both.

Run with Debian's interpreter (torch 1.13, onnx 1.12):  /usr/bin/python3 models/make_models.py
The output is deterministic: two runs give byte-identical files.
"""

import argparse
import collections
import io
import itertools
import math
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

ALLOWED_OPS = {
    "Conv",
    "Concat",
    "Resize",
    "MatMul",
    "Softmax",
    "GlobalAveragePool",
    "Sigmoid",
    "Constant",
}
OPSETS = (11, 13, 17)
# Agreement required between the NumPy reference (float64) and PyTorch (float32). Much tighter
# than the tolerance the README asks runtimes to use (atol 1e-4, rtol 1e-3).
REF_ATOL = 1e-5
REF_RTOL = 1e-4
HERE = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------------------------------------
# Models. Every module is written so that the exporter emits only ALLOWED_OPS: resizes use
# scale_factor (a size computed from tensors becomes Shape/Slice/Concat), pooling is
# adaptive_avg_pool(x, 1), and matrices are parameters used with torch.matmul.


def _gain(module, gain):
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(gain)


class Fusion(nn.Module):
    """Two-resolution feature fusion with a spatial attention map and a channel descriptor."""

    def __init__(self):
        super().__init__()
        self.hi = nn.Conv2d(3, 8, 3, padding=1)
        self.lo = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.lo2 = nn.Conv2d(8, 8, 3, padding=1)
        self.reduce = nn.Conv2d(16, 8, 1)
        self.gate = nn.Conv2d(8, 1, 1)
        self.chan = nn.Conv2d(8, 8, 1)
        # Default init leaves the sigmoid outputs within a few hundredths of 0.5; larger weights
        # spread them so that an error upstream shows up well above the test tolerance.
        _gain(self, 3.0)

    def forward(self, x):
        hi = torch.sigmoid(self.hi(x))
        lo = torch.sigmoid(self.lo2(torch.sigmoid(self.lo(x))))
        up = F.interpolate(lo, scale_factor=2.0, mode="bilinear", align_corners=False)
        fused = self.reduce(torch.cat([hi, up], dim=1))
        attn = torch.sigmoid(self.gate(fused))
        chan = torch.sigmoid(self.chan(F.adaptive_avg_pool2d(fused, 1)))
        return fused, attn, chan


class UpsampleOdd(nn.Module):
    """Resizes to odd sizes: scale 1.97 maps 29x23 to 57x45; (1.5, 0.7) maps it to 43x16.

    align_corners appears only with scale 2, where scale * in is a whole number; see
    AlignCornersFrac for the fractional case.
    """

    def forward(self, x):
        s = 1.97
        near = F.interpolate(x, scale_factor=s, mode="nearest")
        lin = F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)
        up = torch.cat([near, lin], dim=1)
        # Up in one axis, down in the other.
        s2 = (1.5, 0.7)
        near2 = F.interpolate(x, scale_factor=s2, mode="nearest")
        lin2 = F.interpolate(x, scale_factor=s2, mode="bilinear", align_corners=False)
        mixed = torch.cat([near2, lin2], dim=1)
        up_ac = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
        return up, mixed, up_ac


class UpsampleCubic(nn.Module):
    """Bicubic resizes (cubic_coeff_a -0.75, exclude_outside 0): half_pixel by 1.97 (13x11 to
    25x21) and align_corners by 2 (to 26x22)."""

    def forward(self, x):
        a = F.interpolate(x, scale_factor=1.97, mode="bicubic", align_corners=False)
        b = F.interpolate(x, scale_factor=2.0, mode="bicubic", align_corners=True)
        return a, b


class AlignCornersFrac(nn.Module):
    """align_corners resizes whose scale * in is fractional (13 * 1.97 = 25.61 -> 25).

    Implementations disagree here. PyTorch, ONNX Runtime and OpenVINO divide by the integer
    output length minus 1, as the spec text ("length of the resized tensor") says. The onnx
    Python reference, and the backend node tests
    test_resize_downsample_scales_{linear,cubic}_align_corners generated from it, divide by
    scale * in - 1. The expected values here are PyTorch's.
    """

    def forward(self, x):
        s = 1.97
        up = torch.cat(
            [
                F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=True),
                F.interpolate(x, scale_factor=s, mode="bicubic", align_corners=True),
            ],
            dim=1,
        )
        down = F.interpolate(x, scale_factor=0.6, mode="bilinear", align_corners=True)
        return up, down


class Attention(nn.Module):
    """Single-head attention without reshapes; xt must be x transposed (fed as a second input).

    q = x Wq (the 1/sqrt(d) scale is folded into Wq), k^T = Wk^T xt, p = softmax(q k^T),
    out = (p (x Wv)) Wo. Wk^T xt multiplies a 2-D parameter by a 3-D batch, so MatMul's
    broadcasting is exercised too.
    """

    def __init__(self, d_model=32, d=16):
        super().__init__()
        g = 1.0 / math.sqrt(d_model)
        self.wq = nn.Parameter(torch.randn(d_model, d) * g / math.sqrt(d) * 2.0)
        self.wk_t = nn.Parameter(torch.randn(d, d_model) * g * 2.0)
        self.wv = nn.Parameter(torch.randn(d_model, d) * g)
        self.wo = nn.Parameter(torch.randn(d, d_model) / math.sqrt(d))

    def forward(self, x, xt):
        q = torch.matmul(x, self.wq)
        k_t = torch.matmul(self.wk_t, xt)
        p = torch.softmax(torch.matmul(q, k_t), dim=-1)
        out = torch.matmul(torch.matmul(p, torch.matmul(x, self.wv)), self.wo)
        return out, p


class DilatedGroups(nn.Module):
    """Conv variety: depthwise, grouped, dilated, asymmetric kernel/stride/dilation, no bias."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.gc = nn.Conv2d(4, 6, 3, padding=1, groups=2)
        self.dil = nn.Conv2d(6, 6, 3, padding=2, dilation=2)
        self.asym = nn.Conv2d(4, 5, (3, 2), stride=(2, 1), padding=(1, 0))
        self.nobias = nn.Conv2d(6, 3, (1, 3), stride=(1, 3), bias=False)
        self.mixed = nn.Conv2d(4, 4, 3, stride=(2, 3), dilation=(2, 1), padding=(2, 0), groups=2)

    def forward(self, x):
        y = self.dil(torch.sigmoid(self.gc(self.dw(x))))
        return y, self.asym(x), self.nobias(y), self.mixed(x)


class Conv1d(nn.Module):
    """1-D convs (strided, dilated+grouped, 1x1), a 1-D linear resize and a 1-D global pool."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 5, stride=2, padding=2)
        self.c2 = nn.Conv1d(8, 8, 3, padding=3, dilation=3, groups=4)
        self.c3 = nn.Conv1d(8, 4, 1)
        _gain(self, 2.0)

    def forward(self, x):
        y = self.c3(torch.sigmoid(self.c2(torch.sigmoid(self.c1(x)))))
        up = F.interpolate(y, scale_factor=2.0, mode="linear", align_corners=False)
        return torch.cat([x, up], dim=1), torch.sigmoid(F.adaptive_avg_pool1d(y, 1))


def _randn(gen, *shape):
    return torch.randn(*shape, generator=gen)


def _attention_inputs(gen):
    x = _randn(gen, 2, 16, 32)
    return [x, x.transpose(1, 2).contiguous()]


# name -> (module class, input names, output names, input maker). Models whose expected values
# depend on which align_corners reading a runtime follows are listed in AMBIGUOUS.
MODELS = {
    "fusion": (Fusion, ["x"], ["fused", "attn", "chan"], lambda g: [_randn(g, 1, 3, 24, 32)]),
    "upsample_odd": (
        UpsampleOdd,
        ["x"],
        ["up", "mixed", "up_ac"],
        lambda g: [_randn(g, 1, 3, 29, 23)],
    ),
    "upsample_cubic": (UpsampleCubic, ["x"], ["y", "y_ac"], lambda g: [_randn(g, 1, 2, 13, 11)]),
    "align_corners_frac": (
        AlignCornersFrac,
        ["x"],
        ["up", "down"],
        lambda g: [_randn(g, 1, 2, 13, 11)],
    ),
    "attention": (Attention, ["x", "xt"], ["out", "probs"], _attention_inputs),
    "dilated_groups": (
        DilatedGroups,
        ["x"],
        ["y", "asym", "nobias", "mixed"],
        lambda g: [_randn(g, 1, 4, 19, 23)],
    ),
    "conv1d": (Conv1d, ["x"], ["y", "pooled"], lambda g: [_randn(g, 1, 4, 50)]),
}


AMBIGUOUS = {"align_corners_frac"}


# ----------------------------------------------------------------------------------------------
# Independent float64 reference for the allowed ops, written from the ONNX operator spec.
# align_corners has two readings when scale * in is fractional. frac_ac=False divides by the
# integer output length minus 1 (spec text, PyTorch, ONNX Runtime). frac_ac=True divides by
# scale * in - 1 (the onnx Python reference). Every model outside AMBIGUOUS must match PyTorch
# under both readings, so that it is portable.


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ref_conv(x, w, b, at):
    nsp = x.ndim - 2
    k = list(w.shape[2:])
    if "kernel_shape" in at:
        assert list(at["kernel_shape"]) == k
    assert at.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    strides = list(at.get("strides", [1] * nsp))
    dil = list(at.get("dilations", [1] * nsp))
    pads = list(at.get("pads", [0] * (2 * nsp)))
    group = at.get("group", 1)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[i + nsp]) for i in range(nsp)])
    out_sp = [
        (xp.shape[2 + i] - dil[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(nsp)
    ]
    cg, mg = x.shape[1] // group, w.shape[0] // group
    assert w.shape[1] == cg and w.shape[0] % group == 0
    y = np.zeros([x.shape[0], w.shape[0]] + out_sp)
    for off in itertools.product(*[range(kk) for kk in k]):
        sl = tuple(
            slice(off[i] * dil[i], off[i] * dil[i] + strides[i] * (out_sp[i] - 1) + 1, strides[i])
            for i in range(nsp)
        )
        patch = xp[(slice(None), slice(None)) + sl]
        for g in range(group):
            wk = w[(slice(g * mg, (g + 1) * mg), slice(None)) + tuple(off)]
            y[:, g * mg : (g + 1) * mg] += np.einsum(
                "nc...,mc->nm...", patch[:, g * cg : (g + 1) * cg], wk
            )
    if b is not None:
        y += b.reshape([1, -1] + [1] * nsp)
    return y


def _cubic_coeffs(t, a):
    # Keys' kernel at distances 1+t, t, 1-t, 2-t from the four taps.
    def k(d):
        d = np.abs(d)
        return np.where(
            d <= 1,
            ((a + 2) * d - (a + 3)) * d * d + 1,
            np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0),
        )

    return np.stack([k(1 + t), k(t), k(1 - t), k(2 - t)], axis=1)


def _ref_resize_axis(x, axis, out_len, scale, at, frac_ac):
    in_len = x.shape[axis]
    mode = at.get("mode", b"nearest").decode()
    ctm = at.get("coordinate_transformation_mode", b"half_pixel").decode()
    o = np.arange(out_len, dtype=np.float64)
    if ctm == "half_pixel":
        src = (o + 0.5) / scale - 0.5
    elif ctm == "pytorch_half_pixel":
        src = (o + 0.5) / scale - 0.5 if out_len > 1 else np.zeros(out_len)
    elif ctm == "align_corners":
        length = scale * in_len if frac_ac else out_len
        src = o * (in_len - 1) / (length - 1) if out_len > 1 else np.zeros(out_len)
    elif ctm == "asymmetric":
        src = o / scale
    else:
        raise ValueError("reference does not know coordinate_transformation_mode " + ctm)
    wmat = np.zeros((out_len, in_len))
    rows = np.arange(out_len)
    if mode == "nearest":
        nm = at.get("nearest_mode", b"round_prefer_floor").decode()
        if nm == "floor":
            idx = np.floor(src)
        elif nm == "ceil":
            idx = np.ceil(src)
        elif nm == "round_prefer_floor":
            idx = np.where(src - np.floor(src) == 0.5, np.floor(src), np.round(src))
        elif nm == "round_prefer_ceil":
            idx = np.floor(src + 0.5)
        else:
            raise ValueError("unknown nearest_mode " + nm)
        wmat[rows, np.clip(idx, 0, in_len - 1).astype(int)] = 1.0
    elif mode == "linear":
        i0 = np.floor(src)
        t = src - i0
        for tap, wt in ((0, 1 - t), (1, t)):
            np.add.at(wmat, (rows, np.clip(i0 + tap, 0, in_len - 1).astype(int)), wt)
    elif mode == "cubic":
        i0 = np.floor(src)
        c = _cubic_coeffs(src - i0, at.get("cubic_coeff_a", -0.75))
        taps = i0[:, None] + np.arange(-1, 3)[None, :]
        if at.get("exclude_outside", 0):
            c = np.where((taps < 0) | (taps >= in_len), 0.0, c)
            c = c / c.sum(axis=1, keepdims=True)
        for j in range(4):
            np.add.at(wmat, (rows, np.clip(taps[:, j], 0, in_len - 1).astype(int)), c[:, j])
    else:
        raise ValueError("unknown mode " + mode)
    y = np.tensordot(wmat, np.moveaxis(x, axis, 0), axes=1)
    return np.moveaxis(y, 0, axis)


def _ref_resize(x, inputs, at, frac_ac):
    scales = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
    sizes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else None
    if scales is not None and scales.size == 0:
        scales = None
    if scales is not None:
        scales = scales.astype(np.float64)
        sizes = np.floor(np.array(x.shape) * scales).astype(int)
    else:
        sizes = sizes.astype(int)
        scales = sizes / np.array(x.shape, dtype=np.float64)
    y = x
    for ax in range(x.ndim):
        if sizes[ax] != x.shape[ax] or scales[ax] != 1.0:
            y = _ref_resize_axis(y, ax, int(sizes[ax]), float(scales[ax]), at, frac_ac)
    return y


def _ref_softmax(x, at, opset):
    if opset >= 13:
        ax = at.get("axis", -1)
        e = np.exp(x - x.max(axis=ax, keepdims=True))
        return e / e.sum(axis=ax, keepdims=True)
    ax = at.get("axis", 1) % x.ndim
    x2 = x.reshape(int(np.prod(x.shape[:ax])), -1)
    e = np.exp(x2 - x2.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape)


def reference_run(model, feeds, frac_ac=False):
    """Evaluates the graph in float64 from the ONNX spec; returns outputs in graph order."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    env = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    env.update({k: v.astype(np.float64) for k, v in feeds.items()})
    env[""] = None
    for node in model.graph.node:  # the exporter writes nodes in topological order
        ins = [env[n] for n in node.input]
        at = _attrs(node)
        op = node.op_type
        if op == "Constant":
            assert set(at) == {"value"}, "reference handles only Constant 'value'"
            out = numpy_helper.to_array(at["value"])
        elif op == "Conv":
            out = _ref_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, at)
        elif op == "Concat":
            out = np.concatenate(ins, axis=at["axis"])
        elif op == "Resize":
            out = _ref_resize(ins[0], ins, at, frac_ac)
        elif op == "MatMul":
            out = np.matmul(ins[0], ins[1])
        elif op == "Softmax":
            out = _ref_softmax(ins[0], at, opset)
        elif op == "GlobalAveragePool":
            out = ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif op == "Sigmoid":
            out = 1.0 / (1.0 + np.exp(-ins[0]))
        else:
            raise ValueError("reference has no " + op)
        assert len(node.output) == 1
        env[node.output[0]] = out
    return [env[o.name] for o in model.graph.output]


# ----------------------------------------------------------------------------------------------


def _seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _export(module, inputs, in_names, out_names, opset):
    buf = io.BytesIO()
    torch.onnx.export(
        module,
        tuple(inputs),
        buf,
        opset_version=opset,
        input_names=in_names,
        output_names=out_names,
        do_constant_folding=True,
        export_params=True,
        keep_initializers_as_inputs=False,
        training=torch.onnx.TrainingMode.EVAL,
        verbose=False,
    )
    return buf.getvalue()


def _require(cond, msg):
    # Not assert: the checks must also hold under python -O.
    if not cond:
        raise RuntimeError(msg)


def _check(name, blob, in_names, out_names, inputs, outputs):
    model = onnx.load_from_string(blob)
    onnx.checker.check_model(model, full_check=True)
    hist = collections.Counter(n.op_type for n in model.graph.node)
    bad = sorted(set(hist) - ALLOWED_OPS)
    _require(not bad, f"{name}: exporter emitted ops outside the allowed set: {bad} {dict(hist)}")
    _require(all(n.domain in ("", "ai.onnx") for n in model.graph.node), f"{name}: domain")
    _require([i.name for i in model.graph.input] == in_names, f"{name}: graph inputs changed")
    _require([o.name for o in model.graph.output] == out_names, f"{name}: graph outputs changed")
    for vi, t in itertools.chain(zip(model.graph.input, inputs), zip(model.graph.output, outputs)):
        dims = [d.dim_value if d.HasField("dim_value") else None
                for d in vi.type.tensor_type.shape.dim]
        _require(dims == list(t.shape),
                 f"{name}: '{vi.name}' declared {dims}, torch gives {list(t.shape)}")
    ref = reference_run(model, {n: t.numpy() for n, t in zip(in_names, inputs)})
    worst = 0.0
    for oname, r, t in zip(out_names, ref, outputs):
        t = t.numpy()
        _require(r.shape == t.shape, f"{name}: reference gives {r.shape} for '{oname}', "
                 f"torch {t.shape}")
        err = np.abs(r - t)
        ok = err <= REF_ATOL + REF_RTOL * np.abs(r)
        _require(ok.all(), f"{name}: reference disagrees with torch on '{oname}' "
                 f"(max |err| {err.max():g})")
        worst = max(worst, float(err.max()))
    # The other align_corners reading must agree too, unless the model exists to show that
    # it does not.
    alt = reference_run(model, {n: t.numpy() for n, t in zip(in_names, inputs)}, frac_ac=True)
    alt_err = max(float(np.abs(r - t.numpy()).max()) for r, t in zip(alt, outputs))
    alt_ok = all((np.abs(r - t.numpy()) <= REF_ATOL + REF_RTOL * np.abs(r)).all()
                 for r, t in zip(alt, outputs))
    if name in AMBIGUOUS:
        _require(not alt_ok, f"{name}: both align_corners readings agree; not ambiguous")
    else:
        _require(alt_ok, f"{name}: depends on the align_corners reading (|err| {alt_err:g})")
    return model, hist, worst, alt_err


def _write(folder, blob, in_names, out_names, inputs, outputs):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(blob)
    for kind, names, tensors in (("input", in_names, inputs), ("output", out_names, outputs)):
        for k, (n, t) in enumerate(zip(names, tensors)):
            proto = numpy_helper.from_array(t.numpy().astype(np.float32), name=n)
            with open(os.path.join(data, f"{kind}_{k}.pb"), "wb") as f:
                f.write(proto.SerializeToString())


def _resolved_versions(model, opset):
    return {op: onnx.defs.get_schema(op, opset).since_version for op in sorted(
        set(n.op_type for n in model.graph.node))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=HERE, help="directory to write the model folders into")
    ap.add_argument("only", nargs="*", help="model names to build (default: all)")
    args = ap.parse_args()
    names = args.only or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown model(s): {unknown}; known: {list(MODELS)}")

    # The exporter warns about its own shape inference of prim::Constant; _check verifies every
    # declared shape against PyTorch's outputs instead.
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # reduction order, hence the float32 outputs, stays fixed
    for name in names:
        cls, in_names, out_names, make_inputs = MODELS[name]
        seed = _seed_of(name)
        torch.manual_seed(seed)
        module = cls().eval()
        inputs = make_inputs(torch.Generator().manual_seed(seed + 1))
        with torch.no_grad():
            outputs = module(*inputs)
        outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        for opset in OPSETS:
            blob = _export(module, inputs, in_names, out_names, opset)
            model, hist, worst, alt_err = _check(name, blob, in_names, out_names, inputs, outputs)
            # models whose expected values depend on a reading of the spec that onyx does
            # not follow live apart, so `onyx test models` runs only the unambiguous ones
            parent = os.path.join(args.out, "known_differences") if name in AMBIGUOUS else args.out
            folder = os.path.join(parent, f"{name}_op{opset}")
            _write(folder, blob, in_names, out_names, inputs, outputs)
            print(f"{name}_op{opset}: {dict(sorted(hist.items()))}")
            print(f"    versions {_resolved_versions(model, opset)}")
            print(
                "    inputs "
                + ", ".join(f"{n}{list(t.shape)}" for n, t in zip(in_names, inputs))
                + "; outputs "
                + ", ".join(f"{n}{list(t.shape)}" for n, t in zip(out_names, outputs))
                + f"; reference max |err| {worst:.2e}"
                + f" (fractional align_corners reading: {alt_err:.2e})"
            )


if __name__ == "__main__":
    main()
