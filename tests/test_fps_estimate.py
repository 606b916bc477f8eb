"""The calibrated fps estimate: its model on a hand-counted spec, its parameters against the
script that fits them on the published measurements, and what `fps`, `analyze --chip` and
`check` say with it (the estimate first, one model behind headroom, max work and verdict)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.estimate import Parameters, calibration, load_fit, seconds_per_frame, workload
from cnncalc.fusion import fuse

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
import fps_fit  # noqa: E402  (the fitting script, beside the tests)

MEASURED = TESTS / "data" / "fps"


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def fps_json(*arguments: str) -> dict:
    code, out, err = run("fps", *arguments, "--format", "json")
    assert code in (0, 1), err
    return json.loads(out)


def test_the_model_on_one_conv_counted_by_hand():
    # 3x8x8 -> conv 4 out, 3x3: 6,912 MACs = 13,824 ops, reduction 3 channels -> 16 at tile 16,
    # so 13,824 x 16 / 3 = 73,728 padded ops; one kernel.
    report = cnncalc.analyze("input: {shape: [3, 8, 8]}\nlayers:\n"
                             "  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, bias: false}\n")
    work = workload(report, fuse(report))
    params = Parameters(efficiency=0.5, tile=16, kernel_seconds=1e-6)
    assert seconds_per_frame(work, params, 1e12, None, 1) == pytest.approx(73_728 / 0.5e12 + 1e-6)
    # with a bandwidth, the kernel's 556 bytes at 1 GB/s dominate
    assert seconds_per_frame(work, params, 1e12, 1e9, 1) == pytest.approx(556 / 1e9 + 1e-6)
    # weights streamed past an on-chip memory of 8 bytes over a 100 B/s link: 100 more bytes
    streaming = Parameters(efficiency=0.5, tile=16, kernel_seconds=0.0, on_chip_bytes=8, link_bytes_per_s=100)
    assert seconds_per_frame(work, streaming, 1e12, None, 1) == pytest.approx(73_728 / 0.5e12 + 1.0)


def test_context_switches_are_whole_and_shared_by_the_batch():
    report = cnncalc.analyze("specs/resnet18.yaml")
    work = workload(report, fuse(report))
    on_chip = Parameters(efficiency=0.5, tile=16, kernel_seconds=0.0, capacity_weights=5e6,
                         capacity_kernels=1e9, switch_seconds=0.01)
    one = seconds_per_frame(work, on_chip, 26e12, None, 1)
    # 11.69 M weights over 5 M per context: 3 contexts, 2 switches per batch
    free = seconds_per_frame(work, Parameters(efficiency=0.5, tile=16, kernel_seconds=0.0), 26e12, None, 1)
    assert one - free == pytest.approx(0.02)
    report8 = cnncalc.analyze("specs/resnet18.yaml", batch=8)
    assert seconds_per_frame(workload(report8, fuse(report8)), on_chip, 26e12, None, 1) - free == pytest.approx(0.0025)


@pytest.mark.parametrize("family", ["rknn", "coral"])
def test_fitted_parameters_reproduce_from_the_script(family):
    """The shipped parameters are what tests/fps_fit.py fits (the families that fit alone;
    `python tests/fps_fit.py --check` compares every entry and the accuracy report)."""
    rows = [row for row in fps_fit.load_rows() if row.chip_family == family]
    fit = fps_fit.fit_family(family, rows, fps_fit.BASE)
    shipped = load_fit()
    for chip in {row.chip for row in rows}:
        expected = shipped["chips"][chip]["parameters"]
        got = vars(fps_fit.parameters(fit, chip))
        assert got.keys() == expected.keys()
        for key, value in got.items():
            assert value == pytest.approx(expected[key], rel=1e-4) if isinstance(value, float) else value == expected[key]


def test_every_measured_chip_says_what_it_rests_on():
    shipped = load_fit()
    rows = [json.loads(line) for line in (MEASURED / "fps-measured.jsonl").read_text().splitlines()]
    assert shipped["rows"] == len(rows) == 174
    for chip, entry in shipped["chips"].items():
        count = sum(row["chip_id"] == chip for row in rows)
        if "own" in entry:  # too few rows: the family's parameters, and how many rows are the chip's
            assert entry["own"] == count < fps_fit.MIN_OWN_ROWS
            continue
        assert entry["measurements"] == count
        assert entry["low"] <= 1 <= entry["high"] and entry["low"] < entry["high"]
    xavier = calibration("jetson-agx-xavier-32gb", "NVIDIA")
    assert xavier.borrowed and "(2 of them of jetson-agx-xavier-32gb: too few" in xavier.basis("jetson-agx-xavier-32gb")


def test_estimate_prints_first_with_range_and_basis_then_the_bounds():
    code, out, _ = run("fps", "--spec", "specs/resnet18.yaml", "--chip", "hailo-8")
    labels = [line.split("  ")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert code == 0 and labels == ["Work per frame", "Chip", "Estimate", "Ideal"]
    assert "calibrated on 58 measurements of 26 networks on hailo-8; median error" in " ".join(out.split())
    data = fps_json("--spec", "specs/resnet18.yaml", "--chip", "hailo-8")
    estimate = data["estimate"]
    assert estimate["low"] < estimate["fps"] < estimate["high"] <= data["fps"]
    assert estimate["measurements"] == 58 and data["model"] == "estimate"


def test_the_estimate_is_the_fits_prediction_for_a_measured_row():
    """The CLI and the fitting script compute the same number for a published row."""
    row = next(row for row in fps_fit.load_rows() if row.id == "hailo-model-zoo-hailo-8-resnet-v1-18-int8-b1")
    predicted = 1 / seconds_per_frame(row.work, fps_fit.parameters(_fit("hailo"), "hailo-8"), row.peak, None, 1)
    data = fps_json("--spec", str(MEASURED / "fps-specs" / "resnet18_224x224.yaml"), "--chip", "hailo-8")
    assert data["estimate"]["fps"] == pytest.approx(predicted, rel=1e-4)
    assert data["estimate"]["low"] <= row.measured <= data["estimate"]["high"]


def _fit(family: str):
    shipped = load_fit()["families"][family]["parameters"]
    return fps_fit.FamilyFit(family, {key: value for key, value in shipped.items() if key != "efficiency"},
                             {chip: {key: entry["parameters"][key] for key in ("efficiency", *fps_fit.PER_CHIP)
                                     if entry["parameters"][key] is not None}
                              for chip, entry in load_fit()["chips"].items()
                              if entry["family"] == family and "own" not in entry},
                             shipped["efficiency"])


def test_headroom_max_work_and_verdict_come_from_one_model():
    # Issue 13: MobileNet v2 at 2000 fps printed headroom 16.62x (ideal) above FAIL (roofline).
    data = fps_json("--spec", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb", "--fps", "2000")
    achieved = data["estimate"]["fps"]
    assert data["model"] == "estimate" and data["achieved_fps"] == achieved
    assert data["headroom"] == pytest.approx(achieved / 2000)
    assert data["pass"] is (achieved >= 2000)
    assert data["max_flops_per_frame"] == pytest.approx(data["flops_per_frame"] * achieved / 2000)
    code, out, _ = run("fps", "--spec", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb", "--fps", "2000")
    assert "Headroom" in out and all(line.endswith("(estimate)") for line in out.splitlines()
                                      if line.startswith(("Headroom", "Result", "Max work")))


def test_utilization_asks_for_the_roofline_or_ideal_instead():
    data = fps_json("--spec", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb", "--fps", "2000",
                    "--utilization", "0.5")
    assert data["estimate"] is None and data["model"] == "roofline"
    assert data["headroom"] == pytest.approx(data["roofline_fps"] / 2000)
    data = fps_json("--spec", "specs/mobilenet_v2.yaml", "--chip", "hailo-8", "--fps", "2000", "--utilization", "0.5")
    assert data["model"] == "ideal" and data["headroom"] == pytest.approx(data["fps"] / 2000)
    data = fps_json("--spec", "specs/mobilenet_v2.yaml", "--tops", "20")
    assert data["estimate"] is None and data["model"] == "ideal"


def test_precision_and_sparsity_choose_the_peak_of_the_estimate():
    int8 = fps_json("--spec", "specs/resnet50.yaml", "--chip", "jetson-agx-orin-64gb")["estimate"]["fps"]
    fp16 = fps_json("--spec", "specs/resnet50.yaml", "--chip", "jetson-agx-orin-64gb", "--precision", "fp16")
    sparse = fps_json("--spec", "specs/resnet50.yaml", "--chip", "jetson-agx-orin-64gb", "--sparse")
    assert fp16["estimate"]["fps"] < int8 < sparse["estimate"]["fps"]


def test_chips_without_measurements_borrow_and_say_so():
    nano = calibration("jetson-orin-nano-8gb", "NVIDIA")
    assert nano.borrowed and nano.family == "nvidia"
    assert "no measurements of jetson-orin-nano-8gb itself" in nano.basis("jetson-orin-nano-8gb")
    apple = calibration("apple-m2-ane", "Apple")
    assert apple.family == "all" and "none of apple-m2-ane or its family" in apple.basis("apple-m2-ane")
    assert apple.high / apple.low > nano.high / nano.low  # the widest range: nothing backs it
    own = calibration("hailo-8")
    assert not own.borrowed and own.basis("hailo-8").startswith("calibrated on 58 measurements")


def test_analyze_json_has_the_estimate_beside_fps_and_roofline():
    code, out, _ = run("analyze", "specs/resnet18.yaml", "--chip", "jetson-orin-nano-8gb", "--format", "json")
    data = json.loads(out)
    assert code == 0 and set(data["estimate"]) == {"fps", "low", "high", "basis", "measurements"}
    assert data["fps"]["fps"] == pytest.approx(20e12 / (2 * data["totals"]["macs"]))
    assert data["roofline"]["fps"] > 0 and math.isfinite(data["estimate"]["fps"])
