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

from collections.abc import Callable
from typing import Any

import torch.fx as fx
from torch import nn

from .hooks import record_with_hooks
from .recorded import (Call, Const, INPUT, REAL_SECONDS, Ref, TraceFailed, count_users, data_dependent,
                       depends_on_inputs, derived, eval_mode, fake_inputs, function_name, holds_tensor, input_names,
                       is_tensor, leaves_of, message, module_path, positional_names, tensors_mode, time_limit)

__all__ = ["INPUT", "Call", "Const", "Ref", "TraceFailed", "input_names", "record"]


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


def record(module: nn.Module, shapes: list[tuple[int, ...]], batch: int,
           is_leaf: Callable[[nn.Module], bool], hooks: bool = False) -> tuple[list[Call], list[Any], str]:
    """(calls, outputs as Refs, the recorder used: 'fx' or 'hooks', with ', real' after a real forward);
    `hooks` skips fx. Fake tensors first; a real forward of zeros where they cannot record a shape
    that depends on the data (Ultralytics' box decoding), within REAL_SECONDS."""
    try:
        calls, outputs, recorder = _record(module, shapes, batch, is_leaf, hooks, real=False)
    except TraceFailed as error:
        if not error.data_dependent:
            raise
        with time_limit(REAL_SECONDS):
            calls, outputs, recorder = _record(module, shapes, batch, is_leaf, hooks, real=True)
        recorder += ", real"
    return calls, outputs, recorder


def _record(module: nn.Module, shapes: list[tuple[int, ...]], batch: int, is_leaf: Callable[[nn.Module], bool],
            hooks: bool, real: bool) -> tuple[list[Call], list[Any], str]:
    try:
        if hooks:
            raise ValueError("recorded with hooks")
        if len(shapes) > MAX_INPUTS:
            raise ValueError(f"more than {MAX_INPUTS} inputs: recorded with hooks")
        root = _Root(module)
        with eval_mode(module):  # a module built in training mode traces its inference branches
            graph = _Tracer(is_leaf).trace(root, concrete_args=_unused_inputs(len(shapes)))
        traced = fx.GraphModule(root, graph)
    except Exception:  # fx's TraceError, and whatever a forward does with a Proxy it cannot take
        calls, outputs = record_with_hooks(module, shapes, batch, is_leaf, real)
        return calls, outputs, "hooks"
    calls, outputs = _record_fx(traced, shapes, batch, positional_names(module, len(shapes)), real)
    return calls, outputs, "fx"


def _record_fx(traced: fx.GraphModule, shapes: list[tuple[int, ...]], batch: int,
               names: list[str], real: bool) -> tuple[list[Call], list[Any]]:
    results: dict[fx.Node, Any] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, node: fx.Node) -> Any:
            result = super().run_node(node)
            results[node] = result
            return result

    try:
        with eval_mode(traced), tensors_mode(real):
            Recorder(traced).run(*fake_inputs(shapes, batch))
    except Exception as error:
        raise TraceFailed(message(error), data_dependent(error)) from None
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
                              target in learned) if is_tensor(result) else result
        elif node.op == "output":
            outputs = list(leaves_of(fx.node.map_aggregate(node.args[0], lambda item: env[item]
                                                         if isinstance(item, fx.Node) else item)))
        else:
            args = fx.node.map_arg(node.args, lambda item: env[item])
            kwargs = fx.node.map_arg(node.kwargs, lambda item: env[item])
            depends = node.op == "call_module" or depends_on_inputs(function_name(node.target), args, kwargs)
            if not holds_tensor(result):
                env[node] = result  # sizes, dims: plain values later calls read
            elif not depends and node.op != "call_module":
                env[node] = derived(result, args, kwargs)
            else:
                stack = list(node.meta.get("nn_module_stack") or {})
                if node.op == "call_module":
                    target: nn.Module | str = traced.get_submodule(str(node.target))
                    name = module_path(str(node.target))
                    where = name
                else:
                    target, name = function_name(node.target), node.name
                    where = module_path(stack[-1]) if stack else ""
                env[node] = Ref(len(calls))
                calls.append(Call(name, target, tuple(args), dict(kwargs), result, module=where))
    count_users(calls, outputs)
    return calls, outputs


