"""The graph walk: a spec's entries, blocks, repeats and branches, in execution order,
each primitive layer inferred from the shapes reaching it.

Expansion and shape inference happen in one pass because fields may depend on the
shapes (`in_channels`, `in_shape`). Every problem becomes a SpecError naming the
file, line, column and layer; the walk yields frozen LayerRecords.
"""

from __future__ import annotations

import difflib
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import Any

from . import expr, interpolate
from .errors import FieldError, Mark, ShapeError, SpecError
from .field import receptive_field
from .graph import Field, LayerRecord, Tensor
from .layers import REGISTRY, Cost, Layer, build
from .layers.base import ENTRY_FIELDS
from .layers.fields import describe
from .limits import LAYER_LIMIT, LIMIT_HINT, NESTING_LIMIT, SizeEstimate, literal_repeat, over_limit
from .scope import Context, Names, expression_problem
from .yamlread import Map, Seq, position


class Walker:
    def __init__(self, filename: str, blocks: dict[str, Map], global_params: dict[str, Any]) -> None:
        self.filename = filename
        self.blocks = blocks
        self.globals_scope = global_params
        self.records: list[LayerRecord] = []
        self.everything: dict[str, Tensor] = {}  # full dotted names, for `from: layer3.1`
        self.expanded = 0
        self.last_top_level = ""
        self.sizes = SizeEstimate(blocks)
        self._layers: dict[Any, Layer] = {}
        self._inferred: dict[Any, tuple[Layer, Cost]] = {}
        self._fields: dict[Any, Field] = {}
        self.evaluator = interpolate.Evaluator()

    def mark(self, raw: Any) -> Mark:
        line, column = position(raw)
        return Mark(self.filename, line, column)

    def fail(self, problem: str, raw: Any, layer: tuple[str, str] | None = None, hint: str | None = None) -> SpecError:
        return SpecError(problem, mark=self.mark(raw), layer=layer, hint=hint)

    # -- chains and entries ---------------------------------------------------------

    def chain(self, entries: Any, raw_mark: Any, context: Context, names: Names, first: Tensor | None) -> Tensor:
        """Run a list of entries; returns the last entry's output."""
        if not isinstance(entries, Seq) or not entries:
            raise self.fail("'layers' must be a non-empty list of layers", raw_mark,
                            hint="write layers: [{type: conv2d, ...}, ...]")
        if not context.path:
            self.check_total(entries, context)
        outputs: list[Tensor | None] = [first]
        counters: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, Map):
                raise self.fail("a layer must be a mapping with 'type' (or 'layers')", entries.item_marks[index],
                                (f"{context.prefix}layers[{index}]", "?"), "write {type: relu}")
            outputs.append(self.entry(entry, context, names, outputs, counters))
        last = outputs[-1]
        assert last is not None  # the loop ran at least once and entries always yield a tensor
        return last

    def entry(self, entry: Map, context: Context, names: Names, outputs: list[Tensor | None],
              counters: dict[str, int]) -> Tensor:
        kind = self.entry_kind(entry, context, counters, len(outputs) - 1)
        name = self.entry_name(entry, kind, counters, names, context)
        if not context.prefix:
            self.last_top_level = name  # the default output's name
        layer_id = (context.prefix + name, kind)
        sources = self.sources(entry, names, outputs, layer_id)
        repeat = self.repeat_count(entry, context, sources, layer_id)
        tensor = sources[0]
        for index in range(repeat):
            instance = f"{name}.{index}" if "repeat" in entry else name
            inputs = sources if index == 0 else [tensor]  # instances after the first chain on
            inner = context
            if "repeat" in entry:  # `i` in scope; the instances still to come multiply what is inside
                inner = replace(context, scope=ChainMap({"i": index}, context.scope),
                                fanout=context.fanout * (repeat - index))
            tensor = self.instance(entry, kind, instance, inner, names, inputs)
            if "repeat" in entry:
                names.local[instance] = tensor
                self.everything[context.prefix + instance] = tensor
        names.local[name] = tensor
        self.everything[context.prefix + name] = tensor
        return tensor

    def entry_kind(self, entry: Map, context: Context, counters: dict[str, int], index: int) -> str:
        written = entry.get("type")
        if "layers" in entry:
            if "type" in entry:
                raise self.fail("an entry has either 'type' or 'layers', not both", entry.key_marks["layers"],
                                _early_id(entry, written, counters, context, index),
                                "a type for one layer, layers for an inline chain")
            return "chain"
        if "type" not in entry:
            raise self.fail("layer has no 'type'", entry.mark, _early_id(entry, "?", counters, context, index),
                            f"add type: one of {_some_types()}")
        kind = written
        if _has_dollar(written):
            kind = self.value(entry, "type", context.scope, None, _early_id(entry, written, counters, context, index))
        if not isinstance(kind, str):
            raise self.fail(f"type is {describe(kind)}, not a name", entry.value_marks["type"],
                            _early_id(entry, written, counters, context, index), _some_types())
        if kind not in REGISTRY and kind not in self.blocks:
            close = difflib.get_close_matches(kind, list(REGISTRY) + list(self.blocks), n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise self.fail(f"unknown layer type '{kind}'", entry.value_marks["type"],
                            _early_id(entry, kind, counters, context, index),
                            f"{guess}see `cnncalc explain` for every type")
        return kind

    def entry_name(self, entry: Map, kind: str, counters: dict[str, int], names: Names, context: Context) -> str:
        if "name" in entry:
            name = self.value(entry, "name", context.scope, None, (str(entry["name"]), kind))
            if not isinstance(name, str) or not name or "$" in name:
                raise self.fail(f"name {describe(name)} is not a plain name", entry.value_marks["name"],
                                (str(name), kind), "names are text such as conv1, layer2 or conv${i}")
            at = entry.value_marks["name"]
        else:
            counters[kind] = counters.get(kind, 0) + 1
            name, at = f"{kind}_{counters[kind]}", entry.mark
        if name in names.local or name in names.bound:
            raise self.fail(f"name '{name}' is used twice", at, (name, kind), "every layer name must be unique")
        return name

    def sources(self, entry: Map, names: Names, outputs: list[Tensor | None], layer: tuple[str, str]) -> list[Tensor]:
        """The tensors `from:` names (default: the previous entry's output)."""
        if "from" not in entry:
            previous = outputs[-1]
            if previous is None:
                raise self.fail("this first layer must say 'from'", entry.mark, layer,
                                "with several inputs, name the one it consumes: from: image")
            return [previous]
        raw = entry["from"]
        items = list(raw) if isinstance(raw, Seq) else [raw]
        marks = raw.item_marks if isinstance(raw, Seq) else [entry.value_marks["from"]]
        if not items:
            raise self.fail("'from' is an empty list", entry.value_marks["from"], layer)
        return [self.source(item, mark, names, outputs, layer) for item, mark in zip(items, marks)]

    def source(self, item: Any, mark: Any, names: Names, outputs: list[Tensor | None],
               layer: tuple[str, str]) -> Tensor:
        if isinstance(item, int) and not isinstance(item, bool):
            if item >= 0:  # a layer can only consume what comes before it
                raise self.fail(f"from {item} is not a negative offset", mark, layer,
                                "from takes a layer name or a negative offset: -1 is the previous entry")
            if -item >= len(outputs) or outputs[item] is None:
                raise self.fail(f"from {item} reaches before the first entry", mark, layer,
                                "a negative offset counts entries back: -1 is the previous one")
            found = outputs[item]
            assert found is not None
            return found
        if not isinstance(item, str):
            raise self.fail(f"from is {describe(item)}", mark, layer, "from takes a name or a negative offset")
        found = names.find(item) or self.everything.get(item)
        if found is None:
            known = names.known()
            close = difflib.get_close_matches(item, known, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise self.fail(f"from '{item}' names nothing before this layer", mark, layer,
                            f"{guess}names so far: {', '.join(known[-12:]) or 'none'}")
        return found

    def repeat_count(self, entry: Map, context: Context, sources: list[Tensor], layer: tuple[str, str]) -> int:
        if "repeat" not in entry:
            count = 1
        else:
            count = self.value(entry, "repeat", context.scope, sources[0], layer)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise self.fail(f"repeat is {describe(count)}", entry.value_marks["repeat"], layer,
                                "repeat takes a whole number >= 1")
        plain = "repeat" not in entry and isinstance(entry.get("type"), str) and entry["type"] in REGISTRY
        size = 1 if plain else self.sizes.static_size(entry)
        # The repeats around this entry will run it again (fanout), so a repeat computed
        # by an expression deep inside blocks fails here, not a million layers later.
        if self.expanded + count * size * context.fanout > LAYER_LIMIT:
            raise self.too_many(entry, count, size, context.fanout, layer)
        return count

    def too_many(self, entry: Map, count: int, size: int, fanout: int, layer: tuple[str, str]) -> SpecError:
        times = f"{count:,} x " if count > 1 else ""
        sized = f"over {LAYER_LIMIT:,}" if size > LAYER_LIMIT else f"{size:,}"
        around = f", {fanout:,} times over by the repeats around it" if fanout > 1 else ""
        return self.fail(f"the spec expands to more than {LAYER_LIMIT:,} layers here",
                         entry.value_marks.get("repeat", entry.mark), layer,
                         f"check repeat and nesting: this entry is {times}{sized} layers{around}")

    def instance(self, entry: Map, kind: str, name: str, context: Context, names: Names,
                 inputs: list[Tensor]) -> Tensor:
        self.expanded += 1
        layer_id = (context.prefix + name, kind)
        if "when" in entry:
            condition = self.value(entry, "when", context.scope, inputs[0], layer_id)
            if not isinstance(condition, bool):
                raise self.fail(f"when is {describe(condition)}", entry.value_marks["when"], layer_id,
                                "when takes true or false, usually an expression like ${stride != 1}")
            if not condition:
                return inputs[0]
        if (kind == "chain" or kind in self.blocks) and len(context.path) >= NESTING_LIMIT:
            raise self.fail(f"blocks and inline chains nest deeper than {NESTING_LIMIT} levels",
                            entry.value_marks.get("type", entry.mark), layer_id,
                            "real networks nest a few levels: check which block uses which")
        if kind == "chain":
            inner = replace(context, prefix=f"{context.prefix}{name}.", path=context.path + (context.prefix + name,),
                            block_types=context.block_types + ("chain",))
            bound = {"input": inputs[0]}
            return self.chain(entry["layers"], entry.value_marks["layers"], inner, Names(bound=bound, parent=names),
                              inputs[0])
        if kind in self.blocks:
            return self.block(entry, kind, name, context, inputs)
        return self.primitive(entry, kind, name, context, inputs)

    # -- primitive layers and blocks ------------------------------------------------

    def primitive(self, entry: Map, kind: str, name: str, context: Context, inputs: list[Tensor]) -> Tensor:
        full_name = context.prefix + name
        layer_id = (full_name, kind)
        # Chains repeat the same layer on the same shapes thousands of times: infer each once,
        # keyed by the field values (with their types: 1, 1.0 and true differ) and the shapes.
        values: dict[str, Any] = {}
        parts = []
        for name_, raw in entry.items():
            if name_ in ENTRY_FIELDS:
                continue
            kind_of = type(raw)
            if kind_of is not int and kind_of is not float and kind_of is not bool:
                raw = self.value(entry, name_, context.scope, inputs[0], layer_id) if _has_dollar(raw) else raw
                kind_of = type(raw)
            values[name_] = raw
            parts.append((name_, kind_of, _hashable(raw) if isinstance(raw, (list, dict)) else raw))
        shapes = (inputs[0].shape,) if len(inputs) == 1 else tuple(tensor.shape for tensor in inputs)
        key = (kind, tuple(parts), shapes)
        known = self._inferred.get(key)
        if known is None:
            known = self._inferred[key] = self.infer(kind, values, entry, layer_id, inputs)
        layer, cost = known
        fields = (cost.field, inputs[0].field) if len(inputs) == 1 else None
        receptive = self._fields.get(fields) if fields else None
        if receptive is None:
            receptive = receptive_field(cost.field, inputs, layer.arity)
            if fields:
                self._fields[fields] = receptive
        self.records.append(LayerRecord(full_name, kind, tuple(tensor.producer for tensor in inputs), layer, cost,
                                        receptive, context.path, context.block_types, entry.mark))
        return Tensor(cost.shape, full_name, receptive)

    def infer(self, kind: str, values: dict[str, Any], entry: Map, layer_id: tuple[str, str],
              inputs: list[Tensor]) -> tuple[Layer, Cost]:
        layer = self.layer(kind, values, entry, layer_id)
        if layer.arity == "one" and len(inputs) != 1:
            raise self.fail(f"from names {len(inputs)} inputs, but {kind} takes one", entry.value_marks["from"],
                            layer_id, "give from one name or offset (add, sub, mul and concat merge several)")
        shapes = tuple(tensor.shape for tensor in inputs)
        try:
            cost = layer.infer(shapes)
        except ShapeError as error:
            described = " and ".join("x".join(map(str, shape)) for shape in shapes)
            raise self.fail(f"{error.problem} (input {described})", entry.mark, layer_id, error.hint) from None
        if any(size < 1 for size in cost.shape):
            raise self.fail(f"output size {list(cost.shape)} is below 1", entry.mark, layer_id)
        problem = over_limit(cost)
        if problem:
            raise self.fail(problem, entry.mark, layer_id, LIMIT_HINT)
        return layer, cost

    def layer(self, kind: str, values: dict[str, Any], entry: Map, layer_id: tuple[str, str]) -> Layer:
        key = (kind, _hashable(values))
        cached = self._layers.get(key)
        if cached is not None:
            return cached
        try:
            layer = build(kind, values)
        except FieldError as error:
            if error.problem.startswith("unknown field") and error.field in entry.key_marks:
                at = entry.key_marks[error.field]  # first: a YAML key may itself be null
            elif error.field is None:
                at = entry.mark
            else:
                at = entry.value_marks.get(error.field, entry.mark)
            raise self.fail(error.problem, at, layer_id, error.hint) from None
        self._layers[key] = layer
        return layer

    def block(self, entry: Map, kind: str, name: str, context: Context, inputs: list[Tensor]) -> Tensor:
        full_name = context.prefix + name
        layer_id = (full_name, kind)
        if kind in context.active_blocks:
            cycle = " -> ".join(context.active_blocks[context.active_blocks.index(kind):] + (kind,))
            raise self.fail(f"block '{kind}' uses itself ({cycle})", entry.value_marks["type"], layer_id,
                            "a block cannot contain itself, directly or through other blocks")
        block = self.blocks[kind]
        input_names = block.get("inputs")
        declared: Map = block.get("params") or Map(None)
        passed = {key: self.value(entry, key, context.scope, inputs[0], layer_id)
                  for key in entry if key not in ENTRY_FIELDS}
        for key in passed:
            if key not in declared:
                known = [str(name) for name in declared]  # YAML keys may be numbers or null
                close = difflib.get_close_matches(str(key), known, n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                raise self.fail(f"block '{kind}' has no parameter '{key}'", entry.key_marks[key], layer_id,
                                f"{guess}parameters: {', '.join(known) or 'none'}")
        if input_names is None:
            if len(inputs) != 1:
                raise self.fail(f"from names {len(inputs)} inputs, but block '{kind}' takes one",
                                entry.value_marks.get("from", entry.mark), layer_id,
                                "a block with several inputs lists them: inputs: [x, skip]")
            bound = {"input": inputs[0]}
        else:
            if len(inputs) != len(input_names):
                raise self.fail(f"block '{kind}' takes {len(input_names)} inputs ({', '.join(input_names)}); "
                                f"from names {len(inputs)}", entry.value_marks.get("from", entry.mark), layer_id)
            bound = dict(zip(input_names, inputs))
        own: dict[str, Any] = {"i": context.scope["i"]} if "i" in context.scope else {}
        _shape_scope(own, inputs[0])
        scope = ChainMap(own, self.globals_scope)  # the globals, shadowed by the block's own names
        for key, default in declared.items():
            if key in passed:
                own[key] = passed[key]
            else:
                own[key] = self.resolve(default, scope, declared.value_marks[key], layer_id)
        inner = replace(context, scope=scope, prefix=f"{full_name}.", path=context.path + (full_name,),
                        block_types=context.block_types + (kind,), active_blocks=context.active_blocks + (kind,))
        first = inputs[0] if input_names is None else None
        return self.chain(block["layers"], block.value_marks["layers"], inner, Names(bound=bound), first)

    # -- values and expressions -------------------------------------------------------

    def value(self, entry: Map, key: str, scope: MutableMapping[str, Any], first: Tensor | None,
              layer: tuple[str, str]) -> Any:
        """A field's value, with `$name` and `${...}` evaluated in scope."""
        raw = entry[key]
        if not _has_dollar(raw):
            return raw
        full: Mapping[str, Any] = scope
        if first is not None:
            shape_names: dict[str, Any] = {}
            _shape_scope(shape_names, first)
            full = ChainMap(shape_names, scope)  # not a copy: a scope may hold thousands of params
        return self.resolve(raw, full, entry.value_marks[key], layer)

    def resolve(self, raw: Any, scope: Mapping[str, Any], mark: Any, layer: tuple[str, str] | None) -> Any:
        try:
            if isinstance(raw, list):
                return [self.resolve(item, scope, mark, layer) for item in raw]
            return interpolate.resolve(raw, scope, self.evaluator)
        except expr.ExpressionError as error:
            problem, hint = expression_problem(error)
            raise self.fail(problem, mark, layer, hint) from None

    def check_total(self, entries: Seq, context: Context) -> None:
        """Fail at the top-level entry where the layers that will certainly be expanded pass
        the limit, before walking any: a spec that repeats a layer a million times and then
        adds one more fails at once, not after walking the million."""
        total = 0
        counters: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, Map):
                continue  # the walk reports it where it is
            written = "chain" if "layers" in entry else entry.get("type", "?")
            if "name" not in entry and isinstance(written, str):
                counters[written] = counters.get(written, 0) + 1
            if "repeat" not in entry and isinstance(written, str) and written in REGISTRY:  # a type may be a list
                total += 1  # the common case, kept cheap for 100,000-layer chains
            else:
                count, size = literal_repeat(entry), self.sizes.static_size(entry)
                if count * size > LAYER_LIMIT:  # the entry alone: reported as the walk would
                    raise self.too_many(entry, count, size, 1, self.early_id(entry, written, counters, context, index))
                total += count * self.sizes.static_size(entry, certain=True)
            if total > LAYER_LIMIT:
                raise self.fail(f"the spec expands to more than {LAYER_LIMIT:,} layers here",
                                entry.value_marks.get("repeat", entry.mark),
                                self.early_id(entry, written, counters, context, index),
                                f"check repeat and nesting: the entries up to this one make over "
                                f"{LAYER_LIMIT:,} layers")

    @staticmethod
    def early_id(entry: Map, written: Any, counters: dict[str, int], context: Context,
                 index: int) -> tuple[str, str]:
        """The layer id `_early_id` gives, with this entry's own count already in `counters`."""
        before = dict(counters)
        if "name" not in entry and isinstance(written, str):
            before[written] -= 1
        return _early_id(entry, written, before, context, index)


def _shape_scope(scope: dict[str, Any], tensor: Tensor) -> None:
    scope["in_channels"] = tensor.shape[0]
    scope["in_shape"] = list(tensor.shape)


def _has_dollar(value: Any) -> bool:
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, list):
        return any(_has_dollar(item) for item in value)
    return False


def _hashable(value: Any) -> Any:
    """A cache key for field values; the types keep 1, 1.0 and true apart."""
    if isinstance(value, dict):  # isinstance: the reader's Seq and Map are list and dict too
        return tuple((key, type(item), _hashable(item) if isinstance(item, (list, dict)) else item)
                     for key, item in value.items())
    return tuple((type(item), _hashable(item) if isinstance(item, (list, dict)) else item) for item in value)


def _early_id(entry: Map, written: Any, counters: dict[str, int], context: Context, index: int) -> tuple[str, str]:
    """The (name, type) an entry's errors show before its type is known: its name, the
    default name the written type would give it, or its place in the list."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        plain = isinstance(written, str) and written.isidentifier()
        name = f"{written}_{counters.get(written, 0) + 1}" if plain else f"layers[{index}]"
    return (context.prefix + name, str(written))


def _some_types() -> str:
    return "conv2d, batchnorm2d, relu, maxpool2d, linear, add, concat, ... (`cnncalc explain` lists all)"

