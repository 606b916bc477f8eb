"""An Ultralytics model YAML read into a Model: its settings, the scale chosen as
Ultralytics chooses it, and its rows (`[from, repeats, module, args]`), each with
its place in the file so that every problem names line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Mark, SpecError
from ..yamlread import Map, Seq, position

# Ultralytics' own rule (tasks.guess_model_scale): the letter after the version number.
_SCALE_IN_NAME = re.compile(r"yolo(e-)?v?\d+([nslmx])")
# The activations an `activation:` line may name, as cnncalc layer types.
ACTIVATIONS = {"nn.SiLU()": "silu", "nn.ReLU()": "relu", "nn.ReLU6()": "relu6", "nn.Hardswish()": "hardswish",
               "nn.GELU()": "gelu", "nn.Mish()": "mish", "nn.Identity()": "identity", "nn.Sigmoid()": "sigmoid",
               "nn.Tanh()": "tanh"}
SETTABLE = ("scale", "nc")  # what --set may change in an Ultralytics file
MULTIPLE_LIMIT = 1000  # depth and width multiples: Ultralytics' own go up to 1.5; NaN and inf fail here too


@dataclass(frozen=True)
class Row:
    index: int
    sources: tuple[int, ...]  # absolute layer indices; -1 is the model's input
    repeats: int
    module: str
    args: tuple[Any, ...]
    mark: Mark


@dataclass(frozen=True)
class Model:
    name: str
    nc: int
    scale: str
    depth: float
    width: float
    max_channels: float
    activation: str
    kpt_shape: tuple[int, int]
    reg_max: int
    end2end: bool
    channels: int
    rows: tuple[Row, ...]


def is_ultralytics(root: Any) -> bool:
    """An Ultralytics model YAML: `backbone` and `head` lists, no cnncalc `layers`."""
    return isinstance(root, Map) and "backbone" in root and "head" in root and "layers" not in root


def scale_from_name(filename: str) -> str:
    found = _SCALE_IN_NAME.search(Path(filename).stem)
    return found.group(2) if found else ""


class Reader:
    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, problem: str, at: Any, hint: str | None = None, layer: tuple[str, str] | None = None) -> SpecError:
        line, column = position(at)
        return SpecError(problem, mark=Mark(self.filename, line, column), layer=layer, hint=hint)

    def number(self, root: Map, key: str, default: Any, kind: type | tuple[type, ...]) -> Any:
        value = root.get(key, default)
        if isinstance(value, bool) or not isinstance(value, kind):  # YAML's true is not a number
            raise self.fail(f"'{key}' must be {'a whole number' if kind is int else 'a number'}, not {value!r}",
                            root.value_marks.get(key, root.mark))
        return value

    def multiple(self, root: Map, key: str) -> float:
        value = self.number(root, key, 1.0, (int, float))
        if not 0 < value < MULTIPLE_LIMIT:
            raise self.fail(f"'{key}' must be a number above 0 and below {MULTIPLE_LIMIT:,}, not {value!r}",
                            root.value_marks.get(key, root.mark))
        return float(value)

    def model(self, root: Map, settings: dict[str, Any]) -> Model:
        nc = settings.get("nc", self.number(root, "nc", 80, int))
        if not isinstance(nc, int) or isinstance(nc, bool) or nc < 1:
            raise self.fail(f"nc {nc!r} is not a class count >= 1", root.value_marks.get("nc", root.mark))
        depth, width, max_channels, scale = self.scaling(root, settings)
        activation = root.get("activation", "nn.SiLU()")
        if isinstance(activation, str):
            activation = activation.removeprefix("torch.")
        if activation not in ACTIVATIONS:
            raise self.fail(f"activation {activation!r} is not one cnncalc maps", root.value_marks["activation"],
                            f"cnncalc maps {', '.join(ACTIVATIONS)}")
        kpt = root.get("kpt_shape", [17, 3])
        if not (isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(x, int) and x >= 1 for x in kpt)):
            raise self.fail(f"kpt_shape {kpt!r} is not [keypoints, dims]", root.value_marks.get("kpt_shape", root.mark),
                            "write kpt_shape: [17, 3]")
        rows = self.rows(root)
        return Model(Path(self.filename).stem, nc, scale, depth, width, max_channels, ACTIVATIONS[activation],
                     (kpt[0], kpt[1]), self.number(root, "reg_max", 16, int), bool(root.get("end2end", False)),
                     self.input_channels(root), rows)

    def input_channels(self, root: Map) -> int:
        """`ch` (older files) or `channels`: the image's channels, 3 when neither is given."""
        key = "ch" if "ch" in root else "channels"
        channels: int = self.number(root, key, 3, int)
        if channels < 1:
            raise self.fail(f"'{key}' must be at least 1, not {channels}", root.value_marks[key])
        return channels

    def scaling(self, root: Map, settings: dict[str, Any]) -> tuple[float, float, float, str]:
        """(depth, width, max_channels, scale): --set scale, the file name's letter, a `scale` key, the first."""
        scales = root.get("scales")
        if not scales:
            if "scale" in settings:
                raise self.fail(f"--set scale={settings['scale']}: this file has no 'scales'", root.mark)
            return (self.multiple(root, "depth_multiple"), self.multiple(root, "width_multiple"), float("inf"), "")
        if not isinstance(scales, Map):
            raise self.fail("'scales' must map a letter to [depth, width, max_channels]", root.value_marks["scales"])
        scale = settings.get("scale") or scale_from_name(self.filename) or root.get("scale") or next(iter(scales))
        if scale not in scales:
            raise self.fail(f"scale '{scale}' is not in this file's scales", root.value_marks["scales"],
                            f"scales: {', '.join(map(str, scales))}")
        value = scales[scale]
        if not (isinstance(value, list) and len(value) == 3
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < MULTIPLE_LIMIT
                        for x in value[:2])
                and isinstance(value[2], (int, float)) and not isinstance(value[2], bool) and value[2] > 0):
            raise self.fail(f"scale '{scale}' must be [depth, width, max_channels], not {value!r}",
                            scales.value_marks[scale])
        return float(value[0]), float(value[1]), value[2], str(scale)

    def rows(self, root: Map) -> tuple[Row, ...]:
        rows: list[Row] = []
        for part in ("backbone", "head"):
            section = root[part]
            if not isinstance(section, Seq):
                raise self.fail(f"'{part}' must be a list of [from, repeats, module, args]", root.value_marks[part])
            for item, at in zip(section, section.item_marks):
                rows.append(self.row(item, at, len(rows)))
        if not rows:
            raise self.fail("the model has no layers", root.mark, "list them under backbone: and head:")
        return tuple(rows)

    def row(self, item: Any, at: Any, index: int) -> Row:
        layer = (f"model.{index}", str(item[2]) if isinstance(item, list) and len(item) == 4 else "?")
        if not isinstance(item, Seq) or len(item) != 4:
            raise self.fail(f"layer {index} must be [from, repeats, module, args]", at, layer=layer)
        source, repeats, module, args = item
        marks = item.item_marks
        sources = source if isinstance(source, list) else [source]
        if not sources or not all(isinstance(x, int) and not isinstance(x, bool) for x in sources):
            raise self.fail(f"from {source!r} is not a layer index or a list of them", marks[0], layer=layer)
        absolute = tuple(x + index if x < 0 else x for x in sources)
        for given, number in zip(sources, absolute):
            if not (number < index and (number >= 0 or (given == -1 and index == 0))):
                raise self.fail(f"from {given} does not name an earlier layer of layer {index}", marks[0], layer=layer,
                                hint="-1 is the layer before; 0 the first layer")
        if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
            raise self.fail(f"repeats {repeats!r} is not a whole number >= 1", marks[1], layer=layer)
        if not isinstance(module, str):
            raise self.fail(f"module {module!r} is not a module name", marks[2], layer=layer)
        if not isinstance(args, list):
            raise self.fail(f"args {args!r} must be a list", marks[3], layer=layer)
        line, column = position(marks[2])
        return Row(index, absolute if isinstance(source, list) else absolute[:1], repeats, module, tuple(args),
                   Mark(self.filename, line, column))
