"""The net's inputs: top-level input/input_shape/input_dim, and Input, DummyData, MemoryData layers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import Mark, SpecError
from ..builder import Where
from ..prototxt import Field, Message, describe
from .layer import CaffeLayer, Params, is_input, word


def _sizes(values: list[Any]) -> list[int] | None:
    """Whole numbers >= 1, or None."""
    if values and all(isinstance(value, int) and not isinstance(value, bool) and value >= 1 for value in values):
        return [int(value) for value in values]
    return None


def _shape_of(message: Message, layer: CaffeLayer | None, filename: str, at: Field) -> list[int]:
    dims = [item.value for item in message.all("dim")]
    sizes = _sizes(dims)
    if sizes is None:
        problem = f"input shape {_listed(dims)} is not a list of sizes >= 1"
        if layer is not None:
            raise layer.fail(problem, "shape { dim: 1 dim: 3 dim: 224 dim: 224 }", at)
        raise SpecError(problem, mark=Mark(filename, at.line, at.column), hint="input_shape { dim: 1 dim: 3 ... }")
    return sizes


def _listed(values: list[Any]) -> str:
    """Values as an error quotes them: the first few, blocks by their line."""
    shown = ", ".join(describe(value) for value in values[:8])
    return f"[{shown}{', ...' if len(values) > 8 else ''}]"


@dataclass
class _Input:
    name: str
    dims: list[int] | None  # batch first; None: given by the dataset
    where: Where
    layer: str | None  # the data layer it comes from


def _inputs(net: Message, layers: list[CaffeLayer], filename: str) -> list[_Input]:
    """Every input the net declares: top-level input/input_shape/input_dim, then input layers."""
    result = []
    names = [field for field in net.all("input")]
    shapes = [field for field in net.all("input_shape")]
    flat = [field for field in net.all("input_dim")]
    if names and not shapes and not flat:  # no dims: Caffe's UpgradeNetInput drops the legacy inputs
        names = []
    if names and not shapes and len(flat) != 4 * len(names):
        at = flat[0] if flat else names[0]
        raise SpecError(f"{len(names)} input(s) need {4 * len(names)} input_dim values; the file gives {len(flat)}",
                        mark=Mark(filename, at.line, at.column), hint="or give input_shape { dim: ... } per input")
    if shapes and len(shapes) != len(names):
        raise SpecError(f"{len(names)} input(s) but {len(shapes)} input_shape blocks",
                        mark=Mark(filename, shapes[0].line, shapes[0].column), hint="one input_shape per input")
    for index, field in enumerate(names):
        name = word(field, filename, "input", "data")
        where = Where(Mark(filename, field.line, field.column), (name, "input"))
        if shapes:
            shape_field = shapes[index]
            message = shape_field.value if isinstance(shape_field.value, Message) else Message(0, 0)
            dims = _shape_of(message, None, filename, shape_field)
        else:
            values = [item.value for item in flat[4 * index: 4 * index + 4]]
            sizes = _sizes(values)
            if sizes is None:
                raise SpecError(f"input_dim values {_listed(values)} are not sizes >= 1",
                                mark=Mark(filename, flat[4 * index].line, flat[4 * index].column))
            dims = sizes
        result.append(_Input(name, dims, where, None))
    for layer in layers:
        if not is_input(layer):
            continue
        if not layer.tops:
            raise layer.fail(f"the {layer.type} layer has no top", "name the blob it makes: top: \"data\"")
        if layer.type == "Input":
            params = Params(layer, "input_param", ("shape",))
            blocks = params.message.all("shape")
            if len(blocks) not in (1, len(layer.tops)):
                raise layer.fail(f"{len(layer.tops)} tops but {len(blocks)} shapes", "one shape, or one per top")
            for index, top in enumerate(layer.tops):
                block = blocks[min(index, len(blocks) - 1)]
                message = block.value if isinstance(block.value, Message) else Message(0, 0)
                result.append(_Input(top, _shape_of(message, layer, filename, block), layer.where, layer.name))
        elif layer.type == "DummyData":
            params = Params(layer, "dummy_data_param", ("shape", "data_filler", "num", "channels", "height", "width"))
            found = params.one("shape")
            if found is None or not isinstance(found.value, Message):
                raise layer.fail("DummyData without dummy_data_param { shape { dim: ... } } is not imported")
            result.append(_Input(layer.tops[0], _shape_of(found.value, layer, filename, found), layer.where,
                                 layer.name))
        elif layer.type == "MemoryData":
            params = Params(layer, "memory_data_param", ("batch_size", "channels", "height", "width"))
            dims = [params.integer(key, None, 1) for key in ("batch_size", "channels", "height", "width")]
            result.append(_Input(layer.tops[0], dims, layer.where, layer.name))
        else:
            result.append(_Input(layer.tops[0], None, layer.where, layer.name))
    return result
