"""Import a factory's module, record it and convert each call: the entry points of the package."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ...errors import SpecError
from .converter import Shape, Unsupported, _all_refs, describe
from .functions import FUNCTIONS, FunctionConverter
from .leaves import HELPERS, MODULES, is_leaf
from .trace import INPUT, Call, Ref, TraceFailed, input_names, record

if TYPE_CHECKING:
    from .. import ImportOptions

PREFIX = "torch:"


def to_spec(source: str, options: ImportOptions) -> dict[str, Any]:
    """The spec of the module `torch:package.module:factory` returns (the factory is called with no arguments)."""
    module, name = load_factory(source)
    return convert(module, dict(options.inputs), options.batch, name, source)


def from_torch(module: nn.Module, input_shape: Any = None, *, batch: int = 1,
               name: str | None = None) -> dict[str, Any]:
    """The spec (a dict, see cnncalc.importers) of a PyTorch module, for `cnncalc.analyze`'s reader.

    `input_shape` is one sample's shape, channels first (`(3, 224, 224)`), or a mapping of
    forward's input names to shapes; a module built by cnncalc.torch knows its own.
    """
    if input_shape is None:
        inputs: dict[str, Shape] = {}
    elif isinstance(input_shape, Mapping):
        inputs = {str(key): tuple(int(size) for size in value) for key, value in input_shape.items()}
    else:
        inputs = {"": tuple(int(size) for size in input_shape)}
    label = name or str(getattr(module, "spec_name", type(module).__name__))
    return convert(module, inputs, batch, label, label)


def load_factory(source: str) -> tuple[nn.Module, str]:
    """Import `package.module`, call `factory()` (or `factory(name=literal, ...)`); the current
    directory supplies only a module that is installed nowhere else."""
    from ...factory_call import split_call

    text = source[len(PREFIX):] if source.startswith(PREFIX) else source
    module_name, _, call = text.partition(":")
    attribute, arguments = split_call(call, source)  # factory(num_classes=10): literals, never evaluated
    if not module_name or not attribute:
        raise SpecError(f"{source}: expected torch:package.module:factory",
                        hint="e.g. torch:torchvision.models:resnet18 or torch:mymodels:build")
    with _current_directory_last():
        try:
            found: Any = importlib.import_module(module_name)
        except ImportError as error:
            raise SpecError(f"{source}: cannot import {module_name}: {error}",
                            hint="run from the directory that holds it, or install its package") from None
        for part in attribute.split("."):
            if not hasattr(found, part):
                raise SpecError(f"{source}: {module_name} has no '{attribute}'", hint="name a function or class in it")
            found = getattr(found, part)
        if not callable(found):
            raise SpecError(f"{source}: '{attribute}' is not callable", hint="name a function returning a module")
        try:
            module = found(**arguments)
        except Exception as error:
            raise SpecError(f"{source}: {attribute}() raised {type(error).__name__}: {error}",
                            hint="the factory is called with the keyword arguments given, or none") from None
    if not isinstance(module, nn.Module):
        raise SpecError(f"{source}: {attribute}() returned {type(module).__name__}, not a torch.nn.Module")
    return module, attribute.split(".")[-1]


@contextmanager
def _current_directory_last() -> Iterator[None]:
    """sys.path with the current directory moved to its end, for the import and the factory call.

    A checkout that holds a folder `torchvision/` must not replace the installed torchvision
    (its `__init__.py` would run): installed packages come first, the current directory last.
    """
    here = os.getcwd()
    saved = list(sys.path)
    sys.path[:] = [entry for entry in saved if os.path.abspath(entry or os.curdir) != here] + [here]
    try:
        yield
    finally:
        sys.path[:] = saved


def convert(module: nn.Module, inputs: dict[str, Shape], batch: int | None, name: str, label: str) -> dict[str, Any]:
    names = input_names(module)
    shapes = _input_shapes(module, names, inputs, label)
    known = getattr(module, "input_shapes", None)  # a cnncalc.torch Network keeps its spec's batch
    known_batch = next(iter(known.values()))[0] if isinstance(known, Mapping) and known else 1
    spec_batch = batch or known_batch
    try:
        calls, outputs, recorder = record(module, shapes, spec_batch, is_leaf)
    except TraceFailed as error:
        raise SpecError(f"{label}: running the module on inputs "
                        f"{', '.join('x'.join(map(str, shape)) for shape in shapes)} failed: {error}",
                        hint="give the input shape it takes: --input CxHxW") from None
    converter = _Converter(label, spec_batch, calls)
    converter.run()
    result = converter.spec(name, outputs, recorder)
    return result


def _input_shapes(module: nn.Module, names: list[str], inputs: dict[str, Shape], label: str) -> list[Shape]:
    known = getattr(module, "input_shapes", None)  # a cnncalc.torch Network: batch first
    defaults: dict[str, Shape] = {}
    if isinstance(known, Mapping):
        defaults = {str(key): tuple(value)[1:] for key, value in known.items()}
    for key in inputs:
        if key and key not in names:
            raise SpecError(f"{label}: --input {key}=...: forward takes {', '.join(names)}",
                            hint="name one of forward's inputs")
    if "" in inputs and len(names) > 1:
        raise SpecError(f"{label}: forward takes {', '.join(names)}", hint="name the one --input sets: NAME=3x224x224")
    shapes = []
    for position, input_name in enumerate(names):
        shape = inputs.get(input_name) or (inputs.get("") if len(names) == 1 else None) or defaults.get(input_name)
        if shape is None:
            raise SpecError(f"{label}: the shape of input '{input_name}' is not known",
                            hint=f"give one sample's shape: --input {input_name}=3x224x224 "
                                 "(from Python: cnncalc.from_torch(module, (3, 224, 224)))")
        if not 1 <= len(shape) <= 4:
            raise SpecError(f"{label}: input '{input_name}' {list(shape)} has {len(shape)} axes per sample",
                            hint="cnncalc takes 1 to 4: [F], [C, L], [C, H, W] or [C, D, H, W]")
        shapes.append(tuple(shape))
    return shapes


class _Poisoned(Exception):
    """A call reading the result of a call that could not be converted (already reported)."""


POISON = object()


class _Converter(FunctionConverter):
    # -- running ----------------------------------------------------------------------

    def run(self) -> None:
        problems: list[str] = []
        for index, call in enumerate(self.calls):
            self.call = call
            if call.target == INPUT:
                self.values[index] = self.builder.add_input(call.name, tuple(call.result.shape[1:]), self.batch)
                continue
            try:
                value = self.convert(call)
            except _Poisoned:
                if self.handler(call) is None:
                    problems.append(f"'{call.name}' ({describe(call.target)})")
                value = POISON
            except Unsupported as error:
                problems.append(f"'{call.name}' ({describe(call.target)}): {error.what}")
                value = POISON
            self.values[index] = value
            if isinstance(value, str) and value not in self.makers:
                self.makers[value] = index
        if problems:
            count = len(problems)
            raise SpecError(f"{self.label}: {count} call{'s' if count > 1 else ''} cnncalc cannot map: "
                            + "; ".join(problems),
                            hint="cnncalc maps the torch.nn layers of CNNs and the functions between them "
                                 "(see the README's 'Importing models')")

    def spec(self, name: str, outputs: list[Any], recorder: str) -> dict[str, Any]:
        names: list[str] = []
        for output in outputs:
            if not isinstance(output, Ref):
                raise SpecError(f"{self.label}: an output is not computed from the inputs ({describe(output)})")
            value = self.value(output)
            if value not in names:
                names.append(value)
        description = f"PyTorch module, recorded with {'torch.fx' if recorder == 'fx' else 'forward hooks'}"
        return self.builder.spec(name, names, description, source=self.label)

    def handler(self, call: Call) -> Callable[[_Converter, Call], Any] | None:
        if isinstance(call.target, nn.Module):
            for cls in type(call.target).__mro__:
                if cls in MODULES:
                    return MODULES[cls]
                if cls.__module__ == "cnncalc.torch.modules" and cls.__name__ in HELPERS:
                    return HELPERS[cls.__name__]
            return None
        return FUNCTIONS.get(str(call.target))

    def convert(self, call: Call) -> Any:
        for ref in _all_refs((call.args, call.kwargs)):
            if self.values.get(ref.index) is POISON:
                raise _Poisoned()
        handler = self.handler(call)
        if handler is None:
            raise Unsupported("no cnncalc layer type")
        value = handler(self, call)
        self.check_shape(call, value)
        return value

    def check_shape(self, call: Call, value: Any) -> None:
        """cnncalc's output shape against PyTorch's: a difference is a cnncalc (or importer) defect."""
        if not isinstance(value, str) or not isinstance(call.result, torch.Tensor):
            return
        theirs = tuple(call.result.shape)
        ours = (self.batch, *self.builder.shape(value))
        if theirs != ours:
            raise SpecError(f"{self.label}: '{call.name}' ({describe(call.target)}): cnncalc computes "
                            f"{list(ours)}, PyTorch {list(theirs)}",
                            hint="a cnncalc defect: please report it with the module")
