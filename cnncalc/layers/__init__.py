"""Every layer type cnncalc knows, registered by importing its family's module."""

from . import activation, conv, merge, norm, pool, reshape  # noqa: F401  (registration)
from .base import NO_FIELD, POINTWISE, REGISTRY, Cost, Layer, Shape, Window, build

# Types whose rank comes from the input, named after the family they stand for.
SHORTHANDS = ("conv", "conv_transpose", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool",
              "batchnorm", "instancenorm")

__all__ = ["NO_FIELD", "POINTWISE", "REGISTRY", "SHORTHANDS", "Cost", "Layer", "Shape", "Window", "build"]
