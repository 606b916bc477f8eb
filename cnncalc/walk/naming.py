"""What an entry is and what it reads: its type, its name, and the tensors `from:` names."""

from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..layers import REGISTRY
from ..layers.fields import describe
from ..scope import Context, Names
from ..yamlread import Map, Seq
from .values import Values, has_dollar


class Naming:
    def __init__(self, values: Values, blocks: dict[str, Map], everything: dict[str, Tensor]) -> None:
        self.values = values
        self.blocks = blocks
        self.everything = everything  # full dotted names, for `from: layer3.1`; the walker fills it
        self.full_name_lookups = 0  # `from:` names found there: reuse.py never reuses such an instance

    def entry_kind(self, entry: Map, context: Context, counters: dict[str, int], index: int) -> str:
        fail = self.values.fail
        written = entry.get("type")
        if "layers" in entry:
            if "type" in entry:
                raise fail("an entry has either 'type' or 'layers', not both", entry.key_marks["layers"],
                           early_id(entry, written, counters, context, index),
                           "a type for one layer, layers for an inline chain")
            return "chain"
        if "type" not in entry:
            raise fail("layer has no 'type'", entry.mark, early_id(entry, "?", counters, context, index),
                       f"add type: one of {some_types()}")
        kind = written
        if has_dollar(written):
            kind = self.values.value(entry, "type", context.scope, None,
                                     early_id(entry, written, counters, context, index))
        if not isinstance(kind, str):
            raise fail(f"type is {describe(kind)}, not a name", entry.value_marks["type"],
                       early_id(entry, written, counters, context, index), some_types())
        if kind not in REGISTRY.known and kind not in self.blocks:
            import difflib  # here: only a hint needs it, start-up does not
            close = difflib.get_close_matches(kind, list(REGISTRY) + list(self.blocks), n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise fail(f"unknown layer type '{kind}'", entry.value_marks["type"],
                       early_id(entry, kind, counters, context, index), f"{guess}see `cnncalc explain` for every type")
        return kind

    def entry_name(self, entry: Map, kind: str, counters: dict[str, int], names: Names, context: Context) -> str:
        if "name" in entry:
            name = self.values.value(entry, "name", context.scope, None, (str(entry["name"]), kind))
            if not isinstance(name, str) or not name or "$" in name:
                raise self.values.fail(f"name {describe(name)} is not a plain name", entry.value_marks["name"],
                                       (str(name), kind), "names are text such as conv1, layer2 or conv${i}")
            at = entry.value_marks["name"]
        else:
            counters[kind] = counters.get(kind, 0) + 1
            name, at = f"{kind}_{counters[kind]}", entry.mark
        if name in names.local or name in names.bound:
            raise self.values.fail(f"name '{name}' is used twice", at, (name, kind), "every layer name must be unique")
        return name

    def sources(self, entry: Map, names: Names, outputs: list[Tensor | None], layer: tuple[str, str]) -> list[Tensor]:
        """The tensors `from:` names (default: the previous entry's output)."""
        if "from" not in entry:
            previous = outputs[-1]
            if previous is None:
                raise self.values.fail("this first layer must say 'from'", entry.mark, layer,
                                       "with several inputs, name the one it consumes: from: image")
            return [previous]
        raw = entry["from"]
        items = list(raw) if isinstance(raw, Seq) else [raw]
        marks = raw.item_marks if isinstance(raw, Seq) else [entry.value_marks["from"]]
        if not items:
            raise self.values.fail("'from' is an empty list", entry.value_marks["from"], layer)
        return [self.source(item, mark, names, outputs, layer) for item, mark in zip(items, marks)]

    def no_sources(self, entry: Map, kind: str, layer: tuple[str, str]) -> list[Tensor]:
        """A layer that reads nothing (parameter, constant) must not name what it reads."""
        if "from" in entry:
            raise self.values.fail(f"{kind} takes no input, but from names one", entry.value_marks["from"], layer,
                                   f"remove from: a {kind} is read by later layers, as in from: [x, {layer[0]}]")
        return []

    def source(self, item: Any, mark: Any, names: Names, outputs: list[Tensor | None],
               layer: tuple[str, str]) -> Tensor:
        fail = self.values.fail
        if isinstance(item, int) and not isinstance(item, bool):
            if item >= 0:  # a layer can only consume what comes before it
                raise fail(f"from {item} is not a negative offset", mark, layer,
                           "from takes a layer name or a negative offset: -1 is the previous entry")
            if -item >= len(outputs) or outputs[item] is None:
                raise fail(f"from {item} reaches before the first entry", mark, layer,
                           "a negative offset counts entries back: -1 is the previous one")
            found = outputs[item]
            assert found is not None
            return found
        if not isinstance(item, str):
            raise fail(f"from is {describe(item)}", mark, layer, "from takes a name or a negative offset")
        found = names.find(item)
        if found is None:
            found = self.everything.get(item)
            self.full_name_lookups += 1
        if found is None:
            known = names.known()
            import difflib  # here: only a hint needs it, start-up does not
            close = difflib.get_close_matches(item, known, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise fail(f"from '{item}' names nothing before this layer", mark, layer,
                       f"{guess}names so far: {', '.join(known[-12:]) or 'none'}")
        return found


def early_id(entry: Map, written: Any, counters: dict[str, int], context: Context, index: int) -> tuple[str, str]:
    """The (name, type) an entry's errors show before its type is known: its name, the
    default name the written type would give it, or its place in the list."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        plain = isinstance(written, str) and written.isidentifier()
        name = f"{written}_{counters.get(written, 0) + 1}" if plain else f"layers[{index}]"
    return (context.prefix + name, str(written))


def some_types() -> str:
    return "conv2d, batchnorm2d, relu, maxpool2d, linear, add, concat, ... (`cnncalc explain` lists all)"
