"""No silent wrong answer: what analyses but is probably not meant is a warning on stderr
naming the layer; what fails far from its cause says the cause (issue: a newcomer's trips)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.lint import dim_warnings, spec_warnings, unreached


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def spec_file(tmp_path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return str(path)


IMAGE = "input: {shape: [3, 32, 32]}\nlayers:\n  - {type: conv2d, name: a, out_channels: 8, kernel_size: 3, padding: 1}\n"


@pytest.mark.parametrize("entry, expected", [
    ("{type: concat, from: [a, a], dim: 1}", "layer 'concat_1' (concat): dim 1 is H of a channels-first image"),
    ("{type: softmax, dim: 1}", "layer 'softmax_1' (softmax): dim 1 is H"),
    ("{type: log_softmax, dim: 2}", "layer 'log_softmax_1' (log_softmax): dim 2 is W"),
    ("{type: slice, dim: 2, start: 0, end: 4}", "layer 'slice_1' (slice): dim 2 is W"),
    ("{type: permute, dims: [1, 2, 0]}", "layer 'permute_1' (permute): dims [1, 2, 0] move the channels"),
], ids=["concat", "softmax", "log_softmax", "slice", "permute"])
def test_a_pytorch_habit_dim_on_an_image_warns(entry, expected):
    graph = cnncalc.analyze(IMAGE + f"  - {entry}\n").graph
    (warning,) = dim_warnings(graph)
    assert warning.startswith(expected)
    assert "dims count per sample (0 = channels, the batch is never named)" in warning


@pytest.mark.parametrize("entry", [
    "{type: concat, from: [a, a], dim: 0}",
    "{type: concat, from: [a, a], dim: -2}",
    "{type: softmax}",
    "{type: permute, dims: [-2, -1, -3]}",
    "{type: flatten}\n  - {type: softmax, dim: 0}",
], ids=["channels", "negative", "default", "negative permute", "not an image"])
def test_channels_negative_dims_and_tokens_do_not_warn(entry):
    assert dim_warnings(cnncalc.analyze(IMAGE + f"  - {entry}\n").graph) == []


def test_token_tensors_are_not_images():
    """ViT-Ti: softmax over the last axis of [H, T, T] scores is not an image's W."""
    assert spec_warnings(cnncalc.analyze("specs/vit_ti16.yaml").graph) == []


@pytest.mark.parametrize("path", ["specs/resnet18.yaml", "specs/googlenet.yaml", "specs/unet_small.yaml",
                                  "specs/mobilenet_v2.yaml", "specs/yolov4-tiny.cfg"])
def test_bundled_networks_have_no_warnings(path):
    assert spec_warnings(cnncalc.analyze(path).graph) == []


def test_a_head_left_out_of_outputs_is_listed(tmp_path):
    text = IMAGE + ("  - {type: conv2d, name: head_a, out_channels: 4, kernel_size: 1}\n"
                    "  - {type: conv2d, name: head_b, from: a, out_channels: 4, kernel_size: 1}\n"
                    "  - {type: relu, name: act_b}\n")
    assert unreached(cnncalc.analyze(text).graph) == ["head_a"]
    code, out, err = run("analyze", spec_file(tmp_path, text), "--format", "csv")
    assert code == 0 and "head_a" in out  # still counted and shown
    assert err == ("warning: 1 layer reaches no output (act_b) but is counted: head_a; "
                   "list every head under outputs: (`cnncalc explain outputs`)\n")
    assert unreached(cnncalc.analyze(text + "outputs: [head_a, act_b]\n").graph) == []


def test_the_dim_warning_reaches_stderr_not_stdout(tmp_path):
    code, out, err = run("analyze", spec_file(tmp_path, IMAGE + "  - {type: concat, from: [a, a], dim: 1}\n"),
                         "--format", "json")
    assert code == 0 and "warning" not in out
    assert err.startswith("warning: layer 'concat_1' (concat): dim 1 is H")


def test_height_width_channels_input_warns():
    code, _, err = run("analyze", "specs/resnet18.yaml", "--input", "384x640x3", "--format", "csv")
    assert code == 0
    assert err.startswith("warning: --input 384x640x3: shapes are channels first (C x H x W): this is 384 "
                          "channels of 640x3; for a 3-channel image write --input 3x384x640")
    _, _, err = run("analyze", "specs/resnet18.yaml", "--input", "3x384x640", "--format", "csv")
    assert err == ""


def test_an_input_with_the_batch_says_batch():
    code, _, err = run("analyze", "specs/resnet18.yaml", "--input", "1x3x384x640")
    assert code == 2
    assert err == ("--input 1x3x384x640: --input takes one sample's shape, and the spec's input 'input' has 3 "
                   "axes ([3, 224, 224]); the batch is --batch; write --input 3x384x640 --batch 1\n")


def test_an_input_size_the_strides_do_not_divide_says_which_divisor():
    code, _, err = run("analyze", "specs/unet_small.yaml", "--input", "3x100x96")
    assert code == 2
    assert "concat" in err and "other axes differ" in err  # the error itself, then its cause
    assert err.rstrip().endswith(
        "H 100 is not a multiple of 8, the stride reached at 'down3.pool': merges after upsampling need every "
        "size divisible by the network's stride; try --input 3x104x96")


def test_a_set_value_of_the_wrong_kind_says_it_came_from_set():
    code, _, err = run("analyze", "specs/mobilenet_v2.yaml", "--set", "width=abc")
    assert code == 2
    assert err == ("specs/mobilenet_v2.yaml:19:17: --set width=abc: the value came from --set and is 'abc', "
                   "but the spec's width is a number (1.0); give a number: --set width=1.0\n")


SWEEP = ("analyze", "specs/resnet18.yaml", "--sweep", "input=3x224x224,3x640x640")


@pytest.mark.parametrize("extra, message", [
    (("--sweep", "batch=1,2"), "--sweep given 2 times: one sweep at a time"),
    (("--depth", "1"), "--depth shapes the per-layer table; --sweep prints one row of totals per value"),
    (("--columns", "name,macs"), "--columns shapes the per-layer table"),
    (("--fps", "30"), "--fps needs --chip"),
], ids=["second sweep", "depth", "columns", "fps without chip"])
def test_sweep_refuses_what_it_cannot_honour(extra, message):
    code, out, err = run(*SWEEP, *extra)
    assert code == 2 and out == ""
    assert err.startswith(message)


def test_sweep_with_fps_gives_a_verdict_per_row():
    code, out, _ = run(*SWEEP, "--chip", "jetson-orin-nano-8gb", "--fps", "1000")
    assert code == 1  # 3x640x640 does not reach 1,000 fps
    lines = out.splitlines()
    assert lines[0].split()[-2:] == ["1000", "fps"]
    assert lines[1].endswith("PASS") and lines[2].endswith("FAIL")
