"""How many layers a spec expands to: repeat counts, and LAYER_LIMIT checked before the
walk reaches it (a spec that repeats a layer a million times fails at once)."""

from __future__ import annotations

from ..errors import SpecError
from ..graph import Tensor
from ..layers import REGISTRY
from ..layers.fields import describe
from ..limits import LAYER_LIMIT, SizeEstimate, literal_repeat
from ..scope import Context
from ..yamlread import Map, Seq
from .naming import early_id
from .values import Values


class Expansion:
    def __init__(self, values: Values, blocks: dict[str, Map]) -> None:
        self.values = values
        self.sizes = SizeEstimate(blocks)
        self.expanded = 0  # entries walked so far; the walker counts them
        self.checks: list[tuple[int, int, int]] | None = None  # the checks above, while reuse.py records

    def repeat_count(self, entry: Map, context: Context, sources: list[Tensor], layer: tuple[str, str]) -> int:
        if "repeat" not in entry:
            count = 1
        else:
            count = self.values.value(entry, "repeat", context.scope, sources[0] if sources else None, layer)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise self.values.fail(f"repeat is {describe(count)}", entry.value_marks["repeat"], layer,
                                       "repeat takes a whole number >= 1")
        written = entry.get("type")
        plain = "repeat" not in entry and isinstance(written, str) and written in REGISTRY.known \
            and written not in self.sizes.blocks  # a spec's block may shadow a later built-in type
        size = 1 if plain else self.sizes.static_size(entry)
        # The repeats around this entry will run it again (fanout), so a repeat computed
        # by an expression deep inside blocks fails here, not a million layers later.
        if self.expanded + count * size * context.fanout > LAYER_LIMIT:
            raise self.too_many(entry, count, size, context.fanout, layer)
        if self.checks is not None:
            self.checks.append((self.expanded, count * size, context.fanout))
        return count

    def too_many(self, entry: Map, count: int, size: int, fanout: int, layer: tuple[str, str]) -> SpecError:
        times = f"{count:,} x " if count > 1 else ""
        sized = f"over {LAYER_LIMIT:,}" if size > LAYER_LIMIT else f"{size:,}"
        around = f", {fanout:,} times over by the repeats around it" if fanout > 1 else ""
        return self.values.fail(f"the spec expands to more than {LAYER_LIMIT:,} layers here",
                                entry.value_marks.get("repeat", entry.mark), layer,
                                f"check repeat and nesting: this entry is {times}{sized} layers{around}")

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
            if ("repeat" not in entry and isinstance(written, str) and written in REGISTRY.known  # a type may be a list
                    and written not in self.sizes.blocks):
                total += 1  # the common case, kept cheap for 100,000-layer chains
            else:
                count, size = literal_repeat(entry), self.sizes.static_size(entry)
                if count * size > LAYER_LIMIT:  # the entry alone: reported as the walk would
                    raise self.too_many(entry, count, size, 1, self.early_id(entry, written, counters, context, index))
                total += count * self.sizes.static_size(entry, certain=True)
            if total > LAYER_LIMIT:
                raise self.values.fail(f"the spec expands to more than {LAYER_LIMIT:,} layers here",
                                       entry.value_marks.get("repeat", entry.mark),
                                       self.early_id(entry, written, counters, context, index),
                                       f"check repeat and nesting: the entries up to this one make over "
                                       f"{LAYER_LIMIT:,} layers")

    @staticmethod
    def early_id(entry: Map, written: object, counters: dict[str, int], context: Context,
                 index: int) -> tuple[str, str]:
        """The layer id `early_id` gives, with this entry's own count already in `counters`."""
        before = dict(counters)
        if "name" not in entry and isinstance(written, str):
            before[written] -= 1
        return early_id(entry, written, before, context, index)
