"""Every layer type cnncalc knows, registered by importing its family's module."""

from . import activation, attention, conv, einsum, index, learned, merge, norm, pool, reduce, reshape  # noqa: F401

from .base import NO_FIELD, POINTWISE, REGISTRY, Cost, Layer, Shape, Window, build

# Types whose rank comes from the input, named after the family they stand for.
SHORTHANDS = ("conv", "conv_transpose", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool",
              "batchnorm", "instancenorm")

# Types added to format 1 after its first release (token networks). A spec may name a block
# like one of them, and its block wins, so that specs written before keep their meaning.
LATER_TYPES = frozenset(
    {"matmul", "attention", "multihead_attention", "einsum", "parameter", "constant", "embedding", "rmsnorm",
     "mean", "sum", "max", "min", "div", "pow", "normalize", "select", "stack", "expand", "roll", "drop_path",
     "stochastic_depth", *reduce.MATH_FUNCTIONS})

__all__ = ["LATER_TYPES", "NO_FIELD", "POINTWISE", "REGISTRY", "SHORTHANDS", "Cost", "Layer", "Shape", "Window",
           "build"]
