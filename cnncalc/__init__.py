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

if TYPE_CHECKING:
    from .report import Report

__version__ = "0.1.0"
__all__ = ["SpecError", "__version__", "analyze"]


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
    """Analyze a spec (a path, or YAML text holding a newline).

    `overrides` sets global params (`--set`), `inputs` replaces input shapes (per
    sample; the key "" stands for the only input), `batch` and `dtype` replace the
    spec's. Raises SpecError, naming file, line, column and layer, on a bad spec.
    """
    from .report import summarize
    from .spec import Overrides, parse

    settings = Overrides(dict(overrides or {}), dict(inputs or {}), batch, dtype)
    return summarize(parse(source, settings), convention, optimizer)
