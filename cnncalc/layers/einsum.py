"""Einstein summation of one or two tensors, for the contractions vision models write with
torch.einsum (attention scores per head, relative-position terms)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FieldError, ShapeError
from . import fields as f
from .base import NO_FIELD, Cost, Layer, Shape, option, product, register

MAX_OPERANDS = 2  # what vision models contract; more would need PyTorch's contraction order to count


@dataclass(frozen=True)
class Equation:
    operands: tuple[str, ...]
    output: str


def parse_equation(name: str, value: object) -> Equation:
    """'hqd,hkd->hqk': letters per operand, an explicit output; no ellipsis, no repeated letter."""
    equation = f.text(name, value).replace(" ", "")
    hint = "write one letter per axis, operands separated by commas and an explicit output: 'hqd,hkd->hqk'"
    if equation.count("->") != 1:
        raise FieldError(name, f"{name} {equation!r} has no '->' output", hint)
    left, output = equation.split("->")
    operands = tuple(left.split(","))
    if not 1 <= len(operands) <= MAX_OPERANDS:
        raise FieldError(name, f"{name} {equation!r} has {len(operands)} operands",
                         f"cnncalc counts einsum of 1 to {MAX_OPERANDS} operands; chain several")
    for letters in (*operands, output):
        if not all(letter.isascii() and letter.isalpha() for letter in letters):
            raise FieldError(name, f"{name} {equation!r}: {letters!r} has a character that is not a letter", hint)
        if len(set(letters)) != len(letters):
            raise FieldError(name, f"{name} {equation!r}: {letters!r} repeats a letter",
                             "cnncalc counts einsum without diagonals: each letter once per operand")
    if not output:
        raise FieldError(name, f"{name} {equation!r} has no output letters",
                         "shapes are per sample: keep at least one axis (sum over the rest)")
    if set(output) - set("".join(operands)):
        raise FieldError(name, f"{name} {equation!r}: the output has letters no operand has", hint)
    return Equation(operands, output)


@register("einsum")
class Einsum(Layer):
    """Einstein summation of 1 or 2 inputs over their per-sample axes (torch.einsum, the batch
    axis added by cnncalc.torch), e.g. 'hqd,hkd->hqk' for attention scores.

    Two operands sharing a letter of size > 1 the output drops (a contraction): MACs =
    prod(sizes of the letters both share or the output keeps), the batched matrix product
    PyTorch runs. Without one (an outer or elementwise product, or a contraction over an
    axis of 1) PyTorch multiplies elementwise: no MACs.
    A letter only one operand has and the output drops is summed first (adds).
    One operand: a sum or permutation, no MACs.
    """

    arity = "many"
    full_rule = ("two operands: 2 x MACs - output elements with a contraction, else output elements "
                 "(multiplies); plus the adds that sum away a letter only one operand has; "
                 "one operand: input elements - output elements (adds)")

    equation: Equation = option(parse=parse_equation, doc="letters per operand -> letters of the output")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        operands, output = self.equation.operands, self.equation.output
        if len(inputs) != len(operands):
            raise ShapeError(f"einsum has {len(operands)} operands but from names {len(inputs)} "
                             f"input{'s' if len(inputs) > 1 else ''}",
                             "list one input per operand in from:")
        sizes: dict[str, int] = {}
        for letters, shape in zip(operands, inputs):
            if len(letters) != len(shape):
                raise ShapeError(f"einsum operand {letters!r} has {len(letters)} letters for {list(shape)}",
                                 "one letter per per-sample axis")
            for letter, size in zip(letters, shape):
                if sizes.setdefault(letter, size) != size:
                    raise ShapeError(f"einsum letter {letter!r} is {sizes[letter]} and {size}",
                                     "a letter names axes of one size")
        out = tuple(sizes[letter] for letter in output)
        if len(inputs) == 1:
            return Cost(shape=out, full_flops=product(inputs[0]) - product(out), field=NO_FIELD)
        first, second = (set(letters) for letters in operands)
        kept = (first & second) | set(output)
        # An operand's letters nobody else needs are summed away before the product.
        presums = sum(product(shape) - product(tuple(sizes[letter] for letter in letters if letter in kept))
                      for letters, shape in zip(operands, inputs))
        # PyTorch contracts only letters longer than 1; without one it multiplies elementwise.
        if not any(sizes[letter] > 1 for letter in (first & second) - set(output)):
            return Cost(shape=out, full_flops=product(out) + presums, field=NO_FIELD)
        macs = product(tuple(sizes[letter] for letter in kept))
        return Cost(shape=out, macs=macs, full_flops=2 * macs - product(out) + presums, field=NO_FIELD)
