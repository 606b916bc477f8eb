"""The net's layers: read with their names and types, those of other phases and stages left out, types checked."""

from __future__ import annotations

from typing import NamedTuple

from ...errors import Mark, SpecError
from ..builder import Where
from ..common import guess
from .. import ImportOptions
from ..prototxt import Field, Message
from .forks import CONVERTERS
from .layer import LAYER_KEYS, NOT_COUNTED, V1_TYPES, CaffeLayer, is_input, is_training_only, word


def _unsupported_mode(layer: CaffeLayer) -> str | None:
    """Why a layer of a supported type still cannot be imported, found before converting anything (none now:
    kept as the place such checks go)."""
    return None


def _text(layer: Message, key: str, filename: str) -> list[str]:
    return [word(item, filename, key, "data") for item in layer.all(key)]


def _layers(net: Message, filename: str, options: ImportOptions) -> list[CaffeLayer]:
    """The net's layers as CaffeLayers, those its include/exclude rules leave out of the phase left out."""
    state = _state(net, options)
    result = []
    counts: dict[str, int] = {}
    for item in net.all("layer") + net.all("layers"):
        where = Mark(filename, item.line, item.column)
        message = item.value
        if not isinstance(message, Message):
            raise SpecError(f"'{item.name}' is a value, not a block", mark=where, hint=f"write {item.name} {{ ... }}")
        type_field = message.last("type")
        if type_field is None:
            raise SpecError(f"a {item.name} without a type", mark=where, hint="add type: \"Convolution\" or another")
        written = word(type_field, filename, "type", "Convolution")
        kind = V1_TYPES.get(written, written)
        name_field = message.last("name")
        counts[kind] = counts.get(kind, 0) + 1
        name = word(name_field, filename, "name", "conv1") if name_field else f"{kind.lower()}_{counts[kind]}"
        layer_where = Where(where, (name, kind))
        for key in message.names():
            if key not in LAYER_KEYS and not key.endswith("_param"):
                at = message.last(key)
                raise SpecError(f"unknown field '{key}'", mark=Mark(filename, at.line, at.column) if at else where,
                                layer=layer_where.layer,
                                hint=f"{guess(key, LAYER_KEYS)}a layer has {', '.join(LAYER_KEYS)} and *_param blocks")
        try:
            bottoms, tops = _text(message, "bottom", filename), _text(message, "top", filename)
        except SpecError as error:
            raise SpecError(error.problem, mark=error.mark, layer=layer_where.layer, hint=error.hint) from None
        if not _included(message, state):
            continue
        result.append(CaffeLayer(message, name, kind, bottoms, tops, layer_where))
    return result


class _State(NamedTuple):
    phase: str
    stages: frozenset[str]
    level: int


def _state(net: Message, options: ImportOptions) -> _State:
    """The NetState layers are chosen by: --phase/--stage, else the file's `state { }`, else TEST (as pycaffe's
    deploy nets run), level 0, no stage."""
    found = net.last("state")
    block = found.value if found is not None and isinstance(found.value, Message) else Message(0, 0)
    phase = options.phase or _name(block.last("phase")) or "TEST"
    stages = frozenset(options.stages) if options.stages else frozenset(
        str(item.value) for item in block.all("stage") if isinstance(item.value, str))
    level = block.last("level")
    return _State(phase, stages, level.value if level is not None and isinstance(level.value, int) else 0)


def _name(found: Field | None) -> str | None:
    return found.value if found is not None and isinstance(found.value, str) else None


def _meets(rule: Message, state: _State) -> bool:
    """Caffe's Net::StateMeetsRule: phase, level range, every stage present, every not_stage absent."""
    phase = _name(rule.last("phase"))
    if phase is not None and phase != state.phase:
        return False
    low, high = rule.last("min_level"), rule.last("max_level")
    if low is not None and isinstance(low.value, int) and state.level < low.value:
        return False
    if high is not None and isinstance(high.value, int) and state.level > high.value:
        return False
    if any(str(item.value) not in state.stages for item in rule.all("stage")):
        return False
    return not any(str(item.value) in state.stages for item in rule.all("not_stage"))


def _included(layer: Message, state: _State) -> bool:
    """Caffe's Net::FilterNet: no include rule means in, unless an exclude rule is met; an include rule met
    means in. A V1 layer's own `phase: TRAIN` leaves it out of TEST, too."""
    phase = _name(layer.last("phase"))
    if phase is not None and phase != state.phase:
        return False
    rules = [(item.name, item.value) for item in layer.fields
             if item.name in ("include", "exclude") and isinstance(item.value, Message)]
    included = not any(kind == "include" for kind, _ in rules)
    for kind, rule in rules:
        if kind == "exclude" and _meets(rule, state):
            included = False
    for kind, rule in rules:
        if kind == "include" and _meets(rule, state):
            included = True
    return included


def _check_types(layers: list[CaffeLayer], filename: str) -> tuple[list[CaffeLayer], list[CaffeLayer]]:
    """(the layers to convert, those not counted); every type or mode cnncalc cannot import is listed in one
    error. Not counted: the layers that only decode or propose boxes (NOT_COUNTED, a Python layer that reads
    blobs), and every layer that reads what one of them makes."""
    unsupported: list[tuple[CaffeLayer, str]] = []
    converted, skipped = [], []
    uncounted: set[str] = set()  # blobs a layer not counted wrote last
    for layer in layers:
        if is_input(layer) or is_training_only(layer.type):
            uncounted.difference_update(layer.tops)
            continue
        if layer.type in NOT_COUNTED or layer.type == "Python" or uncounted.intersection(layer.bottoms):
            skipped.append(layer)
            uncounted.update(layer.tops)
            continue
        uncounted.difference_update(layer.tops)
        converted.append(layer)
        reason = layer.type if layer.type not in CONVERTERS else _unsupported_mode(layer)
        if reason is not None:
            unsupported.append((layer, reason))
    if unsupported:
        first = unsupported[0][0]
        listed = "; ".join(f"'{layer.name}' ({reason}, line {layer.where.mark.line if layer.where.mark else '?'})"
                           for layer, reason in unsupported)
        raise SpecError(f"cannot import {len(unsupported)} layer(s): {listed}", mark=first.where.mark,
                        hint=f"cnncalc has no layer type for these; it imports {', '.join(CONVERTERS)} "
                             "and the fork layers listed in docs/importers.md")
    return converted, skipped
