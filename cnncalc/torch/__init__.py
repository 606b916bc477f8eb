"""A spec as a PyTorch module, built or written out as Python source.

    >>> from cnncalc.torch import build_module, module_source
    >>> model = build_module("specs/resnet18.yaml")          # a torch.nn.Module
    >>> text = module_source("specs/resnet18.yaml")          # the same module as Python source

Needs PyTorch (`pip install 'cnncalc[torch]'`); `import cnncalc` never imports it.
Every layer type maps to torch.nn modules with the spec's fields; a feature PyTorch
cannot reproduce exactly is a SpecError naming the layer (see the README).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import SpecError

try:
    import torch  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != "torch":
        raise
    raise SpecError("PyTorch is not installed; pip install 'cnncalc[torch]'") from None

from ..graph import Graph
from .modules import RESERVED, Network
from .plan import Plan, plan
from .source import render

__all__ = ["Network", "build_module", "module_source"]

Source = str | os.PathLike[str] | Graph


def build_module(source: Source, *, overrides: Mapping[str, Any] | None = None,
                 inputs: Mapping[str, tuple[int, ...]] | None = None, batch: int | None = None) -> Network:
    """The spec at `source` (a path, YAML text holding a newline, or a parsed Graph) as a module.

    `overrides`, `inputs` and `batch` are `cnncalc.analyze`'s (`--set`, `--input`, `--batch`;
    the batch only sets `input_shapes`). Parameters are float32, created on the current
    default device (`with torch.device("meta"): ...` builds a module that allocates
    nothing). Raises SpecError on a bad spec, or on a layer PyTorch has no exact
    equivalent for.
    """
    return Network(_plan(source, overrides, inputs, batch))


def module_source(source: Source, *, overrides: Mapping[str, Any] | None = None,
                  inputs: Mapping[str, tuple[int, ...]] | None = None, batch: int | None = None,
                  class_name: str | None = None) -> str:
    """The module `build_module` builds, as the text of a Python file that needs only PyTorch.

    Its class (named after the spec unless `class_name` is given) has the same modules
    under the same names, so `load_state_dict` moves weights between the two.
    """
    return render(_plan(source, overrides, inputs, batch), class_name)


def _plan(source: Source, overrides: Mapping[str, Any] | None, inputs: Mapping[str, tuple[int, ...]] | None,
          batch: int | None) -> Plan:
    if isinstance(source, Graph):
        if overrides or inputs or batch:
            raise SpecError("overrides, inputs and batch apply to a spec, not to a parsed Graph",
                            hint="pass the spec's path or text with them")
        return plan(source, RESERVED)
    from ..sources import parse
    from ..spec import Overrides

    return plan(parse(source, Overrides(dict(overrides or {}), dict(inputs or {}), batch)), RESERVED)
