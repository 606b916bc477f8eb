"""The ONNX importer on small models built with onnx.helper, one per operator and attribute case.

Known answers come from outside cnncalc: every output shape is the one ONNX's own shape
inference (onnx.shape_inference, the operator specs in C++) gives for the model, and
every parameter count is the number of weights the model stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.errors import SpecError  # noqa: E402
from cnncalc.importers import ImportOptions  # noqa: E402
from cnncalc.importers.emit import spec_text  # noqa: E402
from cnncalc.importers.onnx import to_spec  # noqa: E402


def weights(*shape: int) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def floats(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def node(op_type: str, inputs: list[str], outputs: list[str], name: str | None = None, **attrs: Any) -> Any:
    return helper.make_node(op_type, inputs, outputs, name=name or f"/{outputs[0]}/{op_type}", **attrs)


def build(nodes: list[Any], shape: list[Any], constants: dict[str, np.ndarray] | None = None,
          opset: int = 17, outputs: list[str] | None = None, inputs: dict[str, list[Any]] | None = None) -> Any:
    inputs = inputs or {"x": shape}
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, dims) for name, dims in inputs.items()],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs or [nodes[-1].output[0]]],
        [numpy_helper.from_array(value, name) for name, value in (constants or {}).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def write(model: Any, tmp_path: Path, name: str = "model.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def imported(model: Any, tmp_path: Path, **options: Any) -> dict[str, Any]:
    return to_spec(write(model, tmp_path), ImportOptions(**options))


def analysed(spec: dict[str, Any]) -> Any:
    return cnncalc.analyze(spec_text(spec, "test"))


def onnx_output_shape(model: Any) -> list[int] | None:
    """The output shape ONNX's own shape inference gives (the operator specs' formulas); None if it gives none."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    output = inferred.graph.output[0].name
    for value in list(inferred.graph.value_info) + list(inferred.graph.output):
        if value.name == output and value.type.tensor_type.HasField("shape"):
            dims = [dim.dim_value for dim in value.type.tensor_type.shape.dim]
            return dims if dims and all(dims) else None
    return None


def fields(layer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in layer.items() if key not in ("name", "from", "#")}


