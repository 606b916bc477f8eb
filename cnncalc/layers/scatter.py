"""Where a transposed convolution's products land, counted per spatial axis without
enumerating them: what its `full` FLOPs need when output_padding, stride gaps or
cropping leave some outputs with no product and some products with no output.

Along one axis, tap k of input position i lands at i*s + k*d - begin; outputs are
0 .. out-1. Taps whose offsets k*d agree modulo s form one residue class, in which the
landing positions are intervals of `size` steps of s, starting delta = d/gcd(d, s)
steps apart. A class's products (landed) and the distinct outputs they reach (touched)
follow from interval arithmetic, so a layer costs O(classes), not O(products).
"""

from __future__ import annotations

from math import gcd

from ..errors import ShapeError

MAX_CLASSES = 100_000  # residue classes per axis, min(kernel, stride / gcd): real layers have a few


def landing(size: int, kernel: int, stride: int, dilation: int, begin: int, out: int) -> tuple[int, int]:
    """(products that land inside the output, outputs that receive at least one) along one axis."""
    period = stride // gcd(dilation, stride)
    classes = min(period, kernel)
    if classes > MAX_CLASSES:
        raise ShapeError(f"kernel {kernel} with stride {stride} is too large to count",
                         f"cnncalc counts transposed convolutions with up to {MAX_CLASSES:,} tap classes per axis")
    delta = dilation // gcd(dilation, stride)
    landed = touched = 0
    for first in range(classes):
        taps = (kernel - first + period - 1) // period
        offset = first * dilation - begin
        residue = offset % stride
        last_step = (out - 1 - residue) // stride  # the last step that is still an output
        if last_step < 0:
            continue
        start = (offset - residue) // stride
        class_landed = _clipped_total(start, delta, taps, size, last_step)
        landed += class_landed
        if delta >= size:  # the intervals do not overlap: every landed product reaches its own output
            touched += class_landed
        else:
            end = start + (taps - 1) * delta + size - 1
            touched += max(0, min(end, last_step) - max(start, 0) + 1)
    return landed, touched


def _clipped_total(start: int, delta: int, count: int, size: int, last: int) -> int:
    """Sum over m < count of |[start + m*delta, start + m*delta + size - 1] & [0, last]|."""
    low = max(0, _ceil_div(1 - size - start, delta))  # the first interval that ends at 0 or later
    high = min(count - 1, (last - start) // delta)  # the last that starts at `last` or earlier
    if low > high:
        return 0
    total = (high - low + 1) * size
    # Cut on the left: intervals that start below 0 lose -start - m*delta each.
    left_end = min(high, _ceil_div(-start, delta) - 1)
    total -= _series(-start, -delta, low, left_end)
    # Cut on the right: intervals that end past `last` lose start + m*delta + size - 1 - last each.
    right_start = max(low, (last - size + 1 - start) // delta + 1)
    total -= _series(start + size - 1 - last, delta, right_start, high)
    return total


def _series(base: int, step: int, first: int, last: int) -> int:
    """Sum of base + m*step for m from first to last (0 when the range is empty)."""
    if first > last:
        return 0
    terms = last - first + 1
    return terms * base + step * (first + last) * terms // 2


def _ceil_div(numerator: int, denominator: int) -> int:
    return -((-numerator) // denominator)
