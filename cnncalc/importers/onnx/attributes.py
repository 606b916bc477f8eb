"""A node's form, checked: its attributes, each of the type the operator's definition gives it (one it
needs but the node lacks is a located error, never a KeyError), and the inputs it must have."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import onnx
from onnx import AttributeProto, helper

from .model import NodeWhere

INT, INTS, FLOAT, FLOATS, STRING, TENSOR = (AttributeProto.INT, AttributeProto.INTS, AttributeProto.FLOAT,
                                            AttributeProto.FLOATS, AttributeProto.STRING, AttributeProto.TENSOR)
# The attributes cnncalc reads, by name, with the type the operators' definitions give them; any other
# attribute is never read (nor converted).
KINDS: dict[str, int] = {
    **dict.fromkeys(("axis", "group", "ceil_mode", "count_include_pad", "keepdims", "allowzero", "transA",
                     "transB", "blocksize", "num_groups", "size", "to", "start", "end", "num_outputs",
                     "value_int"), INT),
    **dict.fromkeys(("axes", "kernel_shape", "strides", "dilations", "pads", "output_padding", "output_shape",
                     "perm", "split", "starts", "ends", "value_ints"), INTS),
    **dict.fromkeys(("alpha", "beta", "bias", "min", "max", "value_float"), FLOAT),
    **dict.fromkeys(("scales", "value_floats"), FLOATS),
    **dict.fromkeys(("auto_pad", "mode", "approximate", "keep_aspect_ratio_policy", "equation"), STRING),
    "value": TENSOR,
}
KINDS_BY_OPERATOR = {("Pad", "value"): FLOAT}  # Pad before opset 11
ACCEPTED: dict[int, tuple[int, ...]] = {FLOAT: (FLOAT, INT), FLOATS: (FLOATS, INTS)}  # an integer stands for a float


def kind_name(kind: int) -> str:
    try:
        return str(AttributeProto.AttributeType.Name(kind))
    except ValueError:
        return str(kind)


class Attributes(dict[str, Any]):
    """Attribute name -> value (strings decoded); reading a missing one raises a SpecError naming the node."""

    def __init__(self, values: dict[str, Any], where: NodeWhere) -> None:
        super().__init__(values)
        self.where = where

    def __missing__(self, key: str) -> Any:
        raise self.where.fail(f"the attribute '{key}' is missing", "the operator's definition requires it here")


def read_attributes(node: onnx.NodeProto, where: NodeWhere) -> Attributes:
    result = {}
    for attribute in node.attribute:
        expected = KINDS_BY_OPERATOR.get((node.op_type, attribute.name), KINDS.get(attribute.name))
        if expected is None:
            continue
        if attribute.type not in ACCEPTED.get(expected, (expected,)):
            raise where.fail(f"the attribute '{attribute.name}' is {kind_name(attribute.type)}; cnncalc reads "
                             f"{kind_name(expected)} here", "the operator's definition gives each attribute's type")
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [item.decode("utf-8", "replace") for item in value]
        result[attribute.name] = value
    return Attributes(result, where)


# Inputs each operator must have (the operator's definitions); 1 for any other, 0 for Constant.
MIN_INPUTS = {**dict.fromkeys(("Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Min",
                               "Max", "Equal", "Less", "Greater", "Mod", "PRelu", "LayerNormalization", "Gather",
                               "Expand", "Tile"), 2),
              **dict.fromkeys(("InstanceNormalization", "GroupNormalization", "Range", "Where"), 3),
              "BatchNormalization": 5, "Constant": 0}
# Operators that took attributes before the given opset and inputs from it on: (opset, inputs from then on).
MIN_INPUTS_SINCE = {"Reshape": (5, 2), "Pad": (11, 2), "Slice": (10, 3), "Upsample": (9, 2)}


def missing_inputs(node: onnx.NodeProto, opset: int, where: Callable[[], NodeWhere]) -> None:
    """An error (at `where()`, made only then) when the node lacks an input its operator requires."""
    since, count = MIN_INPUTS_SINCE.get(node.op_type, (0, MIN_INPUTS.get(node.op_type, 1)))
    needed = count if opset >= since else 1
    inputs = node.input
    for position in range(needed):
        if position >= len(inputs) or not inputs[position]:
            raise where().fail(f"input {position} is missing; {node.op_type} takes at least {needed}",
                               "the operator's definition lists its inputs")
