"""Caffe layers past the basic ones: BVLC's Slice and Crop, and the forks' layers that
detection and segmentation files use (SSD's Permute, Normalize; PSPNet's Interp; SENet's
Axpy; PVANet's BN). Each reads its `*_param` as that fork's layer does (the file and
function are named on each)."""

from __future__ import annotations

from typing import Any, Callable

from ..prototxt import Message
from .arithmetic import ARITHMETIC_CONVERTERS
from .converter import BASIC_CONVERTERS, _Converter
from .layer import Params


def _axis(converter: _Converter, axis: int, rank: int, what: str) -> int:
    """A Caffe axis (0 = batch, negative from the end) as a per-sample dim (0 = channels)."""
    full = axis + rank + 1 if axis < 0 else axis
    if not 1 <= full <= rank:
        raise converter.layer.fail(f"{what} along axis {axis} (of a batch and {rank} more) is not imported",
                                   "cnncalc imports it along the channels or the spatial axes")
    return full - 1


def slice_(converter: _Converter) -> list[str]:
    """Slice (slice_layer.cpp): slice_point cuts the axis (default 1, or slice_dim); no points: equal parts."""
    source = converter.bottom()
    shape = converter.shape(source)
    params = Params(converter.layer, "slice_param", ("axis", "slice_dim", "slice_point"))
    axis = params.integer("axis", params.integer("slice_dim", 1), -5) if params.one("axis") is not None \
        else params.integer("slice_dim", 1)
    dim = _axis(converter, axis, len(shape), "Slice")
    tops = converter.layer.tops
    points = params.integers("slice_point")
    if points:
        if len(points) != len(tops) - 1:
            raise converter.layer.fail(f"{len(points)} slice_point values for {len(tops)} tops",
                                       "give one fewer than the tops")
        bounds = [0, *points, shape[dim]]
    else:
        if shape[dim] % len(tops):
            raise converter.layer.fail(f"Slice of {shape[dim]} into {len(tops)} equal parts",
                                       "give slice_point, or as many tops as divide the axis")
        width = shape[dim] // len(tops)
        bounds = [width * index for index in range(len(tops) + 1)]
    if any(end <= start for start, end in zip(bounds, bounds[1:])) or bounds[-2] >= shape[dim]:
        raise converter.layer.fail(f"slice_point {points} does not cut an axis of {shape[dim]} into non-empty parts")
    return [converter.add("slice", [source], {"dim": dim, "start": start, "end": end} if dim else
                          {"start": start, "end": end}, name=top)
            for top, start, end in zip(tops, bounds, bounds[1:])]


def crop(converter: _Converter) -> str:
    """Crop (crop_layer.cpp): bottom 0 cut to bottom 1's sizes from `axis` (default 2) on, at `offset`
    (one for every axis, or one per axis)."""
    source, reference = converter.bottom(0), converter.bottom(1)
    shape, wanted = converter.shape(source), converter.shape(reference)
    params = Params(converter.layer, "crop_param", ("axis", "offset"))
    first = _axis(converter, params.integer("axis", 2, -5), len(shape), "Crop")
    offsets = params.integers("offset")
    axes = list(range(first, len(shape)))
    if len(wanted) != len(shape) or offsets and len(offsets) not in (1, len(axes)):
        raise converter.layer.fail(f"Crop of {'x'.join(map(str, shape))} to {'x'.join(map(str, wanted))} with "
                                   f"offset {offsets}", "bottoms of the same rank; one offset, or one per axis")
    cuts = []
    for number, dim in enumerate(axes):
        offset = (offsets[number] if len(offsets) > 1 else offsets[0]) if offsets else 0
        if wanted[dim] + offset > shape[dim]:
            raise converter.layer.fail(f"Crop of axis {dim + 1}: offset {offset} + size {wanted[dim]} is past "
                                       f"its {shape[dim]}")
        if (offset, wanted[dim]) != (0, shape[dim]):
            cuts.append((dim, offset))
    out = source
    for number, (dim, offset) in enumerate(cuts):  # the last cut takes the layer's name
        out = converter.add("slice", [out], {"dim": dim, "start": offset, "end": offset + wanted[dim]},
                            name=None if number == len(cuts) - 1 else f"{converter.layer.name}/axis{dim + 1}")
    return out if out != source else converter.add("identity", [source])


