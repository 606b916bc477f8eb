"""A plan written out as a Python file: the helper classes it uses, then one nn.Module class
whose `__init__` builds the same modules under the same names as `Network` and whose
`forward` runs them in the spec's order."""

from __future__ import annotations

import inspect
import keyword
import math
import re
from typing import Any

from .. import __version__
from .mapping import Call
from .modules import HELPERS
from .plan import Plan, identifier

HEADER = '''"""{name} as a PyTorch module, written by `cnncalc export --torch` (cnncalc {version}) from {source}."""

from __future__ import annotations

{imports}from torch import Tensor, nn
'''
INDENT = "    "
CHAIN = "x"  # a value read only by the next layer, torchvision style: x = self.bn1(x)


def render(plan: Plan, class_name: str | None = None) -> str:
    used = _helpers(plan)
    name = class_name or identifier("".join(part[:1].upper() + part[1:] for part in plan.name.split("_")),
                                    set(HELPERS) | {"F", "Tensor", "nn", "torch"})
    helpers = [inspect.getsource(HELPERS[helper]) for helper in used]
    imports = "".join(line for line, call in (("import torch\n", r"\btorch\.\w+\("),
                                              ("import torch.nn.functional as F\n", r"\bF\.\w+\("))
                      if any(re.search(call, text) for text in helpers))
    header = HEADER.format(name=_docstring(plan.name), version=__version__, source=_docstring(plan.source),
                           imports=imports)
    parts = [header] + helpers
    shapes = ", ".join(f"{_string(input_name)}: {_literal((plan.batch, *shape))}"
                       for input_name, shape in plan.inputs.items())
    lines = [f"class {name}(nn.Module):",
             f'{INDENT}"""{_docstring(plan.name)}: forward({_docstring(", ".join(plan.inputs))}), shapes batch first '
             'as in the spec."""',
             "",
             f"{INDENT}input_shapes = {{{shapes}}}",
             "",
             f"{INDENT}def __init__(self) -> None:",
             f"{INDENT * 2}super().__init__()"]
    lines += _init_lines(plan)
    lines += [""] + _forward_lines(plan)
    parts.append("\n".join(lines) + "\n")
    return "\n\n".join(parts)


def _helpers(plan: Plan) -> list[str]:
    """The helper classes the plan's modules use, with their bases, in modules.py's order."""
    used: set[str] = set()

    def visit(spec: Call) -> None:
        if not spec.factory.startswith("nn."):
            used.update(base.__name__ for base in HELPERS[spec.factory].__mro__ if base.__name__ in HELPERS)
        for item in spec.args:
            if isinstance(item, Call):
                visit(item)

    for step in plan.steps:
        visit(step.call)
    return [helper for helper in HELPERS if helper in used]


def _init_lines(plan: Plan) -> list[str]:
    tree: dict[str, Any] = {}
    for step in plan.steps:
        node = tree
        for part in step.path[:-1]:
            node = node.setdefault(part, {})
        node[step.path[-1]] = step.call
    lines = []
    for key, value in tree.items():
        module = _container(value, 2) if isinstance(value, dict) else _expression(value)
        if key.isidentifier() and not keyword.iskeyword(key):
            lines.append(f"{INDENT * 2}self.{key} = {module}")
        else:
            lines.append(f"{INDENT * 2}self.add_module({_string(key)}, {module})")
    return lines


def _container(node: dict[str, Any], depth: int) -> str:
    inner = INDENT * (depth + 1)
    entries = []
    for key, value in node.items():
        module = _container(value, depth + 1) if isinstance(value, dict) else _expression(value)
        entries.append(f"{inner}{_string(key)}: {module},")
    return "nn.ModuleDict({\n" + "\n".join(entries) + f"\n{INDENT * depth}}})"


def _forward_lines(plan: Plan) -> list[str]:
    readers: dict[str, set[int]] = {}
    for index, step in enumerate(plan.steps):
        for source in step.inputs:
            readers.setdefault(source, set()).add(index)
    taken = {"self", CHAIN, "torch", "nn", "F", "Tensor", *HELPERS}
    names: dict[str, str] = {}
    for input_name in plan.inputs:
        names[input_name] = identifier(input_name, taken)
        taken.add(names[input_name])
    several = len(plan.outputs) > 1
    parameters = ", ".join(f"{names[input_name]}: Tensor" for input_name in plan.inputs)
    lines = [f"{INDENT}def forward(self, {parameters}) -> {'tuple[Tensor, ...]' if several else 'Tensor'}:"]
    for index, step in enumerate(plan.steps):
        arguments = ", ".join(names[source] for source in step.inputs)
        if step.name not in plan.outputs and readers.get(step.name) == {index + 1}:
            names[step.name] = CHAIN
        else:
            names[step.name] = identifier(step.name, taken)
            taken.add(names[step.name])
        lines.append(f"{INDENT * 2}{names[step.name]} = {_accessor(step.path)}({arguments})")
    lines.append(f"{INDENT * 2}return {', '.join(names[output] for output in plan.outputs)}")
    return lines


def _accessor(path: tuple[str, ...]) -> str:
    first, rest = path[0], path[1:]
    plain = first.isidentifier() and not keyword.iskeyword(first)
    head = f"self.{first}" if plain else f"getattr(self, {_string(first)})"
    return head + "".join(f"[{_string(part)}]" for part in rest)


def _expression(spec: Call) -> str:
    arguments = [_literal(item) for item in spec.args]
    arguments += [f"{key}={_literal(value)}" for key, value in spec.kwargs]
    return f"{spec.factory}({', '.join(arguments)})"


def _literal(value: Any) -> str:
    if isinstance(value, Call):
        return _expression(value)
    if isinstance(value, float) and math.isinf(value):
        return "float('inf')" if value > 0 else "float('-inf')"
    if isinstance(value, tuple):
        items = ", ".join(_literal(item) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, str):
        return _string(value)
    return repr(value)


def _docstring(text: str) -> str:
    """Text that cannot end or escape out of a docstring (a Windows path, a name with quotes)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _string(text: str) -> str:
    """A string literal, in double quotes where that needs no escaping."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return repr(text)
