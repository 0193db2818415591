#!/usr/bin/python3
"""Small hand-built ONNX models for the runtime's unit tests (API, shapes, planner).

Run with Debian's python: /usr/bin/python3 tests/data/make_test_models.py
Each model is tiny and deterministic; the tests compute expected values themselves.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(model, name):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name))


def opset(v):
    return [helper.make_opsetid("", v)]


# y = sigmoid(x) with a symbolic batch dim: shapes come from the bound input.
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
g = helper.make_graph([helper.make_node("Sigmoid", ["x"], ["y"], name="sig")], "dyn_sigmoid", [x], [y])
save(helper.make_model(g, opset_imports=opset(13), producer_name="onyx-tests"), "dyn_sigmoid.onnx")

# Two inputs sharing the symbolic dim "N", concatenated on axis 1.
a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2])
b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 3])
c = helper.make_tensor_value_info("c", TensorProto.FLOAT, ["N", 5])
g = helper.make_graph([helper.make_node("Concat", ["a", "b"], ["c"], axis=1, name="cat")], "sym_concat", [a, b], [c])
save(helper.make_model(g, opset_imports=opset(13), producer_name="onyx-tests"), "sym_concat.onnx")

# A chain of sigmoids: s1..s6; each intermediate dies right after its consumer, so the
# planner can reuse memory (arena much smaller than the sum of intermediates).
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16, 16])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])
nodes = []
prev = "x"
for i in range(6):
    out = "y" if i == 5 else f"t{i}"
    nodes.append(helper.make_node("Sigmoid", [prev], [out], name=f"s{i}"))
    prev = out
g = helper.make_graph(nodes, "sigmoid_chain", [x], [y])
save(helper.make_model(g, opset_imports=opset(13), producer_name="onyx-tests"), "sigmoid_chain.onnx")

# Conv with weights as an initializer, a Constant-fed Resize (folded at plan time), Concat,
# and GlobalAveragePool: a feature-fusion shape, with two outputs.
rng = np.random.default_rng(0)
W = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), "W")
B = numpy_helper.from_array(rng.standard_normal((4,)).astype(np.float32), "B")
scales = helper.make_tensor("scales_val", TensorProto.FLOAT, [4], [1, 1, 2, 2])
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])
fused = helper.make_tensor_value_info("fused", TensorProto.FLOAT, [1, 6, 10, 10])
pooled = helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, 6, 1, 1])
nodes = [
    helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("Constant", [], ["scales"], value=scales, name="const_scales"),
    helper.make_node("Resize", ["c", "", "scales"], ["up"], mode="nearest", name="up"),
    helper.make_node("Resize", ["x", "", "scales"], ["xup"], mode="nearest", name="xup"),
    helper.make_node("Concat", ["up", "xup"], ["fused"], axis=1, name="cat"),
    helper.make_node("GlobalAveragePool", ["fused"], ["pooled"], name="gap"),
]
g = helper.make_graph(nodes, "fusion_small", [x], [fused, pooled], initializer=[W, B])
save(helper.make_model(g, opset_imports=opset(13), producer_name="onyx-tests"), "fusion_small.onnx")

# Resize whose sizes come from a graph input: the output shape depends on input data.
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])
sz = helper.make_tensor_value_info("sizes", TensorProto.INT64, [4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c", "d"])
g = helper.make_graph([helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest", name="rs")],
                      "resize_sizes_input", [x, sz], [y])
save(helper.make_model(g, opset_imports=opset(13), producer_name="onyx-tests"), "resize_sizes_input.onnx")
print("ok")

# Two branches concatenated on channels and pooled: the Concat's inputs are intermediates
# used only by it (zero-copy candidates), and the Sigmoid after the Concat can run in place.
rng = np.random.default_rng(1)
W = numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), "W")
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 7])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 1, 1])
nodes = [
    helper.make_node("Conv", ["x", "W"], ["a"], pads=[1, 1, 1, 1], name="conv"),
    helper.make_node("Sigmoid", ["x"], ["b"], name="sig_b"),
    helper.make_node("Concat", ["a", "b"], ["c"], axis=1, name="cat"),
    helper.make_node("Sigmoid", ["c"], ["d"], name="sig_d"),
    helper.make_node("GlobalAveragePool", ["d"], ["y"], name="gap"),
]
g = helper.make_graph(nodes, "concat_branches", [x], [y], initializer=[W])
save(helper.make_model(g, opset_imports=opset(13), producer_name="onyx-tests"), "concat_branches.onnx")
print("ok")
