"""One layer on its own: `cnncalc layer conv2d --input 16x50x100 --out-channels 33 ...`."""

from __future__ import annotations

import difflib
from typing import Any

from .errors import FieldError, ShapeError, SpecError
from .graph import Graph, LayerRecord, Tensor
from .layers import REGISTRY, build
from .report import Report, summarize
from .layers.base import product
from .field import input_field, receptive_field
from .limits import COUNT_LIMIT, LIMIT_HINT, over_limit



def analyze_layer(kind: str, inputs: list[tuple[int, ...]], values: dict[str, Any], *, batch: int = 1,
                  dtype: str = "float32", convention: str = "2mac", optimizer: str = "adam") -> Report:
    """A report for a single layer of type `kind` on per-sample `inputs` (several for merges)."""
    if kind not in REGISTRY:
        close = difflib.get_close_matches(kind, list(REGISTRY), n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise SpecError(f"unknown layer type '{kind}'", hint=f"{guess}`cnncalc explain` lists every type")
    layer_id = (kind, kind)
    try:
        layer = build(kind, values)
    except FieldError as error:
        option = f"--{error.field.replace('_', '-')}: " if error.field else ""
        raise SpecError(f"{option}{error.problem}", layer=layer_id, hint=error.hint) from None
    tensors = [Tensor(shape, f"input{index or ''}", input_field(shape)) for index, shape in enumerate(inputs)]
    if layer.arity == "one" and len(tensors) != 1:
        raise SpecError(f"{kind} takes one --input; got {len(tensors)}", layer=layer_id)
    if any(product(shape) > COUNT_LIMIT for shape in inputs):
        raise SpecError("--input has more than 10**30 elements", layer=layer_id, hint=LIMIT_HINT)
    try:
        cost = layer.infer(tuple(tensor.shape for tensor in tensors))
    except ShapeError as error:
        raise SpecError(error.problem, layer=layer_id, hint=error.hint) from None
    problem = over_limit(cost)
    if problem:
        raise SpecError(problem, layer=layer_id, hint=LIMIT_HINT)
    field = receptive_field(cost.field, tensors, layer.arity)
    record = LayerRecord(kind, kind, tuple(tensor.producer for tensor in tensors), layer, cost, field, (), (), None)
    graph = Graph(kind, "<command line>", {tensor.producer: tensor.shape for tensor in tensors}, batch, dtype,
                  (record,), {kind: Tensor(cost.shape, kind, field)}, None)
    return summarize(graph, convention, optimizer)
