"""Ultralytics model YAMLs (`yolov8.yaml`, `yolo11n.yaml`, ...) read natively.

Such a file is recognised by its keys (`backbone` and `head` lists of
`[from, repeats, module, args]`, no `layers`) and converted into a cnncalc spec: every
Ultralytics layer becomes one instance, named `model.N`, of a block from
`blocks.yaml` or `attention.yaml` (shipped with cnncalc, in cnncalc's own spec format) or of a block
written for its repeat count (generated.py). The spec is then walked like any other,
so `--depth 1` shows one row per Ultralytics layer. Neither torch nor ultralytics is
imported.
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import Mark, SpecError
from ..files import read_bounded
from ..yamlread import Map, decode, load
from .model import SETTABLE, Model, Reader, is_ultralytics, scale_from_name
from .modules import CONVERTERS, NOT_YET, REPEAT_INSIDE, REPEAT_LIMIT
from .rows import Context
from .plain import PLAIN

READERS = {**CONVERTERS, **PLAIN}

DEFAULT_INPUT = (640, 640)  # Ultralytics' default image size
BLOCK_FILES = ("blocks.yaml", "attention.yaml")  # the shipped blocks: convolutional, attention


@functools.cache
def shipped_blocks() -> dict[str, Any]:
    """The blocks of blocks.yaml and attention.yaml, as data."""
    blocks: dict[str, Any] = {}
    for name in BLOCK_FILES:
        text = Path(__file__).with_name(name).read_text(encoding="utf-8")  # cnncalc's own files
        blocks.update(load(text, f"cnncalc/ultralytics/{name}")["blocks"])
    return blocks


def to_spec(root: Map, filename: str, settings: dict[str, Any],
            inputs: dict[str, tuple[int, ...]] | None = None) -> dict[str, Any]:
    """The cnncalc spec (a dict) of an Ultralytics model file read with marks; `settings`
    are --set values (scale, nc), `inputs` an --input shape ("" or "input": the image)."""
    for key in settings:
        if key not in SETTABLE:
            raise SpecError(f"--set {key}: an Ultralytics model file takes --set {' or '.join(SETTABLE)}",
                            mark=Mark(filename, *_position(root)))
    model = Reader(filename).model(root, settings)
    check_modules(model)
    layers, blocks = convert_rows(model)
    used = used_blocks(layers, {**shipped_blocks(), **blocks})
    shape = (inputs or {}).get("", (inputs or {}).get("input", (model.channels, *DEFAULT_INPUT)))
    return {"cnncalc": 1, "name": scaled_name(model.name, model.scale), "params": {"default_act": model.activation},
            "input": {"shape": list(shape), "batch": 1}, "blocks": used, "layers": layers}


def import_file(path: Path, inputs: dict[str, tuple[int, ...]], batch: int | None) -> dict[str, Any]:
    """`cnncalc import model.yaml`: the spec of an Ultralytics model file (its default scale)."""
    filename = str(path)
    root = load(decode(read_bounded(path), filename), filename)
    if not is_ultralytics(root):
        raise SpecError(f"{filename}: not an Ultralytics model file (no 'backbone' and 'head' lists)",
                        hint="a cnncalc spec needs no import: `cnncalc analyze` reads it")
    spec = to_spec(root, filename, {}, inputs)
    if batch is not None:
        spec["input"]["batch"] = batch
    return spec


def used_blocks(layers: list[Any], blocks: dict[str, Any]) -> dict[str, Any]:
    """The blocks `layers` use, directly or through other blocks, in the order of `blocks`."""
    wanted: set[str] = set()
    pending = list(layers)
    while pending:
        entry = pending.pop()
        kind = entry.get("type")
        pending.extend(entry.get("layers", ()))  # an inline chain
        # A type chosen by an expression ("${'RepVGGDW' if lk else 'DWConv'}") may use each block it names.
        kinds = re.findall(r"'(\w+)'", kind) if isinstance(kind, str) and "${" in kind else [kind]
        for kind in kinds:
            if kind in blocks and kind not in wanted:
                wanted.add(kind)
                pending.extend(blocks[kind]["layers"])
    return {name: block for name, block in blocks.items() if name in wanted}


def scaled_name(stem: str, scale: str) -> str:
    """yolov8 at scale n is yolov8n, as Ultralytics names it; another file's name gets -n."""
    if not scale or scale_from_name(stem):
        return stem
    named = re.sub(r"^(yolo(e-)?v?\d+)", rf"\g<1>{scale}", stem)
    return named if named != stem else f"{stem}-{scale}"


