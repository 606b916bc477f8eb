"""Checking a cfg before converting it: typos in keys, and everything cnncalc cannot import, at once."""

from __future__ import annotations

from ...errors import Mark, SpecError
from ..common import guess
from .extra import CONVERTERS
from .sections import Option, Reader, Section
from .tables import ACTIVATIONS, HEADS, KEYS, TRAINING_KEYS, UNSUPPORTED_OPTIONS


_KNOWN = {kind: frozenset(keys | TRAINING_KEYS) for kind, keys in KEYS.items()}  # built once, not per section


def _check(sections: list[Section], filename: str) -> None:
    """Unknown keys (typos) first; then every section, option or activation cnncalc cannot import, at once."""
    unsupported: list[tuple[Section, Option | None, str]] = []
    for section in sections[1:]:
        kind = section.kind
        if kind in HEADS:
            continue
        if kind not in CONVERTERS:
            unsupported.append((section, None, f"[{section.written}] (layer {section.index}, line {section.line})"))
            continue
        known = _KNOWN[kind]
        for key, option in section.options.items():
            if key not in known:
                takes = ", ".join(sorted(KEYS[kind])) or "no keys"
                raise Reader(filename, section).fail(key, f"unknown key '{key}' in [{section.written}]",
                                                     f"{guess(key, known)}[{section.written}] takes {takes}",
                                                     at_key=True)
        for key, (accepted, why) in UNSUPPORTED_OPTIONS.get(kind, {}).items():
            found = section.options.get(key)
            if found is not None and found.value != accepted:
                unsupported.append((section, found, f"[{section.written}] {key}={found.value} (layer "
                                                    f"{section.index}, line {found.line}: {why})"))
        activation = section.options.get("activation")
        if activation is not None and activation.value not in ACTIVATIONS:
            unsupported.append((section, activation, f"activation={activation.value} ([{section.written}] layer "
                                                      f"{section.index}, line {activation.line})"))
    if unsupported:
        first, at, _ = unsupported[0]
        mark = Mark(filename, at.line, at.column) if at else Mark(filename, first.line, first.column)
        supported = ", ".join(f"[{name}]" for name in [*CONVERTERS, *HEADS])
        raise SpecError("cannot import " + "; ".join(text for _, _, text in unsupported), mark=mark,
                        hint=f"cnncalc has no layer type for these; it imports {supported} and the activations "
                             f"{', '.join(ACTIVATIONS)}")
