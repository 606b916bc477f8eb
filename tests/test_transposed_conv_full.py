"""A transposed convolution's `full` FLOPs: a multiply per product, and per output one add
fewer than the products landing on it. Known answers from PyTorch itself: run on all-ones
input and weights, each output element *is* the number of products that land on it."""

from __future__ import annotations

import random

import pytest

from cnncalc.layers import build

torch = pytest.importorskip("torch")


def pytorch_adds(in_channels: int, sizes: tuple[int, ...], fields: dict[str, object]) -> int:
    rank = len(sizes)
    module = getattr(torch.nn, f"ConvTranspose{rank}d")(in_channels, bias=False, **fields)  # type: ignore[arg-type]
    torch.nn.init.ones_(module.weight)
    with torch.no_grad():
        landed = module(torch.ones(1, in_channels, *sizes))
    return int(landed.sum().item()) - int((landed > 0).sum().item())


def random_layers(count: int) -> list[tuple[int, tuple[int, ...], dict[str, object]]]:
    rng = random.Random(20261202)
    cases = []
    while len(cases) < count:
        rank = rng.choice((1, 2, 3))
        groups = rng.choice((1, 2))
        stride = tuple(rng.randint(1, 4) for _ in range(rank))
        dilation = tuple(rng.randint(1, 3) for _ in range(rank))
        kernel = tuple(rng.randint(1, 4) for _ in range(rank))
        sizes = tuple(rng.randint(1, 5) for _ in range(rank))
        padding = tuple(rng.randint(0, 3) for _ in range(rank))
        extra = tuple(rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation))
        outs = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1
                for n, s, p, d, k, e in zip(sizes, stride, padding, dilation, kernel, extra)]
        if min(outs) >= 1:
            cases.append((2 * groups, sizes, {"out_channels": 2 * groups, "kernel_size": kernel, "stride": stride,
                                              "padding": padding, "output_padding": extra, "dilation": dilation,
                                              "groups": groups}))
    return cases


@pytest.mark.parametrize("in_channels,sizes,fields", random_layers(300))
def test_full_flops_count_the_adds_pytorch_performs(in_channels: int, sizes: tuple[int, ...],
                                                    fields: dict[str, object]) -> None:
    for bias in (False, True):
        written = {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}
        cost = build("conv_transpose", {**written, "bias": bias}).infer(((in_channels, *sizes),))
        outputs = fields["out_channels"] * _product(cost.shape[1:])  # type: ignore[operator]
        expected = cost.macs + pytorch_adds(in_channels, sizes, fields) + (outputs if bias else 0)
        assert cost.full_flops == expected, (fields, bias)


def test_outputs_no_product_reaches_take_no_add() -> None:
    """The case the property tests found: output_padding 2 leaves two of three outputs empty,
    where 2*MACs - outputs gave -2."""
    fields = {"out_channels": 2, "kernel_size": 1, "stride": 3, "output_padding": [0, 0, 2], "groups": 2,
              "bias": False}
    cost = build("conv_transpose", fields).infer(((2, 1, 1, 1),))
    assert (cost.shape, cost.macs, cost.full_flops) == ((2, 1, 1, 3), 2, 2)


def _product(values: tuple[int, ...]) -> int:
    result = 1
    for value in values:
        result *= value
    return result