W = weights
# (id, nodes, input shape, constants, opset, the imported layers' types and fields, params)
CASES: list[tuple[str, list[Any], list[int], dict[str, np.ndarray], int, list[dict[str, Any]], int]] = [
    ("conv-bias-stride-pads", [node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                    strides=[2, 2])], [1, 3, 32, 32], {"w": W(8, 3, 3, 3), "b": W(8)}, 17,
     [{"type": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1, "in_channels": 3}], 224),
    ("conv-asymmetric-pads", [node("Conv", ["x", "w"], ["y"], pads=[0, 1, 1, 2])], [1, 3, 10, 10],
     {"w": W(4, 3, 3, 3)}, 17,
     [{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": [[0, 1], [1, 2]], "bias": False,
       "in_channels": 3}], 108),
    ("conv-same-upper-stride", [node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])],
     [1, 3, 15, 16], {"w": W(4, 3, 4, 4)}, 17,
     [{"type": "conv2d", "out_channels": 4, "kernel_size": 4, "stride": 2, "padding": "same", "bias": False,
       "in_channels": 3}], 192),
    ("conv-same-lower", [node("Conv", ["x", "w"], ["y"], auto_pad="SAME_LOWER", strides=[2, 2])],
     [1, 3, 15, 16], {"w": W(4, 3, 4, 4)}, 17,
     [{"type": "conv2d", "out_channels": 4, "kernel_size": 4, "stride": 2, "padding": [[2, 1], [1, 1]],
       "bias": False, "in_channels": 3}], 192),
    ("conv-valid", [node("Conv", ["x", "w"], ["y"], auto_pad="VALID")], [1, 3, 9, 9], {"w": W(2, 3, 3, 3)}, 17,
     [{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "bias": False, "in_channels": 3}], 54),
    ("conv-depthwise-dilated", [node("Conv", ["x", "w"], ["y"], group=8, dilations=[2, 2], pads=[2, 2, 2, 2])],
     [1, 8, 12, 12], {"w": W(8, 1, 3, 3)}, 17,
     [{"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 2, "dilation": 2, "groups": 8,
       "bias": False, "in_channels": 8}], 72),
    ("conv1d", [node("Conv", ["x", "w", "b"], ["y"], strides=[3])], [1, 2, 20], {"w": W(5, 2, 4), "b": W(5)}, 17,
     [{"type": "conv1d", "out_channels": 5, "kernel_size": 4, "stride": 3, "in_channels": 2}], 45),
    ("conv3d", [node("Conv", ["x", "w"], ["y"], pads=[1, 0, 0, 1, 0, 0])], [1, 2, 4, 6, 6], {"w": W(3, 2, 3, 1, 1)},
     17, [{"type": "conv3d", "out_channels": 3, "kernel_size": [3, 1, 1], "padding": [1, 0, 0], "bias": False,
           "in_channels": 2}], 18),
    ("conv-transpose", [node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 0, 1, 0],
                             output_padding=[1, 1])], [1, 4, 7, 7], {"w": W(4, 6, 3, 3), "b": W(6)}, 17,
     [{"type": "conv_transpose2d", "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": [1, 0],
       "output_padding": 1}], 222),
    ("conv-transpose-output-shape", [node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2],
                                          output_shape=[14, 15])], [1, 4, 7, 7], {"w": W(4, 2, 3, 3)}, 17,
     [{"type": "conv_transpose2d", "out_channels": 2, "kernel_size": 3, "stride": 2,
       "padding": [[1, 0], [0, 0]], "bias": False}], 72),
    ("conv-transpose-grouped-same", [node("ConvTranspose", ["x", "w"], ["y"], strides=[2], group=2,
                                          auto_pad="SAME_UPPER")], [1, 4, 5], {"w": W(4, 3, 4)}, 17,
     [{"type": "conv_transpose1d", "out_channels": 6, "kernel_size": 4, "stride": 2, "padding": 1, "groups": 2,
       "bias": False}], 48),
    ("gemm-transB-bias", [node("Gemm", ["x", "w", "b"], ["y"], transB=1)], [1, 20], {"w": W(10, 20), "b": W(10)}, 17,
     [{"type": "linear", "out_features": 10, "in_features": 20}], 210),
    ("gemm-no-bias", [node("Gemm", ["x", "w"], ["y"])], [1, 20], {"w": W(20, 10)}, 17,
     [{"type": "linear", "out_features": 10, "bias": False, "in_features": 20}], 200),
    ("matmul-add-bias", [node("MatMul", ["x", "w"], ["m"]), node("Add", ["m", "b"], ["y"])], [1, 7, 20],
     {"w": W(20, 10), "b": W(10)}, 17, [{"type": "linear", "out_features": 10, "in_features": 20}], 210),
    ("matmul", [node("MatMul", ["x", "w"], ["y"])], [1, 20], {"w": W(20, 10)}, 17,
     [{"type": "linear", "out_features": 10, "bias": False, "in_features": 20}], 200),
    ("maxpool-ceil-pads", [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                ceil_mode=1)], [1, 4, 10, 11], {}, 17,
     [{"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}], 0),
    ("maxpool-ceil", [node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)],
     [1, 4, 11, 11], {}, 17, [{"type": "maxpool2d", "kernel_size": 2, "ceil_mode": True}], 0),
    ("maxpool-dilation-stride1", [node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2])],
     [1, 4, 9, 9], {}, 17, [{"type": "maxpool2d", "kernel_size": 2, "stride": 1, "dilation": 2}], 0),
    ("avgpool-exclude-pad", [node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1])], [1, 4, 9, 9], {}, 17,
     [{"type": "avgpool2d", "kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}], 0),
    ("avgpool-include-pad-ceil", [node("AveragePool", ["x"], ["y"], kernel_shape=[3], strides=[2], pads=[1, 1],
                                       count_include_pad=1, ceil_mode=1)], [1, 4, 10], {}, 17,
     [{"type": "avgpool1d", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}], 0),
    ("avgpool-same-upper", [node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                 auto_pad="SAME_UPPER")], [1, 4, 10, 10], {}, 17,
     [{"type": "avgpool2d", "kernel_size": 3, "stride": 2, "padding": "same", "count_include_pad": False}], 0),
    ("global-avgpool", [node("GlobalAveragePool", ["x"], ["y"])], [1, 4, 5, 5], {}, 17,
     [{"type": "global_avgpool"}], 0),
    ("global-maxpool-3d", [node("GlobalMaxPool", ["x"], ["y"])], [1, 4, 2, 5, 5], {}, 17,
     [{"type": "global_maxpool"}], 0),
    ("reduce-mean-no-keepdims", [node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)], [1, 4, 5, 5],
     {"axes": ints(2, 3)}, 18, [{"type": "global_avgpool"}, {"type": "flatten"}], 0),
    ("batchnorm", [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])], [1, 4, 5, 5],
     {"s": W(4), "b": W(4), "m": W(4), "v": W(4)}, 17, [{"type": "batchnorm2d"}], 8),
    ("instancenorm", [node("InstanceNormalization", ["x", "s", "b"], ["y"])], [1, 4, 5, 5], {"s": W(4), "b": W(4)},
     17, [{"type": "instancenorm2d", "affine": True}], 8),
    ("layernorm", [node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-1)], [1, 6, 8], {"s": W(8), "b": W(8)},
     17, [{"type": "layernorm", "normalized_shape": 8}], 16),
    ("lrn", [node("LRN", ["x"], ["y"], size=5, alpha=2e-4, beta=0.75, bias=2.0)], [1, 8, 5, 5], {}, 17,
     [{"type": "lrn", "size": 5, "alpha": pytest.approx(2e-4), "beta": 0.75, "k": 2.0}], 0),
    ("relu", [node("Relu", ["x"], ["y"])], [1, 4, 5], {}, 17, [{"type": "relu"}], 0),
    ("leaky-relu", [node("LeakyRelu", ["x"], ["y"], alpha=0.1)], [1, 4, 5], {}, 17,
     [{"type": "leaky_relu", "negative_slope": pytest.approx(0.1)}], 0),
    ("prelu-per-channel", [node("PRelu", ["x", "s"], ["y"])], [1, 4, 5, 5], {"s": W(4, 1, 1)}, 17,
     [{"type": "prelu", "num_parameters": 4}], 4),
    ("elu", [node("Elu", ["x"], ["y"], alpha=0.5)], [1, 4], {}, 17, [{"type": "elu", "alpha": 0.5}], 0),
    ("selu", [node("Selu", ["x"], ["y"])], [1, 4], {}, 17, [{"type": "selu"}], 0),
    ("sigmoid", [node("Sigmoid", ["x"], ["y"])], [1, 4], {}, 17, [{"type": "sigmoid"}], 0),
    ("tanh", [node("Tanh", ["x"], ["y"])], [1, 4], {}, 17, [{"type": "tanh"}], 0),
    ("hardsigmoid", [node("HardSigmoid", ["x"], ["y"], alpha=1 / 6)], [1, 4], {}, 17, [{"type": "hardsigmoid"}], 0),
    ("hardswish", [node("HardSwish", ["x"], ["y"])], [1, 4], {}, 17, [{"type": "hardswish"}], 0),
    ("gelu", [node("Gelu", ["x"], ["y"])], [1, 4], {}, 20, [{"type": "gelu"}], 0),
    ("mish", [node("Mish", ["x"], ["y"])], [1, 4], {}, 18, [{"type": "mish"}], 0),
    ("softmax-channels", [node("Softmax", ["x"], ["y"], axis=1)], [1, 4, 5], {}, 17, [{"type": "softmax"}], 0),
    ("log-softmax-last", [node("LogSoftmax", ["x"], ["y"])], [1, 4, 5], {}, 17,
     [{"type": "log_softmax", "dim": 1}], 0),
    ("clip-relu6", [node("Clip", ["x", "lo", "hi"], ["y"])], [1, 4], {"lo": floats(0), "hi": floats(6)}, 17,
     [{"type": "relu6"}], 0),
    ("clip-relu", [node("Clip", ["x", "lo"], ["y"])], [1, 4], {"lo": floats(0)}, 17, [{"type": "relu"}], 0),
    ("clip-attributes-opset6", [node("Clip", ["x"], ["y"], min=0.0, max=6.0)], [1, 4], {}, 6,
     [{"type": "relu6"}], 0),
    ("silu-decomposed", [node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], [1, 4], {}, 17,
     [{"type": "silu"}], 0),
    ("mish-decomposed", [node("Softplus", ["x"], ["s"]), node("Tanh", ["s"], ["t"]), node("Mul", ["x", "t"], ["y"])],
     [1, 4], {}, 17, [{"type": "mish"}], 0),
    ("gelu-decomposed", [node("Div", ["x", "r2"], ["d"]), node("Erf", ["d"], ["e"]), node("Add", ["e", "one"], ["a"]),
                         node("Mul", ["x", "a"], ["m"]), node("Mul", ["m", "half"], ["y"])], [1, 4],
     {"r2": floats(1.4142135), "one": floats(1.0), "half": floats(0.5)}, 17, [{"type": "gelu"}], 0),
    ("add-two-tensors", [node("Relu", ["x"], ["r"]), node("Add", ["x", "r"], ["y"])], [1, 4, 5], {}, 17,
     [{"type": "relu"}, {"type": "add"}], 0),
    ("sub-two-tensors", [node("Relu", ["x"], ["r"]), node("Sub", ["r", "x"], ["y"])], [1, 4, 5], {}, 17,
     [{"type": "relu"}, {"type": "sub"}], 0),
    ("mul-scalar", [node("Mul", ["x", "c"], ["y"])], [1, 4, 5], {"c": floats(0.5)}, 17, [{"type": "identity"}], 0),
    ("mul-per-channel-scale", [node("Mul", ["x", "c"], ["y"])], [1, 4, 5, 5], {"c": W(4, 1, 1)}, 17,
     [{"type": "scale"}], 4),
    ("scale-with-bias", [node("Mul", ["x", "c"], ["m"]), node("Add", ["m", "d"], ["y"])], [1, 4, 5, 5],
     {"c": W(1, 4, 1, 1), "d": W(4, 1, 1)}, 17, [{"type": "scale", "bias": True}], 8),
    ("conv-then-bias-add", [node("Conv", ["x", "w"], ["c"]), node("Add", ["c", "b"], ["y"])], [1, 3, 5, 5],
     {"w": W(4, 3, 1, 1), "b": W(4, 1, 1)}, 17,
     [{"type": "conv2d", "out_channels": 4, "kernel_size": 1, "in_channels": 3}], 16),
    ("concat-channels", [node("Relu", ["x"], ["r"]), node("Concat", ["x", "r"], ["y"], axis=1)], [1, 4, 5], {}, 17,
     [{"type": "relu"}, {"type": "concat"}], 0),
    ("concat-negative-axis", [node("Relu", ["x"], ["r"]), node("Concat", ["x", "r"], ["y"], axis=-1)], [1, 4, 5], {},
     17, [{"type": "relu"}, {"type": "concat", "dim": 1}], 0),
    ("split-sizes", [node("Split", ["x", "s"], ["a", "b"], axis=1), node("Add", ["a", "b"], ["y"])], [1, 8, 5],
     {"s": ints(4, 4)}, 17, [{"type": "slice", "end": 4}, {"type": "slice", "start": 4}, {"type": "add"}], 0),
    ("split-equal-attribute", [node("Split", ["x"], ["a", "b"], axis=2), node("Concat", ["b", "a"], ["y"], axis=2)],
     [1, 3, 6], {}, 11, [{"type": "slice", "dim": 1, "end": 3}, {"type": "slice", "dim": 1, "start": 3},
                         {"type": "concat", "dim": 1}], 0),
    ("slice-two-axes-negative", [node("Slice", ["x", "st", "en", "ax"], ["y"])], [1, 8, 10, 10],
     {"st": ints(2, -4), "en": ints(6, 2**62), "ax": ints(1, 3)}, 17,
     [{"type": "slice", "start": 2, "end": 6}, {"type": "slice", "dim": 2, "start": 6}], 0),
    ("reshape-zero-minus-one", [node("Reshape", ["x", "s"], ["y"])], [1, 4, 6, 6], {"s": ints(0, 4, -1)}, 17,
     [{"type": "reshape", "shape": [4, 36]}], 0),
    ("reshape-noop", [node("Reshape", ["x", "s"], ["r"]), node("Relu", ["r"], ["y"])], [1, 4, 6],
     {"s": ints(1, 4, 6)}, 17, [{"type": "relu"}], 0),
    ("flatten", [node("Flatten", ["x"], ["y"])], [1, 4, 6, 6], {}, 17, [{"type": "flatten"}], 0),
    ("transpose", [node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], [1, 4, 5, 6], {}, 17,
     [{"type": "permute", "dims": [1, 2, 0]}], 0),
    ("squeeze-unsqueeze", [node("Unsqueeze", ["x", "a"], ["u"]), node("Squeeze", ["u", "a"], ["y"])], [1, 4, 5],
     {"a": ints(2)}, 17, [{"type": "reshape", "shape": [4, 1, 5]}, {"type": "reshape", "shape": [4, 5]}], 0),
    ("resize-scales-nearest", [node("Resize", ["x", "", "s"], ["y"])], [1, 4, 5, 6], {"s": floats(1, 1, 2, 2)}, 17,
     [{"type": "upsample", "scale_factor": 2.0}], 0),
    ("resize-sizes-linear", [node("Resize", ["x", "", "", "s"], ["y"], mode="linear")], [1, 4, 5, 6],
     {"s": ints(1, 4, 9, 13)}, 17, [{"type": "upsample", "size": [9, 13], "mode": "bilinear"}], 0),
    ("upsample-opset9", [node("Upsample", ["x", "s"], ["y"])], [1, 4, 5, 6], {"s": floats(1, 1, 2, 3)}, 9,
     [{"type": "upsample", "scale_factor": [2.0, 3.0]}], 0),
    ("pad-asymmetric", [node("Pad", ["x", "p"], ["y"])], [1, 4, 5, 6], {"p": ints(0, 0, 1, 0, 0, 0, 2, 3)}, 17,
     [{"type": "pad", "padding": [[1, 2], [0, 3]]}], 0),
    ("pad-reflect", [node("Pad", ["x", "p"], ["y"], mode="reflect")], [1, 4, 5, 6], {"p": ints(0, 0, 1, 1, 0, 0, 1, 1)},
     17, [{"type": "pad", "padding": 1, "mode": "reflect"}], 0),
    ("pad-folded-into-conv", [node("Pad", ["x", "p"], ["q"]), node("Conv", ["q", "w"], ["y"], strides=[2, 2])],
     [1, 3, 8, 8], {"p": ints(0, 0, 0, 0, 0, 0, 1, 1), "w": W(4, 3, 3, 3)}, 17,
     [{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": [[0, 1], [0, 1]],
       "bias": False, "in_channels": 3}], 108),
    ("dropout-identity", [node("Dropout", ["x"], ["d"]), node("Identity", ["d"], ["y"])], [1, 4], {}, 17,
     [{"type": "dropout"}], 0),
    ("depth-to-space", [node("DepthToSpace", ["x"], ["y"], blocksize=2)], [1, 8, 3, 3], {}, 17,
     [{"type": "pixel_shuffle", "upscale_factor": 2}], 0),
    ("shape-computation-folded", [node("Shape", ["x"], ["s"]), node("Gather", ["s", "zero"], ["n"], axis=0),
                                  node("Unsqueeze", ["n", "axes"], ["u"]),
                                  node("Concat", ["u", "minus"], ["t"], axis=0),
                                  node("Reshape", ["x", "t"], ["y"])], [1, 4, 5, 5],
     {"zero": np.array(0, dtype=np.int64), "axes": ints(0), "minus": ints(-1)}, 17, [{"type": "flatten"}], 0),
]


