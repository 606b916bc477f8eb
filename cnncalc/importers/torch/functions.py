"""Functions and tensor methods between the leaves as spec layers, by name (+ - * cat view mean pad ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common import compact, fold_bias, is_per_channel, is_scalar
from .converter import UNBATCHED, Unsupported, _is_fake, describe
from .leaves import LeafConverter
from .trace import Call, Const, Ref


class FunctionConverter(LeafConverter):
    # -- functions and methods --------------------------------------------------------------

    def elementwise(self, call: Call) -> str:
        name = str(call.target).strip("_")
        reverse = name.startswith("r") and name[1:] in ("add", "sub", "mul", "truediv", "div")
        kind = {"add": "add", "iadd": "add", "sub": "sub", "isub": "sub", "subtract": "sub", "rsub": "sub",
                "mul": "mul", "imul": "mul", "multiply": "mul", "radd": "add", "rmul": "mul"}.get(name, "div")
        first = self.arg(call, 0, "input")
        second = self.arg(call, 1, "other")
        if reverse:
            first, second = second, first
        if isinstance(first, Ref) and isinstance(second, Ref):
            left, right = self.value(first), self.value(second)
            return self.add(kind, [self.aligned(left, right), self.aligned(right, left)], {})
        constant_first = not isinstance(first, Ref)
        tensor, constant = (second, first) if constant_first else (first, second)
        if not isinstance(tensor, Ref):
            raise Unsupported("no operand is computed from the inputs")
        source = self.value(tensor)
        shape = constant.shape if isinstance(constant, Const) else ()
        learned = isinstance(constant, Const) and constant.learned
        if isinstance(constant, (int, float)) or (isinstance(constant, Const) and is_scalar(shape) and not learned):
            number = constant if isinstance(constant, (int, float)) else float(constant.tensor.reshape(-1)[0]) \
                if not constant.tensor.is_meta and not _is_fake(constant.tensor) else "a constant"
            return self.add("identity", [source], {}, comment=f"{kind} by {number}: no layer type; counted as an "
                                                                "identity (no parameters, no MACs)")
        if not isinstance(constant, Const):
            raise Unsupported(f"{kind} with {describe(constant)}")
        per_channel = learned and not is_scalar(shape) and not (constant_first and kind in ("sub", "div")) and \
            is_per_channel(self.builder, source, shape, self.batch) and self.layout(source) == (0, False)
        if per_channel and kind == "mul" and self.first_use(constant):
            return self.add("scale", [source], {}, comment="a per-channel multiply by a parameter")
        if per_channel and kind == "add" and self.users(source) == 1 and self.first_use(constant) and \
                fold_bias(self.builder, source):
            return source
        other = self.operand(constant, source)
        return self.add(kind, [other, source] if constant_first else [source, other], {})

    def first_use(self, constant: Const) -> bool:
        """A parameter read for the first time: counted by the layer about to be made, and marked so."""
        if len(constant.origin) != 1 or constant.origin[0] in self.parameter_layers:
            return False
        self.parameter_layers[constant.origin[0]] = self.call.name
        return True

    def cat(self, call: Call) -> str:
        tensors = self.arg(call, 0, "tensors")
        dim = self.arg(call, 1, "dim", 0)
        against = next((self.value(item) for item in tensors if isinstance(item, Ref)), None)
        if against is None:
            raise Unsupported("concatenates only constants")
        sources = [self.operand(item, against) for item in tensors]
        return self.add("concat", sources, {"dim": self.axis(against, int(dim)) or None})

    def permute_call(self, call: Call) -> str:
        source = self.source(call)
        rank = len(self.full(source))
        name = str(call.target)
        if name in ("transpose", "swapaxes", "swapdims"):
            first, second = (int(self.arg(call, 1, "dim0")) % rank, int(self.arg(call, 2, "dim1")) % rank)
            order = list(range(rank))
            order[first], order[second] = order[second], order[first]
        else:
            dims = [item for item in call.args[1:]] or list(call.kwargs.get("dims", []))
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = list(dims[0])
            order = [int(item) % rank for item in dims]
        if order == list(range(rank)):
            return source
        batch_axis, folded = self.layout(source)
        if batch_axis < 0:
            return self.permute(source, order)
        self.hint = (order.index(batch_axis), folded)  # attention's permute(2, 0, 3, 1, 4) moves the batch
        if folded:
            return self.permute(source, order)
        return self.permute(source, [item - (item > batch_axis) for item in order if item != batch_axis])

    def activation_call(self, call: Call) -> str:
        name = str(call.target).rstrip("_")
        source = self.source(call)
        if name in ("softmax", "log_softmax"):
            dim = self.arg(call, 1, "dim")
            if dim is None:
                raise Unsupported("softmax without dim", "give its dim")
            return self.add(name, [source], {"dim": self.axis(source, int(dim)) or None})
        if name == "leaky_relu":
            return self.add(name, [source], {"negative_slope": float(self.arg(call, 1, "negative_slope", 0.01))})
        if name == "elu":
            return self.add(name, [source], {"alpha": float(self.arg(call, 1, "alpha", 1.0))})
        if name in ("hardtanh", "clamp", "clip"):
            low = self.arg(call, 1, "min_val" if name == "hardtanh" else "min", -1.0 if name == "hardtanh" else None)
            high = self.arg(call, 2, "max_val" if name == "hardtanh" else "max", 1.0 if name == "hardtanh" else None)
            return self.clamp(source, low, high)
        if name == "gelu":
            approximate = call.kwargs.get("approximate", "none")
            return self.add("gelu", [source], {"approximate": approximate if approximate != "none" else None})
        return self.add(FUNCTION_ACTIVATIONS[name], [source], {})

    def adaptive_call(self, call: Call) -> str:
        return self.adaptive(call, "max" in str(call.target))

    def pool_call(self, call: Call) -> str:
        name = str(call.target)
        source = self.source(call)
        rank = len(self.shape(source)) - 1
        is_max = name.startswith("max")
        kernel = self.arg(call, 1, "kernel_size")
        stride = self.arg(call, 2, "stride")
        padding = self.arg(call, 3, "padding", 0)
        if is_max:
            dilation, ceil_mode = self.arg(call, 4, "dilation", 1), self.arg(call, 5, "ceil_mode", False)
            include_pad = True
        else:
            dilation, ceil_mode = 1, self.arg(call, 4, "ceil_mode", False)
            include_pad = self.arg(call, 5, "count_include_pad", True)
        return self.pool(source, is_max, rank, kernel, stride, padding, dilation, bool(ceil_mode), bool(include_pad))

    def mean(self, call: Call) -> str:
        source = self.source(call)
        rank = len(self.full(source))
        dims = self.arg(call, 1, "dim")
        dims = [dims] if isinstance(dims, int) else list(dims or [])
        if sorted(int(dim) % rank for dim in dims) != list(range(2, rank)):
            raise Unsupported(f"{call.target} over dims {dims}: no layer type",
                              "cnncalc maps a mean or max over every spatial axis (global pooling)")
        kind = "global_maxpool" if "max" in str(call.target) else "global_avgpool"
        pooled = self.add(kind, [source], {})
        return self.reshaped(pooled, call.result) if tuple(call.result.shape[1:]) != self.shape(pooled) else pooled

    def interpolate(self, call: Call) -> str:
        source = self.source(call)
        size = self.arg(call, 1, "size")
        scale = self.arg(call, 2, "scale_factor")
        mode = self.arg(call, 3, "mode", "nearest")
        if size is None and scale is None:
            raise Unsupported("neither size nor scale_factor")
        return self.upsample(source, size, scale, mode)

    def pad_call(self, call: Call) -> str:
        mode = self.arg(call, 2, "mode", "constant")
        value = self.arg(call, 3, "value", 0.0)
        return self.pad(self.source(call), tuple(self.arg(call, 1, "pad")), mode, float(value or 0.0))

    def pieces(self, call: Call) -> list[str]:
        """chunk / split: one slice per piece, from the pieces' shapes PyTorch computed."""
        source = self.source(call)
        rank = len(self.full(source))
        dim = int(self.arg(call, 2, "dim", 0)) % rank
        names, start = [], 0
        for piece in call.result:
            size = int(piece.shape[dim])
            names.append(self.slices(source, [(dim, start, start + size)]))
            start += size
        return names

    def getitem(self, call: Call) -> Any:
        item = self.arg(call, 0, "input")
        index = self.arg(call, 1, "index")
        if isinstance(item, Ref) and isinstance(self.values[item.index], list) and item.item is None:
            return self.values[item.index][index]
        source = self.source(call)
        if isinstance(index, Const) and self.layout(source) == UNBATCHED:
            # rows gathered by a fixed index from a tensor computed once (a relative-position MLP's output):
            # no arithmetic; shown as a view of one element expanded to PyTorch's shape
            one = self.slices_to_one(source)
            return self.add("expand", [one], {"shape": list(call.result.shape)},
                            comment="gathered by a fixed index: a copy, no arithmetic counted")
        rank = len(self.full(source))
        parts = list(index) if isinstance(index, tuple) else [index]
        if Ellipsis in parts:
            at = parts.index(Ellipsis)
            parts = parts[:at] + [slice(None)] * (rank - len(parts) + 1) + parts[at + 1:]
        if None in parts:  # x[..., None]: a new axis, when nothing else is indexed
            if any(part != slice(None) for part in parts if part is not None) or parts[0] is None:
                raise Unsupported(f"indexing with {describe(index)}", "cnncalc adds an axis with None alone")
            return self.reshaped(source, call.result)
        if any(not isinstance(part, (slice, int)) for part in parts):
            raise Unsupported(f"indexing with {describe(index)}", "cnncalc slices with start:end or an integer")
        full = self.full(source)
        bounds = []
        for axis, part in enumerate(parts):
            if isinstance(part, int) or part.step not in (None, 1):
                continue
            if part != slice(None):
                bounds.append((axis, part.start or 0, part.stop if part.stop is not None else full[axis]))
        source = self.slices(source, bounds)
        for axis, part in enumerate(parts):
            if isinstance(part, slice) and part.step not in (None, 1):
                source = self.strided(source, axis, part)
        for axis in reversed(range(len(parts))):  # the last first: the axes before keep their numbers
            if isinstance(parts[axis], int):
                source = self.selected(source, axis, int(parts[axis]))
        return source

    def strided(self, source: str, axis: int, part: slice) -> str:
        """x[..., a::s, ...] (Swin's patch merging) as a view: the axis split into [n/s, s], then index a
        of the second, which is what the step takes."""
        size = self.full(source)[axis]
        start, stop, step = part.indices(size)
        if size % step or start >= step or stop != size or self.layout(source)[0] != 0:
            raise Unsupported("a slice with a step that does not divide the axis",
                              "cnncalc takes every s-th element of an axis s divides")
        dim = self.axis(source, axis)
        shape = list(self.shape(source))
        split = self.add("reshape", [source], {"shape": shape[:dim] + [size // step, step] + shape[dim + 1:]})
        return self.add("select", [split], {"dim": dim + 1, "index": start})

    def selected(self, source: str, dim: int, index: int) -> str:
        axis = self.axis(source, dim)
        batch_axis, folded = self.layout(source)
        self.hint = (batch_axis - 1 if dim % len(self.full(source)) < batch_axis else batch_axis, folded)
        name = self.add("select", [source], {"dim": axis or None, "index": index})
        self.hint = None
        return name

    def pixel_shuffle_call(self, call: Call) -> str:
        return self.add("pixel_shuffle", [self.source(call)], {"upscale_factor": int(self.arg(call, 1,
                                                                                             "upscale_factor"))})

    def channel_shuffle_call(self, call: Call) -> str:
        return self.add("channel_shuffle", [self.source(call)], {"groups": int(self.arg(call, 1, "groups"))})

    def functional_linear(self, call: Call) -> str:
        weight = self.arg(call, 1, "weight")
        bias = self.arg(call, 2, "bias")
        if not isinstance(weight, Const):
            raise Unsupported("the weight is computed", "cnncalc maps F.linear with a parameter")
        name = self.linear(self.source(call), weight.shape, self.counted_bias(bias, weight.shape[0]))
        return name

    def counted_bias(self, bias: Any, size: int) -> bool:
        """Whether the layer counts the bias it is given as its own: a parameter (or a buffer) of its
        size. A bias put together from other parameters (BEiT's cat of q_bias, zeros and v_bias) is
        not: those parameters get `parameter` layers of their own shapes."""
        if bias is None:
            return False
        if not isinstance(bias, Const) or not bias.learned:
            return True
        known = [name for name in bias.origin if name in self.parameters_known]
        if len(known) == 1 and self.parameters_known[known[0]][0] == size:
            return True
        for parameter in known:
            if parameter not in self.parameter_layers:
                self.parameter_layers[parameter] = self.add(
                    "parameter", [], {"shape": list(self.parameters_known[parameter][1])},
                    comment=f"the learned tensor {parameter}, part of the bias of {self.call.name}")
        return False

    def functional_conv(self, call: Call) -> str:
        weight = self.arg(call, 1, "weight")
        if not isinstance(weight, Const):
            raise Unsupported("the weight is computed", "cnncalc maps F.conv with a parameter")
        if not weight.learned:  # a fixed filter (TResNet's blur): a conv layer would count it as parameters
            raise Unsupported(f"the weight is a buffer ({', '.join(weight.origin) or 'a fixed tensor'}), not learned",
                              "cnncalc's convolution counts its weight as parameters")
        return self.convolution(self.source(call), False, weight.shape, self.arg(call, 2, "bias") is not None,
                                self.arg(call, 3, "stride", 1), self.arg(call, 4, "padding", 0),
                                self.arg(call, 5, "dilation", 1), int(self.arg(call, 6, "groups", 1)), None)

    def functional_layer_norm(self, call: Call) -> str:
        shape = list(self.arg(call, 1, "normalized_shape"))
        affine = self.arg(call, 2, "weight") is not None
        return self.add("layernorm", [self.source(call)], {
            "normalized_shape": compact(shape) if len(shape) > 1 else shape[0], "affine": None if affine else False})


Handler = Callable[[FunctionConverter, Call], Any]

FUNCTION_ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "selu": "selu", "silu": "silu", "sigmoid": "sigmoid",
                        "tanh": "tanh", "hardsigmoid": "hardsigmoid", "hardswish": "hardswish", "mish": "mish"}

FUNCTIONS: dict[str, Handler] = {
    **{name: FunctionConverter.elementwise for name in (
        "add", "add_", "iadd", "__add__", "__iadd__", "__radd__", "sub", "sub_", "isub", "subtract", "__sub__",
        "__isub__", "__rsub__", "rsub", "mul", "mul_", "imul", "multiply", "__mul__", "__imul__", "__rmul__",
        "truediv", "itruediv", "div", "div_", "divide", "true_divide", "__truediv__", "__itruediv__",
        "__rtruediv__", "__div__")},
    "cat": FunctionConverter.cat, "concat": FunctionConverter.cat, "concatenate": FunctionConverter.cat,
    **{name: FunctionConverter.shaped for name in ("flatten", "view", "reshape", "squeeze", "unsqueeze", "unflatten",
                                                   "view_as", "reshape_as", "squeeze_", "unsqueeze_")},
    **{name: FunctionConverter.passthrough for name in ("contiguous", "clone", "detach", "float")},
    **{name: FunctionConverter.permute_call for name in ("permute", "transpose", "swapaxes", "swapdims")},
    **{name: FunctionConverter.activation_call for name in (
        *FUNCTION_ACTIVATIONS, *(f"{name}_" for name in FUNCTION_ACTIVATIONS), "leaky_relu", "leaky_relu_", "elu",
        "elu_", "gelu", "softmax", "log_softmax", "hardtanh", "hardtanh_", "clamp", "clip", "clamp_")},
    **{name: FunctionConverter.adaptive_call for name in (
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
        "adaptive_max_pool2d", "adaptive_max_pool3d")},
    **{name: FunctionConverter.pool_call for name in ("avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d",
                                                      "max_pool2d", "max_pool3d")},
    "mean": FunctionConverter.mean, "amax": FunctionConverter.mean,
    "interpolate": FunctionConverter.interpolate, "upsample": FunctionConverter.interpolate,
    **{name: FunctionConverter.dropout for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout")},
    "pad": FunctionConverter.pad_call,
    "chunk": FunctionConverter.pieces, "split": FunctionConverter.pieces, "tensor_split": FunctionConverter.pieces,
    "getitem": FunctionConverter.getitem, "__getitem__": FunctionConverter.getitem,
    "pixel_shuffle": FunctionConverter.pixel_shuffle_call, "channel_shuffle": FunctionConverter.channel_shuffle_call,
    "native_channel_shuffle": FunctionConverter.channel_shuffle_call,
    "linear": FunctionConverter.functional_linear,
    **{name: FunctionConverter.functional_conv for name in ("conv1d", "conv2d", "conv3d")},
    "layer_norm": FunctionConverter.functional_layer_norm,
}
