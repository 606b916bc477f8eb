"""Ultralytics model files written for cnncalc (specs/yolo_custom_ultralytics.yaml and the
files below), against the models Ultralytics builds from them: params, 2 x MACs at
3x640x640 (FlopCounterMode, eval mode) and every model.N output shape. They cover the
modules no file shipped with Ultralytics uses without attention (HGStem, HGBlock, RepC3,
C1, C3x, C3k2 at a large scale, BottleneckCSP, SCDown, DWConv, ConvTranspose, Focus) and the
heads with options (Segment, Pose, OBB with their arguments; v10Detect; an end2end Detect
with reg_max 1, whose one-to-one branches run in eval mode too). Skipped without ultralytics.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import cnncalc

torch = pytest.importorskip("torch")
from ultralytics_known import allow_torchvision  # noqa: E402  (tests/: torchvision's CUDA wheel on a CPU torch)

allow_torchvision()
ultralytics = pytest.importorskip("ultralytics", reason="ultralytics is not installed", exc_type=ImportError)

SPEC = Path(__file__).resolve().parent.parent / "specs" / "yolo_custom_ultralytics.yaml"

STEMS = """
nc: 5
scales: {n: [0.5, 0.25, 512], m: [0.67, 0.75, 768]}
backbone:
  - [-1, 1, HGStem, [16, 32]]
  - [-1, 3, HGBlock, [16, 64, 3]]
  - [-1, 1, DWConv, [64, 3, 2]]
  - [-1, 2, C1, [64]]
  - [-1, 1, ConvTranspose, [64, 2, 2]]
  - [-1, 1, Conv, [128, 3, 2, null, 1, 1, False]]
  - [-1, 2, C3k2, [128, False, 0.25]]
  - [-1, 1, SPP, [128, [3, 5, 7]]]
head:
  - [[-1, 3], 1, Concat, [1]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [[9, 10], 1, Segment, [nc, 16, 64]]
"""
POSE = """
nc: 1
kpt_shape: [5, 2]
depth_multiple: 0.33
width_multiple: 0.25
backbone:
  - [-1, 1, Focus, [64, 3]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 3, C3Ghost, [128]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [-1, 1, C2, [256]]
  - [-1, 1, Conv, [256, 3, 2]]
head:
  - [[3, 5], 1, Pose, [nc, kpt_shape]]
"""
OBB = """
nc: 15
backbone:
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 1, ResNetLayer, [32, 16, 2, False, 2]]
  - [-1, 1, Conv, [64, 3, 2]]
head:
  - [[2, 3], 1, OBB, [nc, 1]]
"""
V10 = """
nc: 4
backbone:
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 1, SCDown, [64, 3, 2]]
  - [-1, 1, SCDown, [64, 3, 2]]
head:
  - [[2, 3], 1, v10Detect, [nc]]
"""
END2END = """
nc: 6
end2end: True
reg_max: 1
backbone:
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 1, C3k2, [64, False]]
  - [-1, 1, Conv, [64, 3, 2]]
head:
  - [[2, 3], 1, Detect, [nc]]
"""
CASES = [pytest.param(SPEC.read_text(), scale, id=f"yolo_custom_ultralytics-{scale}") for scale in "ns"]
CASES += [pytest.param(STEMS, scale, id=f"stems-{scale}") for scale in "nm"]
CASES += [pytest.param(POSE, "", id="pose-multiples"), pytest.param(OBB, "", id="obb-resnet"),
          pytest.param(V10, "", id="v10detect"), pytest.param(END2END, "", id="end2end-reg-max-1")]


def reference(text: str, scale: str) -> tuple[int, int, dict[str, tuple[int, ...]]]:
    from torch.utils.flop_counter import FlopCounterMode
    from ultralytics.nn.tasks import DetectionModel, OBBModel, PoseModel, SegmentationModel

    os.environ.setdefault("YOLO_OFFLINE", "1")
    config = yaml.safe_load(text)
    config["scale"] = scale
    head = config["head"][-1][2]
    kind = {"Segment": SegmentationModel, "Pose": PoseModel, "OBB": OBBModel}.get(head, DetectionModel)
    model = kind(config, verbose=False).eval()
    shapes: dict[str, tuple[int, ...]] = {}
    for index, module in enumerate(model.model):
        def record(_module: Any, _inputs: Any, output: Any, name: str = f"model.{index}") -> None:
            while isinstance(output, (tuple, list)):
                output = output[0]
            shapes[name] = tuple(output.shape)
        module.register_forward_hook(record)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 640, 640))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops(), shapes


@pytest.mark.parametrize(("text", "scale"), CASES)
def test_matches_ultralytics(text: str, scale: str) -> None:
    params, flops, shapes = reference(text, scale)
    report = cnncalc.analyze(text, overrides={"scale": scale} if scale else None)
    outputs: dict[str, tuple[int, ...]] = {}
    for layer in report.layers:
        outputs[".".join(layer.name.split(".")[:2])] = tuple(layer.output_shape)
    assert (report.totals.params, 2 * report.totals.macs) == (params, flops)
    assert outputs == shapes
