# Writes tiny_mlp.onnx, the model of examples/dynamic_batch.c, threads.c, load_from_memory.c
# and diagnostics.c: probabilities = Softmax(Sigmoid(x @ W1) @ W2) with x float [N, 4] where
# N (named "batch") is any batch size; W1 [4, 8] and W2 [8, 3] are fixed, seeded weights.
# Run once with Debian's python3-onnx; the .onnx file is committed, tests need no Python.
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
w1 = rng.uniform(-1, 1, (4, 8)).astype(np.float32)
w2 = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
nodes = [
    helper.make_node("MatMul", ["x", "W1"], ["h"], name="dense1"),
    helper.make_node("Sigmoid", ["h"], ["a"], name="act1"),
    helper.make_node("MatMul", ["a", "W2"], ["logits"], name="dense2"),
    helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
]
graph = helper.make_graph(
    nodes, "tiny_mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
    [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(w2, "W2")])
model = helper.make_model(graph, producer_name="onyx-examples",
                          opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "tiny_mlp.onnx")
