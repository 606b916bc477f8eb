"""A Darknet cfg as a cnncalc spec: the cfg read and checked, its input declared, its sections converted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import Mark, SpecError
from .. import ImportOptions, read_text
from ..builder import SpecBuilder
from .check import _check
from .converter import _Converter
from .extra import CONVERTERS
from .sections import Reader, read_cfg, repeated_note


def _input(net: Reader, options: ImportOptions) -> tuple[tuple[int, ...], int, str | None]:
    """The input's per-sample shape, the batch, and a note on Darknet's training batch."""
    unknown = [name for name in options.inputs if name not in ("", "input")]
    if unknown:
        raise SpecError(f"--input {unknown[0]}=...: a Darknet network has one input, 'input'",
                        hint="give --input CxHxW")
    given = options.inputs.get("") or options.inputs.get("input")
    if given is not None:
        shape = tuple(given)
    else:
        keys = ("channels", "height", "width")
        if all(net.has(key) for key in keys):
            shape = tuple(net.integer(key, None, 1) for key in keys)
        elif net.has("inputs"):
            shape = (net.integer("inputs", None, 1),)
        else:
            raise net.fail(None, "[net] gives no input size", "set width=, height= and channels=, or give --input "
                                                              "CxHxW")
    note = None
    if options.batch is None and net.has("batch"):
        note = (f"Darknet's [net] batch={net.integer('batch', 1)} (subdivisions={net.integer('subdivisions', 1)}) "
                "is the training batch; the spec counts one image, as Darknet's BFLOPs do "
                "(analyze --batch N for more).")
    return shape, options.batch or 1, note


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec of a Darknet cfg file (see the module's docstring for what each section becomes)."""
    filename = str(path)
    sections = read_cfg(read_text(path), filename)
    if sections[0].kind != "net":
        first = sections[0]
        raise SpecError(f"the first section is [{first.written}], not [net]", mark=Mark(filename, first.line,
                                                                                         first.column),
                        hint="a Darknet cfg starts with [net] (width, height, channels), then the layers")
    _check(sections, filename)
    shape, batch, note = _input(Reader(filename, sections[0]), options)
    builder = SpecBuilder()
    converter = _Converter(filename, builder, builder.add_input("input", shape, batch))
    for section in sections[1:]:
        converter.convert(section, CONVERTERS)
    if not converter.outputs:
        raise SpecError("the cfg has [net] but no layers", mark=Mark(filename, sections[0].line, 1))
    notes = [note, repeated_note(sections[0]), *converter.notes, darknet_total(converter.bflops)]
    return builder.spec(path.stem, converter.heads or None, " ".join(item for item in notes if item))


def darknet_total(bflops: float) -> str:
    """The line that lets a user check the import against Darknet's own print."""
    return (f"Darknet's own count for this input: Total BFLOPS {bflops:.3f}, as AlexeyAB's darknet prints it: "
            "2 x MACs of convolutions (xnor ones at 1/32), size*size per max-pool output, one add per shortcut "
            "input; nothing for [connected] and the other layers.")