def _position(root: Map) -> tuple[int, int]:
    from ..yamlread import position

    return position(root.mark)


def check_modules(model: Model) -> None:
    """One error, at the first unknown module's row, listing every module cnncalc cannot read."""
    unknown = [row for row in model.rows if row.module not in READERS]
    if not unknown:
        return
    listed = ", ".join(f"{row.module} (model.{row.index}, line {row.mark.line})" for row in unknown)
    waiting = sorted({row.module for row in unknown if row.module in NOT_YET})
    guesses = [f"{row.module}: did you mean {close[0]}? " for row in unknown if row.module not in NOT_YET
               for close in [difflib.get_close_matches(row.module, list(READERS), n=1)] if close]
    hint = "".join(f"{module}: not read yet, {NOT_YET[module]}; " for module in waiting) + "".join(guesses) + \
        f"docs/ultralytics.md lists the {len(READERS)} modules cnncalc reads"
    first = unknown[0]
    what = "a module" if len(unknown) == 1 else "modules"
    raise SpecError(f"{len(unknown)} {'layer uses' if len(unknown) == 1 else 'layers use'} {what} cnncalc "
                    f"cannot read: {listed}", mark=first.mark,
                    layer=(f"model.{first.index}", first.module), hint=hint)


def convert_rows(model: Model) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    channels: list[int] = []
    layers: list[dict[str, Any]] = []
    blocks: dict[str, Any] = {}
    for row in model.rows:
        inputs = tuple(model.channels if source < 0 else channels[source] for source in row.sources)
        # A repeat past any float's range is too many before it is scaled: times the depth it
        # would be an OverflowError, not a number.
        scaled = row.repeats * model.depth if row.repeats < 10**15 else math.inf
        repeats = (max(round(scaled), 1) if math.isfinite(scaled) else REPEAT_LIMIT + 1) if row.repeats > 1 else 1
        if repeats > REPEAT_LIMIT:
            shown = repeats if math.isfinite(scaled) else row.repeats
            raise SpecError(f"repeats {shown} (after the depth multiple) is more than {REPEAT_LIMIT:,}",
                            mark=row.mark, layer=(f"model.{row.index}", row.module),
                            hint="real models repeat a module a few times; check the repeats and depth")
        context = Context(model, replace(row, args=tuple(resolve(value, model) for value in row.args)), inputs, repeats)
        try:
            built = READERS[row.module](context)
        except SpecError as error:
            raise SpecError(error.problem, mark=row.mark, layer=(f"model.{row.index}", row.module),
                            hint=error.hint) from None
        except (IndexError, TypeError, ValueError, ArithmeticError) as error:  # OverflowError: 10**400 channels
            raise SpecError(f"{row.module} cannot take args {list(row.args)!r} ({error})", mark=row.mark,
                            layer=(f"model.{row.index}", row.module),
                            hint="see the module's arguments in Ultralytics' documentation") from None
        entry = {**built.entry, "name": f"model.{row.index}"}
        sources = ["input" if source < 0 else f"model.{source}" for source in row.sources]
        entry["from"] = sources if len(sources) > 1 else sources[0]
        if repeats > 1 and row.module not in REPEAT_INSIDE:
            entry["repeat"] = repeats
        layers.append(entry)
        blocks.update(built.blocks)
        channels.append(built.channels)
    return layers, blocks


def resolve(value: Any, model: Model) -> Any:
    """A string argument as parse_model reads it: a model setting's name, or a Python literal."""
    if not isinstance(value, str):
        return value
    named = {"nc": model.nc, "kpt_shape": list(model.kpt_shape), "reg_max": model.reg_max,
             "None": None, "True": True, "False": False}
    if value in named:
        return named[value]
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def relocate(error: SpecError, root: Map, filename: str) -> SpecError:
    """An error the walk found in layer model.N (or inside it), moved to row N of the model file."""
    name = error.layer[0] if error.layer else ""
    found = re.match(r"model\.(\d+)(\.|$)", name)
    if found is None:
        return error
    rows = Reader(filename).rows(root)
    index = int(found.group(1))
    if index < len(rows):
        error.mark = rows[index].mark
    return error


def is_ultralytics_text(text: str, filename: str) -> Map | None:
    """The file read with marks, if it is an Ultralytics model YAML."""
    root = load(text, filename)
    return root if is_ultralytics(root) else None


__all__ = ["DEFAULT_INPUT", "READERS", "import_file", "is_ultralytics", "is_ultralytics_text", "shipped_blocks", "to_spec"]
