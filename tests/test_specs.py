"""The example networks in specs/ against the numbers published for them.

One row per (spec file, --set overrides). Every figure comes from outside
cnncalc, and none is re-derived here:

- ``params``: the published count of trainable parameters (torchvision's model
  docs, the papers' tables, TF-slim / Keras / pytorchcv model tables; the
  3D ResNet table widely copied in tutorials). Where no count is published
  (the small U-Net, MobileNet v2 at width 1.4) it is the count of a
  hand-written PyTorch model of the same network, as the row's source says.
- ``output``: the shape of the network's output, batch first.
- ``published_macs``: MACs as the source prints them, checked to the printed
  precision: "1.81G" means round(macs / 1e9, 2) == 1.81. torchvision's
  "GFLOPS" column counts multiply-accumulates, so it is listed here as MACs.
- ``macs``: exact MACs by counting.md's rule (conv, transposed conv, linear, products of two tensors),
  measured with forward hooks on a hand-written PyTorch model of the network.
- ``shapes``: output shapes of named layers, batch first, as the source gives
  them (e.g. the ResNet paper's Table 1: conv5_x is 7x7), or else as the
  PyTorch model of the network produces them (U-Net, 3D ResNets).
- ``layer_params``: trainable parameters of named layers.
- ``buffers``: non-trainable count (batch-norm running statistics), where
  published: Keras's "Non-trainable params".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import cnncalc

SPECS = Path(__file__).resolve().parent.parent / "specs"

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Known:
    spec: str
    params: int
    output: Shape
    source: str
    overrides: Mapping[str, object] = field(default_factory=dict)
    published_macs: str | None = None
    macs: int | None = None
    shapes: Mapping[str, Shape] = field(default_factory=dict)
    layer_params: Mapping[str, int] = field(default_factory=dict)
    buffers: int | None = None

    @property
    def id(self) -> str:
        name = self.spec.removesuffix(".yaml")
        sets = ",".join(f"{key}={str(value).lower()}" for key, value in self.overrides.items())
        return f"{name}[{sets}]" if sets else name


TORCHVISION = "torchvision model docs (params, GFLOPS = GMACs); exact MACs from a PyTorch model"

KNOWN = [
    Known(
        "lenet5.yaml", 61_706, (1, 10),
        source="LeCun et al. 1998, PyTorch-tutorial form (full C3, linear output)",
        macs=416_520,
        shapes={"conv1": (1, 6, 28, 28), "pool1": (1, 6, 14, 14),
                "conv2": (1, 16, 10, 10), "pool2": (1, 16, 5, 5), "flatten": (1, 400)},
        layer_params={"conv1": 156, "conv2": 2_416, "fc1": 48_120, "fc2": 10_164, "fc3": 850},
    ),
    Known(
        "alexnet.yaml", 61_100_840, (1, 1000), source=TORCHVISION,
        published_macs="0.71G", macs=714_188_480,
        shapes={"conv1": (1, 64, 55, 55), "pool5": (1, 256, 6, 6), "avgpool": (1, 256, 6, 6),
                "flatten": (1, 9216)},
    ),
    Known(
        "vgg16.yaml", 138_357_544, (1, 1000), source=TORCHVISION,
        published_macs="15.47G", macs=15_470_264_320,
        shapes={"pool1": (1, 64, 112, 112), "pool5": (1, 512, 7, 7), "flatten": (1, 25088)},
    ),
    Known(
        "resnet18.yaml", 11_689_512, (1, 1000), source=TORCHVISION,
        published_macs="1.81G", macs=1_814_073_344,
        shapes={"conv1": (1, 64, 112, 112), "maxpool": (1, 64, 56, 56),
                "layer1.1.relu": (1, 64, 56, 56), "layer2.1.relu": (1, 128, 28, 28),
                "layer3.1.relu": (1, 256, 14, 14), "layer4.1.relu": (1, 512, 7, 7)},
    ),
    Known(
        "resnet34.yaml", 21_797_672, (1, 1000), source=TORCHVISION,
        published_macs="3.66G",
        shapes={"layer1.2.relu": (1, 64, 56, 56), "layer2.3.relu": (1, 128, 28, 28),
                "layer3.5.relu": (1, 256, 14, 14), "layer4.2.relu": (1, 512, 7, 7)},
    ),
    Known(
        "resnet50.yaml", 25_557_032, (1, 1000), source=TORCHVISION + "; counting.md",
        published_macs="4.09G", macs=4_089_184_256,
        shapes={"maxpool": (1, 64, 56, 56), "layer1.2.relu": (1, 256, 56, 56),
                "layer2.3.relu": (1, 512, 28, 28), "layer3.5.relu": (1, 1024, 14, 14),
                "layer4.2.relu": (1, 2048, 7, 7)},
    ),
    Known(
        "mobilenet_v1.yaml", 4_231_976, (1, 1000),
        source="TF-slim / Keras / pytorchcv params; Keras non-trainable; paper Table 8 mult-adds",
        published_macs="569M", macs=568_740_352, buffers=21_888,
        shapes={"conv1_relu": (1, 32, 112, 112), "block6.pw_relu": (1, 512, 14, 14),
                "block13.pw_relu": (1, 1024, 7, 7)},
    ),
    Known(
        "mobilenet_v1.yaml", 2_585_560, (1, 1000), overrides={"width": 0.75},
        source="pytorchcv/imgclsmob params; paper Table 6 mult-adds",
        published_macs="325M", macs=325_400_448,
    ),
    Known(
        "mobilenet_v1.yaml", 1_331_592, (1, 1000), overrides={"width": 0.5},
        source="pytorchcv/imgclsmob params; paper Table 6 mult-adds",
        published_macs="149M", macs=149_497_088,
    ),
    Known(
        "mobilenet_v1.yaml", 470_072, (1, 1000), overrides={"width": 0.25},
        source="pytorchcv/imgclsmob params; paper Table 6 mult-adds",
        published_macs="41M", macs=41_030_272,
    ),
    Known(
        "mobilenet_v2.yaml", 3_504_872, (1, 1000), source=TORCHVISION,
        published_macs="0.30G", macs=300_774_272,
        shapes={"stem.relu6": (1, 32, 112, 112), "block6.2.add": (1, 160, 7, 7),
                "conv_last.relu6": (1, 1280, 7, 7)},
    ),
    Known(
        "mobilenet_v2.yaml", 6_108_776, (1, 1000), overrides={"width": 1.4},
        source="params: torchvision MobileNetV2(width_mult=1.4) as a PyTorch model; "
        "MACs: TensorFlow's mobilenet_v2_1.4_224, 582M",
        published_macs="582M", macs=582_195_824,
        shapes={"conv_last.relu6": (1, 1792, 7, 7)},
    ),
    Known(
        "googlenet.yaml", 6_624_904, (1, 1000), source=TORCHVISION + "; paper Table 1 sizes",
        published_macs="1.50G", macs=1_498_376_192,
        shapes={"conv1.relu": (1, 64, 112, 112), "maxpool1": (1, 64, 56, 56),
                "maxpool2": (1, 192, 28, 28), "inception3a.cat": (1, 256, 28, 28),
                "inception3b.cat": (1, 480, 28, 28), "maxpool3": (1, 480, 14, 14),
                "inception4e.cat": (1, 832, 14, 14), "maxpool4": (1, 832, 7, 7),
                "inception5b.cat": (1, 1024, 7, 7)},
    ),
    Known(
        "unet_small.yaml", 482_754, (1, 2, 128, 128),
        source="derived by hand in the spec's header; PyTorch model for params and MACs",
        macs=580_124_672,
        shapes={"inc.relu2": (1, 16, 128, 128), "down3.conv.relu2": (1, 128, 16, 16),
                "up3.cat": (1, 128, 32, 32), "up1.conv.relu2": (1, 16, 128, 128)},
        layer_params={"up3.up": 32_832, "up2.up": 8_224, "up1.up": 2_064, "outc": 34},
    ),
    Known(
        "vit_ti16.yaml", 5_717_416, (1, 1000),
        source="timm vit_tiny_patch16_224 (5.72M params); exact counts from a PyTorch model of torch.nn "
               "modules, FlopCounterMode on the math attention path (tests/test_modern_vit.py)",
        macs=1_253_683_200, buffers=0,
        shapes={"conv_proj": (1, 192, 14, 14), "tokens": (1, 196, 192), "with_class": (1, 197, 192),
                "encoder_layer.11.add_2": (1, 197, 192), "class_output": (1, 192)},
        layer_params={"class_token": 192, "pos_embedding": 37_824, "encoder_layer.0.self_attention": 148_224,
                      "encoder_layer.0.mlp.0": 148_224, "encoder_layer.0.mlp.3": 147_648},
    ),
]

KNOWN.append(Known(
    "yolo_custom_ultralytics.yaml", 684_486, (1, 7, 2000),
    source="an Ultralytics model file: Ultralytics' own DetectionModel built from it (ultralytics 8.4.190; "
    "tests/test_ultralytics_spec.py rebuilds it where ultralytics is installed)",
    macs=1_585_702_400,
    shapes={"model.0.act": (1, 16, 320, 320), "model.7.cv2.bn": (1, 128, 20, 20),
            "model.15.cv2.act": (1, 128, 20, 20), "model.16.dfl.conv": (1, 1, 4, 2000)},
))
KNOWN.append(Known(
    "yolo_custom_ultralytics.yaml", 2_033_046, (1, 7, 2000), overrides={"scale": "s"},
    source="as above, scale s", macs=3_572_684_800,
))
# Ultralytics model files with attention (measured by tests/ultralytics_known.py, every scale
# and model.N shape checked by tests/test_ultralytics_known_answers.py).
ULTRALYTICS_SOURCE = ("an Ultralytics model file: the model Ultralytics 8.4.190 builds from it, FlopCounterMode on the "
                      "math attention path (tests/ultralytics_known.py)")
KNOWN += [
    Known("yolo_attention_ultralytics.yaml", 1_918_488, (1, 8, 2000), source=ULTRALYTICS_SOURCE,
          macs=3_622_118_400),
    Known("yolo_transformer_seg_ultralytics.yaml", 1_335_542, (1, 38, 8400), source=ULTRALYTICS_SOURCE,
          macs=3_204_428_800),
    Known("yolo_pose26_ultralytics.yaml", 761_752, (1, 20, 8000), source=ULTRALYTICS_SOURCE, macs=2_629_068_800),
    Known("rtdetr_small_ultralytics.yaml", 2_609_130, (1, 100, 6), source=ULTRALYTICS_SOURCE, macs=3_983_360_000),
]

# The 3D ResNet family: (depth, final channels, backbone params, backbone MACs).
# The tutorial table's figures are the backbone plus a bias-free 2-class linear,
# i.e. + 2 * final channels.
RESNET3D = [
    (10, 512, 14_355_520, 1_811_316_736),
    (18, 512, 33_160_000, 3_251_666_944),
    (34, 512, 63_469_632, 5_559_058_432),
    (50, 2048, 46_155_072, 4_161_372_160),
    (101, 2048, 85_201_216, 6_072_074_240),
    (152, 2048, 117_359_936, 8_432_353_280),
]
RESNET3D_WITH_HEAD = {
    10: 14_356_544, 18: 33_161_024, 34: 63_470_656,
    50: 46_159_168, 101: 85_205_312, 152: 117_364_032,
}
RESNET3D_SOURCE = "3D ResNet table widely copied in tutorials; PyTorch model for MACs"
for depth, channels, backbone, backbone_macs in RESNET3D:
    KNOWN.append(Known(
        f"resnet3d_{depth}.yaml", backbone, (1, channels, 1, 1, 1),
        source=RESNET3D_SOURCE + " (backbone = table - 2 * channels)",
        macs=backbone_macs,
        shapes={"conv1": (1, 64, 8, 56, 56), "maxpool": (1, 64, 4, 28, 28),
                "avgpool": (1, channels, 1, 1, 1)},
    ))
    KNOWN.append(Known(
        f"resnet3d_{depth}.yaml", RESNET3D_WITH_HEAD[depth], (1, 2), overrides={"head": True},
        source=RESNET3D_SOURCE,
        macs=backbone_macs + 2 * channels,
        shapes={"avgpool": (1, channels, 1, 1, 1), "fc": (1, 2)},
        layer_params={"fc": 2 * channels},
    ))


def rows(attribute: str) -> list[Any]:
    """The table's rows that give `attribute`, as pytest params with readable ids."""
    return [pytest.param(known, id=known.id) for known in KNOWN if getattr(known, attribute)]


