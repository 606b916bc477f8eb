"""Constant folding for the ONNX importer: the small integer programs exporters write to
compute shapes (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), and arithmetic on
weights, evaluated with NumPy so that the operators that use them see plain numbers.

Each function takes the node's input arrays (None for an omitted optional input) and
its attributes, and returns its output arrays. Only operators listed in FOLDERS are
evaluated, and only when every input is a constant; on a tensor computed from the
network's input, the same operators are errors (cnncalc has no layer for them).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

Array = Any  # numpy.ndarray; NumPy's stubs make the folders' arithmetic noisy to type
Folder = Callable[[list[Array | None], dict[str, Any], int], list[Array]]


class FoldError(Exception):
    """A constant computation these folders cannot do (the converter adds the node)."""


def _axes(inputs: list[Array | None], attrs: dict[str, Any], index: int) -> list[int] | None:
    """`axes`: an attribute before opset 13 (18 for reductions), an input after."""
    if "axes" in attrs:
        return [int(axis) for axis in attrs["axes"]]
    if len(inputs) > index and inputs[index] is not None:
        return [int(axis) for axis in np.asarray(inputs[index]).reshape(-1)]
    return None


def _unsqueeze(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    axes = _axes(inputs, attrs, 1) or []
    rank = data.ndim + len(axes)
    for axis in sorted(axis % rank for axis in axes):
        data = np.expand_dims(data, axis)
    return [data]


def _squeeze(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    axes = _axes(inputs, attrs, 1)
    if axes is None:
        return [np.squeeze(data)]
    return [np.squeeze(data, axis=tuple(axis % data.ndim for axis in axes))]


def _slice(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    if opset < 10:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts = [int(v) for v in np.asarray(inputs[1]).reshape(-1)]
        ends = [int(v) for v in np.asarray(inputs[2]).reshape(-1)]
        axes = _axes(inputs, {}, 3) or list(range(len(starts)))
        steps = ([int(v) for v in np.asarray(inputs[4]).reshape(-1)]
                 if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts))
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[axis % data.ndim] = slice(start, end, step)
    return [data[tuple(index)]]


def _reshape(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    shape = [int(v) for v in np.asarray(inputs[1]).reshape(-1)]
    if not attrs.get("allowzero", 0):
        shape = [data.shape[i] if size == 0 else size for i, size in enumerate(shape)]
    return [data.reshape(shape)]


def _divide(a: Array, b: Array) -> Array:
    a, b = np.asarray(a), np.asarray(b)
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return np.trunc(a / b).astype(np.result_type(a, b))  # ONNX's integer Div truncates
    return a / b


def _cast(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    from onnx import helper

    return [np.asarray(inputs[0]).astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))]


def _cast_like(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    return [np.asarray(inputs[0]).astype(np.asarray(inputs[1]).dtype)]


def _constant_of_shape(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    # `value` is already an array: the converter checks and reads it (never from another file)
    fill = np.asarray(attrs["value"]).reshape(-1)[0] if "value" in attrs else np.float32(0)
    return [np.full([int(v) for v in np.asarray(inputs[0]).reshape(-1)], fill)]


def _binary(operation: Callable[[Array, Array], Array]) -> Folder:
    def fold(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
        return [np.asarray(operation(np.asarray(inputs[0]), np.asarray(inputs[1])))]

    return fold


def _unary(operation: Callable[[Array], Array]) -> Folder:
    def fold(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
        return [np.asarray(operation(np.asarray(inputs[0])))]

    return fold


def _gather(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    axis = int(attrs.get("axis", 0)) % max(data.ndim, 1)
    indices = np.asarray(inputs[1]).astype(np.int64)
    return [np.take(data, np.where(indices < 0, indices + data.shape[axis], indices), axis=axis)]


def _concat(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    return [np.concatenate([np.asarray(item) for item in inputs if item is not None], axis=int(attrs["axis"]))]


def _transpose(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    perm = attrs.get("perm")
    return [np.transpose(np.asarray(inputs[0]), None if perm is None else [int(p) for p in perm])]


def _expand(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    shape = tuple(int(v) for v in np.asarray(inputs[1]).reshape(-1))
    return [np.broadcast_to(data, np.broadcast_shapes(data.shape, shape)).copy()]


def _range(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    start, limit, delta = (np.asarray(item) for item in inputs[:3])
    values = np.arange(start.item(), limit.item(), delta.item())
    return [values.astype(np.result_type(start, limit, delta))]


def _flatten(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    axis = int(attrs.get("axis", 1)) % (data.ndim + 1)
    return [data.reshape(int(np.prod(data.shape[:axis])), -1)]


def _reduce(operation: Callable[..., Array]) -> Folder:
    def fold(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
        data = np.asarray(inputs[0])
        axes = _axes(inputs, attrs, 1)
        keep = bool(attrs.get("keepdims", 1))
        return [np.asarray(operation(data, axis=None if not axes else tuple(axes), keepdims=keep))]

    return fold


def _where(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    return [np.where(*(np.asarray(item) for item in inputs[:3]))]


def _tile(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data, repeats = np.asarray(inputs[0]), [int(v) for v in np.asarray(inputs[1]).reshape(-1)]
    if data.size == 0 or 0 in repeats:  # np.tile would repeat the other axes first: 2**31 x 0 allocates 2**31
        return [np.zeros([size * repeat for size, repeat in zip(data.shape, repeats)], data.dtype)]
    return [np.tile(data, repeats)]


def _scatter_nd(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    """data with the slices at `indices` replaced by `updates` (Swin's shifted-window mask, built in forward)."""
    data = np.array(inputs[0])
    indices = np.asarray(inputs[1]).astype(np.int64)
    depth = indices.shape[-1]
    updates = np.asarray(inputs[2]).reshape(-1, *data.shape[depth:])
    for position, update in zip(indices.reshape(-1, depth), updates):
        data[tuple(position)] = update
    return [data]


def _clip(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    data = np.asarray(inputs[0])
    low = attrs.get("min") if opset < 11 else (inputs[1] if len(inputs) > 1 else None)
    high = attrs.get("max") if opset < 11 else (inputs[2] if len(inputs) > 2 else None)
    return [np.clip(data, low, high).astype(data.dtype)]


def _cumsum(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    """Running sums along an axis (sine position embeddings built from a mask in forward)."""
    data = np.asarray(inputs[0])
    axis = int(np.asarray(inputs[1]).reshape(-1)[0])
    return [np.cumsum(data, axis=axis).astype(data.dtype)]


def _identity(inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    return [np.asarray(inputs[0])]


# Shape and Size are special: their input may be a computed tensor whose shape is known.
FOLDERS: dict[str, Folder] = {
    "Identity": _identity, "Cast": _cast, "CastLike": _cast_like, "Gather": _gather, "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat, "Slice": _slice, "Reshape": _reshape, "ConstantOfShape": _constant_of_shape,
    "Transpose": _transpose, "Expand": _expand, "Range": _range, "Flatten": _flatten, "Where": _where,
    "Tile": _tile, "ScatterND": _scatter_nd,
    "Add": _binary(np.add), "Sub": _binary(np.subtract), "Mul": _binary(np.multiply), "Div": _binary(_divide),
    "Pow": _binary(np.power), "Min": _binary(np.minimum), "Max": _binary(np.maximum),
    "Equal": _binary(np.equal), "Less": _binary(np.less), "Greater": _binary(np.greater),
    "Mod": _binary(np.fmod),
    "Clip": _clip, "Exp": _unary(np.exp), "Log": _unary(np.log), "Sin": _unary(np.sin), "Cos": _unary(np.cos),
    "CumSum": _cumsum,
    "Sigmoid": _unary(lambda value: 1 / (1 + np.exp(-value))),
    "Neg": _unary(np.negative), "Sqrt": _unary(np.sqrt), "Floor": _unary(np.floor), "Ceil": _unary(np.ceil),
    "Abs": _unary(np.abs), "Not": _unary(np.logical_not), "Reciprocal": _unary(np.reciprocal),
    "ReduceProd": _reduce(np.prod), "ReduceSum": _reduce(np.sum), "ReduceMax": _reduce(np.max),
    "ReduceMin": _reduce(np.min), "ReduceMean": _reduce(np.mean),
}


def fold(op_type: str, inputs: list[Array | None], attrs: dict[str, Any], opset: int) -> list[Array]:
    """The outputs of a constant node; FoldError when NumPy refuses (bad shapes, overflow...)."""
    try:
        with np.errstate(all="ignore"):
            return FOLDERS[op_type](inputs, attrs, opset)
    except (ValueError, TypeError, IndexError, KeyError, OverflowError, ZeroDivisionError) as error:
        raise FoldError(str(error) or type(error).__name__) from None
