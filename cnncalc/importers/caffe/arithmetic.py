"""Caffe's elementwise arithmetic and the pooling variants: Power, Log, BNLL, Bias, RReLU, Eltwise MAX,
LRN WITHIN_CHANNEL, SPP and stochastic pooling, as cnncalc layers. Multiplying or shifting by a number
written in the file is not counted (an `identity` with a comment), as the ONNX importer does."""

from __future__ import annotations

from typing import Any

from .converter import _Converter
from .layer import Params


def _scalar_comment(converter: _Converter, what: str) -> str:
    return f"{converter.layer.name}: {what} (the multiply and add by numbers are not counted)"


def power(converter: _Converter) -> str:
    """Power (power_layer.cpp): y = (shift + scale * x) ^ power."""
    params = Params(converter.layer, "power_param", ("power", "scale", "shift"))
    exponent, scale, shift = params.number("power", 1.0), params.number("scale", 1.0), params.number("shift", 0.0)
    source = converter.bottom()
    comment = _scalar_comment(converter, f"Power, y = ({shift:g} + {scale:g} x) ^ {exponent:g}") \
        if (scale, shift) != (1.0, 0.0) else None
    if exponent == 1.0:
        return converter.add("identity", [source], comment=comment)
    return converter.add("pow", [source], {"exponent": exponent}, comment=comment)


def log(converter: _Converter) -> str:
    """Log (log_layer.cpp): y = log_base(shift + scale * x), the natural log by default."""
    params = Params(converter.layer, "log_param", ("base", "scale", "shift"))
    base, scale, shift = params.number("base", -1.0), params.number("scale", 1.0), params.number("shift", 0.0)
    comment = _scalar_comment(converter, f"Log, y = log(({shift:g} + {scale:g} x)){'' if base == -1 else f' / log({base:g})'}") \
        if (base, scale, shift) != (-1.0, 1.0, 0.0) else None
    return converter.add("log", [converter.bottom()], comment=comment)


def bnll(converter: _Converter) -> str:
    """BNLL (bnll_layer.cpp): y = log(1 + exp(x)), as exp then log."""
    exponential = converter.add("exp", [converter.bottom()], name=f"{converter.layer.name}/exp")
    return converter.add("log", [exponential], comment=_scalar_comment(converter, "BNLL, y = log(1 + exp(x))"))


def bias(converter: _Converter) -> str:
    """Bias with one bottom (bias_layer.cpp): a learned value per channel added (axis 1, num_axes 1)."""
    params = Params(converter.layer, "bias_param", ("axis", "num_axes", "filler"))
    if len(converter.layer.bottoms) != 1 or params.integer("axis", 1, -5) != 1 or \
            params.integer("num_axes", 1, -1) != 1:
        raise converter.layer.fail("Bias by a second bottom or over other axes than the channels is not imported")
    source = converter.bottom()
    shape = converter.shape(source)
    learned = converter.add("parameter", [], {"shape": [shape[0], *[1] * (len(shape) - 1)]},
                            name=f"{converter.layer.name}/bias")
    return converter.add("add", [source, learned])


def rrelu(converter: _Converter) -> str:
    """RReLU of the caffenet-benchmark fork (rrelu_param lb, ub): at inference a leaky ReLU whose negative
    slope is the mean one, 2 / (lb + ub)."""
    params = Params(converter.layer, "rrelu_param", ("lb", "ub", "lower", "upper"))
    low, high = params.number("lb", params.number("lower", 3.0)), params.number("ub", params.number("upper", 8.0))
    slope = 2 / (low + high) if low + high > 2 else (low + high) / 2
    return converter.add("leaky_relu", [converter.bottom()], {"negative_slope": slope})


