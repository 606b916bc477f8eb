"""The Ultralytics-format files in specs/ (a custom detector, an attention detector, a
transformer segmenter, a YOLO26-style keypoint detector, a small RT-DETR, all written for cnncalc) against
the numbers Ultralytics gives for them: parameters, FlopCounterMode's FLOPs (2 x MACs) at
1x3x640x640 in eval mode, and every `model.N` output shape. The numbers are stored in
tests/data/ultralytics_known.json, measured by tests/ultralytics_known.py, so this runs in
CI with neither torch nor ultralytics. Where ultralytics is installed, the stored numbers
are measured again, so they cannot go stale (CNNCALC_ULTRALYTICS_ALL=1: every file and
scale; otherwise one)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

import cnncalc

ROOT = Path(__file__).resolve().parent.parent
KNOWN: dict[str, Any] = json.loads((ROOT / "tests" / "data" / "ultralytics_known.json").read_text())
MODELS = KNOWN["models"]
EVERYTHING = os.environ.get("CNNCALC_ULTRALYTICS_ALL") == "1"
INSTALLED = importlib.util.find_spec("ultralytics") is not None and importlib.util.find_spec("torch") is not None


def outputs(key: str) -> tuple[int, int, dict[str, tuple[int, ...]]]:
    """cnncalc's params, 2 x MACs and model.N output shapes (each model.N's last layer) for file:scale."""
    name, scale = key.split(":")
    report = cnncalc.analyze(ROOT / "specs" / name, overrides={"scale": scale} if scale else None)
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in report.layers:
        shapes[".".join(layer.name.split(".")[:2])] = tuple(layer.output_shape)
    return report.totals.params, 2 * report.totals.macs, shapes


@pytest.mark.parametrize("key", list(MODELS))
def test_cnncalc_gives_ultralytics_numbers(key: str) -> None:
    expected = MODELS[key]
    params, flops, shapes = outputs(key)
    assert (params, flops) == (expected["params"], expected["flops"])
    assert shapes == {name: tuple(shape) for name, shape in expected["shapes"].items()}


def test_every_ultralytics_file_in_specs_is_known() -> None:
    measured = {key.split(":")[0] for key in MODELS}
    written = {path.name for path in (ROOT / "specs").glob("*_ultralytics.yaml")}
    assert written == measured


@pytest.mark.skipif(not INSTALLED, reason="ultralytics is not installed: the stored numbers are checked as they are")
@pytest.mark.parametrize("key", [key for key in MODELS if EVERYTHING or key == "yolo_pose26_ultralytics.yaml:"])
def test_the_stored_numbers_are_ultralytics_own(key: str) -> None:
    from ultralytics_known import config_of, measure

    name, scale = key.split(":")
    assert measure(config_of(name, scale)) == MODELS[key]
