"""The ONNX operators of transformers, one small graph each: the layers cnncalc makes, the output
shape against onnx's own shape inference, and the parameters (learned constants) by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnx")

from onnx import numpy_helper  # noqa: E402

from test_import_onnx import W, analysed, build, fields, imported, ints, node, onnx_output_shape  # noqa: E402

CASES = [
    ("matmul-of-tensors-transpose-b", [node("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2]),
                                       node("MatMul", ["x", "t"], ["y"])], [1, 3, 4, 5], {},
     [{"type": "matmul", "transpose_b": True}], 0, 3 * 4 * 5 * 4),
    ("div-of-tensors", [node("Relu", ["x"], ["r"]), node("Div", ["x", "r"], ["y"])], [1, 4, 5], {},
     [{"type": "relu"}, {"type": "div"}], 0, 0),
    ("gather-class-token", [node("Gather", ["x", "i"], ["y"], axis=1)], [1, 4, 5],
     {"i": np.array(0, dtype=np.int64)}, [{"type": "select", "index": 0}], 0, 0),
    ("gather-run-is-a-slice", [node("Gather", ["x", "i"], ["y"], axis=2)], [1, 4, 5], {"i": ints(1, 2, 3)},
     [{"type": "slice", "dim": 1, "start": 1, "end": 4}], 0, 0),
    ("gather-picked-rows", [node("Gather", ["x", "i"], ["y"], axis=1)], [1, 4, 5], {"i": ints(3, 0, 0, 2, 1, 3)},
     [{"type": "slice", "end": 1}, {"type": "expand", "shape": [6, 5]}], 0, 0),
    ("pad-channels-last", [node("Pad", ["x", "p"], ["y"])], [1, 7, 7, 8], {"p": ints(0, 0, 0, 0, 0, 1, 1, 0)},
     [{"type": "permute", "dims": [2, 0, 1]}, {"type": "pad", "padding": [[0, 1], [0, 1]]},
      {"type": "permute", "dims": [1, 2, 0]}], 0, 0),
    ("layernorm-without-a-learned-bias",
     [node("Constant", [], ["zero"], value=numpy_helper.from_array(np.zeros(5, np.float32))),
      node("LayerNormalization", ["x", "norm.weight", "zero"], ["y"], axis=-1)], [1, 4, 5], {"norm.weight": W(5)},
     [{"type": "layernorm", "normalized_shape": 5, "affine": False}, {"type": "parameter", "shape": [5]},
      {"type": "mul"}], 5, 0),
    ("learned-scalar", [node("Mul", ["x", "act.scale"], ["y"])], [1, 4, 5], {"act.scale": np.array(0.5, np.float32)},
     [{"type": "parameter", "shape": [1, 1]}, {"type": "mul"}], 1, 0),
    ("attention-biases-by-column", [node("Gather", ["biases", "idx"], ["g"], axis=1), node("Add", ["x", "g"], ["y"])],
     [1, 2, 3, 3], {"biases": W(2, 5), "idx": ints(0, 1, 2, 1, 0, 1, 2, 1, 0).reshape(3, 3)},
     [{"type": "constant", "shape": [3, 3]}, {"type": "embedding", "num_embeddings": 5, "embedding_dim": 2},
      {"type": "permute", "dims": [2, 0, 1]}, {"type": "add"}], 10, 0),
    ("tile-over-windows", [node("Tile", ["x", "r"], ["t"]), node("Relu", ["t"], ["u"]),
                           node("Reshape", ["u", "s"], ["y"])], [1, 1, 4, 5],
     {"r": ints(3, 2, 1, 1), "s": ints(1, 120)},
     [{"type": "expand", "shape": [3, 2, 4, 5]}, {"type": "relu"}, {"type": "flatten"}], 0, 0),
    ("strided-slice-of-an-odd-size", [node("Slice", ["x", "b", "e", "a", "st"], ["y"])], [1, 4, 7],
     {"b": ints(0), "e": ints(100), "a": ints(2), "st": ints(2)},
     [{"type": "slice", "dim": 1, "end": 1}, {"type": "expand", "shape": [4, 4]}], 0, 0),
    ("reduce-l2-alone", [node("ReduceL2", ["x", "a"], ["y"], keepdims=1)], [1, 3, 4, 5], {"a": ints(1, 2)},
     [{"type": "square"}, {"type": "sum", "dim": [0, 1], "keepdim": True}, {"type": "sqrt"}], 0, 0),
    ("mlp-of-a-constant-table", [node("Gemm", ["table", "w"], ["g"], transB=1), node("Add", ["x", "g"], ["y"])],
     [1, 4, 8], {"table": W(4, 2), "w": W(8, 2)},
     [{"type": "constant", "shape": [4, 2]}, {"type": "linear", "out_features": 8, "bias": False, "in_features": 2},
      {"type": "add"}], 16, 4 * 2 * 8),
    ("reduce-sum-tokens", [node("ReduceSum", ["x", "a"], ["y"], keepdims=0)], [1, 4, 5], {"a": ints(1)},
     [{"type": "sum", "dim": 0}], 0, 0),
    ("reduce-mean-channels-keepdims", [node("ReduceMean", ["x", "a"], ["y"], keepdims=1)], [1, 3, 4, 5],
     {"a": ints(1)}, [{"type": "mean", "dim": 0, "keepdim": True}], 0, 0),
    ("reduce-mean-spatial-is-global-pooling", [node("ReduceMean", ["x", "a"], ["y"], keepdims=1)], [1, 3, 4, 5],
     {"a": ints(2, 3)}, [{"type": "global_avgpool"}], 0, 0),
    ("reduce-max-two-axes", [node("ReduceMax", ["x", "a"], ["y"], keepdims=0)], [1, 3, 4, 5], {"a": ints(1, 3)},
     [{"type": "max", "dim": [0, 2]}], 0, 0),
    ("einsum-batched", [node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
                        node("Einsum", ["x", "t"], ["y"], equation="bij,bjk->bik")], [1, 4, 5], {},
     [{"type": "permute", "dims": [1, 0]}, {"type": "einsum", "equation": "ij,jk->ik"}], 0, 4 * 5 * 4),
    ("pow-sqrt-exp", [node("Pow", ["x", "two"], ["p"]), node("Sqrt", ["p"], ["s"]), node("Exp", ["s"], ["y"])],
     [1, 4, 5], {"two": np.array(2.0, dtype=np.float32)},
     [{"type": "pow", "exponent": 2.0}, {"type": "sqrt"}, {"type": "exp"}], 0, 0),
    ("erf-alone", [node("Erf", ["x"], ["y"])], [1, 4, 5], {}, [{"type": "erf"}], 0, 0),
    ("position-embedding", [node("Add", ["x", "pos"], ["y"])], [1, 4, 5], {"pos": W(1, 4, 5)},
     [{"type": "parameter", "shape": [4, 5]}, {"type": "add"}], 20, 0),
    ("class-token-concat", [node("Concat", ["cls", "x"], ["y"], axis=1)], [1, 4, 5], {"cls": W(1, 1, 5)},
     [{"type": "parameter", "shape": [1, 5]}, {"type": "concat"}], 5, 0),
    ("windows-folded-into-the-batch", [node("Reshape", ["x", "s"], ["w"]), node("Relu", ["w"], ["r"]),
                                       node("Reshape", ["r", "back"], ["y"])], [1, 4, 6],
     {"s": ints(2, 2, 6), "back": ints(1, 4, 6)},
     [{"type": "reshape", "shape": [2, 2, 6]}, {"type": "relu"}, {"type": "reshape", "shape": [4, 6]}], 0, 0),
    ("batch-moved-and-back", [node("Transpose", ["x"], ["t"], perm=[1, 0, 2]), node("Relu", ["t"], ["r"]),
                              node("Softmax", ["r"], ["s"], axis=2), node("Transpose", ["s"], ["y"], perm=[1, 0, 2])],
     [1, 4, 5], {}, [{"type": "relu"}, {"type": "softmax", "dim": 1}], 0, 0),
    ("strided-slice", [node("Slice", ["x", "b", "e", "a", "st"], ["y"])], [1, 4, 6],
     {"b": ints(1), "e": ints(100), "a": ints(2), "st": ints(2)},
     [{"type": "reshape", "shape": [4, 3, 2]}, {"type": "select", "dim": 2, "index": 1}], 0, 0),
    ("embedding-of-a-table", [node("Gather", ["table", "idx"], ["g"], axis=0), node("Add", ["x", "g"], ["y"])],
     [1, 4, 5], {"table": W(7, 5), "idx": ints(0, 3, 6, 1)},
     [{"type": "constant", "shape": [4]}, {"type": "embedding", "num_embeddings": 7, "embedding_dim": 5},
      {"type": "add"}], 35, 0),
]


@pytest.mark.parametrize("nodes,shape,constants,expected,params,macs", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_token_operator(tmp_path: Path, nodes: list[Any], shape: list[int], constants: dict[str, np.ndarray],
                        expected: list[dict[str, Any]], params: int, macs: int) -> None:
    model = build(nodes, shape, constants, 17)
    spec = imported(model, tmp_path)
    assert [fields(layer) for layer in spec["layers"]] == expected
    report = analysed(spec)
    known = onnx_output_shape(model)
    assert known is not None
    assert list(report.outputs.values())[0] == tuple(known)
    assert (report.totals.params, report.totals.macs) == (params, macs)