@pytest.mark.parametrize("nodes,shape,constants,opset,expected,params",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_operator(tmp_path: Path, nodes: list[Any], shape: list[int], constants: dict[str, np.ndarray], opset: int,
                  expected: list[dict[str, Any]], params: int) -> None:
    model = build(nodes, shape, constants, opset)
    spec = imported(model, tmp_path)
    assert [fields(layer) for layer in spec["layers"]] == expected
    report = analysed(spec)
    known = onnx_output_shape(model)
    if known is not None:  # ONNX's inference stops at Shape -> Gather; that case is checked below
        assert list(report.outputs.values())[0] == tuple(known)
    assert report.totals.params == params


def test_shape_computation_is_folded(tmp_path: Path) -> None:
    """x.view(x.size(0), -1) as exporters write it: Shape, Gather, Unsqueeze, Concat, Reshape."""
    case = next(case for case in CASES if case[0] == "shape-computation-folded")
    report = analysed(imported(build(case[1], case[2], case[3]), tmp_path))
    assert list(report.outputs.values()) == [(1, 100)]


def test_names_come_from_the_node_scopes(tmp_path: Path) -> None:
    model = build([node("Conv", ["x", "w"], ["c"], name="/layer1/layer1.0/conv1/Conv"),
                   node("Relu", ["c"], ["r"], name="/layer1/layer1.0/relu/Relu"),
                   node("Relu", ["r"], ["y"], name="/layer1/layer1.0/relu/Relu_1"),
                   node("Flatten", ["y"], ["f"], name="/Flatten")], [1, 3, 4, 4], {"w": W(2, 3, 1, 1)})
    spec = imported(model, tmp_path)
    assert [layer["name"] for layer in spec["layers"]] == ["conv1", "relu", "relu_2", "flatten"]


def test_macs_match_the_weights(tmp_path: Path) -> None:
    """A 3x3 conv, 3 -> 8 channels, on 32x32 with stride 2 and pad 1: 16x16 outputs x 8 x 27 MACs."""
    model = build(CASES[0][1], CASES[0][2], CASES[0][3])
    assert analysed(imported(model, tmp_path)).totals.macs == 16 * 16 * 8 * 27


def test_group_norm_as_pytorch_exports_it(tmp_path: Path) -> None:
    nodes = [node("Reshape", ["x", "grouped"], ["r"]),
             node("InstanceNormalization", ["r", "ones", "zeros"], ["n"]),
             node("Reshape", ["n", "back"], ["b"]),
             node("Mul", ["b", "w"], ["m"]), node("Add", ["m", "bias"], ["y"])]
    constants = {"grouped": ints(1, 2, -1), "ones": np.ones(2, np.float32), "zeros": np.zeros(2, np.float32),
                 "back": ints(1, 8, 4, 4), "w": W(8, 1, 1), "bias": W(8, 1, 1)}
    spec = imported(build(nodes, [1, 8, 4, 4], constants), tmp_path)
    assert [fields(layer) for layer in spec["layers"]] == [{"type": "groupnorm", "num_groups": 2, "affine": False},
                                                            {"type": "scale", "bias": True}]
    assert analysed(spec).totals.params == 16  # nn.GroupNorm(2, 8): weight and bias


def test_dynamic_sizes_need_input(tmp_path: Path) -> None:
    model = build([node("Relu", ["x"], ["y"])], ["batch", 3, "height", "width"])
    with pytest.raises(SpecError) as error:
        imported(model, tmp_path)
    assert str(error.value) == (f"{tmp_path / 'model.onnx'}: input 'x' has sizes the file leaves open: height, "
                                "width; give them: --input x=3xheightxwidth")
    spec = imported(model, tmp_path, inputs={"": (3, 64, 48)}, batch=4)
    assert spec["inputs"] == {"x": {"shape": [3, 64, 48], "batch": 4}}
    named = imported(model, tmp_path, inputs={"x": (3, 8, 8)})
    assert named["inputs"] == {"x": {"shape": [3, 8, 8], "batch": 1}}


def test_unknown_input_name(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="--input image=...: the model has no input 'image'; inputs: x"):
        imported(build([node("Relu", ["x"], ["y"])], [1, 3, 4, 4]), tmp_path, inputs={"image": (3, 4, 4)})


def test_every_unsupported_node_is_listed_at_once(tmp_path: Path) -> None:
    nodes = [node("Relu", ["x"], ["r"], name="relu0"), node("Tan", ["r"], ["e"], name="tan0"),
             node("Acos", ["e"], ["c"], name="acos0"), node("Tan", ["c"], ["y"], name="tan1")]
    with pytest.raises(SpecError) as error:
        imported(build(nodes, [1, 4]), tmp_path)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'model.onnx'}: 3 nodes with operators cnncalc cannot map: "
                              "Tan: 'tan0', 'tan1'; Acos: 'acos0'; operators cnncalc maps: ")


