"""Which PyTorch module stands for each layer of a walked spec, without importing PyTorch.

One mapping function per layer family turns a layer (its validated fields and the
shapes reaching it) into a `Call`: the name of a module class and its constructor's
arguments. `modules.Network` instantiates the calls, `source.render` prints them, so
the module and its Python source are the same by construction. A spec feature that
PyTorch cannot reproduce exactly is a SpecError naming the layer, never an
approximation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers import Shape
from ..layers.activation import ELU, Activation, LeakyReLU, PReLU, Softmax, normalize_dim
from ..layers.base import per_axis, resolve_padding, window_output
from ..layers.conv import Convolution, Linear, TransposedConvolution
from ..layers.merge import Concat, Elementwise
from ..layers.norm import BatchNorm, GroupNorm, InstanceNorm, LayerNorm, LocalResponseNorm, Scale
from ..layers.pool import AdaptivePool, AvgPool, GlobalPool, MaxPool
from ..layers.reshape import ChannelShuffle, Flatten, Pad, Passthrough, Permute, PixelShuffle, Reshape, Slice
from ..layers.reshape import Upsample
from .calls import Call, Unsupported, call  # noqa: F401  (Unsupported: plan.py's import)
from .calls import options as _options
from .imported_mapping import IMPORTED_MAPPERS
from .tensor_mapping import TENSOR_MAPPERS


# -- helpers ------------------------------------------------------------------------


def _rank(shape: Shape, what: str, lowest: int = 1) -> int:
    """Spatial axes of a per-sample shape, within what PyTorch's modules take (1 to 3)."""
    rank = len(shape) - 1
    if not lowest <= rank <= 3:
        raise Unsupported(f"{what} over {rank} spatial axes (input {list(shape)})", "PyTorch's modules take 1 to 3")
    return rank


def _compact(values: tuple[Any, ...]) -> Any:
    """One number when every axis has the same, as PyTorch's modules are usually written."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def _torch_pads(pads: tuple[tuple[int, int], ...]) -> Any:
    """[(begin, end) per axis] in F.pad's order: the last axis first."""
    flat = tuple(value for pair in reversed(pads) for value in pair)
    return flat[0] if len(set(flat)) == 1 else flat


