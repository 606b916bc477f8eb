"""Recording what a PyTorch module computes, for the PyTorch importer: a flat list of
calls (module, function or method, its arguments and its result), each tensor argument
replaced by a reference to the call that made it.

Two recorders, tried in this order:

1. torch.fx symbolic tracing, with the modules cnncalc maps kept whole (leaves), then
   one run of the traced graph under FakeTensorMode for the shapes: no memory for
   activations, no arithmetic.
2. When fx cannot trace the module (data-dependent control flow, varargs, ...): a run
   of the module itself under FakeTensorMode, with hooks on those leaf modules and a
   TorchFunctionMode recording the functions and tensor methods called between them.

Either way the module runs in eval mode (its training flags are put back afterwards),
so batch norm uses its running statistics and dropout does nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.overrides import TorchFunctionMode


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


class TraceFailed(Exception):
    """The module could not be run with the given input shapes (the converter names the source)."""


def _is_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor)


def _holds_tensor(value: Any) -> bool:
    if _is_tensor(value):
        return True
    if isinstance(value, (tuple, list)):
        return any(_holds_tensor(item) for item in value)
    return False


def _refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)


def _leaves(value: Any) -> Iterator[Any]:
    """An output's tensors in order: tuples, lists and dicts (torchvision's segmentation models) opened."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif value is not None:
        yield value


def _derived(result: Any, args: Any, kwargs: Any) -> Any:
    """A call's result that does not depend on the inputs, as a Const made of its arguments' origins."""
    if not _is_tensor(result):
        return result
    parts = [item for item in _leaves((args, kwargs)) if isinstance(item, Const)]
    origin = tuple(dict.fromkeys(name for part in parts for name in part.origin))
    return Const(tuple(result.shape), result, origin, any(part.learned for part in parts))


def count_users(calls: list[Call], outputs: list[Any]) -> None:
    """How often each call's result is read by a later call or is an output (folds need 'only once')."""
    for call in calls:
        for ref in list(_refs(call.args)) + list(_refs(call.kwargs)):
            calls[ref.index].users += 1
    for ref in _refs(outputs):
        calls[ref.index].users += 1


def function_name(target: Any) -> str:
    """operator.add -> 'add', torch.relu -> 'relu', F.interpolate -> 'interpolate', 'view' -> 'view'."""
    if isinstance(target, str):
        return target
    return str(getattr(target, "__name__", type(target).__name__))


class _Tracer(fx.Tracer):
    def __init__(self, is_leaf: Callable[[nn.Module], bool]) -> None:
        super().__init__()
        self.leaf = is_leaf

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return self.leaf(module) or super().is_leaf_module(module, qualified_name)


MAX_INPUTS = 8


class _Root(nn.Module):
    """`model` under a forward of named tensors: fx cannot trace `forward(*inputs)`. The
    inputs a network does not have are traced as concrete None and dropped."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x0: Any, x1: Any = None, x2: Any = None, x3: Any = None, x4: Any = None, x5: Any = None,
                x6: Any = None, x7: Any = None) -> Any:
        return self.model(*[x for x in (x0, x1, x2, x3, x4, x5, x6, x7) if x is not None])


def _unused_inputs(count: int) -> dict[str, None]:
    return {f"x{position}": None for position in range(count, MAX_INPUTS)}


class _eval_mode:
    """The module in eval mode inside the block, its own training flags after."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.flags = {name: sub.training for name, sub in module.named_modules()}

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc: Any) -> None:
        for name, sub in self.module.named_modules():
            sub.training = self.flags.get(name, sub.training)


def record(module: nn.Module, shapes: list[tuple[int, ...]], batch: int,
           is_leaf: Callable[[nn.Module], bool], hooks: bool = False) -> tuple[list[Call], list[Any], str]:
    """(calls, outputs as Refs, the recorder used: 'fx' or 'hooks'); `hooks` skips fx."""
    try:
        if hooks:
            raise ValueError("recorded with hooks")
        if len(shapes) > MAX_INPUTS:
            raise ValueError(f"more than {MAX_INPUTS} inputs: recorded with hooks")
        root = _Root(module)
        with _eval_mode(module):  # a module built in training mode traces its inference branches
            graph = _Tracer(is_leaf).trace(root, concrete_args=_unused_inputs(len(shapes)))
        traced = fx.GraphModule(root, graph)
    except Exception:  # fx's TraceError, and whatever a forward does with a Proxy it cannot take
        calls, outputs = _record_with_hooks(module, shapes, batch, is_leaf)
        return calls, outputs, "hooks"
    calls, outputs = _record_fx(traced, shapes, batch, _input_names(module, len(shapes)))
    return calls, outputs, "fx"


def _fake_inputs(shapes: list[tuple[int, ...]], batch: int) -> list[torch.Tensor]:
    return [torch.empty((batch, *shape)) for shape in shapes]


