"""A spec file's top level: format version, name, params, inputs, dtype, blocks,
layers, outputs and budgets, with the command line's overrides applied, walked
into a Graph."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import expr, interpolate
from .errors import Mark, SpecError
from .graph import Graph, Tensor
from .layers import LATER_TYPES, REGISTRY, Shape
from .layers.base import product
from .layers.fields import describe
from .field import input_field
from .files import read_bounded
from .limits import COUNT_LIMIT
from .scope import Context, Names, expression_problem
from .walk import Walker
from .yamlread import Map, Seq, decode, load, position

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
TOP_LEVEL_KEYS = ("cnncalc", "name", "description", "params", "input", "inputs", "dtype", "blocks", "layers",
                  "outputs", "budgets")
BLOCK_KEYS = ("params", "inputs", "layers", "description")
INPUT_KEYS = ("shape", "batch")


@dataclass(frozen=True)
class Overrides:
    """What the command line changes: `--set`, `--input`, `--batch`, `--dtype`."""

    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Shape] = field(default_factory=dict)  # "" for the only input
    batch: int | None = None
    dtype: str | None = None


def read_source(source: str | os.PathLike[str]) -> tuple[str, str]:
    """(text, file name) from a path, or from spec text given directly (it holds a newline)."""
    if isinstance(source, str) and "\n" in source:
        return source, "<spec>"
    path = Path(source)
    return decode(read_bounded(path, hint="give the path of a YAML spec"), str(path)), str(path)


def parse_text(text: str, filename: str, overrides: Overrides | None = None) -> Graph:
    """Validate and walk spec text; `filename` is what errors name."""
    root = load(text, filename)
    return _Reader(filename, overrides or Overrides()).graph(root)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _set_text(value: Any) -> str:
    """A --set value as it was typed (YAML 1.2 read it: true, [1, 2], text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Reader:
    def __init__(self, filename: str, overrides: Overrides) -> None:
        self.filename = filename
        self.overrides = overrides

    def fail(self, problem: str, raw: Any, hint: str | None = None) -> SpecError:
        line, column = position(raw)
        return SpecError(problem, mark=Mark(self.filename, line, column), hint=hint)

    def graph(self, root: Any) -> Graph:
        if not isinstance(root, Map):
            raise self.fail("a spec is a mapping with 'input' and 'layers'", getattr(root, "mark", None),
                            "see the spec format: name, input: {shape: [3, 224, 224]}, layers: [...]")
        self.check_keys(root, TOP_LEVEL_KEYS, "the spec")
        version = root.get("cnncalc", 1)
        if version != 1:
            raise self.fail(f"spec format {version!r} is not known", root.value_marks["cnncalc"],
                            "this cnncalc reads format 1")
        if "layers" not in root:
            raise self.fail("the spec has no 'layers'", root.mark, "add layers: [{type: conv2d, ...}, ...]")
        params = self.params(root)
        blocks = self.blocks(root)
        batch, inputs = self.inputs(root, params)
        dtype = self.dtype(root)
        walker = Walker(self.filename, blocks, params)
        names = Names()
        for input_name, shape in inputs.items():
            names.local[input_name] = Tensor(shape, input_name, input_field(shape))
        if len(inputs) == 1:
            names.bound["input"] = next(iter(names.local.values()))
        first = names.bound.get("input")
        context = Context(params, "", (), (), ())
        last = walker.chain(root["layers"], root.value_marks["layers"], context, names, first)
        outputs = self.outputs(root, walker, names, last)
        name = root.get("name", Path(self.filename).stem)
        return Graph(str(name), self.filename, inputs, batch, dtype, tuple(walker.records), outputs,
                     root.get("budgets"))

    def check_keys(self, mapping: Map, allowed: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                raise self.fail(f"unknown key '{key}' in {what}", mapping.key_marks[key],
                                f"{guess}keys: {', '.join(allowed)}")

    def params(self, root: Map) -> dict[str, Any]:
        raw = root.get("params", Map(None))
        if not isinstance(raw, Map):
            raise self.fail("params must be a mapping of names to values", root.value_marks["params"],
                            "write params: {width: 1.0}")
        for key in self.overrides.params:
            if key not in raw:
                close = difflib.get_close_matches(key, [str(name) for name in raw], n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                hint = f"{guess}parameters: {', '.join(map(str, raw))}" if raw else f"declare it first: params: {{{key}: ...}}"
                # Point at the params that --set could have changed: that is where a fix goes.
                raise self.fail(f"--set {key}: the spec has no parameter '{key}'",
                                root.value_marks.get("params", root.mark), hint)
        scope: dict[str, Any] = {}
        for key, value in raw.items():
            if key in self.overrides.params:
                scope[key] = self.overrides.params[key]
                if _is_number(value) and not _is_number(scope[key]):
                    # --set width=abc would fail far away, as "'*' is not defined for int and str".
                    raise self.fail(f"--set {key}={_set_text(scope[key])}: the value came from --set and is "
                                    f"{describe(scope[key])}, but the spec's {key} is a number ({value!r})",
                                    raw.value_marks[key], f"give a number: --set {key}={value!r}")
                continue
            try:
                scope[key] = interpolate.resolve(value, scope)
            except expr.ExpressionError as error:
                problem, hint = expression_problem(error)
                raise self.fail(f"parameter '{key}': {problem}", raw.value_marks[key], hint) from None
        return scope

    def blocks(self, root: Map) -> dict[str, Map]:
        raw = root.get("blocks", Map(None))
        if not isinstance(raw, Map):
            raise self.fail("blocks must be a mapping of block names to blocks", root.value_marks["blocks"])
        for name, block in raw.items():
            at = raw.key_marks[name]
            if not isinstance(name, str) or not name.isidentifier():
                raise self.fail(f"block name {name!r} is not a plain name", at, "use letters, digits and _")
            if (name in REGISTRY and name not in LATER_TYPES) or name == "chain":  # chain: the walk's inline chains
                raise self.fail(f"block '{name}' has the name of a built-in layer type", at, "rename the block")
            if not isinstance(block, Map) or "layers" not in block:
                raise self.fail(f"block '{name}' must be a mapping with 'layers'", raw.value_marks[name],
                                "write name: {params: {...}, layers: [...]}")
            self.check_keys(block, BLOCK_KEYS, f"block '{name}'")
            if "params" in block and not isinstance(block["params"], Map):
                raise self.fail(f"params of block '{name}' must be a mapping", block.value_marks["params"])
            inputs = block.get("inputs")
            if inputs is not None and (not isinstance(inputs, Seq) or not inputs
                                       or not all(isinstance(item, str) for item in inputs)):
                raise self.fail(f"inputs of block '{name}' must be a list of names", block.value_marks["inputs"],
                                "write inputs: [x, skip]")
        return dict(raw)

    def inputs(self, root: Map, params: dict[str, Any]) -> tuple[int, dict[str, Shape]]:
        if ("input" in root) == ("inputs" in root):
            raise self.fail("the spec needs exactly one of 'input' and 'inputs'", root.mark,
                            "write input: {shape: [3, 224, 224]}")
        if "input" in root:
            entries = {"input": (root["input"], root.value_marks["input"])}
        else:
            raw = root["inputs"]
            if not isinstance(raw, Map) or not raw:
                raise self.fail("inputs must map names to {shape: [...]}", root.value_marks["inputs"])
            entries = {str(name): (value, raw.value_marks[name]) for name, value in raw.items()}
        batches, shapes = set(), {}
        for name, (value, at) in entries.items():
            if not isinstance(value, Map) or "shape" not in value:
                raise self.fail(f"input '{name}' needs a shape", at, "write {shape: [3, 224, 224]}")
            self.check_keys(value, INPUT_KEYS, f"input '{name}'")
            shapes[name] = self.shape(value, params, name)
            batches.add(self.batch(value.get("batch", 1), value.value_marks.get("batch", at), params))
        shapes = self.override_inputs(shapes)
        if self.overrides.batch is not None:
            if not 1 <= self.overrides.batch <= COUNT_LIMIT:
                raise SpecError(f"--batch {self.overrides.batch}: the batch takes a whole number from 1 to 10**30")
            batches = {self.overrides.batch}
        if len(batches) > 1:
            raise self.fail(f"inputs give different batch sizes {sorted(batches)}", root.mark,
                            "every input shares one batch")
        return batches.pop(), shapes

    def shape(self, value: Map, params: dict[str, Any], name: str) -> Shape:
        raw, at = value["shape"], value.value_marks["shape"]
        try:
            sizes = [interpolate.resolve(item, params) for item in raw] if isinstance(raw, list) else interpolate.resolve(raw, params)
        except expr.ExpressionError as error:
            problem, hint = expression_problem(error)
            raise self.fail(f"input '{name}' shape: {problem}", at, hint) from None
        if (not isinstance(sizes, list) or not 1 <= len(sizes) <= 4
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)):
            raise self.fail(f"input '{name}' shape {sizes!r} is not a list of 1 to 4 sizes >= 1", at,
                            "one sample, channels first: [C, L], [C, H, W], [C, D, H, W] or [F]")
        if product(tuple(sizes)) > COUNT_LIMIT:
            raise self.fail(f"input '{name}' shape has more than 10**30 elements", at, "give the size of one sample")
        return tuple(sizes)

    def batch(self, raw: Any, at: Any, params: dict[str, Any]) -> int:
        try:
            value = interpolate.resolve(raw, params)
        except expr.ExpressionError as error:
            problem, hint = expression_problem(error)
            raise self.fail(f"batch: {problem}", at, hint) from None
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= COUNT_LIMIT:
            raise self.fail(f"batch is {describe(value)}", at, "batch takes a whole number from 1 to 10**30")
        return value

    def override_inputs(self, shapes: dict[str, Shape]) -> dict[str, Shape]:
        result = dict(shapes)
        for name, shape in self.overrides.inputs.items():
            if name == "":
                if len(shapes) != 1:
                    raise SpecError(f"--input {'x'.join(map(str, shape))}: the spec has inputs "
                                    f"{', '.join(shapes)}", hint="name one: --input image=3x512x512")
                name = next(iter(shapes))
            if name not in shapes:
                raise SpecError(f"--input {name}=...: the spec has no input '{name}'",
                                hint=f"inputs: {', '.join(shapes)}")
            if product(shape) > COUNT_LIMIT:
                raise SpecError(f"--input {name}=...: more than 10**30 elements", hint="give the size of one sample")
            declared = shapes[name]
            if len(shape) == len(declared) + 1 and shape[1] == declared[0] != shape[0]:
                # 1x3x384x640 for a [3, H, W] input: the batch written into the shape.
                sample = "x".join(map(str, shape[1:]))
                raise SpecError(f"--input {'x'.join(map(str, shape))}: --input takes one sample's shape, and the "
                                f"spec's input '{name}' has {len(declared)} axes ({list(declared)}); the batch "
                                f"is --batch", hint=f"write --input {sample} --batch {shape[0]}")
            result[name] = shape
        return result

    def dtype(self, root: Map) -> str:
        dtype = self.overrides.dtype or root.get("dtype", "float32")
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:  # a list or mapping cannot be looked up
            at = root.value_marks.get("dtype") if not self.overrides.dtype else None
            raise self.fail(f"dtype {describe(dtype)} is not known", at, f"dtypes: {', '.join(DTYPE_BYTES)}")
        return str(dtype)

    def outputs(self, root: Map, walker: Walker, names: Names, last: Tensor) -> dict[str, Tensor]:
        if "outputs" not in root:
            return {walker.last_top_level: last}
        raw = root["outputs"]
        if not isinstance(raw, Seq) or not raw or not all(isinstance(item, str) for item in raw):
            raise self.fail("outputs must be a list of layer names", root.value_marks["outputs"],
                            "write outputs: [head13, head26]")
        result = {}
        for item, at in zip(raw, raw.item_marks):
            found = names.find(item) or walker.everything.get(item)
            if found is None:
                close = difflib.get_close_matches(item, list(walker.everything), n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                raise self.fail(f"output '{item}' names no layer", at, f"{guess}name a layer of the spec")
            result[item] = found
        return result
