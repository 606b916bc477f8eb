"""The limits that keep a hostile or mistaken spec from hanging cnncalc or overflowing
its numbers: each far past any real network."""

from __future__ import annotations

from . import expr
from .layers import Cost
from .layers.base import product

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
