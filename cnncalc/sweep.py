"""Parameter sweeps: one analysis per value of an input shape, the batch or a parameter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import SpecError
from .units import parse_shape

_SHAPE = re.compile(r"\d+(x\d+)*")


@dataclass(frozen=True)
class Sweep:
    name: str  # "input" (the only input), an input's name, "batch", or a global parameter
    kind: str  # "input", "batch" or "param"
    values: tuple[Any, ...]
    texts: tuple[str, ...]


def parse_sweep(text: str, scalar: Callable[[str], Any]) -> Sweep:
    """`input=3x224x224,3x320x320`, `batch=1,8`, `width=0.5,0.75,1.0`."""
    name, sep, listing = text.partition("=")
    texts = tuple(part.strip() for part in listing.split(",") if part.strip())
    if not sep or not name.strip() or not texts:
        raise SpecError(f"--sweep {text}: write NAME=V1,V2,...", hint="e.g. --sweep input=3x224x224,3x320x320")
    name = name.strip()
    if all(_SHAPE.fullmatch(part) and "x" in part for part in texts):
        return Sweep(name, "input", tuple(parse_shape(part) for part in texts), texts)
    if name == "batch":
        if not all(part.isdigit() and int(part) >= 1 for part in texts):
            raise SpecError(f"--sweep {text}: batch takes whole numbers >= 1")
        return Sweep(name, "batch", tuple(int(part) for part in texts), texts)
    return Sweep(name, "param", tuple(scalar(part) for part in texts), texts)


def options_for(sweep: Sweep, value: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of cnncalc.analyze for one value of the sweep."""
    options = {**base, "overrides": dict(base.get("overrides") or {}), "inputs": dict(base.get("inputs") or {})}
    if sweep.kind == "input":
        options["inputs"]["" if sweep.name == "input" else sweep.name] = value
    elif sweep.kind == "batch":
        options["batch"] = value
    else:
        options["overrides"][sweep.name] = value
    return options