@functools.cache
def _analyze(spec: str, overrides: tuple[tuple[str, object], ...]) -> Any:
    return cnncalc.analyze(SPECS / spec, overrides=dict(overrides) or None)


def analyze(known: Known) -> Any:
    return _analyze(known.spec, tuple(known.overrides.items()))


def layers_by_name(report: Any) -> dict[str, Any]:
    return {layer.name: layer for layer in report.layers}


@pytest.mark.parametrize("known", rows("params"))
def test_params(known: Known) -> None:
    assert analyze(known).totals.params == known.params


@pytest.mark.parametrize("known", rows("output"))
def test_output_shape(known: Known) -> None:
    outputs = analyze(known).outputs
    assert [tuple(shape) for shape in outputs.values()] == [known.output]


@pytest.mark.parametrize("known", rows("published_macs"))
def test_published_macs(known: Known) -> None:
    assert known.published_macs is not None
    number, unit = known.published_macs[:-1], known.published_macs[-1]
    decimals = len(number.partition(".")[2])
    macs = analyze(known).totals.macs
    scaled = macs / {"M": 10**6, "G": 10**9}[unit]
    assert round(scaled, decimals) == float(number), f"{macs:,} MACs is not {known.published_macs}"


@pytest.mark.parametrize("known", rows("macs"))
def test_exact_macs(known: Known) -> None:
    assert analyze(known).totals.macs == known.macs


@pytest.mark.parametrize("known", rows("shapes"))
def test_layer_shapes(known: Known) -> None:
    layers = layers_by_name(analyze(known))
    got = {name: tuple(layers[name].output_shape) if name in layers else None for name in known.shapes}
    assert got == dict(known.shapes)


@pytest.mark.parametrize("known", rows("layer_params"))
def test_layer_params(known: Known) -> None:
    layers = layers_by_name(analyze(known))
    got = {name: layers[name].params if name in layers else None for name in known.layer_params}
    assert got == dict(known.layer_params)


@pytest.mark.parametrize("known", rows("buffers"))
def test_buffers(known: Known) -> None:
    assert analyze(known).totals.buffers == known.buffers


def test_every_spec_is_in_the_table() -> None:
    on_disk = {path.name for path in SPECS.iterdir() if path.suffix in {".yaml", ".yml"}}
    assert on_disk == {known.spec for known in KNOWN}


def test_table_ids_are_unique() -> None:
    ids = [known.id for known in KNOWN]
    assert len(ids) == len(set(ids))

