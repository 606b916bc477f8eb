"""cnncalc: shapes, parameters, MACs, FLOPs, memory and receptive fields of
convolutional networks written as YAML specs, without a framework or a GPU.

    >>> import cnncalc
    >>> report = cnncalc.analyze("specs/resnet18.yaml")
    >>> report.totals.params
    11689512
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import SpecError
from .version import __version__

if TYPE_CHECKING:
    from .report import Report

__all__ = ["SpecError", "__version__", "analyze", "from_torch"]


def analyze(
    source: str | os.PathLike[str],
    *,
    overrides: Mapping[str, Any] | None = None,
    inputs: Mapping[str, tuple[int, ...]] | None = None,
    batch: int | None = None,
    dtype: str | None = None,
    convention: str = "2mac",
    optimizer: str = "adam",
) -> Report:
    """Analyze a spec (a path, or YAML text holding a newline); a Darknet .cfg, Caffe
    .prototxt or ONNX .onnx file is converted first (see cnncalc.importers).

    `overrides` sets global params (`--set`), `inputs` replaces input shapes (per
    sample; the key "" stands for the only input), `batch` and `dtype` replace the
    spec's. Raises SpecError, naming file, line, column and layer, on a bad spec.
    """
    from .report import summarize
    from .sources import parse
    from .spec import Overrides

    settings = Overrides(dict(overrides or {}), dict(inputs or {}), batch, dtype)
    return summarize(parse(source, settings), convention, optimizer)


def from_torch(module: Any, input_shape: Any = None, *, batch: int = 1, name: str | None = None) -> dict[str, Any]:
    """The spec, as a dict, of a PyTorch module (`torch.nn.Module`) on inputs of `input_shape`.

    `input_shape` is one sample's shape, channels first (`(3, 224, 224)`), or a mapping
    of forward's input names to shapes (a module built by cnncalc.torch knows its own).
    The module is traced with torch.fx (or run on fake tensors with hooks), never on real
    data; `cnncalc.importers.emit.spec_text` writes the dict as YAML for `analyze`.
    Needs PyTorch; `import cnncalc` does not import it.
    """
    try:
        from .importers.torch import from_torch as convert
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] != "torch":
            raise
        raise SpecError("PyTorch is not installed; pip install 'cnncalc[torch]'") from None
    return convert(module, input_shape, batch=batch, name=name)
