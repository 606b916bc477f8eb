"""`cnncalc diff --chip`: the fps of both sides and its change, from specs and stored JSON reports."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

CHIP = "jetson-orin-nano-8gb"  # 20e12 int8 ops/s dense, 68 GB/s (NVIDIA's data sheet, chips.yaml)
# torchvision's model cards: ResNet-18 1.81 GFLOPS, ResNet-34 3.66 GFLOPS, counted as MACs (fvcore).
TORCHVISION_MACS = {"resnet18": 1.814e9, "resnet34": 3.664e9}


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def on_chip(*arguments: str) -> tuple[int, dict]:
    code, out, err = run("diff", *arguments, "--chip", CHIP, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)["on_chip"]


def analyze_fps(source: str) -> dict:
    code, out, err = run("analyze", source, "--chip", CHIP, "--format", "json")
    assert code == 0, err
    return json.loads(out)["fps"]


def test_fps_of_both_sides_and_its_change():
    code, chip = on_chip("specs/resnet18.yaml", "specs/resnet34.yaml")
    assert code == 0
    assert (chip["chip"], chip["precision"], chip["utilization"]) == (CHIP, "int8", 1.0)
    # 2 ops per MAC on a 20 TOPS chip: 20e12 / (2 x 1.814e9) = 5,513 fps, 20e12 / (2 x 3.664e9) = 2,729 fps
    for side, model in (("base", "resnet18"), ("head", "resnet34")):
        assert chip["fps"][side] == pytest.approx(20e12 / (2 * TORCHVISION_MACS[model]), rel=1e-3)
    assert chip["fps"]["delta"] == pytest.approx(chip["fps"]["head"] - chip["fps"]["base"])
    assert chip["fps"]["percent"] == pytest.approx(-50.49, abs=0.01)  # twice the MACs: half the fps
    # the roofline of each side is the one `analyze --chip` prints for it
    assert chip["fps_roofline"]["base"] == pytest.approx(analyze_fps("specs/resnet18.yaml")["roofline_fps"])
    assert chip["fps_roofline"]["head"] == pytest.approx(analyze_fps("specs/resnet34.yaml")["roofline_fps"])
    assert chip["fps_roofline"]["head"] < chip["fps_roofline"]["base"] < chip["fps"]["base"]


def test_stored_baseline_gives_the_same_fps_as_the_spec(tmp_path):
    code, out, _ = run("analyze", "specs/resnet18.yaml", "--format", "json")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(out)
    _, from_spec = on_chip("specs/resnet18.yaml", "specs/resnet34.yaml")
    _, from_json = on_chip(str(baseline), "specs/resnet34.yaml")
    assert from_json == from_spec


def test_stored_baseline_without_layer_sources_has_no_roofline(tmp_path):
    """A layer with no `from` would count no input traffic: no roofline rather than a fast wrong one."""
    _, out, _ = run("analyze", "specs/resnet18.yaml", "--format", "json")
    data = json.loads(out)
    for layer in data["layers"]:
        del layer["from"]
    baseline = tmp_path / "old.json"
    baseline.write_text(json.dumps(data))
    _, chip = on_chip(str(baseline), "specs/resnet34.yaml")
    assert chip["fps_roofline"]["base"] is None and chip["fps_roofline"]["delta"] is None
    assert chip["fps"]["base"] == pytest.approx(20e12 / (2 * TORCHVISION_MACS["resnet18"]), rel=1e-3)


def test_table_shows_fps_rows_and_the_chip():
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--chip", CHIP, "--width", "80")
    assert code == 0
    rows = {line.split()[0] + (" " + line.split()[1] if "(roofline)" in line else ""): line.split()
            for line in out.splitlines() if line.startswith("fps")}
    assert rows["fps"][1:] == ["5,512.5", "2,729.4", "-2,783.0", "-50.5", "%"]
    # analyze --chip's roofline_fps of each side (fused kernels, the default with a chip)
    assert rows["fps (roofline)"][2:4] == ["3,302.7", "1,866.2"]
    assert f"fps on {CHIP} at int8, utilization 1." in " ".join(out.split())
    assert max(map(len, out.splitlines())) <= 80


def test_head_missing_the_target_fails():
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--chip", CHIP, "--fps", "2500")
    # roofline: ResNet-18 3,303 fps passes 2,500, ResNet-34 1,866 fps does not
    assert code == 1
    assert "Target 2500 fps: base PASS, head FAIL." in " ".join(out.split())
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--chip", CHIP, "--fps", "1000")
    assert code == 0 and "base PASS, head PASS" in " ".join(out.split())


def test_precision_and_utilization_follow_the_chip():
    _, chip = on_chip("specs/resnet18.yaml", "specs/resnet34.yaml", "--precision", "fp16", "--utilization", "0.5")
    assert chip["precision"] == "fp16"
    assert chip["fps"]["base"] == pytest.approx(10e12 * 0.5 / (2 * TORCHVISION_MACS["resnet18"]), rel=1e-3)


def test_markdown_has_fps_rows():
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--chip", CHIP, "--format", "markdown")
    assert "| fps | 5,512.5 | 2,729.4 | -2,783.0 | -50.5 % |" in out.splitlines()


@pytest.mark.parametrize("option, value", [("--fps", "30"), ("--precision", "int8"), ("--bandwidth", "68GB/s")])
def test_chip_options_need_a_chip(option, value):
    code, _, err = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", option, value)
    assert code == 2
    assert f"{option} needs --chip" in err


def test_unknown_chip_is_one_message():
    code, _, err = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--chip", "jetson-nano-9")
    assert code == 2 and "jetson-nano-9" in err and "Traceback" not in err
