"""`cnncalc fps`, `cnncalc chips` and the roofline: the textbook relation's worked examples,
the chip table against its sourced original, and the roofline's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.chips import load_chips
from cnncalc.cli import main
from cnncalc.fps import Compute, on_chip, roofline, solve



def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def fps_json(*arguments: str) -> tuple[int, dict]:
    code, out, err = run("fps", *arguments, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def test_8_tops_at_30_fps_leaves_266_7_gflops_per_frame():
    _, data = fps_json("--tops", "8", "--fps", "30")
    assert round(data["max_flops_per_frame"] / 1e9, 1) == 266.7


def test_4_1_gflops_at_30_fps_needs_123_gflops():
    _, data = fps_json("--flops", "4.1G", "--fps", "30")
    assert data["required_ops_per_s"] == pytest.approx(123e9)


def test_8_2_gflops_on_20_tops_is_2439_fps():
    _, data = fps_json("--flops", "8.2G", "--tops", "20")
    assert round(data["fps"]) == 2439
    assert data["utilization"] == 1.0 and data["convention"] == "2mac"


def test_macs_and_mac_convention_are_doubled():
    _, by_macs = fps_json("--macs", "2.05G", "--tops", "20")
    _, by_mac_flops = fps_json("--flops", "2.05G", "--convention", "mac", "--tops", "20")
    _, by_flops = fps_json("--flops", "4.1G", "--tops", "20")
    assert by_macs["flops_per_frame"] == by_mac_flops["flops_per_frame"] == by_flops["flops_per_frame"] == 4.1e9


def test_utilization_and_pass_fail_exit_codes():
    code, data = fps_json("--flops", "800G", "--chip", "jetson-orin-nano-8gb", "--fps", "30")
    assert code == 1 and data["pass"] is False
    assert data["headroom"] == pytest.approx(20e12 / 800e9 / 30)
    code, data = fps_json("--flops", "100G", "--chip", "jetson-orin-nano-8gb", "--fps", "30", "--utilization", "0.4")
    assert code == 0 and data["pass"] is True
    assert data["fps"] == pytest.approx(20e12 * 0.4 / 100e9)
    assert data["max_flops_per_frame"] == pytest.approx(20e12 * 0.4 / 30)


def test_exactly_at_the_target_passes():
    code, data = fps_json("--flops", "1G", "--tops", "30", "--fps", "30000")
    assert code == 0 and data["pass"] is True and data["headroom"] == pytest.approx(1.0)


def test_a_flop_count_gets_the_ideal_as_a_bound_and_no_estimate():
    # Issue 13: the old "Reality" line quoted one ResNet-50-on-NVIDIA sentence for every chip;
    # without layers there is no estimate, and the output says what gives one.
    code, out, _ = run("fps", "--flops", "8.2G", "--chip", "jetson-orin-nano-8gb")
    assert code == 0
    assert "Ideal           2,439.0 fps at 100 % of the int8 peak" in out
    assert "Estimate        needs the network's layers: give --spec" in out
    assert "Reality" not in out and "MLPerf" not in out


def test_precision_selects_the_peak_and_missing_ones_are_named():
    _, data = fps_json("--flops", "1G", "--chip", "jetson-orin-nano-8gb", "--precision", "fp16")
    assert data["peak_ops_per_s"] == 10e12 and data["precision"] == "fp16"
    code, _, err = run("fps", "--flops", "1G", "--chip", "ti-tda4vm", "--precision", "fp16")
    assert code == 2 and "chip 'ti-tda4vm' has no dense fp16 peak; ti-tda4vm has int8" in err
    _, data = fps_json("--flops", "1G", "--chip", "jetson-orin-nano-8gb", "--sparse")
    assert data["peak_ops_per_s"] == 40e12


def test_unknown_chip_gets_a_did_you_mean():
    code, _, err = run("fps", "--flops", "1G", "--chip", "jetson-orin-nano")
    assert code == 2 and "unknown chip 'jetson-orin-nano'; did you mean" in err


def test_two_of_three_are_needed():
    code, _, err = run("fps", "--flops", "1G")
    assert code == 2 and "give two of" in err


def test_chips_lists_every_chip_with_its_source():
    chips = load_chips()
    assert len(chips) == 25
    code, out, _ = run("chips", "--format", "json")
    listed = json.loads(out)
    assert [chip["id"] for chip in listed] == list(chips)
    assert all(chip["source"] for chip in listed)
    code, out, _ = run("chips", "jetson-orin-nano-8gb")
    assert code == 0 and "DS-11105-001" in out and "developer.nvidia.com" in out and "68 GB/s" in out


def test_user_chips_add_and_override(tmp_path, monkeypatch):
    mine = tmp_path / "mine.yaml"
    mine.write_text("chips:\n  - {id: my-npu, name: My NPU, peak: {int8: 4.0e+12}, bandwidth: 10.0e+9}\n"
                    "  - {id: hailo-8, name: Hailo-8 derated, peak: {int8: 13e12}}\n")
    _, data = fps_json("--flops", "4G", "--chip", "my-npu", "--chips", str(mine))
    assert data["fps"] == pytest.approx(1000)
    monkeypatch.setenv("CNNCALC_CHIPS", str(mine))
    _, data = fps_json("--flops", "13G", "--chip", "hailo-8")
    assert data["fps"] == pytest.approx(1000)


@pytest.mark.parametrize("text,message", [
    ("chips: [{id: x, peak: {int9: 1.0e+12}}]", "mine.yaml:1:24: chip 'x': unknown precision 'int9'"),
    ("chips: [{id: x, peak: {int8: -1}}]", "mine.yaml:1:30: chip 'x': peak int8 is -1, not a positive finite number"),
    ("chips: [{id: x, peek: {int8: 1}}]", "mine.yaml:1:17: chip 'x': unknown key 'peek'; did you mean 'peak'?"),
    ("chips: [{name: x}]", "mine.yaml:1:9: a chip is a mapping with an 'id'"),
    ("[1, 2]", "mine.yaml:1:1: a chip file is a mapping with a 'chips' list"),
], ids=["precision", "negative", "misspelled-key", "no-id", "not-a-mapping"])
def test_user_chip_files_are_validated(tmp_path, text, message):
    mine = tmp_path / "mine.yaml"
    mine.write_text(text + "\n")
    code, out, err = run("fps", "--flops", "1G", "--chip", "x", "--chips", str(mine))
    assert code == 2 and out == ""
    assert err.startswith(str(tmp_path / message.split(":")[0]) + ":" + message.split(":", 1)[1])


def test_roofline_times_add_up_to_the_frame_time():
    report = cnncalc.analyze("specs/mobilenet_v2.yaml")
    chip = load_chips()["jetson-orin-nano-8gb"]
    compute = Compute(chip.peaks["int8"], "int8", chip.id, chip.bandwidth)
    lines = roofline(report, compute)
    assert sum(layer.seconds for layer in lines.layers) == pytest.approx(lines.batch_seconds)
    assert lines.fps == pytest.approx(1 / lines.batch_seconds)
    assert sum(layer.share for layer in lines.layers) == pytest.approx(1)
    # each layer by hand: max(ops / peak, bytes / bandwidth)
    for layer in lines.layers:
        assert layer.seconds == pytest.approx(max(layer.ops / 20e12, layer.bytes_moved / 68e9))
    depthwise = [layer for layer in lines.layers if layer.name.endswith("dw.conv")]
    assert depthwise and all(layer.bound == "memory" for layer in depthwise)


def test_roofline_bytes_of_one_conv():
    # 3x8x8 -> conv 4 out, 3x3, no bias: 108 weights; 192 in + 108 + 256 out elements, 1 byte at int8
    spec = "input: {shape: [3, 8, 8]}\nlayers:\n  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, bias: false}\n"
    lines = roofline(cnncalc.analyze(spec), Compute(1e12, "int8", "x", 1e9))
    assert lines.layers[0].bytes_moved == 192 + 108 + 256
    assert lines.layers[0].ops == 2 * 4 * 64 * 27
    lines = roofline(cnncalc.analyze(spec), Compute(1e12, "fp16", "x", 1e9))
    assert lines.layers[0].bytes_moved == 2 * (192 + 108 + 256)


def test_on_chip_matches_the_solver():
    report = cnncalc.analyze("specs/resnet50.yaml")
    compute = Compute(20e12, "int8", "20 TOPS", None)
    answer, lines = on_chip(report, compute, 30)
    assert lines is None
    assert answer.fps == pytest.approx(20e12 / 8_178_368_512)
    assert solve(8_178_368_512, compute, 30).fps == answer.fps


def test_analyze_with_a_chip_adds_roofline_columns_and_json():
    code, out, _ = run("analyze", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb", "--width", "100")
    assert code == 0 and "Ops/B" in out and "Bound" in out and "Roofline" in out and "Slowest kernels" in out
    code, out, _ = run("analyze", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb", "--format", "json")
    data = json.loads(out)
    assert data["roofline"]["fps"] == pytest.approx(1 / sum(layer["seconds"] for layer in data["roofline"]["layers"]))
    code, out, _ = run("analyze", "specs/resnet50.yaml", "--chip", "jetson-orin-nano-8gb", "--fps", "1000000")
    assert code == 1 and "FAIL" in out


def test_fps_needs_a_chip_in_analyze():
    code, _, err = run("analyze", "specs/resnet18.yaml", "--fps", "30")
    assert code == 2 and "--fps needs --chip" in err


def test_readme_worked_example_is_current():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    lines = roofline(cnncalc.analyze("specs/mobilenet_v2.yaml"), Compute(20e12, "int8", "x", 68e9))
    layer = next(layer for layer in lines.layers if layer.name == "block2.0.expand.conv")
    assert f"2 x {layer.ops // 2:,} = {layer.ops:,} ops" in readme
    assert f"= {int(layer.bytes_moved):,} bytes" in readme
    assert f"{lines.batch_seconds * 1e3:.3f} ms" in readme and f"{lines.fps:,.0f} fps" in readme
