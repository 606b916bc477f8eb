"""Models written for other tools, turned into cnncalc specs.

An importer reads one file format and returns a spec as a plain dict, which
`emit.spec_text` writes as readable YAML and `cnncalc.analyze` analyses directly:

    {"name": "yolov4-tiny",
     "description": "...",                                  # optional
     "inputs": {"data": {"shape": [3, 416, 416], "batch": 1}},
     "layers": [{"type": "conv2d", "name": "conv_0", "from": "data", "out_channels": 32, ...},
                {"#": "a comment written above the next layer", "type": "relu", ...}, ...],
     "outputs": ["yolo_30", "yolo_37"]}                     # optional: default the last layer

Every layer names its inputs in `from` (a name or a list of names); the writer drops
the ones a reader does not need. A key "#" is a comment, not a field.

Importers are looked up by file suffix in IMPORTERS and loaded when first used, so
that a missing optional package (onnx, torch) only matters for its own format.
Conversion problems are SpecErrors that name the file, the line (text formats), the
section, layer or node, and what is not supported; unsupported operators are listed
all at once, never counted as zero.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from ..errors import SpecError

TORCH_PREFIX = "torch:"


@dataclass(frozen=True)
class ImportOptions:
    """What the command line says about the model being imported.

    `inputs` maps an input's name to its per-sample shape ("" stands for the only
    input); `batch` replaces the file's batch (None: the file's, else 1). `phase` and
    `stages` choose a Caffe net's layers by their include/exclude rules (None: the
    file's `state`, else TEST).
    """

    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    batch: int | None = None
    phase: str | None = None
    stages: tuple[str, ...] = ()


Importer = Callable[[Path, ImportOptions], dict[str, Any]]

# (module in this package, format name, the optional package it needs, the extra that installs it)
_MODULES: dict[str, tuple[str, str, str | None]] = {
    ".cfg": ("darknet", "Darknet", None),
    ".prototxt": ("caffe", "Caffe", None),
    ".onnx": ("onnx", "ONNX", "onnx"),
}
_TORCH = ("torch", "PyTorch", "torch")
# Model YAMLs in Ultralytics' format; `analyze` tells them from specs by their keys (sources.py).
ULTRALYTICS_SUFFIXES = (".yaml", ".yml")


def _load(module: str, what: str, package: str | None) -> ModuleType:
    """The importer module, or a SpecError saying what to install."""
    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as error:
        if error.name == f"{__name__}.{module}":
            raise SpecError(f"this cnncalc cannot import {what} models") from None
        if package is not None and (error.name or "").split(".")[0] == package:
            raise SpecError(f"importing {what} models needs the {package} package",
                            hint=f"pip install 'cnncalc[{package}]'") from None
        raise


def _lazy(module: str, what: str, package: str | None) -> Importer:
    def convert(path: Path, options: ImportOptions) -> dict[str, Any]:
        spec: dict[str, Any] = _load(module, what, package).to_spec(path, options)
        return spec

    convert.__name__ = f"import_{module}"
    convert.__doc__ = f"Convert a {what} file: cnncalc.importers.{module}.to_spec, loaded when first used."
    return convert


IMPORTERS: dict[str, Importer] = {suffix: _lazy(*entry) for suffix, entry in _MODULES.items()}


def is_import_source(source: str | os.PathLike[str]) -> bool:
    """True for a file cnncalc imports (by suffix) or a torch:module:factory source."""
    if isinstance(source, str):
        if "\n" in source:  # spec text given directly
            return False
        if source.startswith(TORCH_PREFIX):
            return True
    return Path(source).suffix.lower() in IMPORTERS


def format_name(source: str | os.PathLike[str]) -> str:
    """Darknet, Caffe, ONNX or PyTorch."""
    if isinstance(source, str) and source.startswith(TORCH_PREFIX):
        return _TORCH[1]
    suffix = Path(source).suffix.lower()
    if suffix in ULTRALYTICS_SUFFIXES:
        return "Ultralytics"
    entry = _MODULES.get(suffix)
    return entry[1] if entry else "unknown"


def import_spec(source: str | Path, options: ImportOptions) -> dict[str, Any]:
    """The spec (a dict, see the module's docstring) of a model file or torch: source.

    Dispatched by suffix through IMPORTERS; `torch:package.module:factory` goes to
    cnncalc.importers.torch.to_spec, which receives the source text whole.
    """
    text = str(source)
    if text.startswith(TORCH_PREFIX):
        spec: dict[str, Any] = _load(*_TORCH).to_spec(text, options)
        return spec
    path = Path(source)
    if path.suffix.lower() in ULTRALYTICS_SUFFIXES:  # an Ultralytics model YAML: cnncalc.ultralytics reads it
        from ..ultralytics import import_file

        return import_file(path, dict(options.inputs), options.batch)
    importer = IMPORTERS.get(path.suffix.lower())
    if importer is None:
        raise SpecError(f"{path}: cnncalc does not import '{path.suffix}' files",
                        hint=f"it imports {', '.join(IMPORTERS)} files and {TORCH_PREFIX}package.module:factory")
    return importer(path, options)


def header_for(source: str | os.PathLike[str]) -> str:
    """The comment at the top of an imported spec: where it came from, and when."""
    from ..version import __version__

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Imported from {source} ({format_name(source)}) by cnncalc {__version__}, {when}.\n"
            "Edit freely: this file is the model now (see `cnncalc explain TYPE` for each layer type).")


def read_text(path: Path) -> str:
    """A model file's text, or a SpecError naming the file (and the first bad byte)."""
    from ..files import read_bounded
    from ..yamlread import decode

    return decode(read_bounded(path), str(path))


def imported_label(source: str | os.PathLike[str]) -> str:
    """The file name errors in an imported spec carry: the source's, marked as converted."""
    return f"{source} (imported)"


__all__ = ["IMPORTERS", "ImportOptions", "format_name", "header_for", "import_spec", "is_import_source",
           "imported_label", "read_text"]
