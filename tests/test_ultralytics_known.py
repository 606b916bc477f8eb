"""Ultralytics model YAMLs read by cnncalc against the models Ultralytics builds from them.

For each (file, scale): params equal `sum(p.numel() for p in model.parameters())`,
2 x MACs equal FlopCounterMode's total for the eval-mode forward at 3x640x640, and
every `model.N` output (the first tensor of a tuple) has PyTorch's shape. The
default run checks scale n of a few files; CNNCALC_ULTRALYTICS_ALL=1 checks every
supported file at every scale. Needs torch and ultralytics (`pip install --no-deps
ultralytics opencv-python-headless torchvision`); skipped without them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import cnncalc

torch = pytest.importorskip("torch")
from ultralytics_known import allow_torchvision, counts  # noqa: E402  (tests/: torchvision's CUDA wheel on a CPU torch)

allow_torchvision()
ultralytics = pytest.importorskip("ultralytics", reason="ultralytics is not installed", exc_type=ImportError)

MODELS = Path(ultralytics.__file__).parent / "cfg" / "models"
NSMLX = "nsmlx"
SUPPORTED = {  # every model file of ultralytics 8.4.190 whose modules cnncalc reads: its scales
    "v3/yolov3.yaml": "", "v3/yolov3-spp.yaml": "", "v3/yolov3-tiny.yaml": "",
    "v5/yolov5.yaml": NSMLX, "v5/yolov5-p6.yaml": NSMLX, "v6/yolov6.yaml": NSMLX,
    "v8/yolov8.yaml": NSMLX, "v8/yolov8-p2.yaml": NSMLX, "v8/yolov8-p6.yaml": NSMLX,
    "v8/yolov8-cls.yaml": NSMLX, "v8/yolov8-cls-resnet50.yaml": NSMLX, "v8/yolov8-cls-resnet101.yaml": NSMLX,
    "v8/yolov8-seg.yaml": NSMLX, "v8/yolov8-seg-p6.yaml": NSMLX, "v8/yolov8-pose.yaml": NSMLX,
    "v8/yolov8-pose-p6.yaml": NSMLX, "v8/yolov8-obb.yaml": NSMLX, "v8/yolov8-ghost.yaml": NSMLX,
    "v8/yolov8-ghost-p2.yaml": NSMLX, "v8/yolov8-ghost-p6.yaml": NSMLX,
    "v9/yolov9t.yaml": "", "v9/yolov9s.yaml": "", "v9/yolov9m.yaml": "", "v9/yolov9c.yaml": "",
    "v9/yolov9c-seg.yaml": "", "v9/yolov9e.yaml": "", "v9/yolov9e-seg.yaml": "",
    **{f"v10/yolov10{scale}.yaml": "" for scale in "nsmblx"},
    "11/yolo11.yaml": NSMLX, "11/yolo11-seg.yaml": NSMLX, "11/yolo11-pose.yaml": NSMLX, "11/yolo11-obb.yaml": NSMLX,
    "11/yolo11-cls.yaml": NSMLX, "11/yolo11-cls-resnet18.yaml": "",
    "12/yolo12.yaml": NSMLX, "12/yolo12-seg.yaml": NSMLX, "12/yolo12-pose.yaml": NSMLX, "12/yolo12-obb.yaml": NSMLX,
    "12/yolo12-cls.yaml": NSMLX,
    "26/yolo26.yaml": NSMLX, "26/yolo26-seg.yaml": NSMLX, "26/yolo26-pose.yaml": NSMLX, "26/yolo26-obb.yaml": NSMLX,
    "26/yolo26-cls.yaml": NSMLX, "26/yolo26-p2.yaml": NSMLX, "26/yolo26-p6.yaml": NSMLX,
    "26/yolo26-sem.yaml": NSMLX, "26/yolo26-depth.yaml": NSMLX,
    "rt-detr/rtdetr-l.yaml": "", "rt-detr/rtdetr-x.yaml": "", "rt-detr/rtdetr-resnet50.yaml": "",
    "rt-detr/rtdetr-resnet101.yaml": "", "v8/yolov8-rtdetr.yaml": NSMLX,
}
# Files of the package cnncalc refuses, each with the module its message names.
REFUSED = {"v8/yolov8-world.yaml": "WorldDetect",
           "v8/yolov8-worldv2.yaml": "WorldDetect", "v8/yoloe-v8.yaml": "YOLOEDetect",
           "v8/yoloe-v8-seg.yaml": "YOLOESegment", "11/yoloe-11.yaml": "YOLOEDetect",
           "11/yoloe-11-seg.yaml": "YOLOESegment", "26/yoloe-26.yaml": "YOLOEDetect",
           "26/yoloe-26-seg.yaml": "YOLOESegment26"}
DEFAULT_RUN = {("v8/yolov8.yaml", "n"), ("v8/yolov8.yaml", "s"), ("v8/yolov8-seg.yaml", "n"),
               ("v8/yolov8-pose.yaml", "n"), ("v8/yolov8-obb.yaml", "n"), ("v8/yolov8-cls.yaml", "n"),
               ("v5/yolov5.yaml", "n"), ("v8/yolov8-ghost.yaml", "n"), ("v3/yolov3-tiny.yaml", ""),
               ("v6/yolov6.yaml", "n"), ("v9/yolov9t.yaml", ""), ("11/yolo11.yaml", "n"), ("12/yolo12.yaml", "n"),
               ("26/yolo26-pose.yaml", "n"), ("v10/yolov10n.yaml", "")}
EVERYTHING = os.environ.get("CNNCALC_ULTRALYTICS_ALL") == "1"
SPECIAL_HEADS = {"RTDETRDecoder": "RTDETRDetectionModel", "SemanticSegment": "SemanticSegmentationModel",
                 "Depth": "DepthModel"}
CASES = [pytest.param(path, scale, id=f"{Path(path).stem}-{scale or 'file'}")
         for path, scales in SUPPORTED.items() for scale in (scales or [""])
         if EVERYTHING or (path, scale) in DEFAULT_RUN]


def scaled_name(path: str, scale: str) -> str:
    """yolov8-seg.yaml at scale s is yolov8s-seg.yaml, as Ultralytics names it."""
    if not scale:
        return str(MODELS / path)
    return re.sub(r"^(yolov?\d+)", rf"\g<1>{scale}", Path(path).name)


def reference(path: str, scale: str) -> tuple[int, int, dict[str, tuple[int, ...]]]:
    """(params, FlopCounterMode FLOPs, model.N output shapes) of Ultralytics' own model."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    text = (MODELS / path).read_text()
    special = [head for head in SPECIAL_HEADS if f"{head}," in text]
    if special:  # built by their task's model class, as YOLO() may not guess their task from the name
        from ultralytics.nn import tasks

        config = yaml.safe_load(text)
        config["scale"] = scale or None
        model = getattr(tasks, SPECIAL_HEADS[special[0]])(config, verbose=False).eval()
    elif "TorchVision," in text:  # built with random weights: its default would download them
        import torchvision.models

        get_model = torchvision.models.get_model
        torchvision.models.get_model = lambda name, weights=None, **kwargs: get_model(name, weights=None, **kwargs)
        try:
            model = ultralytics.YOLO(scaled_name(path, scale)).model.eval()
        finally:
            torchvision.models.get_model = get_model
    else:
        model = ultralytics.YOLO(scaled_name(path, scale)).model.eval()
    return counts(model, 640)


