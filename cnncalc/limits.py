"""The limits that keep a hostile or mistaken spec from hanging cnncalc or overflowing
its numbers: each far past any real network."""

from __future__ import annotations

from typing import Any

from . import expr
from .layers import Cost
from .layers.base import product
from .yamlread import Map, Seq

LAYER_LIMIT = 1_000_000  # expanded entries; a spec past it is almost surely a mistake
NESTING_LIMIT = 50  # blocks and inline chains inside each other; also keeps the walk's recursion shallow
# Per sample, no size or count may pass this (the expressions' own limit): far above any real
# network, and it keeps every total, times any batch, a number a float can hold.
COUNT_LIMIT = expr.MAX_INTEGER
LIMIT_HINT = "check the sizes, channels, kernels, strides and scale factors that lead here"


def over_limit(cost: Cost) -> str | None:
    """What passes COUNT_LIMIT in a layer's cost, or None: far past any real network."""
    counts = (("output elements", product(cost.shape)), ("params", cost.params), ("buffers", cost.buffers),
              ("MACs", cost.macs), ("FLOPs", cost.full_flops))
    for what, count in counts:
        if count > COUNT_LIMIT:
            return f"{what} per sample are about 10**{int(count.bit_length() * 0.30103)}, past the limit of 10**30"
    return None


class SizeEstimate:
    """How many entries an entry expands to, from what is written (literal repeats counted),
    so a spec past LAYER_LIMIT fails before it is walked."""

    def __init__(self, blocks: dict[str, Map]) -> None:
        self.blocks = blocks
        self._sizes: dict[tuple[str, bool], int] = {}
        self._chains: dict[tuple[int, int, bool], int] = {}

    def static_size(self, entry: Map, depth: int = 0, certain: bool = False) -> int:
        """Entries one instance of `entry` expands to, literal repeats counted (for the limit).

        `certain` counts only what is expanded whatever `when` says: an entry with `when`
        counts one, as a false one does (a lower bound of the walk's count)."""
        kind = entry.get("type")
        if depth >= NESTING_LIMIT:  # an estimate: the walk reports nesting this deep where it is used
            return 1
        if certain and "when" in entry:
            return 1
        if "layers" in entry:
            return self._chain_size(entry["layers"], depth + 1, certain)
        if not isinstance(kind, str) or kind not in self.blocks:
            return 1
        key = (kind, certain)
        if key not in self._sizes:
            self._sizes[key] = 1  # a block that reaches itself is reported when it is used
            self._sizes[key] = self._chain_size(self.blocks[kind].get("layers"), depth + 1, certain)
        return self._sizes[key]

    def _chain_size(self, entries: Any, depth: int, certain: bool = False) -> int:
        if not isinstance(entries, Seq):
            return 1
        # Inline chains nest: without this, each instance of a repeat re-counts everything
        # below it, and 46 nested chains repeated 20,000 times took minutes. The spec's
        # values live as long as the walk, so their ids stay theirs.
        key = (id(entries), depth, certain)
        if key not in self._chains:
            total = 1
            for entry in entries:
                if isinstance(entry, Map):
                    total += literal_repeat(entry) * self.static_size(entry, depth, certain)
            self._chains[key] = min(total, LAYER_LIMIT + 1)
        return self._chains[key]


def literal_repeat(entry: Map) -> int:
    """The entry's repeat when written as a number; 1 otherwise (an expression is known only in the walk)."""
    repeat = entry.get("repeat", 1)
    return repeat if isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 0 else 1
