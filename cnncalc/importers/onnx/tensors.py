"""TensorProtos read safely: their shape always from the file, their numbers only when the file holds them.

A tensor marked as external data (data_location EXTERNAL, or any `external_data` entry) names
a file that onnx would open relative to the current directory (or the model's), following
symlinks: a hostile model could so have cnncalc print a CI checkout's .git/config. cnncalc
never opens it: such a tensor's dims are used, its numbers never (`Unread`), and onnx's
`numpy_helper.to_array` is only called on a tensor checked here first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .model import Shape, first_line

# Elements of one tensor, by its dims: 2**48 (~2.8e14) is thousands of times the largest weight of any
# published model (an LLM's embedding is ~1e9) and keeps every count cnncalc makes exact in int64/float64.
TENSOR_ELEMENT_LIMIT = 2**48
# Elements of one constant cnncalc reads or computes with NumPy: exporters' shape arithmetic (Shape ->
# Gather -> Concat -> Reshape, Range for positions, ConstantOfShape for masks) works on vectors of a few
# to a few thousand numbers; 10**6 (8 MB as int64) is far above that, and a larger constant is kept as
# its shape only (`Unread`), which is all that counting needs.
FOLD_ELEMENT_LIMIT = 10**6

EXTERNAL_HINT = "cnncalc never opens the files a model names; keep the constants it needs in the model file"
BUDGET_HINT = ("cnncalc folds the small constant programs that compute shapes; "
               f"a constant of more than {FOLD_ELEMENT_LIMIT:,} elements is kept as its shape only")
_PACKED_BITS = {TensorProto.INT4: 4, TensorProto.UINT4: 4, TensorProto.FLOAT4E2M1: 4,
                TensorProto.INT2: 2, TensorProto.UINT2: 2,
                getattr(TensorProto, "FLOAT6E2M3", -1): 6, getattr(TensorProto, "FLOAT6E3M2", -1): 6}


@dataclass(frozen=True)
class Unread:
    """A constant whose shape cnncalc knows and whose numbers it does not have: stored outside the file,
    or larger than FOLD_ELEMENT_LIMIT. `origin` is the node (name, op type) that would have computed it."""

    shape: Shape
    problem: str
    hint: str
    origin: tuple[str, str] | None = None


class TensorError(Exception):
    """A tensor that the file describes wrongly; the converter adds the node."""

    def __init__(self, problem: str, hint: str = "the file is damaged, or was not written by an exporter") -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


def is_external(tensor: TensorProto) -> bool:
    return tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data) > 0


def _type_name(data_type: int) -> str:
    try:
        return str(TensorProto.DataType.Name(data_type))
    except ValueError:
        return str(data_type)


def _dtype(tensor: TensorProto, label: str) -> np.dtype[Any]:
    if tensor.data_type == TensorProto.UNDEFINED:
        raise TensorError(f"{label} has the element type UNDEFINED (0)")
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    except (KeyError, ValueError, TypeError):
        raise TensorError(f"{label} has an unknown element type ({tensor.data_type})") from None


def _stored(tensor: TensorProto, dtype: np.dtype[Any], count: int) -> tuple[int, int]:
    """(entries the file holds, entries `count` elements need), in raw bytes or in the typed field."""
    bits = _PACKED_BITS.get(tensor.data_type, dtype.itemsize * 8)
    if tensor.HasField("raw_data") and tensor.data_type != TensorProto.STRING:
        return len(tensor.raw_data), -(-count * bits // 8)
    field = helper.tensor_dtype_to_field(tensor.data_type)
    held = len(getattr(tensor, field))
    if tensor.data_type in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
        return held, 2 * count
    if bits in (2, 4):  # onnx packs 2- and 4-bit numbers into one byte per int32_data entry
        return held, -(-count * bits // 8)
    return held, count


def tensor_shape(tensor: TensorProto, label: str) -> Shape:
    """The tensor's dims, checked: known element type, no negative size, a bounded count, and (stored in
    the file) as many numbers as the dims say."""
    dims = tuple(int(size) for size in tensor.dims)
    dtype = _dtype(tensor, label)
    if any(size < 0 for size in dims):
        raise TensorError(f"{label} has a negative size in its dims {list(dims)}")
    count = math.prod(dims)
    if count > TENSOR_ELEMENT_LIMIT:
        raise TensorError(f"{label} has dims {list(dims)}, {count:.3g} elements, more than the "
                          f"{TENSOR_ELEMENT_LIMIT:.3g} cnncalc takes in one tensor")
    if tensor.HasField("segment"):
        raise TensorError(f"{label} is stored in segments", "cnncalc reads tensors stored whole")
    if not is_external(tensor):
        held, needed = _stored(tensor, dtype, count)
        if held != needed:
            raise TensorError(f"{label} has dims {list(dims)} ({count:,} elements of "
                              f"{_type_name(tensor.data_type)}) but holds {held:,} "
                              f"{'bytes' if tensor.HasField('raw_data') else 'entries'} for {needed:,}")
    return dims


def tensor_numbers(tensor: TensorProto, label: str) -> Any:
    """The tensor as a NumPy array, or `Unread` when its numbers are outside the file or too many.
    Checked before onnx converts it, so that nothing is ever read from another file."""
    shape = tensor_shape(tensor, label)
    if is_external(tensor):
        return Unread(shape, f"the numbers of {label} are stored outside the file", EXTERNAL_HINT)
    count = math.prod(shape)
    if count > FOLD_ELEMENT_LIMIT:
        return Unread(shape, f"{label} has {count:,} elements, more than the {FOLD_ELEMENT_LIMIT:,} cnncalc reads",
                      BUDGET_HINT)
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:  # what to_array raises
        raise TensorError(f"{label} cannot be read ({first_line(error)})") from None



def sparse_constant(sparse: onnx.SparseTensorProto, name: str) -> Unread:
    """A sparse initializer as its shape: enough for a weight; its numbers (in `values` and `indices`,
    possibly external) are never read."""
    dims = tuple(int(size) for size in sparse.dims)
    if any(size < 0 for size in dims):
        raise TensorError(f"the sparse constant '{name}' has a negative size in its dims {list(dims)}")
    if math.prod(dims) > TENSOR_ELEMENT_LIMIT:
        raise TensorError(f"the sparse constant '{name}' has dims {list(dims)}, {math.prod(dims):.3g} elements, "
                          f"more than the {TENSOR_ELEMENT_LIMIT:.3g} cnncalc takes in one tensor")
    return Unread(dims, f"the constant '{name}' is a sparse tensor, whose numbers cnncalc does not read",
                  "cnncalc counts a sparse weight from its dims; give other constants densely")
