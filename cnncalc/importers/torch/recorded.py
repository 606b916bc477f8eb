"""What the PyTorch importer records of a module's run: calls, the references between them,
the constants they read, and the helpers both recorders (trace.py, hooks.py) share."""

from __future__ import annotations

import contextlib
import inspect
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode


@dataclass(frozen=True)
class Ref:
    """A tensor some earlier call (or an input) made: `calls[index]`, element `item` of a tuple result."""

    index: int
    item: int | None = None


@dataclass(frozen=True)
class Const:
    """A tensor that does not depend on the inputs: a parameter, a buffer, a constant.

    `origin` names the parameters and buffers it is made of (a class token expanded, a
    relative-position table indexed); `learned` says whether one of them is a parameter."""

    shape: tuple[int, ...]
    tensor: Any = field(compare=False, repr=False)
    origin: tuple[str, ...] = ()
    learned: bool = False


@dataclass
class Call:
    """One module, function or method call: `target` is the module, or the function's / method's name."""

    name: str
    target: nn.Module | str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    users: int = 0
    module: str = ""  # the module path it ran in ('' at the top): names blocks and errors


INPUT = "<input>"

SHAPE_ONLY = frozenset({"new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "zeros_like", "ones_like",
                        "full_like", "empty_like", "arange", "zeros", "ones", "full", "empty"})
"""Functions whose result reads only the shape of their tensor arguments (an attention mask
made with x.new_zeros): constants, not computed from the inputs."""

FIRST_ONLY = frozenset({"type_as", "to", "view_as", "reshape_as", "expand_as"})
"""Methods whose result is computed from their first tensor only (the second gives a dtype or a
shape): of a constant, a constant (Ultralytics' anchors made `type_as` the features)."""


def depends_on_inputs(name: str, args: Any, kwargs: Any) -> bool:
    """Whether a call's result is computed from the inputs (reads a Ref where it matters)."""
    if name in SHAPE_ONLY:
        return False
    if name in FIRST_ONLY and args:
        return any(True for _ in refs_in(args[0]))
    return any(True for _ in refs_in(args)) or any(True for _ in refs_in(kwargs))


class TraceFailed(Exception):
    """The module could not be run with the given input shapes (the converter names the source)."""

    def __init__(self, text: str, data_dependent: bool = False) -> None:
        super().__init__(text)
        self.data_dependent = data_dependent


def is_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor)


def holds_tensor(value: Any) -> bool:
    if is_tensor(value):
        return True
    if isinstance(value, (tuple, list)):
        return any(holds_tensor(item) for item in value)
    return False


def refs_in(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from refs_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from refs_in(item)


def leaves_of(value: Any) -> Iterator[Any]:
    """An output's tensors in order: tuples, lists and dicts (torchvision's segmentation models) opened."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from leaves_of(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves_of(item)
    elif value is not None:
        yield value


def derived(result: Any, args: Any, kwargs: Any) -> Any:
    """A call's result that does not depend on the inputs, as a Const made of its arguments' origins."""
    if not is_tensor(result):
        return result
    parts = [item for item in leaves_of((args, kwargs)) if isinstance(item, Const)]
    origin = tuple(dict.fromkeys(name for part in parts for name in part.origin))
    return Const(tuple(result.shape), result, origin, any(part.learned for part in parts))


def count_users(calls: list[Call], outputs: list[Any]) -> None:
    """How often each call's result is read by a later call or is an output (folds need 'only once')."""
    for call in calls:
        for ref in list(refs_in(call.args)) + list(refs_in(call.kwargs)):
            calls[ref.index].users += 1
    for ref in refs_in(outputs):
        calls[ref.index].users += 1


def function_name(target: Any) -> str:
    """operator.add -> 'add', torch.relu -> 'relu', F.interpolate -> 'interpolate', 'view' -> 'view'."""
    if isinstance(target, str):
        return target
    return str(getattr(target, "__name__", type(target).__name__))


class eval_mode:
    """The module in eval mode inside the block, its own training flags after."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.flags = {name: sub.training for name, sub in module.named_modules()}

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc: Any) -> None:
        for name, sub in self.module.named_modules():
            sub.training = self.flags.get(name, sub.training)


def fake_inputs(shapes: list[tuple[int, ...]], batch: int) -> list[torch.Tensor]:
    return [torch.zeros((batch, *shape)) for shape in shapes]


def module_path(qualified: str) -> str:
    """A module path of the traced root as the user's module names it: 'model.layer1.0' -> 'layer1.0'."""
    return "" if qualified == "model" else qualified.removeprefix("model.")


def message(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def tensors_mode(real: bool) -> Any:
    """Fake tensors (shapes only, no memory, no arithmetic), or real ones for a real forward of zeros."""
    return contextlib.nullcontext() if real else FakeTensorMode(allow_non_fake_inputs=True)


REAL_SECONDS = 120  # the longest real forward of zeros the importer runs


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """A TraceFailed after `seconds` (on the main thread of a Unix process; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(*_: Any) -> None:
        raise TimeoutError(f"a real forward of zeros took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def data_dependent(error: Exception) -> bool:
    """An error of fake tensors on a shape that depends on the data (Ultralytics' box decoding)."""
    return "DataDependent" in type(error).__name__ or "DynamicOutputShape" in type(error).__name__


def positional_names(module: nn.Module, count: int) -> list[str]:
    names = input_names(module)
    return names if len(names) == count else [f"x{position}" for position in range(count)]


def input_names(module: nn.Module) -> list[str]:
    """The names of forward's inputs: a cnncalc Network's, else forward's positional parameters."""
    known = getattr(module, "input_names", None)
    if isinstance(known, (tuple, list)) and all(isinstance(name, str) for name in known):
        return list(known)
    try:
        signature = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return ["input"]
    return [name for name, parameter in signature.parameters.items()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            and parameter.default is parameter.empty] or ["input"]