def _split_pads(pads: tuple[tuple[int, int], ...]) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(the symmetric part PyTorch's layers pad themselves, the (begin, end) left over on each axis)."""
    both = tuple(min(begin, end) for begin, end in pads)
    return both, tuple((begin - common, end - common) for (begin, end), common in zip(pads, both))


def _uneven(rest: tuple[tuple[int, int], ...]) -> bool:
    return any(begin or end for begin, end in rest)


# -- convolutions and the dense layer -------------------------------------------------


def convolution(layer: Convolution, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """nn.ConvNd; padding PyTorch's layers cannot take (asymmetric, `same` with a stride) is a ZeroPad before it."""
    (shape,) = inputs
    rank = _rank(shape, "convolution")
    kernel, stride, dilation = (per_axis(name, value, rank) for name, value in
                                (("kernel_size", layer.kernel_size), ("stride", layer.stride),
                                 ("dilation", layer.dilation)))
    pads = resolve_padding(layer.padding, shape[1:], kernel, stride, dilation)
    both, rest = _split_pads(pads)
    padding: Any = _compact(both)
    if layer.padding == "same" and set(stride) == {1}:
        padding, rest = "same", ()  # PyTorch's own `same`, which pads the odd one at the end too
    module = call(f"nn.Conv{rank}d", shape[0], layer.out_channels, kernel_size=_compact(kernel), **_options(
        stride=(_compact(stride), 1), padding=(padding, 0), dilation=(_compact(dilation), 1),
        groups=(layer.groups, 1), bias=(layer.bias, True)))
    if _uneven(rest):
        return call("nn.Sequential", call(f"nn.ZeroPad{rank}d", _torch_pads(rest)), module)
    return module


def transposed_convolution(layer: TransposedConvolution, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """nn.ConvTransposeNd; asymmetric [begin, end] cropping is the symmetric part, then a Crop of the rest."""
    (shape,) = inputs
    rank = _rank(shape, "transposed convolution")
    kernel, stride, dilation, extra = (per_axis(name, value, rank) for name, value in
                                       (("kernel_size", layer.kernel_size), ("stride", layer.stride),
                                        ("dilation", layer.dilation), ("output_padding", layer.output_padding)))
    both, rest = _split_pads(resolve_padding(layer.padding, shape[1:], kernel, stride, dilation))
    module = call(f"nn.ConvTranspose{rank}d", shape[0], layer.out_channels, kernel_size=_compact(kernel), **_options(
        stride=(_compact(stride), 1), padding=(_compact(both), 0), output_padding=(_compact(extra), 0),
        groups=(layer.groups, 1), bias=(layer.bias, True), dilation=(_compact(dilation), 1)))
    if _uneven(rest):
        return call("nn.Sequential", module, call("Crop", rest))
    return module


def linear(layer: Linear, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("nn.Linear", inputs[0][-1], layer.out_features, **_options(bias=(layer.bias, True)))


# -- pooling ------------------------------------------------------------------------------


def windowed_pool(layer: MaxPool | AvgPool, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """nn.MaxPoolNd / nn.AvgPoolNd. Padding PyTorch's pools cannot take (asymmetric, `same` past
    half the kernel, 3D average pooling of an input smaller than the kernel) becomes a pad before the pool (-inf for max, zeros for avg, which counts them in
    the average: exact only with count_include_pad), and a Crop of the last window where PyTorch's
    ceil_mode rule, seeing the pad as input, keeps one more."""
    (shape,) = inputs
    rank = _rank(shape, "pooling")
    is_max = isinstance(layer, MaxPool)
    kernel = per_axis("kernel_size", layer.kernel_size, rank)
    stride = per_axis("stride", layer.stride if layer.stride is not None else layer.kernel_size, rank)
    dilation = per_axis("dilation", layer.dilation if isinstance(layer, MaxPool) else 1, rank)
    pads = resolve_padding(layer.padding, shape[1:], kernel, stride, dilation)
    both, rest = _split_pads(pads)
    # PyTorch's pools pad at most half the kernel (`same` may pad more), and avg_pool3d wants
    # the kernel to fit the unpadded input: then pad it all first.
    small = rank == 3 and not is_max and any(size < k for size, k in zip(shape[1:], kernel))
    if small or any(common > k // 2 for common, k in zip(both, kernel)):
        both, rest = (0,) * rank, pads
    asymmetric = _uneven(rest)
    if asymmetric and isinstance(layer, AvgPool) and not layer.count_include_pad:
        named = " (padding: same)" if layer.padding == "same" else ""
        raise Unsupported(f"average pooling with (begin, end) padding {list(pads)}{named} and count_include_pad: "
                          "false", "PyTorch's pools pad both sides alike, by at most half "
                          "the kernel (avg_pool3d: when the kernel fits the input), and padding first would count the "
                          "pad in the average")
    options = _options(stride=(_compact(stride), _compact(kernel)), padding=(_compact(both), 0),
                       ceil_mode=(layer.ceil_mode, False))
    if isinstance(layer, MaxPool):
        options.update(_options(dilation=(_compact(dilation), 1)))
    else:
        options.update(_options(count_include_pad=(layer.count_include_pad, True)))
    pool = call(f"nn.{'Max' if is_max else 'Avg'}Pool{rank}d", kernel_size=_compact(kernel), **options)
    if not asymmetric:
        return pool
    value = float("-inf") if is_max else 0.0
    padded = tuple(size + begin + end for size, (begin, end) in zip(shape[1:], rest))
    kept = tuple(window_output(size, k, s, (p, p), d, layer.ceil_mode)
                 for size, k, s, p, d in zip(padded, kernel, stride, both, dilation))
    modules = [call(f"nn.ConstantPad{rank}d", _torch_pads(rest), value), pool]
    if kept != output[1:]:
        modules.append(call("Crop", tuple((0, have - want) for have, want in zip(kept, output[1:]))))
    return call("nn.Sequential", *modules)


def adaptive_pool(layer: AdaptivePool, inputs: tuple[Shape, ...], output: Shape) -> Call:
    rank = _rank(inputs[0], "adaptive pooling")
    kind = "Max" if "max" in layer.kind else "Avg"
    return call(f"nn.Adaptive{kind}Pool{rank}d", _compact(output[1:]))


def global_pool(layer: GlobalPool, inputs: tuple[Shape, ...], output: Shape) -> Call:
    rank = _rank(inputs[0], "global pooling")
    kind = "Max" if layer.kind == "global_maxpool" else "Avg"
    return call(f"nn.Adaptive{kind}Pool{rank}d", 1)


# -- normalization and scale ---------------------------------------------------------------


def batchnorm(layer: BatchNorm, inputs: tuple[Shape, ...], output: Shape) -> Call:
    (shape,) = inputs
    rank = max(_rank(shape, "batch normalization", lowest=0), 1)  # BatchNorm1d takes [N, C] and [N, C, L]
    return call(f"nn.BatchNorm{rank}d", shape[0], **_options(
        affine=(layer.affine, True), track_running_stats=(layer.track_running_stats, True)))


def layernorm(layer: LayerNorm, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """nn.LayerNorm over the given trailing axes; by default over the channels at each position,
    ChannelLayerNorm (ConvNeXt's LayerNorm2d: channels last, LayerNorm, channels first again)."""
    (shape,) = inputs
    affine = _options(elementwise_affine=(layer.affine, True))
    if layer.normalized_shape is not None:
        return call("nn.LayerNorm", layer.normalized_shape, **affine)
    return call("nn.LayerNorm" if len(shape) == 1 else "ChannelLayerNorm", shape[0], **affine)


def groupnorm(layer: GroupNorm, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("nn.GroupNorm", layer.num_groups, inputs[0][0], **_options(affine=(layer.affine, True)))


def instancenorm(layer: InstanceNorm, inputs: tuple[Shape, ...], output: Shape) -> Call:
    rank = _rank(inputs[0], "instance normalization")
    return call(f"nn.InstanceNorm{rank}d", inputs[0][0], **_options(
        affine=(layer.affine, False), track_running_stats=(layer.track_running_stats, False)))


def local_response_norm(layer: LocalResponseNorm, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("nn.LocalResponseNorm", layer.size, **_options(
        alpha=(layer.alpha, 1e-4), beta=(layer.beta, 0.75), k=(layer.k, 1.0)))


def scale(layer: Scale, inputs: tuple[Shape, ...], output: Shape) -> Call:
    (shape,) = inputs
    return call("Scale", shape[0], len(shape) - 1, **_options(bias=(layer.bias, False)))


# -- activations -----------------------------------------------------------------------------

ACTIVATIONS = {"relu": "nn.ReLU", "relu6": "nn.ReLU6", "selu": "nn.SELU", "gelu": "nn.GELU", "sigmoid": "nn.Sigmoid",
               "silu": "nn.SiLU", "tanh": "nn.Tanh", "hardsigmoid": "nn.Hardsigmoid", "hardswish": "nn.Hardswish",
               "mish": "nn.Mish"}


def activation(layer: Activation | LeakyReLU | ELU | PReLU | Softmax, inputs: tuple[Shape, ...],
               output: Shape) -> Call:
    """nn.ReLU ...; softmax's dim counts the batch in PyTorch, so it is the spec's + 1."""
    if isinstance(layer, LeakyReLU):
        return call("nn.LeakyReLU", **_options(negative_slope=(layer.negative_slope, 0.01)))
    if isinstance(layer, ELU):
        return call("nn.ELU", **_options(alpha=(layer.alpha, 1.0)))
    if isinstance(layer, PReLU):
        return call("nn.PReLU", **_options(num_parameters=(layer.num_parameters, 1), init=(layer.init, 0.25)))
    if isinstance(layer, Softmax):
        factory = "nn.Softmax" if layer.kind == "softmax" else "nn.LogSoftmax"
        return call(factory, dim=normalize_dim(layer.dim, len(inputs[0])) + 1)
    return call(ACTIVATIONS[layer.kind])


# -- merges and reshaping -----------------------------------------------------------------------


def merge(layer: Elementwise | Concat, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """Add, Sub, Mul (broadcast on the per-sample shapes, as the spec does) and Concat (dim + 1)."""
    if isinstance(layer, Concat):
        return call("Concat", normalize_dim(layer.dim, len(inputs[0])) + 1)
    return call(layer.kind.capitalize())


PAD_MODULES = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
               "circular": "CircularPad"}


def reshaping(layer: Any, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """Identity, dropout, flatten, reshape, permute, slice, pad, shuffles and upsample."""
    shape = inputs[0]
    if isinstance(layer, Passthrough):
        return call("nn.Dropout" if layer.kind == "dropout" else "nn.Identity")  # drop_path: identity at inference
    if isinstance(layer, Flatten):
        return call("nn.Flatten")
    if isinstance(layer, Reshape):
        return call("Reshape", layer.shape)
    if isinstance(layer, Permute):
        return call("Permute", tuple(normalize_dim(dim, len(shape)) + 1 for dim in layer.dims))
    if isinstance(layer, Slice):
        return call("Slice", normalize_dim(layer.dim, len(shape)) + 1, layer.start, layer.end)
    if isinstance(layer, Pad):
        rank = _rank(shape, "pad")
        pads = resolve_padding(layer.padding, shape[1:], (1,) * rank, (1,) * rank, (1,) * rank)
        value = (layer.value,) if layer.mode == "constant" else ()
        return call(f"nn.{PAD_MODULES[layer.mode]}{rank}d", _torch_pads(pads), *value)
    if isinstance(layer, ChannelShuffle):
        return call("nn.ChannelShuffle", layer.groups)
    if isinstance(layer, PixelShuffle):
        return call("nn.PixelShuffle", layer.upscale_factor)
    return upsample(layer, inputs, output)


def upsample(layer: Upsample, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """nn.Upsample (align_corners false for the interpolating modes), or UpsampleLike to a reference."""
    corners = _options(align_corners=(False if layer.mode != "nearest" else None, None))
    if len(inputs) == 2:
        return call("UpsampleLike", layer.mode, **corners)
    if layer.size is not None:
        return call("nn.Upsample", size=layer.size, **_options(mode=(layer.mode, "nearest")), **corners)
    return call("nn.Upsample", scale_factor=layer.scale_factor, **_options(mode=(layer.mode, "nearest")), **corners)


MAPPERS: dict[type, Callable[[Any, tuple[Shape, ...], Shape], Call]] = {
    Convolution: convolution, TransposedConvolution: transposed_convolution, Linear: linear,
    MaxPool: windowed_pool, AvgPool: windowed_pool, AdaptivePool: adaptive_pool, GlobalPool: global_pool,
    BatchNorm: batchnorm, LayerNorm: layernorm, GroupNorm: groupnorm, InstanceNorm: instancenorm,
    LocalResponseNorm: local_response_norm, Scale: scale,
    Activation: activation, LeakyReLU: activation, ELU: activation, PReLU: activation, Softmax: activation,
    Elementwise: merge, Concat: merge,
    Passthrough: reshaping, Flatten: reshaping, Reshape: reshaping, Permute: reshaping, Slice: reshaping,
    Pad: reshaping, ChannelShuffle: reshaping, PixelShuffle: reshaping, Upsample: upsample,
    **TENSOR_MAPPERS, **IMPORTED_MAPPERS,
}
