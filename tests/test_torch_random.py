"""Random single layers against PyTorch: convolutions, transposed convolutions, pools,
adaptive pools, upsampling, padding and shuffles with random sizes and settings (a fixed
seed). Whatever cnncalc accepts, PyTorch must run, to the same output shape; what
cnncalc maps onto no exact PyTorch module must be that documented SpecError. This is the
search that found the spec checks PyTorch makes and cnncalc had missed."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from cnncalc.errors import SpecError  # noqa: E402
from cnncalc.sources import parse  # noqa: E402
from cnncalc.torch import build_module  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
CASES = 1500


def random_layer(rng: random.Random, rank: int) -> dict[str, Any]:
    def axes(low: int, high: int) -> Any:
        values = [rng.randint(low, high) for _ in range(rank)]
        return values[0] if rng.random() < 0.5 else values

    def padding(most: int, named: tuple[str, ...] = ("same", "valid")) -> Any:
        pairs = [[rng.randint(0, most), rng.randint(0, most)] for _ in range(rank)]
        return rng.choice([axes(0, most), pairs, *named])

    family = rng.choice(["conv", "transposed", "pool", "pool", "other"])
    if family == "conv":
        return {"type": f"conv{rank}d", "out_channels": rng.choice([2, 4]), "kernel_size": axes(1, 5),
                "stride": axes(1, 3), "padding": padding(3), "dilation": axes(1, 3), "groups": rng.choice([1, 2])}
    if family == "transposed":
        return {"type": f"conv_transpose{rank}d", "out_channels": rng.choice([2, 4]), "kernel_size": axes(1, 5),
                "stride": axes(1, 3), "padding": padding(3, ()), "dilation": axes(1, 3),
                "output_padding": axes(0, 2), "groups": rng.choice([1, 2])}
    if family == "pool":
        kind = rng.choice(["max", "avg"])
        extra = {"dilation": axes(1, 3)} if kind == "max" else {"count_include_pad": rng.random() < 0.7}
        return {"type": f"{kind}pool{rank}d", "kernel_size": axes(1, 5), "stride": axes(1, 4),
                "padding": padding(2, ("same",)), "ceil_mode": rng.random() < 0.5, **extra}
    modes = {1: "linear", 2: "bilinear", 3: "trilinear"}
    return rng.choice([
        {"type": f"adaptive_{rng.choice(['avg', 'max'])}pool{rank}d", "output_size": axes(1, 9)},
        {"type": "upsample", "scale_factor": rng.choice([0.5, 0.7, 1.3, 1.5, 2, 2.5, 3.1]),
         "mode": rng.choice(["nearest", modes[rank]])},
        {"type": "pad", "padding": axes(0, 6), "mode": rng.choice(["constant", "reflect", "replicate", "circular"])},
        {"type": "lrn", "size": rng.randint(1, 5)},
        {"type": "channel_shuffle", "groups": 2},
        {"type": "pixel_shuffle", "upscale_factor": 2},
    ])


def test_random_layers_run_in_pytorch_to_cnncalcs_shapes() -> None:
    rng = random.Random(2024)
    compared = unsupported = 0
    for _ in range(CASES):
        rank = rng.randint(1, 3)
        shape = [4] + [rng.randint(1, 9) for _ in range(rank)]
        layer = random_layer(rng, rank)
        text = f"input: {{shape: {shape}, batch: 2}}\nlayers:\n  - {json.dumps(layer)}\n"
        try:
            graph = parse(text)
        except SpecError:
            continue  # cnncalc refuses: nothing to run
        try:
            network = build_module(graph)
        except SpecError as error:
            assert "has no exact PyTorch equivalent" in str(error), text
            unsupported += 1
            continue
        output = network(torch.randn(2, *shape))
        assert tuple(output.shape) == (2, *graph.layers[0].cost.shape), text
        compared += 1
    assert compared > CASES // 3 and unsupported < compared // 10
