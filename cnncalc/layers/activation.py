"""Activations: elementwise functions, and softmax along one axis."""

from __future__ import annotations

from ..errors import ShapeError
from . import fields as f
from .base import Cost, Layer, Shape, option, product, register

# The `full` convention's cost per element: one per arithmetic operation, comparison
# or library function (exp, log, erf, tanh), following each function's formula in
# PyTorch's documentation.
OPS_PER_ELEMENT = {
    "relu": (1, "max(0, x): 1 comparison"),
    "relu6": (2, "min(max(0, x), 6): 2 comparisons"),
    "leaky_relu": (2, "x if x > 0 else slope*x: 1 comparison, 1 multiply"),
    "prelu": (2, "x if x > 0 else a*x: 1 comparison, 1 multiply"),
    "elu": (4, "x if x > 0 else alpha*(exp(x) - 1): comparison, exp, subtract, multiply"),
    "selu": (5, "scale * elu(x): elu's 4, 1 multiply"),
    "gelu": (5, "x/2 * (1 + erf(x/sqrt(2))): divide, erf, add, 2 multiplies"),
    "sigmoid": (4, "1 / (1 + exp(-x)): negate, exp, add, divide"),
    "silu": (5, "x * sigmoid(x): sigmoid's 4, 1 multiply"),
    "tanh": (1, "tanh(x): 1 function"),
    "hardsigmoid": (4, "min(max(x + 3, 0), 6) / 6: add, 2 comparisons, divide"),
    "hardswish": (5, "x * hardsigmoid(x): hardsigmoid's 4, 1 multiply"),
    "mish": (5, "x * tanh(log(1 + exp(x))): exp, add, log, tanh, multiply"),
}


def _elementwise(kind: str, shape: Shape) -> Cost:
    return Cost(shape=shape, full_flops=OPS_PER_ELEMENT[kind][0] * product(shape))


@register("relu", "relu6", "selu", "gelu", "sigmoid", "silu", "tanh", "hardsigmoid", "hardswish", "mish")
class Activation(Layer):
    """An elementwise activation without parameters; shape unchanged."""

    full_rule = "per element, by function:" + "".join(
        f"\n        {name} {cost}: {why}" for name, (cost, why) in OPS_PER_ELEMENT.items()
        if name not in ("leaky_relu", "prelu", "elu"))

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return _elementwise(self.kind, inputs[0])


@register("leaky_relu")
class LeakyReLU(Layer):
    """x if x > 0 else negative_slope * x (torch.nn.LeakyReLU)."""

    full_rule = f"per element: {OPS_PER_ELEMENT['leaky_relu'][0]} ({OPS_PER_ELEMENT['leaky_relu'][1]})"

    negative_slope: float = option(0.01, parse=f.number, doc="slope for x < 0")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return _elementwise(self.kind, inputs[0])


@register("elu")
class ELU(Layer):
    """x if x > 0 else alpha * (exp(x) - 1) (torch.nn.ELU)."""

    full_rule = f"per element: {OPS_PER_ELEMENT['elu'][0]} ({OPS_PER_ELEMENT['elu'][1]})"

    alpha: float = option(1.0, parse=f.number, doc="scale for x < 0")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return _elementwise(self.kind, inputs[0])


@register("prelu")
class PReLU(Layer):
    """Leaky ReLU with a learned slope (torch.nn.PReLU): num_parameters params, 1 or C."""

    full_rule = f"per element: {OPS_PER_ELEMENT['prelu'][0]} ({OPS_PER_ELEMENT['prelu'][1]})"

    num_parameters: int = option(1, parse=f.count, doc="1 (shared) or the channel count")
    init: float = option(0.25, parse=f.number, doc="initial slope")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        if self.num_parameters != 1 and self.num_parameters != shape[0]:
            raise ShapeError(f"num_parameters {self.num_parameters} is neither 1 nor the {shape[0]} channels")
        cost = _elementwise(self.kind, shape)
        return Cost(shape=shape, params=self.num_parameters, full_flops=cost.full_flops)


def normalize_dim(dim: int, rank: int, name: str = "dim") -> int:
    """A per-sample axis index, negative counting from the end, like PyTorch's."""
    if not -rank <= dim < rank:
        raise ShapeError(f"{name} {dim} is out of range for a sample of {rank} axes",
                         f"{name} counts the per-sample axes from 0 (channels) to {rank - 1}")
    return dim % rank


@register("softmax", "log_softmax")
class Softmax(Layer):
    """Softmax (or its log) along one per-sample axis, 0 = channels."""

    full_rule = ("per row of n elements along dim: softmax 3n - 1 (n exps, n - 1 adds, n divides); "
                 "log_softmax 3n (n exps, n - 1 adds, 1 log, n subtracts)")

    dim: int = option(0, parse=f.integer, doc="axis to normalize over (0 = channels)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        n = shape[normalize_dim(self.dim, len(shape))]
        rows = product(shape) // n
        per_row = 3 * n - 1 if self.kind == "softmax" else 3 * n
        return Cost(shape=shape, full_flops=rows * per_row)