def interp(converter: _Converter) -> str:
    """PSPNet's Interp (interp_layer.cpp), bilinear with corners aligned: zoom_factor z makes
    in + (in-1)(z-1), shrink_factor s (in-1)/s + 1, both shrink then zoom, or height and width."""
    source = converter.bottom()
    shape = converter.shape(source)
    params = Params(converter.layer, "interp_param", ("zoom_factor", "shrink_factor", "height", "width", "pad_beg",
                                                      "pad_end"))
    if params.integer("pad_beg", 0, -(2**31)) or params.integer("pad_end", 0, -(2**31)):
        raise converter.layer.fail("Interp with pad_beg or pad_end (cropping first) is not imported")
    if len(shape) != 3:
        raise converter.layer.fail(f"Interp of a {'x'.join(map(str, shape))} input", "it resizes [C, H, W]")
    zoom, shrink = params.one("zoom_factor"), params.one("shrink_factor")
    if zoom is None and shrink is None:
        if params.one("height") is None or params.one("width") is None:
            raise converter.layer.fail("Interp needs zoom_factor, shrink_factor, or height and width")
        size = [params.integer("height", None, 1), params.integer("width", None, 1)]
    else:
        size = list(shape[1:])
        if shrink is not None:
            factor = params.integer("shrink_factor", None, 1)
            size = [(side - 1) // factor + 1 for side in size]
        if zoom is not None:
            factor = params.integer("zoom_factor", None, 1)
            size = [side + (side - 1) * (factor - 1) for side in size]
    return converter.add("upsample", [source], {"size": size, "mode": "bilinear", "align_corners": True})


def permute(converter: _Converter) -> str:
    """SSD's Permute (permute_layer.cpp): `order` of the axes, the batch first; axes it leaves out follow."""
    source = converter.bottom()
    rank = len(converter.shape(source)) + 1
    params = Params(converter.layer, "permute_param", ("order",))
    order = params.integers("order")
    if len(set(order)) != len(order) or any(axis >= rank for axis in order):
        raise converter.layer.fail(f"permute_param.order {order} is not an order of {rank} axes")
    order += [axis for axis in range(rank) if axis not in order]
    if order[0] != 0:
        raise converter.layer.fail(f"Permute order {order} moves the batch axis", "cnncalc keeps the batch first")
    if order == sorted(order):
        return converter.add("identity", [source])
    return converter.add("permute", [source], {"dims": [axis - 1 for axis in order[1:]]})


def normalize(converter: _Converter) -> str:
    """SSD's Normalize (normalize_layer.cpp): x / ||x||_2 over the channels at each position, then times a
    learned scale per channel (channel_shared: one)."""
    source = converter.bottom()
    params = Params(converter.layer, "norm_param", ("across_spatial", "channel_shared", "scale_filler", "eps"))
    if params.flag("across_spatial", True):
        raise converter.layer.fail("Normalize across_spatial (one norm over C, H and W) is not imported",
                                   "SSD's files set across_spatial: false")
    name = converter.layer.name
    normalized = converter.add("normalize", [source], name=f"{name}/l2")
    if params.flag("channel_shared", True):
        weight = converter.add("parameter", [], {"shape": [1] * len(converter.shape(source))}, name=f"{name}/scale")
        return converter.add("mul", [normalized, weight])
    return converter.add("scale", [normalized])


def axpy(converter: _Converter) -> str:
    """SENet's Axpy (axpy_layer.cpp): bottoms a (N x C x 1 x 1), x, y; top = a * x + y."""
    if len(converter.layer.bottoms) != 3:
        raise converter.layer.fail(f"Axpy has {len(converter.layer.bottoms)} bottoms", "it takes a, x and y")
    scale, features, shortcut = (converter.bottom(index) for index in range(3))
    product = converter.add("mul", [features, scale], name=f"{converter.layer.name}/mul")
    return converter.add("add", [product, shortcut])


def scale_by(converter: _Converter) -> str:
    """Scale with a second bottom (scale_layer.cpp): the first times the second, whose axes match the
    first's from `axis` (default 1) on and broadcast over the rest (SE blocks: C against C x H x W)."""
    params = Params(converter.layer, "scale_param", ("axis", "num_axes", "filler", "bias_term", "bias_filler"))
    first, second = converter.bottom(0), converter.bottom(1)
    shape, factor = converter.shape(first), converter.shape(second)
    axis = params.integer("axis", 1, -5)
    start = axis + len(shape) + 1 if axis < 0 else axis
    # Axis 0 or 1: the second bottom's per-sample sizes are the first's leading ones (at axis 0 both
    # bottoms' batch axes also agree, as one batch has them).
    if start > 1 or tuple(shape[:len(factor)]) != tuple(factor):
        raise converter.layer.fail(f"Scale of {'x'.join(map(str, shape))} by a second bottom of "
                                   f"{'x'.join(map(str, factor))} (axis {axis})",
                                   "cnncalc imports a second bottom whose sizes are the first's leading ones")
    if params.flag("bias_term", False):
        raise converter.layer.fail("Scale by a second bottom with bias_term is not imported")
    if len(factor) < len(shape):
        second = converter.add("reshape", [second], {"shape": [*factor, *[1] * (len(shape) - len(factor))]},
                               name=f"{converter.layer.name}/expand")
    return converter.add("mul", [first, second])


def batch_norm_with_scale(converter: _Converter) -> str:
    """The `BN` layer of PVANet's and SegNet's forks: batch normalization with its own scale and shift."""
    source = converter.bottom()
    block = "bn_param"
    found = converter.layer.message.last(block)
    allowed = tuple(item.name for item in found.value.fields) if found and isinstance(found.value, Message) else ()
    Params(converter.layer, block, allowed)
    rank = len(converter.shape(source))
    kind = {1: "batchnorm1d", 2: "batchnorm1d", 3: "batchnorm2d", 4: "batchnorm3d"}.get(rank, "batchnorm")
    fields: dict[str, Any] = {}
    return converter.add(kind, [source], fields)


def scale(converter: _Converter) -> str:
    """Scale: learned per-channel (one bottom), one learned number (num_axes: 0), or by a second bottom."""
    if len(converter.layer.bottoms) == 2:
        return scale_by(converter)
    params = Params(converter.layer, "scale_param", ("axis", "num_axes", "filler", "bias_term", "bias_filler"))
    if params.integer("num_axes", 1, -1) != 0:
        return converter.scale()
    source, name = converter.bottom(), converter.layer.name
    ones = [1] * len(converter.shape(source))
    out = converter.add("mul", [source, converter.add("parameter", [], {"shape": ones}, name=f"{name}/scale")],
                        name=f"{name}/mul" if params.flag("bias_term", False) else None)
    if params.flag("bias_term", False):
        out = converter.add("add", [out, converter.add("parameter", [], {"shape": ones}, name=f"{name}/bias")])
    return out


FORK_CONVERTERS = {
    "Scale": scale,
    "Slice": slice_, "Crop": crop, "Interp": interp, "Permute": permute, "Normalize": normalize, "Axpy": axpy,
    "BN": batch_norm_with_scale,
}
CONVERTERS: dict[str, Callable[[_Converter], str | list[str]]] = {**BASIC_CONVERTERS, **FORK_CONVERTERS,
                                                                   **ARITHMETIC_CONVERTERS}
