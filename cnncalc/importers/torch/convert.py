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
from .converter import RECORD_BATCH, Shape, Unsupported, _all_refs, describe
from .leaves import HELPERS
from .tensors import ALL_FUNCTIONS, ALL_MODULES, TokenConverter, is_leaf
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
        calls, outputs, recorder = record(module, shapes, RECORD_BATCH, is_leaf)
        if recorder == "fx" and _unknown(calls):
            # functions fx keeps whole (torch.fx.wrap: torchvision's shifted_window_attention) that
            # cnncalc does not know: the hooks see the torch functions they call
            retried = record(module, shapes, RECORD_BATCH, is_leaf, hooks=True)
            if _unknown(retried[0]) < _unknown(calls):
                calls, outputs, recorder = retried
    except TraceFailed as error:
        raise SpecError(f"{label}: running the module on inputs "
                        f"{', '.join('x'.join(map(str, shape)) for shape in shapes)} failed: {error}",
                        hint="give the input shape it takes: --input CxHxW") from None
    converter = _Converter(label, RECORD_BATCH, calls)
    converter.spec_batch = spec_batch
    converter.parameters_known = {name: (parameter.numel(), tuple(parameter.shape))
                                  for name, parameter in module.named_parameters()}
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


def _handler(call: Call) -> Callable[[Any, Call], Any] | None:
    if isinstance(call.target, nn.Module):
        for cls in type(call.target).__mro__:
            if cls in ALL_MODULES:
                return ALL_MODULES[cls]
            if cls.__module__ == "cnncalc.torch.modules" and cls.__name__ in HELPERS:
                return HELPERS[cls.__name__]
        return None
    return ALL_FUNCTIONS.get(str(call.target))


def _unknown(calls: list[Call]) -> int:
    """How many calls no handler maps."""
    return sum(1 for call in calls if call.target != INPUT and _handler(call) is None)


class UnmappedCalls(SpecError):
    """Every call cnncalc cannot map, one line per problem with the module path of each call
    that has it: printed whole (a SpecError cuts a long problem at 500 characters)."""

    def __init__(self, label: str, problems: dict[str, list[str]]) -> None:
        count = sum(len(places) for places in problems.values())
        lines = [f"{problem} at {', '.join(places)}" for problem, places in problems.items()]
        super().__init__(f"{label}: {count} call{'s' if count > 1 else ''} cnncalc cannot map:\n  "
                         + "\n  ".join(lines),
                         hint="cnncalc maps the torch.nn layers of CNNs and transformers and the functions "
                              "between them (see the README's 'Importing models')")
        self.problems = problems

    def __str__(self) -> str:
        return f"{self.problem}\n{self.hint}"


class _Poisoned(Exception):
    """A call reading the result of a call that could not be converted (already reported)."""


POISON = object()


class _Converter(TokenConverter):
    # -- running ----------------------------------------------------------------------

    spec_batch = 1

    def run(self) -> None:
        """Convert every call; one that cannot be converted is listed and stood in for by a
        constant of PyTorch's shape, so that every later call is still tried."""
        problems: dict[str, list[str]] = {}
        for index, call in enumerate(self.calls):
            self.call = call
            self.hint = None
            if call.target == INPUT:
                self.values[index] = self.builder.add_input(call.name, tuple(call.result.shape[1:]),
                                                            self.spec_batch)
                continue
            try:
                value = self.convert(call)
            except _Poisoned:
                value = POISON
            except Unsupported as error:
                problem = f"{describe(call.target)}: {error.what}"
                problems.setdefault(problem, []).append(call.name if isinstance(call.target, nn.Module)
                                                        else f"{call.module or '(top)'}:{call.name}")
                value = self.stand_in(call)
            self.values[index] = value
            if isinstance(value, str) and value not in self.makers:
                self.makers[value] = index
        if problems:
            raise UnmappedCalls(self.label, problems)

    def stand_in(self, call: Call) -> Any:
        """A constant of PyTorch's per-sample shape in place of a call that could not be converted."""
        results = list(call.result) if isinstance(call.result, (tuple, list)) else [call.result]
        sources = [self.values[ref.index] for ref in _all_refs((call.args, call.kwargs))
                   if isinstance(self.values.get(ref.index), str)]
        names = []
        for result in results:
            if not isinstance(result, torch.Tensor):
                return POISON
            theirs = tuple(result.shape)
            layouts = [self.layout(source) for source in sources[:1]] + [(0, False), (0, True)]
            shape = next((found for found in (self.per_sample(theirs, layout) for layout in layouts) if found), None)
            if not shape:
                return POISON
            self.hint = next(layout for layout in layouts if self.per_sample(theirs, layout) == shape)
            try:
                names.append(self.add("constant", [], {"shape": list(shape)}))
            except SpecError:
                return POISON
        self.hint = None
        return names if isinstance(call.result, (tuple, list)) else names[0]

    def spec(self, name: str, outputs: list[Any], recorder: str) -> dict[str, Any]:
        names: list[str] = []
        for output in outputs:
            if not isinstance(output, Ref):
                raise SpecError(f"{self.label}: an output is not computed from the inputs ({describe(output)})")
            value = self.value(output)
            if value not in names:
                names.append(value)
        description = f"PyTorch module, recorded with {'torch.fx' if recorder.startswith('fx') else 'forward hooks'}"
        if recorder.endswith("real"):
            description += (" on a real forward of zeros (fake tensors cannot follow its shapes that depend "
                            "on the data)")
        return self.builder.spec(name, names, description, source=self.label)

    def handler(self, call: Call) -> Callable[[Any, Call], Any] | None:
        return _handler(call)

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
        if isinstance(value, list) and isinstance(call.result, (tuple, list)):
            for name, result in zip(value, call.result):
                self.check_one(call, name, result)
        else:
            self.check_one(call, value, call.result)

    def check_one(self, call: Call, value: Any, result: Any) -> None:
        if not isinstance(value, str) or not isinstance(result, torch.Tensor):
            return
        theirs = tuple(result.shape)
        sources = [self.values[ref.index] for ref in _all_refs((call.args, call.kwargs))
                   if isinstance(self.values.get(ref.index), str)]
        if not self.settle(value, theirs, sources):
            raise SpecError(f"{self.label}: '{call.name}' ({describe(call.target)}): cnncalc computes "
                            f"{list(self.shape(value))} per sample, PyTorch {list(theirs)} at batch {self.batch}",
                            hint="a cnncalc defect: please report it with the module")
