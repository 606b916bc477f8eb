"""`cnncalc explain`: each layer type's formulas, fields and costs, read from the
classes that compute them, so the explanation cannot drift from the numbers."""

from __future__ import annotations

import difflib
import inspect
from dataclasses import MISSING

from .errors import SpecError
from .layers import REGISTRY, SHORTHANDS


def list_types() -> str:
    """Every type, grouped by the class (family) that computes it."""
    families: dict[type, list[str]] = {}
    for name, cls in REGISTRY.items():
        families.setdefault(cls, []).append(name)
    lines = ["Layer types (`cnncalc explain TYPE` for one):", ""]
    for cls, names in families.items():
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        lines.append(f"  {', '.join(names)}")
        lines.append(f"      {summary}")
    lines += ["", f"Shorthands whose rank comes from the input: {', '.join(SHORTHANDS)}."]
    return "\n".join(lines)


def describe_type(kind: str) -> str:
    if kind not in REGISTRY:
        close = difflib.get_close_matches(kind, list(REGISTRY), n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise SpecError(f"unknown layer type '{kind}'", hint=f"{guess}`cnncalc explain` lists every type")
    cls = REGISTRY[kind]
    lines = [kind, "=" * len(kind), "", inspect.cleandoc(cls.__doc__ or ""), ""]
    options = cls.options()
    lines.append("Fields:" if options else "Fields: none (besides name, from, repeat, when)")
    for spec in options:
        default = "required" if spec.default is MISSING else f"default {_yaml(spec.default)}"
        lines.append(f"  {spec.name} ({default}): {spec.metadata['doc']}")
    lines += ["", "Inputs: several (from: [a, b, ...])" if cls.arity == "many" else "Inputs: one", "",
              "FLOPs by convention:",
              "  2mac: 2 x MACs",
              "  mac:  MACs",
              f"  full: {cls.full_rule}"]
    return "\n".join(lines)


def _yaml(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
