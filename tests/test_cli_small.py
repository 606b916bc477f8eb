"""Small things that cost trust: options that say what they do, counts written as cnncalc
prints them, JSON without float noise, memory at the chip's precision, torch: sources."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.render.escape import tidy_floats
from cnncalc.units import parse_count


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("text, value", [
    ("8.7GFLOPs", 8.7e9), ("8.7 GFLOPs", 8.7e9), ("8.7G FLOPs", 8.7e9), ("600MMACs", 6e8), ("4.1G", 4.1e9),
    ("12 ops", 12.0),
], ids=["GFLOPs", "space", "word apart", "MMACs", "plain", "ops"])
def test_counts_are_read_as_cnncalc_prints_them(text, value):
    assert parse_count(text) == value


def test_fps_takes_gflops_as_printed():
    code, out, err = run("fps", "--flops", "8.7GFLOPs", "--tops", "8", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["flops_per_frame"] == 8.7e9


@pytest.mark.parametrize("value, written", [(0.1 * 3 / 0.3, 1.0), (1.0000000000000016, 1.0), (2.5, 2.5),
                                            (1 / 3, 0.333333333333333), (10**20, 10**20)])
def test_json_floats_carry_no_noise(value, written):
    assert tidy_floats({"a": [value]}) == {"a": [written]}


def test_columns_help_lists_every_column():
    from cnncalc.render.columns import ALL_COLUMNS

    _, out, _ = run("analyze", "--help")
    flat = " ".join(out.split())
    for key in ALL_COLUMNS:
        assert key in flat.split("--columns", 1)[1].split("--width")[0], key


def test_force_says_what_it_overwrites():
    _, out, _ = run("check", "--help")
    assert "Overwrite an existing -o file." in " ".join(out.split())
    assert "--plot" not in out


def test_layer_offers_only_options_that_act():
    _, out, _ = run("layer", "--help")
    for absent in ("--columns", "--optimizer", "--depth", "--chip"):
        assert absent not in out
    code, out, _ = run("layer", "linear", "--input", "8", "--out-features", "3", "--width", "40")
    assert code == 0 and max(map(len, out.splitlines())) <= 40


def test_analyze_help_names_every_source():
    _, out, _ = run("analyze", "--help")
    flat = " ".join(out.split())
    for kind in (".cfg", ".prototxt", ".onnx", "torch:package.module:factory", "Ultralytics"):
        assert kind in flat, kind


@pytest.mark.parametrize("extra, dtype, weights", [
    ((), "int8", 3_504_872),                                        # the chip's default precision
    (("--precision", "fp16"), "float16", 2 * 3_504_872),
    (("--dtype", "float32"), "float32", 4 * 3_504_872),              # --dtype wins
])
def test_memory_follows_the_chips_precision_unless_dtype(extra, dtype, weights):
    code, out, err = run("analyze", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb", *extra,
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["convention"]["dtype"] == dtype and data["totals"]["weights_bytes"] == weights


def test_analyze_takes_a_torch_factory(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "tinynet_plain.py").write_text(
        "import torch.nn as nn\n\n"
        "def make():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("analyze", "torch:tinynet_plain:make", "--input", "3x16x16", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["totals"]["params"] == 8 * 3 * 9 + 8  # nn.Conv2d(3, 8, 3): weight and bias
    assert list(data["outputs"].values()) == [[1, 8, 14, 14]]


def test_int8_is_accepted_for_a_tops_of_unstated_precision():
    # Horizon Journey 5: 128 "TOPS", precision unstated (chips.yaml); the README counts it as int8.
    code, out, err = run("fps", "--chip", "horizon-journey-5", "--precision", "int8", "--flops", "128G",
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["peak_ops_per_s"] == 128e12 and data["fps"] == 1000.0
