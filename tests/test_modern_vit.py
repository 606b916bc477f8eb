"""specs/vit_ti16.yaml against a ViT-Ti/16 written with plain torch.nn modules (a patch
convolution, a class token and position embedding as nn.Parameters, nn.TransformerEncoderLayer
in its pre-norm form, LayerNorm and a linear head): parameters, buffers, 2 x MACs (FlopCounterMode
on the math attention path) and the output shape must agree. Skipped without PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cnncalc

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "specs" / "vit_ti16.yaml"


class VisionTransformer(nn.Module):
    """ViT as Dosovitskiy et al. describe it, in torch.nn's own modules."""

    def __init__(self, image: int, patch: int, dim: int, depth: int, heads: int, mlp: int, classes: int) -> None:
        super().__init__()
        tokens = (image // patch) ** 2
        self.patches = nn.Conv2d(3, dim, patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.zeros(1, tokens + 1, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: Any) -> Any:
        x = self.patches(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
        return self.head(self.norm(self.encoder(x))[:, 0])


def measured(model: Any, shape: tuple[int, ...]) -> tuple[int, int, int, tuple[int, ...]]:
    """(params, buffers, FlopCounterMode's FLOPs, output shape) on the math attention path."""
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            output = model(torch.empty(shape, device="meta"))
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    return (sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers()),
            counter.get_total_flops(), tuple(output.shape))


CASES = [  # (overrides, ViT arguments); the Ti size, and a smaller one with other counts
    ({}, dict(image=224, patch=16, dim=192, depth=12, heads=3, mlp=768, classes=1000)),
    ({"image": 64, "patch": 8, "dim": 48, "depth": 2, "heads": 4, "mlp": 96, "num_classes": 10},
     dict(image=64, patch=8, dim=48, depth=2, heads=4, mlp=96, classes=10)),
]


@pytest.mark.parametrize(("overrides", "arguments"), CASES, ids=["ViT-Ti/16", "a 2-layer ViT on 64x64"])
def test_vit_spec_counts_what_pytorch_counts(overrides: dict[str, int], arguments: dict[str, int]) -> None:
    with torch.device("meta"):
        model = VisionTransformer(**arguments).eval()
    params, buffers, flops, output = measured(model, (2, 3, arguments["image"], arguments["image"]))
    report = cnncalc.analyze(SPEC, overrides=overrides, batch=2)
    assert (report.totals.params, report.totals.buffers, 2 * report.totals.macs, report.outputs["head"]) == \
           (params, buffers, flops, output)


def test_vit_ti16_known_figures() -> None:
    """The figures the spec's header quotes, measured with the model above (timm: 5.72M params)."""
    report = cnncalc.analyze(SPEC)
    assert (report.totals.params, report.totals.macs) == (5_717_416, 1_253_683_200)