def test_custom_domain_is_unsupported(tmp_path: Path) -> None:
    custom = helper.make_node("FusedConv", ["x"], ["y"], name="fused", domain="com.microsoft")
    model = build([custom], [1, 4])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    with pytest.raises(SpecError, match="1 node with operators cnncalc cannot map: com.microsoft.FusedConv: 'fused'"):
        imported(model, tmp_path)


@pytest.mark.parametrize("nodes,constants,problem", [
    ([node("Clip", ["x", "lo", "hi"], ["y"], name="clip")], {"lo": floats(-1), "hi": floats(1)},
     "node 'clip' (Clip): Clip to [-1.0, 1.0] has no layer type; cnncalc maps Clip to [0, 6] (relu6) and to "
     "[0, inf) (relu)"),
    ([node("Add", ["x", "c"], ["y"], name="batched")], {"c": W(2, 4, 5)},
     "node 'batched' (Add): the constant 'c' of shape [2, 4, 5] varies along the batch axis of [1, 4, 5]"),
    ([node("Transpose", ["x"], ["t"], perm=[1, 0, 2]), node("Relu", ["t"], ["r"]),
      node("MaxPool", ["r"], ["y"], name="pool", kernel_shape=[2])], {},
     "node 'pool' (MaxPool): input 'r' [4, 1, 5] holds the batch in axis 1"),
    ([node("Softplus", ["x"], ["y"], name="sp")], {}, "node 'sp' (Softplus): Softplus has no layer type"),
    ([node("Relu", ["x"], ["r"]), node("Pow", ["x", "r"], ["y"], name="pow")], {},
     "node 'pow' (Pow): Pow with a computed or non-scalar exponent has no layer type"),
    ([node("Relu", ["x"], ["r"]), node("ReduceSum", ["r", "axes"], ["y"], name="sum")], {"axes": ints(0)},
     "node 'sum' (ReduceSum): axis 0 holds the batch ([1, 4, 5])"),
    ([node("Gather", ["x", "i"], ["y"], name="pick", axis=2)], {"i": ints(0, 2).reshape(1, 2)},
     "node 'pick' (Gather): Gather by indices of shape [1, 2]: no layer type"),
    ([node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="strided")],
     {"s": ints(4), "e": ints(0), "a": ints(2), "st": ints(-1)},
     "node 'strided' (Slice): a slice from 4 to 0 with a step of -1 has no layer type"),
])
def test_operator_errors(tmp_path: Path, nodes: list[Any], constants: dict[str, np.ndarray], problem: str) -> None:
    with pytest.raises(SpecError) as error:
        imported(build(nodes, [1, 4, 5], constants), tmp_path)
    assert str(error.value).startswith(f"{tmp_path / 'model.onnx'}: {problem}")


