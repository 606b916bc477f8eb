"""Reductions over listed axes, elementwise math functions, and p-norm normalization."""

from __future__ import annotations

from ..errors import ShapeError
from . import fields as f
from .activation import normalize_dim
from .base import NO_FIELD, POINTWISE, Cost, Layer, Shape, option, product, register

# torch's function for each reduction: max and min over several axes are amax and amin.
REDUCTIONS = {"mean": "mean", "sum": "sum", "max": "amax", "min": "amin"}


def reduced_axes(dims: tuple[int, ...], rank: int) -> tuple[int, ...]:
    axes = tuple(sorted({normalize_dim(dim, rank) for dim in dims}))
    if len(axes) != len(dims):
        raise ShapeError(f"dim {list(dims)} names an axis twice", "list each per-sample axis once")
    return axes


@register("mean", "sum", "max", "min")
class Reduce(Layer):
    """Mean, sum, maximum or minimum over the listed per-sample axes (0 = channels), like
    torch.mean, torch.sum, torch.amax and torch.amin; keepdim keeps them as size 1.

    Global average pooling of [C, H, W] is mean over [1, 2]; of tokens [T, C], mean over 0.
    """

    full_rule = ("per output element: n - 1 adds (sum, mean) or comparisons (max, min) over the n elements "
                 "it reduces, +1 divide for mean")

    dim: tuple[int, ...] = option(parse=f.int_or_list, doc="axis or axes to reduce (0 = channels)")
    keepdim: bool = option(False, parse=f.flag, doc="keep the reduced axes as size 1")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        axes = reduced_axes(self.dim, len(shape))
        if len(axes) == len(shape) and not self.keepdim:
            raise ShapeError(f"{self.kind} over every axis leaves nothing per sample",
                             "add keepdim: true, or leave one axis out of dim")
        out = tuple(1 if axis in axes else size for axis, size in enumerate(shape) if self.keepdim or axis not in axes)
        reduced = product(tuple(shape[axis] for axis in axes))
        outputs = product(out)
        field = POINTWISE if axes == (0,) and self.keepdim else NO_FIELD  # over channels, position by position
        return Cost(shape=out, full_flops=outputs * (reduced - 1 + (self.kind == "mean")), field=field)


# Elementwise functions of one input, by name: torch has a function of each name.
MATH_FUNCTIONS = ("sqrt", "rsqrt", "exp", "log", "abs", "neg", "square", "reciprocal", "sin", "cos", "erf")


@register(*MATH_FUNCTIONS)
class MathFunction(Layer):
    """An elementwise function of one tensor, torch's function of the same name
    (torch.sqrt, torch.rsqrt, torch.exp, ...); shape unchanged."""

    full_rule = "per element: 1 (one function or arithmetic operation)"

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return Cost(shape=inputs[0], full_flops=product(inputs[0]))


@register("pow")
class Power(Layer):
    """Each element to a fixed power (torch.pow(x, exponent)); shape unchanged."""

    full_rule = "per element: 1 (one power)"

    exponent: float = option(parse=f.number, doc="the power, e.g. 2 or 0.5")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return Cost(shape=inputs[0], full_flops=product(inputs[0]))


@register("normalize")
class Normalize(Layer):
    """Each vector along dim divided by its p-norm (F.normalize); shape unchanged.

    out = x / max(||x||_p, eps) along dim (0 = channels)
    """

    full_rule = "per vector of n elements along dim: 3n + 1 (n powers, n - 1 adds, a root, a max with eps, n divides)"

    p: float = option(2.0, parse=f.positive_number, doc="the norm's exponent")
    dim: int = option(0, parse=f.integer, doc="axis of the vectors (0 = channels)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        axis = normalize_dim(self.dim, len(shape))
        n = shape[axis]
        return Cost(shape=shape, full_flops=product(shape) // n * (3 * n + 1), field=NO_FIELD if axis else POINTWISE)
