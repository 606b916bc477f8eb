"""Properties of random specs with token layers (strategies_tokens.py): they stay valid and
no output, parameter count or MAC count shrinks when the input grows; the layers sum to the
totals; and every layer type that has MACs here costs, in the `full` convention, at least the
multiplies of its MACs plus one add fewer per output (2 x MACs - outputs); attention, whose
products come in stages with outputs of their own, at least a multiply per MAC."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_spec

import cnncalc

EXAMPLES = int(os.environ.get("CNNCALC_TOKEN_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOKEN_SPECS = random_spec(ranks=(1, 2, 3), tokens=True)
PRODUCTS = ("matmul", "attention", "multihead_attention", "einsum")
STAGED = ("attention", "multihead_attention")


def elements(shape: tuple[int, ...]) -> int:
    result = 1
    for size in shape:
        result *= size
    return result


@SETTINGS
@given(TOKEN_SPECS, st.lists(st.integers(0, 12), min_size=3, max_size=3))
def test_token_networks_grow_with_the_input(text: str, growth: list[int]) -> None:
    base = cnncalc.analyze(text)
    channels, *sizes = base.inputs["input"][1:]
    grown = cnncalc.analyze(text, inputs={"": (channels, *(size + extra for size, extra in zip(sizes, growth)))})
    assert [row.name for row in grown.layers] == [row.name for row in base.layers]
    for small, big in zip(base.layers, grown.layers):
        assert len(big.output_shape) == len(small.output_shape), small.name
        assert all(b >= s for s, b in zip(small.output_shape, big.output_shape)), (small.name, small.type)
        for count in ("params", "macs", "activation_bytes"):
            assert getattr(big, count) >= getattr(small, count), (small.name, count)


@SETTINGS
@given(TOKEN_SPECS)
def test_token_layers_sum_to_the_totals_and_full_counts_every_product(text: str) -> None:
    full = cnncalc.analyze(text, convention="full")
    assert full.totals.params == sum(row.params for row in full.layers)
    assert full.totals.buffers == sum(row.buffers for row in full.layers)
    assert full.totals.macs == sum(row.macs for row in full.layers)
    for row in full.layers:
        if row.type in STAGED:  # projections and two products: each stage saves an add per its own output
            assert row.flops >= row.macs, (row.name, row.type)
        elif row.type in PRODUCTS:
            assert row.flops >= 2 * row.macs - elements(row.output_shape), (row.name, row.type)
        elif not row.type.startswith(("conv", "linear")):
            assert row.macs == 0, (row.name, row.type)