def block_outputs(report: Any) -> dict[str, tuple[int, ...]]:
    """The output of each model.N: the last layer whose name starts with it."""
    outputs: dict[str, tuple[int, ...]] = {}
    for layer in report.layers:
        outputs[".".join(layer.name.split(".")[:2])] = tuple(layer.output_shape)
    return outputs


@pytest.mark.parametrize(("path", "scale"), CASES)
def test_matches_ultralytics(path: str, scale: str) -> None:
    params, flops, shapes = reference(path, scale)
    report = cnncalc.analyze(MODELS / path, overrides={"scale": scale} if scale else None)
    assert (report.totals.params, 2 * report.totals.macs) == (params, flops)
    assert block_outputs(report) == shapes


def test_scale_letter_in_the_file_name(tmp_path: Path) -> None:
    copy = tmp_path / "yolov8s.yaml"
    copy.write_text((MODELS / "v8/yolov8.yaml").read_text())
    assert cnncalc.analyze(copy).totals.params == reference("v8/yolov8.yaml", "s")[0]


@pytest.mark.parametrize(("path", "module"), list(REFUSED.items()), ids=[Path(path).stem for path in REFUSED])
def test_refused_files_name_their_module(path: str, module: str) -> None:
    with pytest.raises(cnncalc.SpecError, match=f"cannot read: .*{module} \\(model"):
        cnncalc.analyze(MODELS / path)


def test_every_package_file_is_read_or_refused() -> None:
    files = {path.relative_to(MODELS).as_posix() for path in MODELS.glob("*/*.yaml")}
    assert files == set(SUPPORTED) | set(REFUSED)