def _record_fx(traced: fx.GraphModule, shapes: list[tuple[int, ...]], batch: int,
               names: list[str]) -> tuple[list[Call], list[Any]]:
    results: dict[fx.Node, Any] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, node: fx.Node) -> Any:
            result = super().run_node(node)
            results[node] = result
            return result

    try:
        with _eval_mode(traced), FakeTensorMode(allow_non_fake_inputs=True):
            Recorder(traced).run(*_fake_inputs(shapes, batch))
    except Exception as error:
        raise TraceFailed(_message(error)) from None
    calls: list[Call] = []
    env: dict[fx.Node, Any] = {}
    outputs: list[Any] = []
    learned = {name for name, _ in traced.named_parameters()}
    for node in traced.graph.nodes:
        result: Any = results.get(node)
        if node.op == "placeholder":
            if len(calls) >= len(names):  # one of _Root's unused inputs, traced as None
                env[node] = None
                continue
            env[node] = Ref(len(calls))
            calls.append(Call(names[len(calls)], INPUT, (), {}, result))
        elif node.op == "get_attr":
            target = str(node.target)
            env[node] = Const(tuple(result.shape), result, (target.removeprefix("model."),),
                              target in learned) if _is_tensor(result) else result
        elif node.op == "output":
            outputs = list(_leaves(fx.node.map_aggregate(node.args[0], lambda item: env[item]
                                                         if isinstance(item, fx.Node) else item)))
        else:
            args = fx.node.map_arg(node.args, lambda item: env[item])
            kwargs = fx.node.map_arg(node.kwargs, lambda item: env[item])
            depends = any(True for _ in _refs(args)) or any(True for _ in _refs(kwargs))
            if node.op != "call_module" and function_name(node.target) in SHAPE_ONLY:
                depends = False
            if not _holds_tensor(result):
                env[node] = result  # sizes, dims: plain values later calls read
            elif not depends and node.op != "call_module":
                env[node] = _derived(result, args, kwargs)
            else:
                stack = list(node.meta.get("nn_module_stack") or {})
                if node.op == "call_module":
                    target: nn.Module | str = traced.get_submodule(str(node.target))
                    name = _path(str(node.target))
                    where = name
                else:
                    target, name = function_name(node.target), node.name
                    where = _path(stack[-1]) if stack else ""
                env[node] = Ref(len(calls))
                calls.append(Call(name, target, tuple(args), dict(kwargs), result, module=where))
    count_users(calls, outputs)
    return calls, outputs


def _path(qualified: str) -> str:
    """A module path of the traced root as the user's module names it: 'model.layer1.0' -> 'layer1.0'."""
    return "" if qualified == "model" else qualified.removeprefix("model.")


def _message(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _record_with_hooks(module: nn.Module, shapes: list[tuple[int, ...]], batch: int,
                       is_leaf: Callable[[nn.Module], bool]) -> tuple[list[Call], list[Any]]:
    calls: list[Call] = []
    made: dict[int, Ref] = {}  # id of a tensor -> the call that made it (calls keep the tensors alive)
    depth = [0]  # > 0 inside a leaf module: what it calls is its own business
    names = {id(sub): name for name, sub in module.named_modules()}
    pending: dict[int, list[tuple[Any, ...]]] = {}
    stack: list[str] = []  # the module paths being run, innermost last
    known: dict[int, Const] = {id(tensor): Const(tuple(tensor.shape), tensor, (name,), True)
                               for name, tensor in module.named_parameters()}
    known.update({id(tensor): Const(tuple(tensor.shape), tensor, (name,)) for name, tensor in module.named_buffers()})

    def convert(value: Any) -> Any:
        if _is_tensor(value):
            found = made.get(id(value))
            if found is not None:
                return found
            return known.get(id(value)) or Const(tuple(value.shape), value)
        if isinstance(value, tuple):
            return tuple(convert(item) for item in value)
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        return value

    def remember(name: str, target: nn.Module | str, args: Any, kwargs: Any, result: Any) -> None:
        index = len(calls)
        calls.append(Call(name, target, args, kwargs, result, module=stack[-1] if stack else ""))
        if _is_tensor(result):
            made[id(result)] = Ref(index)
        elif isinstance(result, (tuple, list)):
            for item_index, item in enumerate(result):
                if _is_tensor(item):
                    made[id(item)] = Ref(index, item_index)

    def depends(args: Any, kwargs: Any) -> bool:
        return any(True for _ in _refs(args)) or any(True for _ in _refs(kwargs))

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            outermost = depth[0] == 0
            converted = (convert(tuple(args)), convert(dict(kwargs))) if outermost else ((), {})
            result = func(*args, **kwargs)
            if outermost and _holds_tensor(result) and depends(*converted) and function_name(func) not in SHAPE_ONLY:
                name = function_name(func)
                remember(name, name, converted[0], converted[1], result)
            elif outermost and _is_tensor(result):
                known[id(result)] = _derived(result, *converted)
            return result

    def before(sub: nn.Module, args: Any) -> None:
        if depth[0] == 0:
            pending.setdefault(id(sub), []).append(convert(tuple(args)))
        depth[0] += 1

    def after(sub: nn.Module, args: Any, result: Any) -> None:
        depth[0] -= 1
        if depth[0] == 0:
            remember(names.get(id(sub), type(sub).__name__), sub, pending[id(sub)].pop(), {}, result)

    def enter(sub: nn.Module, args: Any) -> None:
        stack.append(names.get(id(sub), ""))

    def leave(sub: nn.Module, args: Any, result: Any) -> None:
        if stack:
            stack.pop()

    handles = []
    for sub in module.modules():
        if sub is not module:
            handles.append(sub.register_forward_pre_hook(enter))
        if sub is not module and is_leaf(sub):
            handles.append(sub.register_forward_pre_hook(before))
            handles.append(sub.register_forward_hook(after))
        if sub is not module:
            handles.append(sub.register_forward_hook(leave))
    try:
        with _eval_mode(module), FakeTensorMode(allow_non_fake_inputs=True):
            inputs = _fake_inputs(shapes, batch)
            for name, tensor in zip(_input_names(module, len(shapes)), inputs):
                remember(name, INPUT, (), {}, tensor)
            with Functions():
                output = module(*inputs)
    except Exception as error:
        raise TraceFailed(_message(error)) from None
    finally:
        for handle in handles:
            handle.remove()
    outputs = list(_leaves(convert(output)))
    count_users(calls, outputs)
    return calls, outputs


def _input_names(module: nn.Module, count: int) -> list[str]:
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
