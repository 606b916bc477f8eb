"""What each Caffe layer type becomes: one method per type, and the table of them."""

from __future__ import annotations

from typing import Any, Callable

from ...layers import Shape
from ..builder import SpecBuilder
from ..prototxt import Message
from .layer import CaffeLayer, Params
from .sizes import CONVOLUTION_KEYS, POOLING_KEYS, _caffe_pool_size, _per_axis, _spatial


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

    def convert(self, layer: CaffeLayer, converters: dict[str, Callable[[_Converter], str | list[str]]]) -> None:
        self.layer = layer
        if len(layer.bottoms) < 1:
            raise layer.fail(f"{layer.type} has no bottom", "name the blob it reads: bottom: \"data\"")
        outputs = converters[layer.type](self)
        if isinstance(outputs, list):  # one layer per top (Slice)
            self.blobs.update(zip(layer.tops, outputs))
            return
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

    def pooling(self, stochastic: bool = False) -> str:
        source = self.bottom()
        shape = self.shape(source)
        params = Params(self.layer, "pooling_param", POOLING_KEYS)
        method = params.choice("pool", "MAX", ("MAX", "AVE", "STOCHASTIC"))
        if method == "STOCHASTIC" and not stochastic:
            raise self.layer.fail("STOCHASTIC pooling has no cnncalc type", at=params.one("pool"))
        comment = None
        if method == "STOCHASTIC":
            method = "AVE"
            comment = (f"{self.layer.name}: STOCHASTIC pooling, at inference the activation-weighted average of "
                       "each window: counted as an average pool")
        if len(shape) != 3:
            raise self.layer.fail(f"Caffe pools 2D inputs; this one is {'x'.join(map(str, shape))}")
        if params.flag("global_pooling", False):
            return self.add("global_maxpool" if method == "MAX" else "global_avgpool", [source], comment=comment)
        kernel = _spatial(params, "kernel", 2, None)
        stride = _spatial(params, "stride", 2, 1)
        pad = _spatial(params, "pad", 2, 0)
        ceil = params.choice("round_mode", "CEIL", ("CEIL", "FLOOR")) == "CEIL"
        if params.one("ceil_mode") is not None:  # a fork's field (DenseNet, ResNeXt files): false is FLOOR
            if params.one("round_mode") is not None:
                raise self.layer.fail("pooling_param has both round_mode and ceil_mode", "keep one",
                                      params.one("ceil_mode"))
            ceil = params.flag("ceil_mode", True)
        caffe = tuple(map(_caffe_pool_size, shape[1:], kernel, stride, pad, (ceil, ceil)))
        if min(caffe) < 1:
            raise self.layer.fail(f"Caffe's pooling makes {'x'.join(map(str, caffe))} here: the window "
                                  f"{'x'.join(map(str, kernel))} does not fit the input {'x'.join(map(str, shape[1:]))}")
        # A window past the padded input is clipped to it (PoolingLayer::Forward: hend = min(hstart + k, h + p)):
        # when it is the only window, the kernel is the padded input.
        kernel = [min(size, padded + 2 * margin) if out == 1 else size
                  for size, padded, margin, out in zip(kernel, shape[1:], pad, caffe)]
        fields: dict[str, Any] = {"kernel_size": _per_axis(kernel), "stride": _per_axis(stride)}
        if any(pad):
            fields["padding"] = _per_axis(pad)
        if ceil:
            fields["ceil_mode"] = True
        name = self.add("maxpool2d" if method == "MAX" else "avgpool2d", [source], fields, comment=comment)
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


BASIC_CONVERTERS: dict[str, Callable[[_Converter], str]] = {
    "Convolution": _Converter.convolution, "Deconvolution": _Converter.deconvolution,
    "ConvolutionDepthwise": _Converter.convolution, "DepthwiseConvolution": _Converter.convolution,
    "Pooling": _Converter.pooling, "InnerProduct": _Converter.inner_product,
    "ReLU": _Converter.relu, "ReLU6": _simple("relu6"), "PReLU": _Converter.prelu, "ELU": _Converter.elu,
    "Sigmoid": _simple("sigmoid"), "TanH": _simple("tanh"), "Swish": _Converter.swish, "SeLu": _simple("selu"),
    "SELU": _simple("selu"),
    "BatchNorm": _Converter.batch_norm, "Scale": _Converter.scale, "Eltwise": _Converter.eltwise,
    "Concat": _Converter.concat, "LRN": _Converter.lrn, "Dropout": _simple("dropout"),
    "SeLuDropout": _simple("dropout"),  # alpha dropout: the identity at inference
    "Softmax": _Converter.softmax, "Flatten": _Converter.flatten, "Reshape": _Converter.reshape,
    "Split": _Converter.split, "ShuffleChannel": _Converter.shuffle_channel,
}
