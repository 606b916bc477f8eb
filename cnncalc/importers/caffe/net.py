"""The net's layers: read with their names and types, TRAIN-phase ones left out, types checked."""

from __future__ import annotations

from ...errors import Mark, SpecError
from ..builder import Where
from ..common import guess
from ..prototxt import Message
from .converter import CONVERTERS
from .layer import INPUT_TYPES, LAYER_KEYS, TRAINING_ONLY, V1_TYPES, CaffeLayer, word


def _unsupported_mode(layer: CaffeLayer) -> str | None:
    """Why a layer of a supported type still cannot be imported, found before converting anything."""
    def choice(block: str, key: str) -> str | None:
        found = layer.message.last(block)
        if found is None or not isinstance(found.value, Message):
            return None
        item = found.value.last(key)
        return item.value if item is not None and isinstance(item.value, str) else None

    if layer.type == "Eltwise" and choice("eltwise_param", "operation") == "MAX":
        return "Eltwise MAX"
    if layer.type == "Pooling" and choice("pooling_param", "pool") == "STOCHASTIC":
        return "Pooling STOCHASTIC"
    if layer.type == "LRN" and choice("lrn_param", "norm_region") == "WITHIN_CHANNEL":
        return "LRN WITHIN_CHANNEL"
    return None


def _text(layer: Message, key: str, filename: str) -> list[str]:
    return [word(item, filename, key, "data") for item in layer.all(key)]


def _layers(net: Message, filename: str) -> list[CaffeLayer]:
    """The net's layers as CaffeLayers, those of the TRAIN phase only left out."""
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
        if _phase_excluded(message):
            continue
        result.append(CaffeLayer(message, name, kind, bottoms, tops, layer_where))
    return result


def _phase_excluded(layer: Message) -> bool:
    """True for a layer that runs only in the TRAIN phase (include/exclude rules, or phase:)."""
    def phases(key: str) -> list[str]:
        found = []
        for rule in layer.all(key):
            phase = rule.value.last("phase") if isinstance(rule.value, Message) else None
            if phase is not None and isinstance(phase.value, str):
                found.append(phase.value)
        return found

    phase = layer.last("phase")
    if phase is not None and phase.value == "TRAIN":
        return True
    included = phases("include")
    return bool(included and "TEST" not in included) or "TEST" in phases("exclude")


def _check_types(layers: list[CaffeLayer], filename: str) -> list[CaffeLayer]:
    """The layers to convert; every type or mode cnncalc cannot import is listed in one error."""
    unsupported: list[tuple[CaffeLayer, str]] = []
    for layer in layers:
        if layer.type in INPUT_TYPES or layer.type in TRAINING_ONLY:
            continue
        reason = layer.type if layer.type not in CONVERTERS else _unsupported_mode(layer)
        if reason is not None:
            unsupported.append((layer, reason))
    if unsupported:
        first = unsupported[0][0]
        listed = "; ".join(f"'{layer.name}' ({reason}, line {layer.where.mark.line if layer.where.mark else '?'})"
                           for layer, reason in unsupported)
        raise SpecError(f"cannot import {len(unsupported)} layer(s): {listed}", mark=first.where.mark,
                        hint=f"cnncalc has no layer type for these; it imports {', '.join(CONVERTERS)} "
                             "(Eltwise SUM and PROD, Pooling MAX and AVE, LRN ACROSS_CHANNELS)")
    return [layer for layer in layers if layer.type not in INPUT_TYPES and layer.type not in TRAINING_ONLY]
