"""Receptive fields: per spatial axis, the size, jump and start of what an output
position sees of the input, step by step through the layers (docs/counting.md).

Before any upsampling every output position of a layer sees a region of the same size,
`jump` input positions further than its neighbour's: three numbers say it all. After an
upsampling by f, positions differ by phase (o mod f: nearest upsampling maps two outputs
to one input), so an axis also carries `phases`: the period P in output positions, the
step J in input positions per period, and for each phase r the region [low, high] that
output r reads; output r + m*P reads [low + m*J, high + m*J]. Every step below is exact
for integer upsampling factors; the printed size is the largest over the phases (what one
output position can be influenced by, at most), the jump the average step J / P, and the
start the centre of output 0's region.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .graph import Field, Tensor
from .layers import NO_FIELD, POINTWISE, Resample, Window
from .limits import COUNT_LIMIT

PHASE_LIMIT = 4096  # a period past this (a dozen 2x upsamplings in a row) leaves no field
Region = tuple[Fraction, Fraction]
Phases = tuple[int, Fraction, tuple[Region, ...]]  # period P, step J per period, region of each phase


def receptive_field(kind: Window | Resample | str, inputs: list[Tensor], arity: str) -> Field:
    """Per spatial axis (size, jump, start) after a layer, from its input's.

    A window (convolution, pooling) on a field without phases: jump_out = jump_in * s;
    size_out = size_in + d*(k-1)*jump_in; start_out = start_in + (d*(k-1)/2 - p_begin) * jump_in.
    Anything else goes through phases: each output phase's region is the union of the regions
    of the input positions it reads. A merge takes that union across its inputs. A step past
    COUNT_LIMIT input positions, which no real input has, leaves no field.
    """
    if kind == NO_FIELD:
        return None
    if kind == POINTWISE:
        if arity == "many" and len(inputs) > 1:
            return _union([tensor.field for tensor in inputs])
        return inputs[0].field
    previous = inputs[0].field
    if previous is None:
        return None
    if isinstance(kind, Resample):
        if len(previous) != len(kind.scale) or any(scale.denominator != 1 for scale in kind.scale):
            return None  # a resize by a fraction has no period: not followed
        return _from_phases([_resample(_phases(axis), index, kind) for index, axis in enumerate(previous)])
    assert isinstance(kind, Window)  # noqa: S101 - NO_FIELD and POINTWISE are handled above
    if len(previous) != len(kind.kernel):
        return None
    steps = list(zip(previous, kind.kernel, kind.stride, kind.dilation, kind.pad_begin))
    if any(max(d * (k - 1), s, p) * axis[1] > COUNT_LIMIT for axis, k, s, d, p in steps):
        return None
    if all(len(axis) == 3 for axis in previous):
        return tuple((axis[0] + d * (k - 1) * axis[1], axis[1] * s, axis[2] + (d * (k - 1) / 2 - p) * axis[1])
                     for axis, k, s, d, p in steps)
    return _from_phases([_window(_phases(axis), k, s, d, p) for axis, k, s, d, p in steps])


def _region(phases: Phases, position: int) -> Region:
    """The input region that output `position` reads."""
    period, step, regions = phases
    cycle, phase = divmod(position, period)
    low, high = regions[phase]
    return low + cycle * step, high + cycle * step


def _cover(phases: Phases, positions: list[int]) -> Region | None:
    if not positions:
        return None
    regions = [_region(phases, position) for position in positions]
    return min(low for low, _ in regions), max(high for _, high in regions)


def _window(phases: Phases, kernel: int, stride: int, dilation: int, pad: int) -> Phases | None:
    """A convolution or pooling window: output o reads o*s - p + j*d for j < k."""
    period, step, _ = phases
    new_period = period // math.gcd(period, stride)
    regions = []
    for phase in range(new_period):
        region = _cover(phases, [phase * stride - pad + tap * dilation for tap in range(kernel)])
        assert region is not None  # noqa: S101 - a window reads at least one position (kernel >= 1)
        regions.append(region)
    return new_period, step * new_period * stride / period, tuple(regions)


def _resample(phases: Phases, axis: int, kind: Resample) -> Phases | None:
    """An upsampling by an integer factor f: the period grows f times, the step per period stays."""
    period, step, _ = phases
    factor = int(kind.scale[axis])
    new_period = period * factor
    if new_period > PHASE_LIMIT:
        return None
    regions = []
    for phase in range(new_period):
        region = _cover(phases, _reads(kind, axis, factor, phase))
        if region is None:  # a transposed convolution whose stride passes its kernel: gaps read nothing
            return None
        regions.append(region)
    return new_period, step, tuple(regions)


def _reads(kind: Resample, axis: int, factor: int, position: int) -> list[int]:
    """The input positions output `position` reads (without clamping at the borders: the
    field, like a convolution's, counts positions past them)."""
    if kind.taps == 0:
        stride, dilation, pad = factor, kind.dilation[axis], kind.pad_begin[axis]
        return [(position + pad - tap * dilation) // stride for tap in range(kind.kernel[axis])
                if (position + pad - tap * dilation) % stride == 0]
    if kind.taps == 1:
        return [position // factor]
    source = math.floor(Fraction(2 * position + 1, 2 * factor) - Fraction(1, 2))
    first = source - (kind.taps // 2 - 1)  # linear: source, source + 1; cubic: source - 1 ... source + 2
    return list(range(first, first + kind.taps))


def _phases(axis: tuple[Any, ...]) -> Phases:
    """An axis's phases; a field without them is one phase."""
    if len(axis) == 4:
        return axis[3]  # type: ignore[no-any-return]
    size, jump, start = (Fraction(value) for value in axis)
    half = (size - 1) / 2
    return 1, jump, ((start - half, start + half),)


def _from_phases(axes: list[Phases | None]) -> Field:
    """The printed (size, jump, start) of each axis, with its phases when it has more than one."""
    if any(axis is None for axis in axes):
        return None
    result = []
    for period, step, regions in axes:  # type: ignore[misc]
        size = max(high - low for low, high in regions) + 1
        low, high = regions[0]
        plain = (_number(size), _number(step / period), float((low + high) / 2))
        result.append(plain if period == 1 else (*plain, (period, step, regions)))
    return tuple(result)  # type: ignore[arg-type]


def _union(fields: list[Field]) -> Field:
    """The smallest field holding every input's, phase by phase (an output sees what every
    one of its inputs sees)."""
    known = [item for item in fields if item is not None]
    if len(known) < len(fields):
        return None
    if len({len(item) for item in known}) != 1:
        return max(known, key=lambda item: [axis[0] for axis in item])
    if all(len(axis) == 3 for item in known for axis in item) \
            and all(len({axis[2] for axis in axes}) == 1 for axes in zip(*known)):
        # Common centres (a residual add): the largest field on each axis, no fractions needed.
        return tuple(max(axes, key=lambda axis: axis[0]) for axes in zip(*known))
    result: list[Phases | None] = []
    for axes in zip(*known):
        phases = [_phases(axis) for axis in axes]
        period = math.lcm(*(item[0] for item in phases))
        if period > PHASE_LIMIT:
            return None
        regions = []
        for phase in range(period):
            covered = [_region(item, phase) for item in phases]
            regions.append((min(low for low, _ in covered), max(high for _, high in covered)))
        first = phases[0]
        result.append((period, first[1] * period / first[0], tuple(regions)))
    return _from_phases(result)


def _number(value: Fraction) -> int | float:
    """A whole number as an int, else a float."""
    return int(value) if value.denominator == 1 else float(value)


def input_field(shape: tuple[int, ...]) -> Field:
    """An input position sees itself: size 1, jump 1, centred on pixel 0."""
    return tuple((1, 1, 0.0) for _ in shape[1:]) or None
