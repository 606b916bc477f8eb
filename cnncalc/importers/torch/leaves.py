"""nn.Module leaves as spec layers, by type: torch.nn's layers and cnncalc.torch's helper modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ..common import compact
from .learned import LearnedTensors
from .converter import Unsupported, _module
from .trace import Call, Ref


class LeafConverter(LearnedTensors):
    # -- modules ------------------------------------------------------------------------

    def conv_module(self, call: Call) -> str:
        module = _module(call)
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        padding = "same" if _pads_same(module) else module.padding
        name = self.convolution(self.source(call), transposed, tuple(module.weight.shape), module.bias is not None,
                                module.stride, padding, module.dilation, module.groups,
                                module.output_padding if transposed else None)
        self.own_parameters(module, name)
        return name

    def own_parameters(self, module: nn.Module, layer: str) -> None:
        """Parameters of a mapped module beyond its weight and bias (timm ScaledStdConv2d's gain): a
        `parameter` layer each, so that they are counted."""
        for name, parameter in module.named_parameters(recurse=False):
            if name not in ("weight", "bias"):
                self.add("parameter", [], {"shape": list(parameter.shape)},
                         comment=f"{type(module).__name__}.{name}, applied by {layer}")

    def linear_module(self, call: Call) -> str:
        module = _module(call)
        if isinstance(module.weight, nn.parameter.UninitializedParameter):
            raise Unsupported("an uninitialized lazy module", "run the module once before importing it")
        return self.linear(self.source(call), tuple(module.weight.shape), module.bias is not None)

    def batchnorm_module(self, call: Call) -> str:
        module = _module(call)
        source = self.source(call)
        fields = {"affine": None if module.affine else False,
                  "track_running_stats": None if module.track_running_stats else False}
        if isinstance(module, nn.modules.instancenorm._InstanceNorm):
            rank = len(self.shape(source)) - 1
            return self.add(f"instancenorm{rank}d", [source], {
                "affine": True if module.affine else None,
                "track_running_stats": True if module.track_running_stats else None})
        return self.add(f"batchnorm{max(len(self.shape(source)) - 1, 1)}d", [source], fields)

    def pool_module(self, call: Call) -> str:
        module = _module(call)
        is_max = isinstance(module, nn.modules.pooling._MaxPoolNd)
        rank = len(self.shape(self.source(call))) - 1
        padding = "same" if _pads_same(module) else module.padding
        return self.pool(self.source(call), is_max, rank, module.kernel_size, module.stride, padding,
                         getattr(module, "dilation", 1), module.ceil_mode, getattr(module, "count_include_pad", True))

    def adaptive(self, call: Call, is_max: bool | None = None) -> str:
        source = self.source(call)
        if is_max is None:
            is_max = "Max" in type(call.target).__name__
        out = tuple(call.result.shape[2:])
        if out and set(out) == {1}:
            return self.add("global_maxpool" if is_max else "global_avgpool", [source], {})
        rank = len(out)
        return self.add(f"adaptive_{'max' if is_max else 'avg'}pool{rank}d", [source], {"output_size": compact(out)})

    def layernorm_module(self, call: Call) -> str:
        module = _module(call)
        source = self.source(call)
        affine = module.elementwise_affine
        comment = None
        if affine and module.bias is None:
            comment = "bias=False: cnncalc counts a weight and a bias"
        shape = list(module.normalized_shape)
        sample = self.shape(source)
        if type(module).__name__ == "ChannelLayerNorm" or (
                type(module) is not nn.LayerNorm and shape == [sample[0]] and len(sample) > 1
                and sample[-1] != sample[0] and tuple(call.result.shape[1:]) == sample):
            # a subclass normalising the channels of [C, H, W] (timm's and torchvision's LayerNorm2d)
            return self.add("layernorm", [source], {"affine": None if affine else False}, comment)
        return self.add("layernorm", [source], {"normalized_shape": compact(shape) if len(shape) > 1 else shape[0],
                                                "affine": None if affine else False}, comment)

    def groupnorm_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("groupnorm", [self.source(call)], {"num_groups": module.num_groups,
                                                            "affine": None if module.affine else False})

    def lrn_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("lrn", [self.source(call)], {"size": module.size, "alpha": float(module.alpha),
                                                      "beta": float(module.beta), "k": float(module.k)})

    def activation_module(self, call: Call) -> str:
        module = call.target
        source = self.source(call)
        if isinstance(module, nn.ReLU6):
            return self.add("relu6", [source], {})
        if isinstance(module, nn.Hardtanh):
            return self.clamp(source, module.min_val, module.max_val)
        if isinstance(module, nn.LeakyReLU):
            return self.add("leaky_relu", [source], {"negative_slope": float(module.negative_slope)})
        if isinstance(module, nn.ELU):
            return self.add("elu", [source], {"alpha": float(module.alpha)})
        if isinstance(module, nn.PReLU):
            return self.add("prelu", [source], {"num_parameters": module.num_parameters
                                                if module.num_parameters != 1 else None})
        if isinstance(module, nn.GELU):
            return self.add("gelu", [source], {"approximate": module.approximate
                                               if module.approximate != "none" else None})
        if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
            if module.dim is None:
                raise Unsupported("softmax without dim", "give nn.Softmax its dim")
            kind = "softmax" if isinstance(module, nn.Softmax) else "log_softmax"
            return self.add(kind, [source], {"dim": self.axis(source, module.dim) or None})
        return self.add(ACTIVATION_MODULES[type(module)], [source], {})

    def passthrough(self, call: Call) -> str:
        return self.source(call)

    def dropout(self, call: Call) -> str:
        return self.add("dropout", [self.source(call)], {})

    def shaped(self, call: Call) -> str:
        return self.reshaped(self.source(call), call.result)

    def upsample_module(self, call: Call) -> str:
        module = _module(call)
        return self.upsample(self.source(call), module.size, module.scale_factor, module.mode)

    def pixel_shuffle_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("pixel_shuffle", [self.source(call)], {"upscale_factor": module.upscale_factor})

    def channel_shuffle_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("channel_shuffle", [self.source(call)], {"groups": module.groups})

    def pad_module(self, call: Call) -> str:
        module = _module(call)
        name = type(module).__name__
        mode = ("reflect" if "Reflection" in name else "replicate" if "Replication" in name
                else "circular" if "Circular" in name else "constant")
        return self.pad(self.source(call), tuple(module.padding), mode, float(getattr(module, "value", 0.0)))

    # -- cnncalc.torch's own helper modules -----------------------------------------------

    def merge_module(self, call: Call) -> str:
        kind = type(call.target).__name__.lower()
        against = next((self.value(item) for item in call.args if isinstance(item, Ref)), None)
        if against is None:  # a merge of learned or fixed tensors only: computed once, not per sample
            raise Unsupported(f"{kind} of constants only")
        sources = [self.operand(item, against) for item in call.args]
        if kind == "concat":
            return self.add("concat", sources, {"dim": self.axis(against, _module(call).dim) or None})
        return self.add(kind, sources, {})

    def permute_module(self, call: Call) -> str:
        return self.permute(self.source(call), [dim - 1 for dim in _module(call).dims])  # the module counts the batch

    def slice_module(self, call: Call) -> str:
        module = _module(call)
        return self.slices(self.source(call), [(module.dim, module.start, module.end)])

    def crop_module(self, call: Call) -> str:
        source = self.source(call)
        full = self.full(source)
        return self.slices(source, [(axis, begin, full[axis] - end)
                                    for axis, (begin, end) in enumerate(_module(call).crops, start=2)])

    def scale_module(self, call: Call) -> str:
        return self.add("scale", [self.source(call)], {"bias": True if _module(call).bias is not None else None})

    def upsample_like_module(self, call: Call) -> str:
        sources = [self.value(item) for item in call.args if isinstance(item, Ref)]
        mode = _module(call).mode
        return self.add("upsample", sources, {"mode": mode if mode != "nearest" else None})


def _pads_same(module: nn.Module) -> bool:
    """timm's Conv2dSame, MaxPool2dSame, AvgPool2dSame: TF's 'SAME' padding, computed in forward."""
    return type(module).__name__.endswith("Same") and type(module).__module__.startswith("timm.")


def is_leaf(module: nn.Module) -> bool:
    """Modules recorded whole: those a handler maps (the helpers of cnncalc.torch included)."""
    for cls in type(module).__mro__:
        if cls in MODULES or (cls.__module__ == "cnncalc.torch.modules" and cls.__name__ in HELPERS):
            return True
    return False


Handler = Callable[[LeafConverter, Call], Any]

ACTIVATION_MODULES: dict[type, str] = {
    nn.ReLU: "relu", nn.SELU: "selu", nn.SiLU: "silu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
    nn.Hardsigmoid: "hardsigmoid", nn.Hardswish: "hardswish", nn.Mish: "mish",
}

MODULES: dict[type, Handler] = {
    **{cls: LeafConverter.conv_module for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                                                  nn.ConvTranspose2d, nn.ConvTranspose3d)},
    nn.Linear: LeafConverter.linear_module,
    **{cls: LeafConverter.batchnorm_module for cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
                                                       nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)},
    **{cls: LeafConverter.pool_module for cls in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d,
                                                  nn.AvgPool3d)},
    **{cls: LeafConverter.adaptive for cls in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                                               nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)},
    nn.LayerNorm: LeafConverter.layernorm_module, nn.GroupNorm: LeafConverter.groupnorm_module,
    nn.LocalResponseNorm: LeafConverter.lrn_module,
    **{cls: LeafConverter.activation_module for cls in (
        *ACTIVATION_MODULES, nn.ReLU6, nn.Hardtanh, nn.LeakyReLU, nn.ELU, nn.PReLU, nn.GELU, nn.Softmax,
        nn.LogSoftmax)},
    **{cls: LeafConverter.dropout for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)},
    nn.Identity: LeafConverter.passthrough, nn.Flatten: LeafConverter.shaped, nn.Unflatten: LeafConverter.shaped,
    nn.Upsample: LeafConverter.upsample_module, nn.PixelShuffle: LeafConverter.pixel_shuffle_module,
    nn.ChannelShuffle: LeafConverter.channel_shuffle_module,
    **{cls: LeafConverter.pad_module for cls in (
        nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d, nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d,
        nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d, nn.ReplicationPad1d, nn.ReplicationPad2d,
        nn.ReplicationPad3d, nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d)},
}

# cnncalc.torch.modules, by class name (importing them here would need the spec engine's torch side).
HELPERS: dict[str, Handler] = {
    "Add": LeafConverter.merge_module, "Sub": LeafConverter.merge_module, "Mul": LeafConverter.merge_module,
    "Concat": LeafConverter.merge_module, "Reshape": LeafConverter.shaped, "Permute": LeafConverter.permute_module,
    "Slice": LeafConverter.slice_module, "Crop": LeafConverter.crop_module, "Scale": LeafConverter.scale_module,
    "ChannelLayerNorm": LeafConverter.layernorm_module, "UpsampleLike": LeafConverter.upsample_like_module,
}
