"""The second recorder of the PyTorch importer: a run of the module itself, with hooks on
the modules cnncalc maps and a TorchFunctionMode recording the functions called between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn
from torch.overrides import TorchFunctionMode

from .recorded import (Call, Const, INPUT, Ref, TraceFailed, count_users, data_dependent, depends_on_inputs, derived,
                       eval_mode, fake_inputs, function_name, holds_tensor, is_tensor, leaves_of, message,
                       positional_names, tensors_mode)


def record_with_hooks(module: nn.Module, shapes: list[tuple[int, ...]], batch: int,
                      is_leaf: Callable[[nn.Module], bool], real: bool) -> tuple[list[Call], list[Any]]:
    calls: list[Call] = []
    made: dict[int, Ref] = {}  # id of a tensor -> the call that made it (calls keep the tensors alive)
    depth = [0]  # > 0 inside a leaf module: what it calls is its own business
    names = {id(sub): name for name, sub in module.named_modules()}
    pending: dict[int, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}
    stack: list[str] = []  # the module paths being run, innermost last
    known: dict[int, Const] = {id(tensor): Const(tuple(tensor.shape), tensor, (name,), True)
                               for name, tensor in module.named_parameters()}
    known.update({id(tensor): Const(tuple(tensor.shape), tensor, (name,)) for name, tensor in module.named_buffers()})

    def convert(value: Any) -> Any:
        if is_tensor(value):
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
        if is_tensor(result):
            made[id(result)] = Ref(index)
        elif isinstance(result, (tuple, list)):
            for item_index, item in enumerate(result):
                if is_tensor(item):
                    made[id(item)] = Ref(index, item_index)

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            outermost = depth[0] == 0
            converted = (convert(tuple(args)), convert(dict(kwargs))) if outermost else ((), {})
            result = func(*args, **kwargs)
            if outermost and holds_tensor(result) and depends_on_inputs(function_name(func), *converted):
                name = function_name(func)
                remember(name, name, converted[0], converted[1], result)
            elif outermost and is_tensor(result):
                known[id(result)] = derived(result, *converted)
            return result

    def before(sub: nn.Module, args: Any, kwargs: Any) -> None:
        if depth[0] == 0:
            pending.setdefault(id(sub), []).append((convert(tuple(args)), convert(dict(kwargs))))
        depth[0] += 1

    def after(sub: nn.Module, args: Any, result: Any) -> None:
        depth[0] -= 1
        if depth[0] == 0:
            args, kwargs = pending[id(sub)].pop()
            remember(names.get(id(sub), type(sub).__name__), sub, args, kwargs, result)

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
            handles.append(sub.register_forward_pre_hook(before, with_kwargs=True))
            handles.append(sub.register_forward_hook(after))
        if sub is not module:
            handles.append(sub.register_forward_hook(leave))
    try:
        with eval_mode(module), tensors_mode(real):
            inputs = fake_inputs(shapes, batch)
            for name, tensor in zip(positional_names(module, len(shapes)), inputs):
                remember(name, INPUT, (), {}, tensor)
            with Functions():
                output = module(*inputs)
    except Exception as error:
        raise TraceFailed(message(error), data_dependent(error)) from None
    finally:
        for handle in handles:
            handle.remove()
    outputs = list(leaves_of(convert(output)))
    count_users(calls, outputs)
    return calls, outputs


