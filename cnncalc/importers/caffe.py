"""Caffe `.prototxt` network definitions (deploy or train_val) as cnncalc specs.

Read with cnncalc's own reader of the protobuf text format (no protobuf needed). Each
`layer { name type bottom top ... }` becomes the cnncalc layer of the same name; a blob
name refers to the latest layer that wrote it, so in-place layers (a ReLU whose top is
its bottom) chain as Caffe runs them. What each type becomes, with Caffe's rules:

- Inputs: `input` + `input_shape` or `input_dim` at the top, `Input` (input_param),
  `DummyData` and `MemoryData` layers. The first dim is the batch, kept unless --batch.
  Other data layers read sizes from a dataset: give them with --input NAME=CxHxW.
- Convolution, Deconvolution: num_output, kernel_size/kernel_h/kernel_w, stride, pad,
  dilation, group, bias_term; the output sizes are PyTorch's.
- Pooling MAX/AVE: Caffe rounds the output size up, out = ceil((in + 2p - k)/s) + 1,
  and with padding drops a last window that would start in the padding, as cnncalc's
  `ceil_mode: true` does (checked layer by layer; `round_mode: FLOOR` rounds down).
  global_pooling becomes global_maxpool/global_avgpool.
- InnerProduct: flatten (when its input is not flat yet) and linear.
- ReLU (negative_slope: leaky_relu), PReLU, Sigmoid, TanH, ELU, Softmax, Dropout, LRN
  (ACROSS_CHANNELS), Concat, Flatten, Reshape, Eltwise SUM/PROD (SUM with coeff 1, -1:
  sub), Split (no layer: its tops are the bottom again).
- BatchNorm: batchnorm with `affine: false`, usually followed by Scale (`scale`, with
  bias_term: a bias). Caffe keeps three blobs: mean and variance (2C, counted as
  buffers, like PyTorch's running statistics) and a one-element moving-average factor,
  left out as cnncalc leaves out PyTorch's num_batches_tracked. BatchNorm + Scale(bias)
  therefore count 2C params and 2C buffers, like one PyTorch BatchNorm2d.
- Training-only layers (losses, Accuracy, Silence, layers in the TRAIN phase only) are
  left out and named in the spec's description.

Eltwise MAX and every other type have no cnncalc equivalent: they are listed, all at
once, in one error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import Mark, SpecError
from ..layers import Shape
from . import ImportOptions, read_text
from .builder import SpecBuilder, Where
from .prototxt import Field, Message, parse

NET_KEYS = ("name", "input", "input_shape", "input_dim", "force_backward", "state", "debug_info", "layer", "layers",
            "profile_info", "profile_iter", "profile_test_iter")
LAYER_KEYS = ("name", "type", "bottom", "top", "phase", "loss_weight", "param", "blobs", "propagate_down",
              "include", "exclude", "transform_param", "loss_param", "blobs_lr", "weight_decay", "blob_share_mode")

# The V1 format (`layers { type: CONVOLUTION }`) names types with enums.
V1_TYPES = {
    "CONVOLUTION": "Convolution", "DECONVOLUTION": "Deconvolution", "POOLING": "Pooling",
    "INNER_PRODUCT": "InnerProduct", "RELU": "ReLU", "SIGMOID": "Sigmoid", "TANH": "TanH", "LRN": "LRN",
    "DROPOUT": "Dropout", "SOFTMAX": "Softmax", "CONCAT": "Concat", "ELTWISE": "Eltwise", "FLATTEN": "Flatten",
    "SPLIT": "Split", "SILENCE": "Silence", "DATA": "Data", "IMAGE_DATA": "ImageData", "HDF5_DATA": "HDF5Data",
    "MEMORY_DATA": "MemoryData", "WINDOW_DATA": "WindowData", "DUMMY_DATA": "DummyData", "ACCURACY": "Accuracy",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "EUCLIDEAN_LOSS": "EuclideanLoss", "HINGE_LOSS": "HingeLoss",
    "INFOGAIN_LOSS": "InfogainLoss", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "CONTRASTIVE_LOSS": "ContrastiveLoss",
    "POWER": "Power", "ABSVAL": "AbsVal", "BNLL": "BNLL", "SLICE": "Slice", "THRESHOLD": "Threshold",
    "MVN": "MVN", "ARGMAX": "ArgMax", "EXP": "Exp", "IM2COL": "Im2col", "HDF5_OUTPUT": "HDF5Output",
}
INPUT_TYPES = ("Input", "DummyData", "MemoryData", "Data", "ImageData", "HDF5Data", "WindowData", "AnnotatedData")
TRAINING_ONLY = ("Accuracy", "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss",
                 "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss", "ContrastiveLoss", "Silence", "HDF5Output")


@dataclass
class CaffeLayer:
    """One `layer { ... }` with where it was written."""

    message: Message
    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    where: Where

    def fail(self, problem: str, hint: str | None = None, at: Field | None = None) -> SpecError:
        mark = Mark(self.where.mark.file, at.line, at.column) if at and self.where.mark else self.where.mark
        return SpecError(problem, mark=mark, layer=self.where.layer, hint=hint)


class Params:
    """One `*_param { ... }` block of a layer, typed; unknown fields are errors with a guess."""

    def __init__(self, layer: CaffeLayer, block: str, allowed: tuple[str, ...]) -> None:
        self.layer = layer
        self.block = block
        found = layer.message.last(block)
        self.message = found.value if found is not None and isinstance(found.value, Message) else Message(0, 0)
        for item in self.message.fields:
            if item.name not in allowed:
                close = difflib.get_close_matches(item.name, allowed, n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                raise layer.fail(f"unknown field '{item.name}' in {block}", f"{guess}{block} takes "
                                 f"{', '.join(allowed)}", item)

    def one(self, key: str) -> Field | None:
        found = self.message.all(key)
        if len(found) > 1:
            raise self.layer.fail(f"{self.block}.{key} is given {len(found)} times", "it takes one value", found[1])
        return found[0] if found else None

    def value(self, key: str, default: Any, kinds: tuple[type, ...], what: str) -> Any:
        found = self.one(key)
        if found is None:
            return default
        if isinstance(found.value, bool) and bool not in kinds or not isinstance(found.value, kinds):
            raise self.layer.fail(f"{self.block}.{key} is {found.value!r}", f"it takes {what}", found)
        return found.value

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        value = self.value(key, default, (int,), "a whole number")
        if value is None:
            raise self.layer.fail(f"{self.layer.type} needs {self.block}.{key}", "a truncated layer?")
        if value < minimum:
            raise self.layer.fail(f"{self.block}.{key} is {value}", f"it takes a whole number >= {minimum}",
                                  self.one(key))
        return int(value)

    def integers(self, key: str, minimum: int = 0) -> list[int]:
        values = []
        for item in self.message.all(key):
            if isinstance(item.value, bool) or not isinstance(item.value, int) or item.value < minimum:
                raise self.layer.fail(f"{self.block}.{key} is {item.value!r}",
                                      f"it takes whole numbers >= {minimum}", item)
            values.append(item.value)
        return values

    def number(self, key: str, default: float) -> float:
        return float(self.value(key, default, (int, float), "a number"))

    def flag(self, key: str, default: bool) -> bool:
        return bool(self.value(key, default, (bool,), "true or false"))

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = str(self.value(key, default, (str,), f"one of {', '.join(choices)}"))
        if value not in choices:
            raise self.layer.fail(f"{self.block}.{key} is {value}", f"it takes one of {', '.join(choices)}",
                                  self.one(key))
        return value


CONVOLUTION_KEYS = ("num_output", "bias_term", "pad", "kernel_size", "stride", "dilation", "pad_h", "pad_w",
                    "kernel_h", "kernel_w", "stride_h", "stride_w", "group", "weight_filler", "bias_filler", "engine",
                    "axis", "force_nd_im2col")
POOLING_KEYS = ("pool", "pad", "pad_h", "pad_w", "kernel_size", "kernel_h", "kernel_w", "stride", "stride_h",
                "stride_w", "engine", "global_pooling", "round_mode")


def _per_axis(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else values


def _spatial(params: Params, name: str, rank: int, default: int | None) -> list[int]:
    """kernel_size/stride/pad (repeated, one or one per axis) or their _h/_w forms, as Caffe reads them."""
    height, width = params.one(f"{name}_h"), params.one(f"{name}_w")
    key = "kernel_size" if name == "kernel" else name
    if height is not None or width is not None:
        if rank != 2 or height is None or width is None or params.message.all(key):
            raise params.layer.fail(f"{params.block}: give {name}_h and {name}_w together, for 2D only, or {key}",
                                    at=height or width)
        return [params.integer(f"{name}_h"), params.integer(f"{name}_w", minimum=1 if name != "pad" else 0)]
    values = params.integers(key, 1 if name in ("kernel", "stride", "dilation") else 0)
    if not values:
        if default is None:
            raise params.layer.fail(f"{params.layer.type} needs {params.block}.{key}", "a truncated layer?")
        return [default] * rank
    if len(values) == 1:
        return values * rank
    if len(values) != rank:
        raise params.layer.fail(f"{params.block}.{key} has {len(values)} values for {rank} spatial axes",
                                f"give one, or {rank}", params.message.all(key)[0])
    return values


def _caffe_pool_size(size: int, kernel: int, stride: int, pad: int, ceil: bool) -> int:
    """Caffe's PoolingLayer::Reshape, in integers."""
    room = size + 2 * pad - kernel
    out = (-(-room // stride) if ceil else room // stride) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class _Converter:
    def __init__(self, filename: str, builder: SpecBuilder) -> None:
        self.filename = filename
        self.builder = builder
        self.blobs: dict[str, str] = {}  # blob -> the cnncalc layer (or input) that last wrote it
        self.layer: CaffeLayer
        self.notes: list[str] = []

    def bottom(self, index: int = 0) -> str:
        blob = self.layer.bottoms[index]
        if blob not in self.blobs:
            raise self.layer.fail(f"bottom '{blob}' is not written by any layer before it",
                                  f"blobs so far: {', '.join(list(self.blobs)[-12:]) or 'none'}",
                                  self.layer.message.all("bottom")[index])
        return self.blobs[blob]

    def add(self, kind: str, sources: list[str], fields: dict[str, Any] | None = None, name: str | None = None,
            comment: str | None = None) -> str:
        return self.builder.add(kind, name or self.layer.name, sources, fields or {}, self.layer.where, comment)

    def shape(self, name: str) -> Shape:
        return self.builder.shape(name)

    def convert(self, layer: CaffeLayer) -> None:
        self.layer = layer
        if len(layer.bottoms) < 1:
            raise layer.fail(f"{layer.type} has no bottom", "name the blob it reads: bottom: \"data\"")
        outputs = CONVERTERS[layer.type](self)
        if layer.type != "Split" and len(layer.tops) != 1:
            raise layer.fail(f"{layer.type} has {len(layer.tops)} tops; cnncalc imports it with one")
        for top in layer.tops:
            self.blobs[top] = outputs

    # -- one method per layer type ---------------------------------------------------

    def convolution(self, kind: str = "conv") -> str:
        source = self.bottom()
        rank = len(self.shape(source)) - 1
        params = Params(self.layer, "convolution_param", CONVOLUTION_KEYS)
        if params.integer("axis", 1, -4) != 1:
            raise self.layer.fail("convolution_param.axis other than 1 is not imported", at=params.one("axis"))
        if rank < 1 or rank > 3:
            raise self.layer.fail(f"a convolution of an input with {rank} spatial axes "
                                  f"({'x'.join(map(str, self.shape(source)))})")
        fields: dict[str, Any] = {"out_channels": params.integer("num_output", None, 1),
                                  "kernel_size": _per_axis(_spatial(params, "kernel", rank, None))}
        groups = params.integer("group", 1, 1)
        if kind == "conv" and self.layer.type in ("ConvolutionDepthwise", "DepthwiseConvolution"):
            groups = self.shape(source)[0]
        for key, value, default in (("stride", _spatial(params, "stride", rank, 1), 1),
                                    ("padding", _spatial(params, "pad", rank, 0), 0),
                                    ("dilation", _per_axis(params.integers("dilation", 1) or [1]), 1)):
            value = _per_axis(value) if isinstance(value, list) else value
            if value != default:
                fields[key] = value
        if groups != 1:
            fields["groups"] = groups
        if not params.flag("bias_term", True):
            fields["bias"] = False
        return self.add(f"{kind}{rank}d", [source], fields)

    def deconvolution(self) -> str:
        return self.convolution("conv_transpose")

    def pooling(self) -> str:
        source = self.bottom()
        shape = self.shape(source)
        params = Params(self.layer, "pooling_param", POOLING_KEYS)
        method = params.choice("pool", "MAX", ("MAX", "AVE", "STOCHASTIC"))
        if method == "STOCHASTIC":
            raise self.layer.fail("STOCHASTIC pooling has no cnncalc type", at=params.one("pool"))
        if len(shape) != 3:
            raise self.layer.fail(f"Caffe pools 2D inputs; this one is {'x'.join(map(str, shape))}")
        if params.flag("global_pooling", False):
            return self.add("global_maxpool" if method == "MAX" else "global_avgpool", [source])
        kernel = _spatial(params, "kernel", 2, None)
        stride = _spatial(params, "stride", 2, 1)
        pad = _spatial(params, "pad", 2, 0)
        ceil = params.choice("round_mode", "CEIL", ("CEIL", "FLOOR")) == "CEIL"
        fields: dict[str, Any] = {"kernel_size": _per_axis(kernel), "stride": _per_axis(stride)}
        if any(pad):
            fields["padding"] = _per_axis(pad)
        if ceil:
            fields["ceil_mode"] = True
        name = self.add("maxpool2d" if method == "MAX" else "avgpool2d", [source], fields)
        caffe = tuple(map(_caffe_pool_size, shape[1:], kernel, stride, pad, (ceil, ceil)))
        if self.shape(name)[1:] != caffe:
            raise self.layer.fail(f"Caffe's pooling makes {'x'.join(map(str, caffe))} here, cnncalc's ceil_mode "
                                  f"{'x'.join(map(str, self.shape(name)[1:]))}: Caffe keeps a last window that "
                                  "starts past the input (kernel smaller than stride, no padding)",
                                  "such a window reads nothing; cnncalc, like PyTorch, has no such output")
        return name

    def inner_product(self) -> str:
        source = self.bottom()
        params = Params(self.layer, "inner_product_param",
                        ("num_output", "bias_term", "weight_filler", "bias_filler", "axis", "transpose"))
        if params.integer("axis", 1, -4) != 1:
            raise self.layer.fail("inner_product_param.axis other than 1 is not imported", at=params.one("axis"))
        if len(self.shape(source)) > 1:
            source = self.add("flatten", [source], name=f"{self.layer.name}/flatten")
        fields: dict[str, Any] = {"out_features": params.integer("num_output", None, 1)}
        if not params.flag("bias_term", True):
            fields["bias"] = False
        return self.add("linear", [source], fields)

    def relu(self) -> str:
        slope = Params(self.layer, "relu_param", ("negative_slope", "engine")).number("negative_slope", 0.0)
        if slope:
            return self.add("leaky_relu", [self.bottom()], {"negative_slope": slope})
        return self.add("relu", [self.bottom()])

    def prelu(self) -> str:
        source = self.bottom()
        shared = Params(self.layer, "prelu_param", ("filler", "channel_shared")).flag("channel_shared", False)
        return self.add("prelu", [source], {"num_parameters": 1 if shared else self.shape(source)[0]})

    def elu(self) -> str:
        alpha = Params(self.layer, "elu_param", ("alpha",)).number("alpha", 1.0)
        return self.add("elu", [self.bottom()], {"alpha": alpha} if alpha != 1.0 else {})

    def swish(self) -> str:
        if Params(self.layer, "swish_param", ("beta",)).number("beta", 1.0) != 1.0:
            raise self.layer.fail("Swish with beta other than 1 has no cnncalc type")
        return self.add("silu", [self.bottom()])

    def batch_norm(self) -> str:
        source = self.bottom()
        Params(self.layer, "batch_norm_param", ("use_global_stats", "moving_average_fraction", "eps"))
        rank = len(self.shape(source))
        kind = {1: "batchnorm1d", 2: "batchnorm1d", 3: "batchnorm2d", 4: "batchnorm3d"}.get(rank, "batchnorm")
        note = ("BatchNorm: mean and variance are counted as 2C buffers; Caffe's third blob, a one-element "
                "moving-average factor, is not counted (as PyTorch's num_batches_tracked is not).")
        if note not in self.notes:
            self.notes.append(note)
        return self.add(kind, [source], {"affine": False})

    def scale(self) -> str:
        params = Params(self.layer, "scale_param", ("axis", "num_axes", "filler", "bias_term", "bias_filler"))
        if len(self.layer.bottoms) == 2:
            first, second = self.bottom(0), self.bottom(1)
            if self.shape(first) != self.shape(second):
                raise self.layer.fail(f"Scale by a second bottom of shape {self.shape(second)} (the first is "
                                      f"{self.shape(first)}): only equal shapes are imported, as mul")
            return self.add("mul", [first, second])
        if params.integer("axis", 1, -4) != 1 or params.integer("num_axes", 1, -1) != 1:
            raise self.layer.fail("Scale over other axes than the channels is not imported")
        return self.add("scale", [self.bottom()], {"bias": True} if params.flag("bias_term", False) else {})

    def eltwise(self) -> str:
        params = Params(self.layer, "eltwise_param", ("operation", "coeff", "stable_prod_grad"))
        operation = params.choice("operation", "SUM", ("SUM", "PROD", "MAX"))
        sources = [self.bottom(index) for index in range(len(self.layer.bottoms))]
        coefficients = [float(item.value) for item in params.message.all("coeff")
                        if isinstance(item.value, (int, float))]
        if operation == "PROD":
            return self.add("mul", sources)
        if coefficients == [1.0, -1.0]:
            return self.add("sub", sources)
        comment = None
        if coefficients and any(value != 1.0 for value in coefficients):
            comment = f"{self.layer.name}: Eltwise SUM with coeff {coefficients} (the multiplies are not counted)"
        return self.add("add", sources, comment=comment)

    def concat(self) -> str:
        params = Params(self.layer, "concat_param", ("axis", "concat_dim"))
        axis = params.integer("axis", params.integer("concat_dim", 1), -5)
        if axis == 0:
            raise self.layer.fail("Concat along the batch (axis 0) is not imported")
        sources = [self.bottom(index) for index in range(len(self.layer.bottoms))]
        dim = axis - 1 if axis > 0 else axis
        return self.add("concat", sources, {"dim": dim} if dim else {})

    def lrn(self) -> str:
        params = Params(self.layer, "lrn_param", ("local_size", "alpha", "beta", "norm_region", "k", "engine"))
        if params.choice("norm_region", "ACROSS_CHANNELS", ("ACROSS_CHANNELS", "WITHIN_CHANNEL")) != \
                "ACROSS_CHANNELS":
            raise self.layer.fail("LRN WITHIN_CHANNEL has no cnncalc type", at=params.one("norm_region"))
        fields: dict[str, Any] = {"size": params.integer("local_size", 5, 1), "alpha": params.number("alpha", 1.0),
                                  "beta": params.number("beta", 0.75)}
        k = params.number("k", 1.0)
        if k != 1.0:
            fields["k"] = k
        return self.add("lrn", [self.bottom()], fields)

    def softmax(self) -> str:
        axis = Params(self.layer, "softmax_param", ("axis", "engine")).integer("axis", 1, -5)
        if axis == 0:
            raise self.layer.fail("Softmax along the batch (axis 0) is not imported")
        dim = axis - 1 if axis > 0 else axis
        return self.add("softmax", [self.bottom()], {"dim": dim} if dim else {})

    def flatten(self) -> str:
        params = Params(self.layer, "flatten_param", ("axis", "end_axis"))
        if params.integer("axis", 1, -5) != 1 or params.integer("end_axis", -1, -5) not in (-1, 3):
            raise self.layer.fail("Flatten of other axes than all but the batch is not imported")
        return self.add("flatten", [self.bottom()])

    def reshape(self) -> str:
        source = self.bottom()
        params = Params(self.layer, "reshape_param", ("shape", "axis", "num_axes"))
        if params.integer("axis", 0, -5) != 0 or params.integer("num_axes", -1, -1) != -1:
            raise self.layer.fail("Reshape of some axes only (axis, num_axes) is not imported")
        found = params.one("shape")
        dims = [item.value for item in found.value.all("dim")] if found and isinstance(found.value, Message) else []
        if len(dims) < 2 or not all(isinstance(dim, int) for dim in dims):
            raise self.layer.fail("Reshape needs reshape_param { shape { dim: 0 dim: ... } } with the batch first")
        shape = self.shape(source)
        per_sample = [shape[index] if dim == 0 and index < len(shape) else dim for index, dim in enumerate(dims[1:])]
        if dims[0] == -1 and -1 in per_sample:
            raise self.layer.fail("Reshape with -1 in the batch and in another axis is not imported")
        return self.add("reshape", [source], {"shape": per_sample})

    def split(self) -> str:
        return self.bottom()  # every top is the bottom again: no layer

    def shuffle_channel(self) -> str:
        groups = Params(self.layer, "shuffle_channel_param", ("group",)).integer("group", 1, 1)
        return self.add("channel_shuffle", [self.bottom()], {"groups": groups})


def _simple(kind: str) -> Callable[[_Converter], str]:
    def convert(converter: _Converter) -> str:
        return converter.add(kind, [converter.bottom()])

    return convert


CONVERTERS: dict[str, Callable[[_Converter], str]] = {
    "Convolution": _Converter.convolution, "Deconvolution": _Converter.deconvolution,
    "ConvolutionDepthwise": _Converter.convolution, "DepthwiseConvolution": _Converter.convolution,
    "Pooling": _Converter.pooling, "InnerProduct": _Converter.inner_product,
    "ReLU": _Converter.relu, "ReLU6": _simple("relu6"), "PReLU": _Converter.prelu, "ELU": _Converter.elu,
    "Sigmoid": _simple("sigmoid"), "TanH": _simple("tanh"), "Swish": _Converter.swish,
    "BatchNorm": _Converter.batch_norm, "Scale": _Converter.scale, "Eltwise": _Converter.eltwise,
    "Concat": _Converter.concat, "LRN": _Converter.lrn, "Dropout": _simple("dropout"),
    "Softmax": _Converter.softmax, "Flatten": _Converter.flatten, "Reshape": _Converter.reshape,
    "Split": _Converter.split, "ShuffleChannel": _Converter.shuffle_channel,
}


def _unsupported_mode(layer: CaffeLayer) -> str | None:
    """Why a layer of a supported type still cannot be imported, found before converting anything."""
    def choice(block: str, key: str) -> str | None:
        found = layer.message.last(block)
        if found is None or not isinstance(found.value, Message):
            return None
        item = found.value.last(key)
        return str(item.value) if item is not None else None

    if layer.type == "Eltwise" and choice("eltwise_param", "operation") == "MAX":
        return "Eltwise MAX"
    if layer.type == "Pooling" and choice("pooling_param", "pool") == "STOCHASTIC":
        return "Pooling STOCHASTIC"
    if layer.type == "LRN" and choice("lrn_param", "norm_region") == "WITHIN_CHANNEL":
        return "LRN WITHIN_CHANNEL"
    return None


def _text(layer: Message, key: str) -> list[Field]:
    found = layer.all(key)
    for item in found:
        if not isinstance(item.value, str):
            raise SpecError(f"layer {key} is {item.value!r}, not a name", hint=f"write {key}: \"name\"")
    return found


def _layers(net: Message, filename: str) -> list[CaffeLayer]:
    """The net's layers as CaffeLayers, those of the TRAIN phase only left out."""
    result = []
    counts: dict[str, int] = {}
    for item in net.all("layer") + net.all("layers"):
        where = Mark(filename, item.line, item.column)
        message = item.value
        if not isinstance(message, Message):
            raise SpecError(f"'{item.name}' is a value, not a block", mark=where, hint=f"write {item.name} {{ ... }}")
        type_field = message.last("type")
        if type_field is None:
            raise SpecError(f"a {item.name} without a type", mark=where, hint="add type: \"Convolution\" or another")
        kind = V1_TYPES.get(str(type_field.value), str(type_field.value))
        name_field = message.last("name")
        counts[kind] = counts.get(kind, 0) + 1
        name = str(name_field.value) if name_field is not None else f"{kind.lower()}_{counts[kind]}"
        layer_where = Where(where, (name, kind))
        for key in message.names():
            if key not in LAYER_KEYS and not key.endswith("_param"):
                close = difflib.get_close_matches(key, LAYER_KEYS, n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                at = message.last(key)
                raise SpecError(f"unknown field '{key}'", mark=Mark(filename, at.line, at.column) if at else where,
                                layer=layer_where.layer, hint=f"{guess}a layer has {', '.join(LAYER_KEYS)} and "
                                                              "*_param blocks")
        try:
            bottoms = [str(field.value) for field in _text(message, "bottom")]
            tops = [str(field.value) for field in _text(message, "top")]
        except SpecError as error:
            raise SpecError(error.problem, mark=where, layer=layer_where.layer, hint=error.hint) from None
        if _phase_excluded(message):
            continue
        result.append(CaffeLayer(message, name, kind, bottoms, tops, layer_where))
    return result


def _phase_excluded(layer: Message) -> bool:
    """True for a layer that runs only in the TRAIN phase (include/exclude rules, or phase:)."""
    def phases(key: str) -> list[str]:
        found = []
        for rule in layer.all(key):
            phase = rule.value.last("phase") if isinstance(rule.value, Message) else None
            if phase is not None:
                found.append(str(phase.value))
        return found

    phase = layer.last("phase")
    if phase is not None and str(phase.value) == "TRAIN":
        return True
    included = phases("include")
    return bool(included and "TEST" not in included) or "TEST" in phases("exclude")


def _sizes(values: list[Any]) -> list[int] | None:
    """Whole numbers >= 1, or None."""
    if values and all(isinstance(value, int) and not isinstance(value, bool) and value >= 1 for value in values):
        return [int(value) for value in values]
    return None


def _shape_of(message: Message, layer: CaffeLayer | None, filename: str, at: Field) -> list[int]:
    dims = [item.value for item in message.all("dim")]
    sizes = _sizes(dims)
    if sizes is None:
        problem = f"input shape {dims} is not a list of sizes >= 1"
        if layer is not None:
            raise layer.fail(problem, "shape { dim: 1 dim: 3 dim: 224 dim: 224 }", at)
        raise SpecError(problem, mark=Mark(filename, at.line, at.column), hint="input_shape { dim: 1 dim: 3 ... }")
    return sizes


@dataclass
class _Input:
    name: str
    dims: list[int] | None  # batch first; None: given by the dataset
    where: Where
    layer: str | None  # the data layer it comes from


def _inputs(net: Message, layers: list[CaffeLayer], filename: str) -> list[_Input]:
    """Every input the net declares: top-level input/input_shape/input_dim, then input layers."""
    result = []
    names = [field for field in net.all("input")]
    shapes = [field for field in net.all("input_shape")]
    flat = [field for field in net.all("input_dim")]
    if names and not shapes and len(flat) != 4 * len(names):
        at = flat[0] if flat else names[0]
        raise SpecError(f"{len(names)} input(s) need {4 * len(names)} input_dim values; the file gives {len(flat)}",
                        mark=Mark(filename, at.line, at.column), hint="or give input_shape { dim: ... } per input")
    if shapes and len(shapes) != len(names):
        raise SpecError(f"{len(names)} input(s) but {len(shapes)} input_shape blocks",
                        mark=Mark(filename, shapes[0].line, shapes[0].column), hint="one input_shape per input")
    for index, field in enumerate(names):
        where = Where(Mark(filename, field.line, field.column), (str(field.value), "input"))
        if shapes:
            shape_field = shapes[index]
            message = shape_field.value if isinstance(shape_field.value, Message) else Message(0, 0)
            dims = _shape_of(message, None, filename, shape_field)
        else:
            values = [item.value for item in flat[4 * index: 4 * index + 4]]
            sizes = _sizes(values)
            if sizes is None:
                raise SpecError(f"input_dim values {values} are not sizes >= 1",
                                mark=Mark(filename, flat[4 * index].line, flat[4 * index].column))
            dims = sizes
        result.append(_Input(str(field.value), dims, where, None))
    for layer in layers:
        if layer.type not in INPUT_TYPES:
            continue
        if layer.type == "Input":
            params = Params(layer, "input_param", ("shape",))
            blocks = params.message.all("shape")
            if len(blocks) not in (1, len(layer.tops)):
                raise layer.fail(f"{len(layer.tops)} tops but {len(blocks)} shapes", "one shape, or one per top")
            for index, top in enumerate(layer.tops):
                block = blocks[min(index, len(blocks) - 1)]
                message = block.value if isinstance(block.value, Message) else Message(0, 0)
                result.append(_Input(top, _shape_of(message, layer, filename, block), layer.where, layer.name))
        elif layer.type == "DummyData":
            params = Params(layer, "dummy_data_param", ("shape", "data_filler", "num", "channels", "height", "width"))
            found = params.one("shape")
            if found is None or not isinstance(found.value, Message):
                raise layer.fail("DummyData without dummy_data_param { shape { dim: ... } } is not imported")
            result.append(_Input(layer.tops[0], _shape_of(found.value, layer, filename, found), layer.where,
                                 layer.name))
        elif layer.type == "MemoryData":
            params = Params(layer, "memory_data_param", ("batch_size", "channels", "height", "width"))
            dims = [params.integer(key, None, 1) for key in ("batch_size", "channels", "height", "width")]
            result.append(_Input(layer.tops[0], dims, layer.where, layer.name))
        elif layer.tops:
            result.append(_Input(layer.tops[0], None, layer.where, layer.name))
    return result


def _check_types(layers: list[CaffeLayer], filename: str) -> list[CaffeLayer]:
    """The layers to convert; every type or mode cnncalc cannot import is listed in one error."""
    unsupported: list[tuple[CaffeLayer, str]] = []
    for layer in layers:
        if layer.type in INPUT_TYPES or layer.type in TRAINING_ONLY:
            continue
        reason = layer.type if layer.type not in CONVERTERS else _unsupported_mode(layer)
        if reason is not None:
            unsupported.append((layer, reason))
    if unsupported:
        first = unsupported[0][0]
        listed = "; ".join(f"'{layer.name}' ({reason}, line {layer.where.mark.line if layer.where.mark else '?'})"
                           for layer, reason in unsupported)
        raise SpecError(f"cannot import {len(unsupported)} layer(s): {listed}", mark=first.where.mark,
                        hint=f"cnncalc has no layer type for these; it imports {', '.join(CONVERTERS)} "
                             "(Eltwise SUM and PROD, Pooling MAX and AVE, LRN ACROSS_CHANNELS)")
    return [layer for layer in layers if layer.type not in INPUT_TYPES and layer.type not in TRAINING_ONLY]


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec of a Caffe prototxt (see the module's docstring for what each layer type becomes)."""
    filename = str(path)
    net = parse(read_text(path), filename)
    for key in net.names():
        if key not in NET_KEYS:
            at = net.last(key)
            close = difflib.get_close_matches(key, NET_KEYS, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise SpecError(f"unknown field '{key}' at the top of the file",
                            mark=Mark(filename, at.line, at.column) if at else None,
                            hint=f"{guess}a net has {', '.join(NET_KEYS)}")
    all_layers = _layers(net, filename)
    inputs = _inputs(net, all_layers, filename)
    layers = _check_types(all_layers, filename)
    if not inputs:
        raise SpecError("the net declares no input", mark=Mark(filename, 1, 1),
                        hint="add input: \"data\" with input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }, "
                             "or an Input layer")
    builder = SpecBuilder()
    converter = _Converter(filename, builder)
    batch = _add_inputs(inputs, options, builder, converter)
    skipped = [f"{layer.name} ({layer.type})" for layer in all_layers if layer.type in TRAINING_ONLY]
    for layer in layers:
        converter.convert(layer)
    notes = list(converter.notes)
    if skipped:
        notes.append(f"Left out as training-only: {', '.join(skipped)}.")
    if options.batch is None and batch != 1:
        notes.append(f"Batch {batch}, as the file's input shape gives it (analyze --batch 1 for one sample).")
    name_field = net.last("name")
    name = str(name_field.value) if name_field is not None else path.stem
    outputs = builder.unconsumed()
    return builder.spec(name, outputs if len(outputs) > 1 else None, " ".join(notes) or None)


def _add_inputs(inputs: list[_Input], options: ImportOptions, builder: SpecBuilder, converter: _Converter) -> int:
    """Declare the inputs (with --input shapes where given); returns the batch."""
    names = [item.name for item in inputs]
    given = dict(options.inputs)
    if "" in given:
        if len(inputs) != 1:
            raise SpecError(f"--input {'x'.join(map(str, given['']))}: the net has inputs {', '.join(names)}",
                            hint="name one: --input data=3x224x224")
        given[names[0]] = given.pop("")
    for name in given:
        if name not in names:
            raise SpecError(f"--input {name}=...: the net has no input '{name}'", hint=f"inputs: {', '.join(names)}")
    batches = {item.dims[0] for item in inputs if item.dims is not None}
    if options.batch is None and len(batches) > 1:
        raise SpecError(f"the inputs give different batches {sorted(batches)}", mark=inputs[0].where.mark,
                        hint="cnncalc takes one batch for every input: give --batch N")
    batch = options.batch or (batches.pop() if batches else 1)
    for item in inputs:
        if item.name in given:
            shape = tuple(given[item.name])
        elif item.dims is None:
            raise item.where.fail(f"the data layer '{item.layer}' reads its sizes from a dataset",
                                  f"give them: --input {item.name}=CxHxW, or import the deploy prototxt")
        else:
            shape = tuple(item.dims[1:])
            if not 1 <= len(shape) <= 4:
                raise item.where.fail(f"input '{item.name}' has {len(item.dims)} dims",
                                      "cnncalc takes a batch and 1 to 4 more: [N, C], [N, C, H, W], ...")
        converter.blobs[item.name] = builder.add_input(item.name, shape, batch)
    return batch
