"""The traversal: chains of entries, repeats, inline chains and blocks, in execution order.

Each entry is named and wired by naming.py, counted against the layer limit by
expansion.py, and a primitive layer is inferred by inference.py; this module only
decides what runs where, with which scope and which inputs.
"""

from __future__ import annotations

from collections import ChainMap
from typing import Any

from ..graph import LayerRecord, Tensor
from ..layers import REGISTRY
from ..layers.base import ENTRY_FIELDS
from ..layers.fields import describe
from ..limits import NESTING_LIMIT
from ..scope import Context, Names
from ..yamlread import Map, Seq
from .expansion import Expansion
from .inference import Inference
from .naming import Naming
from .reuse import Reuse
from .values import Values, has_dollar, shape_scope


class Walker:
    def __init__(self, filename: str, blocks: dict[str, Map], global_params: dict[str, Any]) -> None:
        self.blocks = blocks
        self.globals_scope = global_params
        self.everything: dict[str, Tensor] = {}  # full dotted names, for `from: layer3.1`
        self.last_top_level = ""
        self.values = Values(filename)
        self.naming = Naming(self.values, blocks, self.everything)
        self.expansion = Expansion(self.values, blocks)
        self.inference = Inference(self.values)
        self.reuse = Reuse(blocks, self.inference, self.naming, self.expansion)

    @property
    def records(self) -> list[LayerRecord]:
        return self.inference.records

    @property
    def expanded(self) -> int:
        return self.expansion.expanded

    def chain(self, entries: Any, raw_mark: Any, context: Context, names: Names, first: Tensor | None) -> Tensor:
        """Run a list of entries; returns the last entry's output."""
        if not isinstance(entries, Seq) or not entries:
            raise self.values.fail("'layers' must be a non-empty list of layers", raw_mark,
                                   hint="write layers: [{type: conv2d, ...}, ...]")
        if not context.path:
            self.expansion.check_total(entries, context)
        outputs: list[Tensor | None] = [first]
        counters: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, Map):
                raise self.values.fail("a layer must be a mapping with 'type' (or 'layers')", entries.item_marks[index],
                                       (f"{context.prefix}layers[{index}]", "?"), "write {type: relu}")
            outputs.append(self.entry(entry, context, names, outputs, counters))
        last = outputs[-1]
        assert last is not None  # the loop ran at least once and entries always yield a tensor
        return last

    def entry(self, entry: Map, context: Context, names: Names, outputs: list[Tensor | None],
              counters: dict[str, int]) -> Tensor:
        kind = self.naming.entry_kind(entry, context, counters, len(outputs) - 1)
        name = self.naming.entry_name(entry, kind, counters, names, context)
        if not context.prefix:
            self.last_top_level = name  # the default output's name
        layer_id = (context.prefix + name, kind)
        sourceless = kind not in self.blocks and takes_no_input(kind)  # a spec's block wins over a later type
        sources = self.naming.no_sources(entry, kind, layer_id) if sourceless else \
            self.naming.sources(entry, names, outputs, layer_id)
        repeat = self.expansion.repeat_count(entry, context, sources, layer_id)
        tensor: Tensor | None = sources[0] if sources else None
        if "repeat" not in entry:
            tensor = self.instance(entry, kind, name, context, names, sources)
        else:
            scope, prefix, path, types, active = (context.scope, context.prefix, context.path, context.block_types,
                                                  context.active_blocks)
            # A primitive layer without `$` reads neither `i` nor what the repeats multiply.
            plain = kind != "chain" and kind not in self.blocks and not any(
                has_dollar(value) for key, value in entry.items() if key != "name")
            for index in range(repeat):
                instance = f"{name}.{index}"
                # instances after the first chain on; a parameter's instances are separate tensors
                inputs = sources if index == 0 or sourceless or tensor is None else [tensor]
                # `i` in scope; the instances still to come multiply what is inside
                inner = context if plain else Context(ChainMap({"i": index}, scope), prefix, path, types, active,
                                                      context.fanout * (repeat - index))
                tensor = self.instance(entry, kind, instance, inner, names, inputs)
                names.local[instance] = tensor
                self.publish(prefix + instance, tensor)
        assert tensor is not None  # repeat is at least 1
        names.local[name] = tensor
        self.publish(context.prefix + name, tensor)
        return tensor

    def publish(self, full_name: str, tensor: Tensor) -> None:
        """Make a name reachable by its full name (`from: layer3.1`, outputs)."""
        self.everything[full_name] = tensor
        if self.reuse.writes is not None:
            self.reuse.writes.append((full_name, tensor))

    def instance(self, entry: Map, kind: str, name: str, context: Context, names: Names,
                 inputs: list[Tensor]) -> Tensor:
        self.expansion.expanded += 1
        layer_id = (context.prefix + name, kind)
        if "when" in entry:
            condition = self.values.value(entry, "when", context.scope, inputs[0] if inputs else None, layer_id)
            if not isinstance(condition, bool):
                raise self.values.fail(f"when is {describe(condition)}", entry.value_marks["when"], layer_id,
                                       "when takes true or false, usually an expression like ${stride != 1}")
            if not condition and not inputs:
                raise self.values.fail(f"when is false, but {kind} has no input to pass on",
                                       entry.value_marks["when"], layer_id,
                                       "a layer without inputs cannot be skipped; put when on the layers that read it")
            if not condition:
                return inputs[0]
        if (kind == "chain" or kind in self.blocks) and len(context.path) >= NESTING_LIMIT:
            raise self.values.fail(f"blocks and inline chains nest deeper than {NESTING_LIMIT} levels",
                                   entry.value_marks.get("type", entry.mark), layer_id,
                                   "real networks nest a few levels: check which block uses which")
        if kind == "chain":
            inner = context._replace(prefix=f"{context.prefix}{name}.", path=context.path + (context.prefix + name,),
                                     block_types=context.block_types + ("chain",))
            bound = {"input": inputs[0]}
            return self.chain(entry["layers"], entry.value_marks["layers"], inner, Names(bound=bound, parent=names),
                              inputs[0])
        if kind in self.blocks:
            return self.block(entry, kind, name, context, inputs)
        return self.inference.primitive(entry, kind, name, context, inputs)

    def block(self, entry: Map, kind: str, name: str, context: Context, inputs: list[Tensor]) -> Tensor:
        fail = self.values.fail
        full_name = context.prefix + name
        layer_id = (full_name, kind)
        if kind in context.active_blocks:
            cycle = " -> ".join(context.active_blocks[context.active_blocks.index(kind):] + (kind,))
            raise fail(f"block '{kind}' uses itself ({cycle})", entry.value_marks["type"], layer_id,
                       "a block cannot contain itself, directly or through other blocks")
        block = self.blocks[kind]
        input_names = block.get("inputs")
        declared: Map = block.get("params") or Map(None)
        passed = {key: self.values.value(entry, key, context.scope, inputs[0], layer_id)
                  for key in entry if key not in ENTRY_FIELDS}
        for key in passed:
            if key not in declared:
                known = [str(name) for name in declared]  # YAML keys may be numbers or null
                import difflib  # here: only a hint needs it, start-up does not
                close = difflib.get_close_matches(str(key), known, n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                raise fail(f"block '{kind}' has no parameter '{key}'", entry.key_marks[key], layer_id,
                           f"{guess}parameters: {', '.join(known) or 'none'}")
        if input_names is None:
            if len(inputs) != 1:
                raise fail(f"from names {len(inputs)} inputs, but block '{kind}' takes one",
                           entry.value_marks.get("from", entry.mark), layer_id,
                           "a block with several inputs lists them: inputs: [x, skip]")
            bound = {"input": inputs[0]}
        else:
            if len(inputs) != len(input_names):
                raise fail(f"block '{kind}' takes {len(input_names)} inputs ({', '.join(input_names)}); "
                           f"from names {len(inputs)}", entry.value_marks.get("from", entry.mark), layer_id)
            bound = dict(zip(input_names, inputs))
        own: dict[str, Any] = {"i": context.scope["i"]} if "i" in context.scope else {}
        # The defaults follow from what is passed, `i`, the input shapes and the globals: an
        # instance seen before skips them too (a block of 100,000 parameters used 1,000 times).
        reuse = self.reuse
        reused = reuse.key(kind, {**own, **passed}, inputs, context)
        if reused is not None:
            known = reuse.known.get(reused)
            if known is not None and reuse.charge(known, self.expansion.expanded, context.fanout):
                self.expansion.expanded += known.expanded
                return reuse.replay(known, full_name, context, inputs)
            marks, before = reuse.start(), self.expansion.expanded
        shape_scope(own, inputs[0])
        scope = ChainMap(own, self.globals_scope)  # the globals, shadowed by the block's own names
        for key, default in declared.items():
            if key in passed:
                own[key] = passed[key]
            else:
                own[key] = self.values.resolve(default, scope, declared.value_marks[key], layer_id)
        inner = context._replace(scope=scope, prefix=f"{full_name}.", path=context.path + (full_name,),
                                 block_types=context.block_types + (kind,),
                                 active_blocks=context.active_blocks + (kind,))
        first = inputs[0] if input_names is None else None
        output = self.chain(block["layers"], block.value_marks["layers"], inner, Names(bound=bound), first)
        if reused is not None:
            reuse.finish(reused, marks, (before, self.expansion.expanded), full_name, context, inputs, output)
        return output


def takes_no_input(kind: str) -> bool:
    """A primitive type that reads nothing (parameter, constant): `from:` does not apply."""
    return kind in REGISTRY.known and REGISTRY[kind].arity == "none"
