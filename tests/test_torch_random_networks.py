"""Random networks (chains, branches, merges, blocks over every family, 1-D to 3-D, transformer
encoders on tokens) built in PyTorch from their spec: every layer's shape, parameters, buffers
and MACs equal PyTorch's.

Set CNNCALC_TORCH_NETWORKS to run more (CI default 150)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from strategies import random_spec  # noqa: E402
from test_torch_parity import parity  # noqa: E402

from cnncalc.errors import SpecError  # noqa: E402
from cnncalc.sources import parse  # noqa: E402

EXAMPLES = int(os.environ.get("CNNCALC_TORCH_NETWORKS", "150"))
COUNTED = {"networks": 0, "layers": 0, "unsupported": 0, "refused_at_run_time": 0}
# Normalizations that use the statistics of the input itself (instancenorm, batchnorm without
# running stats) need more than one value to average; PyTorch refuses them when they run. cnncalc
# counts them (their shapes and counts are defined), so these networks are compared up to there.
RUN_TIME_REFUSALS = ("Expected more than 1 spatial element", "Expected more than 1 value per channel")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_spec(pytorch=True, tokens=True))
def test_random_network_matches_pytorch(text: str) -> None:
    graph = parse(text)
    try:
        compared = parity(graph)
    except SpecError as error:
        # The documented features without an exact PyTorch equivalent; anything else fails.
        assert "has no exact PyTorch equivalent" in str(error), str(error)
        COUNTED["unsupported"] += 1
        return
    except ValueError as error:
        assert str(error).startswith(RUN_TIME_REFUSALS), str(error)
        COUNTED["refused_at_run_time"] += 1
        return
    COUNTED["networks"] += 1
    COUNTED["layers"] += len(graph.layers)
    assert compared >= 4 * len(graph.layers)


def test_report_how_many_random_networks_were_compared() -> None:
    # Runs after the property above (file order); the figures go into the closing note of a change.
    print(f"\nrandom networks compared with PyTorch: {COUNTED}")
    assert COUNTED["networks"] > 0