def test_kernel_larger_than_input_names_the_node(tmp_path: Path) -> None:
    model = build([node("Conv", ["x", "w"], ["y"], name="/big/Conv")], [1, 3, 4, 4], {"w": W(2, 3, 7, 7)})
    with pytest.raises(SpecError) as error:
        imported(model, tmp_path)
    assert str(error.value).startswith(f"{tmp_path / 'model.onnx'}: node '/big/Conv' (Conv): as cnncalc conv2d: "
                                       "kernel 7x7 (dilation 1) is larger than the padded input 4x4")


def valid_model_bytes() -> bytes:
    model = build([node("Conv", ["x", "w", "b"], ["c"]), node("Relu", ["c"], ["y"])], [1, 3, 8, 8],
                  {"w": np.ones((4, 3, 3, 3), np.float32), "b": np.ones(4, np.float32)})
    data: bytes = model.SerializeToString()
    return data


@pytest.mark.parametrize("content", [
    b"", b"not an onnx model at all\n", b"\x00\x01\x02\x03" * 10, b"name: resnet\nlayers: []\n"])
def test_not_an_onnx_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(SpecError) as error:
        to_spec(path, ImportOptions())
    assert str(error.value).startswith(f"{path}: not an ONNX model, or a truncated one (")


def test_truncated_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    """Every cut of a valid model is a clear error (or, cut after the graph, a valid import): never a traceback."""
    data = valid_model_bytes()
    path = tmp_path / "model.onnx"
    for length in range(0, len(data), 7):
        path.write_bytes(data[:length])
        try:
            to_spec(path, ImportOptions())
        except SpecError as error:
            assert str(error).startswith(str(path)), str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read .*missing.onnx: No such file or directory"):
        to_spec(tmp_path / "missing.onnx", ImportOptions())


