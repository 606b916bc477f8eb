"""The PyTorch importer on real models from torchvision, timm and Ultralytics, against
PyTorch's own counts: parameters `sum(p.numel())`, MACs half of FlopCounterMode's total
(attention on its math path: see tests/real_models.py), every output's shape; the importer
itself checks every layer's output shape against the one PyTorch computed.

A representative subset, at small input sizes where the model takes any size, so that it
runs in CI; the whole sweep at each model's own size is tests/sweep_torch.py
(CNNCALC_TORCH_SWEEP=1 runs it from tests/test_sweep_torch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from real_models import cnncalc_counts, pytorch_counts  # noqa: E402


def _torchvision() -> Any:
    return pytest.importorskip("torchvision", reason="torchvision is not installed")


def _timm() -> Any:
    return pytest.importorskip("timm", reason="timm is not installed")


def _ultralytics(name: str) -> nn.Module:
    pytest.importorskip("ultralytics", reason="ultralytics is not installed")
    import os

    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    return YOLO(name).model


CASES: list[tuple[str, Callable[[], nn.Module], tuple[int, ...]]] = [
    # torchvision: stochastic depth; MultiheadAttention, class token, position embedding;
    # shifted windows (masks, roll, padding channels-last, strided patch merging); a dict output
    ("torchvision-efficientnet_b0", lambda: _torchvision().models.efficientnet_b0(), (3, 96, 96)),
    ("torchvision-vit", lambda: _torchvision().models.vision_transformer.VisionTransformer(
        image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=64, mlp_dim=128), (3, 64, 64)),
    ("torchvision-swin_t", lambda: _torchvision().models.swin_t(), (3, 112, 112)),
    ("torchvision-lraspp", lambda: _torchvision().models.segmentation.lraspp_mobilenet_v3_large(
        weights_backbone=None), (3, 96, 96)),
    # timm: LayerNorm2d; Conv2dSame (TF 'SAME'); ScaledStdConv2d's gain; LearnableAffineBlock's
    # one-element scale and bias; scaled_dot_product_attention with a class token; windows
    ("timm-convnext_atto", lambda: _timm().create_model("convnext_atto"), (3, 96, 96)),
    ("timm-tf_efficientnet_b0", lambda: _timm().create_model("tf_efficientnet_b0"), (3, 96, 96)),
    ("timm-nf_regnet_b0", lambda: _timm().create_model("nf_regnet_b0"), (3, 96, 96)),
    ("timm-hgnetv2_b0", lambda: _timm().create_model("hgnetv2_b0"), (3, 96, 96)),
    ("timm-vit_tiny", lambda: _timm().create_model("vit_tiny_patch16_224", img_size=64), (3, 64, 64)),
    ("timm-swin_tiny", lambda: _timm().create_model("swin_tiny_patch4_window7_224", img_size=112), (3, 112, 112)),
    # BEiT: a relative-position bias gathered from its table as the attention mask; a qkv bias
    # put together from q_bias, zeros and v_bias (two heads: a size equal to the batch it is recorded at)
    ("timm-beit", lambda: _timm().create_model("beit_base_patch16_224", img_size=64, depth=2, embed_dim=64,
                                               num_heads=2), (3, 64, 64)),
    # computed once for all samples: a relative-position MLP on fixed coordinates, its rows gathered by a
    # fixed index (no batch axis); XCiT's position encoding made at batch 1 and repeated
    ("timm-vit_srelpos", lambda: _timm().create_model("vit_srelpos_small_patch16_224", img_size=64, depth=2),
     (3, 64, 64)),
    ("timm-xcit", lambda: _timm().create_model("xcit_nano_12_p8_224", img_size=64, depth=2), (3, 64, 64)),
    # ConViT: a buffer expanded to the batch, run through a Linear
    ("timm-convit", lambda: _timm().create_model("convit_tiny", img_size=64, depth=2, local_up_to_layer=1),
     (3, 64, 64)),
    # Ultralytics: the Detect head's box decoding needs a real forward of zeros
    ("ultralytics-yolov8n", lambda: _ultralytics("yolov8n.yaml"), (3, 320, 320)),
]


@pytest.mark.parametrize("factory,shape", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_real_model_counts_match_pytorch(factory: Callable[[], nn.Module], shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    module = factory().eval()
    ours, _ = cnncalc_counts(module, shape, "model")
    assert ours == pytorch_counts(module, shape)


def test_scaled_std_conv_counts_its_gain() -> None:
    """timm's ScaledStdConv2d learns a gain per output channel besides its weight and bias (it was dropped)."""
    from timm.layers import ScaledStdConv2d

    module = ScaledStdConv2d(16, 32, 3)
    spec_params = cnncalc_counts(module, (16, 8, 8), "conv")[0].params
    assert spec_params == 16 * 32 * 9 + 32 + 32 == sum(parameter.numel() for parameter in module.parameters())


def test_one_element_learned_scale_and_bias_are_counted() -> None:
    """HGNetV2's LearnableAffineBlock: `scale * x + bias` with parameters of one element (they were identities)."""
    from timm.models.hgnet import LearnableAffineBlock

    module = LearnableAffineBlock()
    assert cnncalc_counts(module, (4, 8, 8), "affine")[0].params == 2


def test_a_real_forward_is_said() -> None:
    import cnncalc

    spec = cnncalc.from_torch(_ultralytics("yolov8n.yaml"), (3, 64, 64))
    assert "on a real forward of zeros" in spec["description"]


class Blur(nn.Module):
    """TResNet's anti-aliasing: a fixed filter, a buffer, passed to F.conv2d."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("filt", torch.ones(4, 1, 3, 3) / 9)

    def forward(self, x: Any) -> Any:
        return nn.functional.conv2d(x, self.filt, stride=2, padding=1, groups=4)


def test_a_fixed_filter_is_not_counted_as_parameters() -> None:
    """It was counted as 36 parameters; cnncalc has no convolution with fixed weights, so it says so."""
    import cnncalc
    from cnncalc.errors import SpecError

    with pytest.raises(SpecError, match=r"conv2d: the weight is a buffer \(filt\), not learned at \(top\):conv2d"):
        cnncalc.from_torch(Blur(), (4, 8, 8), name="blur")