def eltwise(converter: _Converter) -> str:
    """Eltwise: MAX as maximum; SUM and PROD as before."""
    found = converter.layer.message.last("eltwise_param")
    operation = found.value.last("operation") if found is not None and hasattr(found.value, "last") else None
    if operation is None or operation.value != "MAX":
        return converter.eltwise()
    Params(converter.layer, "eltwise_param", ("operation", "coeff", "stable_prod_grad"))
    return converter.add("maximum", [converter.bottom(index) for index in range(len(converter.layer.bottoms))])


def lrn(converter: _Converter) -> str:
    """LRN WITHIN_CHANNEL as Caffe builds it (lrn_layer.cpp): x * (1 + alpha * avgpool(x^2)) ^ -beta, the
    average over local_size x local_size positions padded (local_size - 1)/2; ACROSS_CHANNELS as lrn."""
    params = Params(converter.layer, "lrn_param", ("local_size", "alpha", "beta", "norm_region", "k", "engine"))
    if params.choice("norm_region", "ACROSS_CHANNELS", ("ACROSS_CHANNELS", "WITHIN_CHANNEL")) != "WITHIN_CHANNEL":
        return converter.lrn()
    size = params.integer("local_size", 5, 1)
    if size % 2 == 0:
        raise converter.layer.fail(f"LRN WITHIN_CHANNEL local_size {size}", "Caffe takes an odd size")
    source, name = converter.bottom(), converter.layer.name
    squared = converter.add("mul", [source, source], name=f"{name}/square")
    pooled = converter.add("avgpool2d", [squared], {"kernel_size": size, "stride": 1, "padding": (size - 1) // 2},
                           name=f"{name}/pool")
    scaled = converter.add("pow", [pooled], {"exponent": -params.number("beta", 0.75)}, name=f"{name}/power",
                           comment=_scalar_comment(converter, f"LRN WITHIN_CHANNEL, (1 + {params.number('alpha', 1.0):g}"
                                                              " * mean) ^ -beta"))
    return converter.add("mul", [source, scaled])


def pooling(converter: _Converter) -> str:
    """Pooling; STOCHASTIC at inference is the activation-weighted average of each window
    (StoPoolForwardTest), counted as an average pool."""
    found = converter.layer.message.last("pooling_param")
    method = found.value.last("pool") if found is not None and hasattr(found.value, "last") else None
    if method is None or method.value != "STOCHASTIC":
        return converter.pooling()
    return converter.pooling(stochastic=True)


def spp(converter: _Converter) -> str:
    """SPP (spp_layer.cpp): for each level i < pyramid_height, a pooling into 2^i x 2^i bins (kernel
    ceil(size / 2^i), padded (kernel * 2^i - size + 1) / 2), each flattened; all concatenated."""
    params = Params(converter.layer, "spp_param", ("pyramid_height", "pool", "engine"))
    height = params.integer("pyramid_height", None, 1)
    method = params.choice("pool", "MAX", ("MAX", "AVE"))
    source, name = converter.bottom(), converter.layer.name
    _, rows, columns = converter.shape(source)
    if height == 1:
        return converter.add("global_maxpool" if method == "MAX" else "global_avgpool", [source])
    parts = []
    for level in range(height):
        bins = 2 ** level
        kernel = [-(-rows // bins), -(-columns // bins)]
        pad = [(kernel[0] * bins - rows + 1) // 2, (kernel[1] * bins - columns + 1) // 2]
        fields: dict[str, Any] = {"kernel_size": kernel, "stride": kernel, "ceil_mode": True}
        if any(pad):
            fields["padding"] = pad
        pooled = converter.add("maxpool2d" if method == "MAX" else "avgpool2d", [source], fields,
                               name=f"{name}/level{level}")
        parts.append(converter.add("flatten", [pooled], name=f"{name}/level{level}/flatten"))
    return converter.add("concat", parts)


ARITHMETIC_CONVERTERS = {
    "Power": power, "Log": log, "BNLL": bnll, "Bias": bias, "RReLU": rrelu, "Eltwise": eltwise, "LRN": lrn,
    "Pooling": pooling, "SPP": spp,
}