@pytest.mark.parametrize("command", ["analyze", "import"])
def test_cli_errors_exit_2(tmp_path: Path, command: str) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(valid_model_bytes()[:60])
    unsupported = write(build([node("Tan", ["x"], ["y"], name="tan0")], [1, 4]), tmp_path, "tan.onnx")
    for path, message in ((truncated, f"{truncated}: not an ONNX model, or a truncated one ("),
                          (unsupported, f"{unsupported}: 1 node with operators cnncalc cannot map: Tan: 'tan0'; ")):
        result = CliRunner().invoke(main, [command, str(path)])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_cli_import_and_analyze(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    path = write(build([node("Conv", ["x", "w"], ["y"], name="/conv1/Conv", pads=[1, 1, 1, 1])],
                       ["N", 3, "H", "W"], {"w": W(8, 3, 3, 3)}), tmp_path)
    result = CliRunner().invoke(main, ["import", str(path), "--input", "3x32x32"])
    assert result.exit_code == 0, result.output
    assert "  - {type: conv2d, name: conv1, out_channels: 8, kernel_size: 3, padding: 1, bias: false, " \
           "in_channels: 3}\n" in result.output
    result = CliRunner().invoke(main, ["analyze", str(path), "--input", "3x32x32", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"macs": 221184' in result.output  # 32 * 32 * 8 outputs x 27


def test_ceil_mode_drops_a_window_starting_in_the_padding(tmp_path: Path) -> None:
    """Input 5, kernel 2, stride 3, pads 1+1, ceil_mode: the third window would start at 6, in the right
    padding. PyTorch (and the MaxPool operator text: "sliding windows that would start in the right padded
    region are ignored") give 2 outputs, which cnncalc follows; onnx's shape inference (1.23) still says 3."""
    model = build([node("MaxPool", ["x"], ["y"], kernel_shape=[2], strides=[3], pads=[1, 1], ceil_mode=1)],
                  [1, 2, 5])
    report = analysed(imported(model, tmp_path))
    assert list(report.outputs.values()) == [(1, 2, 2)]
    torch = pytest.importorskip("torch")
    assert tuple(torch.nn.MaxPool1d(2, 3, 1, ceil_mode=True)(torch.zeros(1, 2, 5)).shape) == (1, 2, 2)
