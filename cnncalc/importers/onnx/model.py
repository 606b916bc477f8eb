"""Reading the file: the model, its nodes' attributes, and the names shared by the converter's parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from ...errors import SpecError
from ...files import ONNX_LIMIT, read_bounded
from ..builder import Where

Shape = tuple[int, ...]
Pairs = list[tuple[int, int]]
STANDARD_DOMAINS = ("", "ai.onnx")
# protobuf's parser refuses messages nested deeper than this (upb's default), so a model with If / Loop
# subgraphs nested 1,000 deep is refused while reading; cnncalc itself never walks into subgraphs.
PROTOBUF_DEPTH = 100


@dataclass(frozen=True)
class NodeWhere(Where):
    """An ONNX node, for errors: `model.onnx: node '/layer1/Conv' (Conv): problem; hint`."""

    file: str = ""

    def fail(self, problem: str, hint: str | None = None) -> SpecError:
        name, op_type = self.layer or ("?", "?")
        return SpecError(f"{self.file}: node '{printable(name)}' ({printable(op_type)}): {printable(problem)}",
                         hint=printable(hint) if hint else None)


def printable(text: str) -> str:
    """`text` on one line: the file's names may hold newlines and control characters, and an error is one line."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in text)


@dataclass
class PadRecord:
    """A pad layer that the next convolution or pool may fold into its own padding."""

    tensor: str  # the ONNX tensor the Pad node makes
    source: str  # the spec name of what it pads
    pairs: Pairs
    value: float
    mode: str
    entry: dict[str, Any]


def load(path: Path) -> onnx.ModelProto:
    """The model, or a SpecError naming the file when it is missing, truncated or not ONNX.

    External weights are not loaded: only their shapes, which the file itself holds, are needed.
    """
    data = read_bounded(path, ONNX_LIMIT)
    hint = "give a .onnx file written by an exporter (torch.onnx.export, tf2onnx ...), complete"
    try:
        model = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf's DecodeError and friends: the bytes are not a ModelProto
        if "MaxDepth" in str(error):  # protobuf's own bound on nesting (upb: 100 messages)
            raise SpecError(f"{path}: subgraphs (If, Loop, Scan) nested deeper than protobuf reads "
                            f"({PROTOBUF_DEPTH} messages)", hint="cnncalc maps no subgraph operator") from None
        raise SpecError(f"{path}: not an ONNX model, or a truncated one ({first_line(error)})", hint=hint) from None
    if not model.ir_version or not model.HasField("graph") or not model.graph.node:
        raise SpecError(f"{path}: not an ONNX model, or a truncated one (no graph nodes)", hint=hint)
    bad = next((name for name in _names(model) if isinstance(name, bytes)), None)
    if bad is not None:  # protobuf hands a string field that is not UTF-8 over as bytes
        raise SpecError(f"{path}: the name {bad!r} is not UTF-8 text", hint=hint)
    return model


def _names(model: onnx.ModelProto) -> list[Any]:
    """Every text field cnncalc reads: names of the graph's values, nodes, attributes and opsets."""
    graph = model.graph
    names: list[Any] = [model.producer_name, model.producer_version, graph.name]
    names += [entry.domain for entry in model.opset_import] + [tensor.name for tensor in graph.initializer]
    for value in [*graph.input, *graph.output]:
        names += [value.name, *(dim.dim_param for dim in value.type.tensor_type.shape.dim)]
    for node in graph.node:
        names += [node.name, node.op_type, node.domain, *node.input, *node.output]
        names += [attribute.name for attribute in node.attribute]
    return names


def first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__

