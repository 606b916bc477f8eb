"""What a source is, and who reads it.

A source is a YAML spec (a path, or spec text holding a newline), a model file cnncalc
imports by its suffix (Darknet .cfg, Caffe .prototxt, ONNX .onnx) or
`torch:package.module:factory`. An Ultralytics model YAML (`backbone` and `head`
lists) is recognised by its keys and converted by cnncalc.ultralytics. This module sits above both readers, the spec reader
(spec.py) and the importers, so that neither imports the other: an imported model
becomes spec text, which the spec reader walks like any other.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from .errors import SpecError
from .graph import Graph
from .importers import TORCH_PREFIX, ImportOptions, header_for, import_spec, imported_label, is_import_source
from .spec import Overrides, parse_text, read_source


def parse(source: str | os.PathLike[str], overrides: Overrides | None = None) -> Graph:
    """Read, validate and walk a source; every problem is a SpecError with its location."""
    if not isinstance(source, str) and os.fspath(source).startswith(TORCH_PREFIX):
        source = os.fspath(source)  # the command line hands a Path: `analyze torch:pkg.module:factory`
    if is_import_source(source):
        return parse_imported(source, overrides or Overrides())
    text, filename = read_source(source)
    if "backbone" in text and "head" in text:  # cheap test first: most specs never load twice
        from .ultralytics import is_ultralytics_text

        root = is_ultralytics_text(text, filename)
        if root is not None:
            return parse_ultralytics(root, filename, overrides or Overrides())
    return parse_text(text, filename, overrides)


def parse_ultralytics(root: Any, filename: str, overrides: Overrides) -> Graph:
    """An Ultralytics model file: converted (its --set values chose the scale and nc), then walked."""
    from .importers.emit import spec_text
    from .ultralytics import relocate, to_spec

    spec = to_spec(root, filename, dict(overrides.params))
    label = imported_label(filename)
    try:
        # The same text as `cnncalc import` writes, so that line numbers agree; --input and
        # --batch apply to it as to any spec.
        graph = parse_text(spec_text(spec, header_for(filename)), label, replace(overrides, params={}))
    except SpecError as error:
        if error.mark is not None and error.mark.file == label:
            error.hint = "; ".join(filter(None, [error.hint, f"`cnncalc import {filename}` prints the converted spec"]))
        raise relocate(error, root, filename) from None
    return replace(graph, source=filename)


def parse_imported(source: str | os.PathLike[str], overrides: Overrides) -> Graph:
    """Convert a model file, then walk the spec text it becomes.

    The inputs and batch of `overrides` go to the importer (an ONNX file may leave a
    size open); the spec is then read with the rest of `overrides`. A problem the
    importer did not catch names the source file marked "(imported)", with the line
    and column of the converted spec that `cnncalc import` prints.
    """
    from .importers.emit import spec_text

    spec = import_spec(source if isinstance(source, str) else os.fspath(source),
                       ImportOptions(dict(overrides.inputs), overrides.batch))
    label = imported_label(source)
    try:
        # The importer applied the input shapes under the source's names (the spec calls an
        # only input `input`), so they are not applied again.
        graph = parse_text(spec_text(spec, header_for(source)), label, replace(overrides, inputs={}))
    except SpecError as error:
        if error.mark is not None and error.mark.file == label:
            error.hint = "; ".join(filter(None, [error.hint, f"`cnncalc import {source}` prints the converted spec"]))
        raise
    return replace(graph, source=str(source))
