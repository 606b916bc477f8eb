"""docs/peers.md: what torchinfo, fvcore, ptflops and thop print for ResNet-50, MobileNet v2
and YOLOv8n, each figure explained to the unit from cnncalc's own per-layer rows.

The figures are the peers' own outputs, measured with torchinfo 1.8.0, ptflops 0.7.5,
fvcore 0.1.5.post20221221, thop 0.1.1.post2209072238 and FlopCounterMode on torch 2.13.0+cpu,
on torchvision 0.28.0's resnet50 / mobilenet_v2 (weights=None) and Ultralytics 8.4.190's
DetectionModel("yolov8n.yaml"), batch 1, eval mode. Each test rebuilds a peer's figure from
cnncalc's report with the rule docs/peers.md states for that peer, and checks the page
prints it.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest

import cnncalc

ROOT = Path(__file__).parent.parent
PAGE = (ROOT / "docs" / "peers.md").read_text()

MEASURED: dict[str, dict[str, int]] = {
    "resnet50": {"params": 25_557_032, "flop_counter": 8_178_368_512, "fvcore": 4_111_512_576,
                 "torchinfo_mult_adds": 4_089_238_376, "torchinfo_forward_backward": 177_831_744,
                 "torchinfo_params_size": 102_228_128, "ptflops_aten": 4_089_185_256,
                 "ptflops_pytorch": 4_132_436_968, "thop": 4_133_742_592},
    "mobilenet_v2": {"params": 3_504_872, "flop_counter": 601_548_544, "fvcore": 314_193_216,
                     "torchinfo_mult_adds": 300_809_384, "torchinfo_forward_backward": 106_857_792,
                     "torchinfo_params_size": 14_019_488, "ptflops_aten": 300_775_272,
                     "ptflops_pytorch": 320_300_008, "thop": 327_486_720},
    "yolov8n": {"params": 3_157_200, "flop_counter": 8_743_987_200, "fvcore": 4_400_998_400,
                "torchinfo_mult_adds": 4_373_213_792, "torchinfo_forward_backward": 232_153_600,
                "torchinfo_params_size": 12_628_800, "ptflops_aten": 4_373_203_200,
                "ptflops_pytorch": 4_417_632_000, "thop": 4_428_774_400},
}


def yolov8n_spec(tmp_path: Path) -> Path:
    ultralytics = pytest.importorskip("ultralytics", reason="ultralytics is not installed", exc_type=ImportError)
    target = tmp_path / "yolov8n.yaml"  # the scale from the file name, as Ultralytics reads it
    shutil.copy(Path(ultralytics.__file__).parent / "cfg" / "models" / "v8" / "yolov8.yaml", target)
    return target


@pytest.fixture(params=list(MEASURED))
def model(request: Any, tmp_path: Path) -> tuple[str, Any]:
    name = request.param
    path = yolov8n_spec(tmp_path) if name == "yolov8n" else ROOT / "specs" / f"{name}.yaml"
    return name, cnncalc.analyze(path)


def elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def outputs(report: Any, *types: str) -> int:
    return sum(elements(row.output_shape) for row in report.layers if row.type in types)


def first_inputs(report: Any, *types: str) -> int:
    shapes = {name: shape for name, shape in report.inputs.items()}
    shapes.update((row.name, row.output_shape) for row in report.layers)
    return sum(elements(shapes[row.inputs[0]]) for row in report.layers if row.type in types)


def bias_outputs(report: Any) -> int:
    """Output elements of convolutions and linear layers with a bias: weights = MACs x channels /
    output elements (batch 1), the rest of the parameters are the bias."""
    total = 0
    for row in report.layers:
        if row.type in ("conv2d", "linear") and row.params:
            channels, count = row.output_shape[1], elements(row.output_shape)
            if row.params * count - row.macs * channels:
                total += count
    return total


def figures(name: str, report: Any) -> dict[str, int]:
    """Each peer's figure by the rule docs/peers.md gives for it."""
    macs, norm = report.totals.macs, outputs(report, "batchnorm2d")
    pools = first_inputs(report, "global_avgpool")
    upsampled = outputs(report, "upsample")
    aten = macs + bias_outputs(report)
    extra_pytorch = {"resnet50": 2 * (outputs(report, "relu") + first_inputs(report, "maxpool2d") + pools),
                     "mobilenet_v2": outputs(report, "relu6") + pools,
                     "yolov8n": outputs(report, "silu") + 2 * upsampled + 2 * first_inputs(report, "maxpool2d")}
    extra_thop = {"resnet50": outputs(report, "global_avgpool") * (7 * 7 + 1),  # k + 1 per output, k = 7 x 7
                  "mobilenet_v2": 0,  # its pool is functional: no hook sees it
                  "yolov8n": upsampled}
    return {
        "params": report.totals.params,
        "flop_counter": report.totals.flops,
        "fvcore": macs + 2 * norm + pools + upsampled,
        "torchinfo_mult_adds": aten + sum(row.params for row in report.layers if row.type == "batchnorm2d"),
        "torchinfo_forward_backward": 2 * 4 * outputs(report, "conv2d", "batchnorm2d", "linear"),
        "torchinfo_params_size": report.totals.weights_bytes,
        "ptflops_aten": aten,
        "ptflops_pytorch": aten + 2 * norm + extra_pytorch[name],
        "thop": macs + 4 * norm + extra_thop[name],
    }


def test_each_peer_figure_follows_from_cnncalcs_rows(model: tuple[str, Any]) -> None:
    name, report = model
    assert figures(name, report) == MEASURED[name]


@pytest.mark.parametrize("name", list(MEASURED))
def test_the_page_prints_each_measured_figure(name: str) -> None:
    for key, value in MEASURED[name].items():
        assert f"{value:,}" in PAGE, f"{name} {key} {value:,}"


def test_torchinfo_memory_against_activations() -> None:
    """The ResNet-50 figures of issue 15: 177.83 MB (torchinfo) against 143.3 MiB (cnncalc)."""
    report = cnncalc.analyze(ROOT / "specs" / "resnet50.yaml")
    assert report.totals.activation_bytes == 150_247_328
    assert f"{report.totals.activation_bytes / 2**20:.1f} MiB" == "143.3 MiB"
    assert f"{MEASURED['resnet50']['torchinfo_forward_backward'] / 1e6:.2f} MB" == "177.83 MB"
    assert "143.3 MiB = 150,247,328 B" in PAGE and "177.83 MB = 177,831,744 B" in PAGE
