"""Every layer type cnncalc knows, registered by importing its family's module."""

from . import activation, conv, merge, norm, pool, reshape  # noqa: F401
from .base import NO_FIELD, POINTWISE, REGISTRY, Cost, Layer, Resample, Shape, Window, build

# Token-network families, imported when a spec first names one of their types (a test
# checks each module registers exactly these names).
DEFERRED = {
    "attention": ("matmul", "attention", "multihead_attention"),
    "einsum": ("einsum",),
    "index": ("select", "stack", "expand", "roll"),
    "learned": ("parameter", "constant", "embedding"),
    "reduce": ("mean", "sum", "max", "min", "sqrt", "rsqrt", "exp", "log", "abs", "neg", "square", "reciprocal",
               "sin", "cos", "erf", "pow", "normalize"),
    "imported": ("shortcut", "maximum", "pixel_unshuffle", "local2d"),
}
for _module, _names in DEFERRED.items():
    REGISTRY.defer(f"{__name__}.{_module}", _names)

# Types whose rank comes from the input, named after the family they stand for.
SHORTHANDS = ("conv", "conv_transpose", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool",
              "batchnorm", "instancenorm")

# Types added to format 1 after its first release (token networks). A spec may name a block
# like one of them, and its block wins, so that specs written before keep their meaning.
LATER_TYPES = frozenset({"div", "rmsnorm", "drop_path", "stochastic_depth", *(name for names in DEFERRED.values()
                                                                             for name in names)})

__all__ = ["DEFERRED", "LATER_TYPES", "NO_FIELD", "POINTWISE", "REGISTRY", "SHORTHANDS", "Cost", "Layer", "Resample", "Shape", "Window",
           "build"]
