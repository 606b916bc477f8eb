"""`cnncalc import --phase/--stage` choose a Caffe net's layers by their include rules."""

from __future__ import annotations

from click.testing import CliRunner

from cnncalc.cli import main

NET = """name: "phases"
input: "data"
input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
        convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "train_only" type: "Convolution" bottom: "c" top: "t"
        include { phase: TRAIN } convolution_param { num_output: 5 kernel_size: 1 } }
layer { name: "deploy_only" type: "Convolution" bottom: "c" top: "d"
        include { stage: "deploy" } convolution_param { num_output: 6 kernel_size: 1 } }
"""


def imported(tmp_path, *options: str) -> str:
    path = tmp_path / "phases.prototxt"
    path.write_text(NET)
    result = CliRunner().invoke(main, ["import", str(path), *options])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_test_phase_without_stages_is_the_default(tmp_path):
    text = imported(tmp_path)
    assert "train_only" not in text and "deploy_only" not in text


def test_phase_train_takes_the_train_layers(tmp_path):
    text = imported(tmp_path, "--phase", "train")
    assert "train_only" in text and "deploy_only" not in text


def test_a_stage_takes_the_layers_that_include_it(tmp_path):
    text = imported(tmp_path, "--stage", "deploy")
    assert "deploy_only" in text and "train_only" not in text


def test_an_unknown_phase_is_refused(tmp_path):
    path = tmp_path / "phases.prototxt"
    path.write_text(NET)
    result = CliRunner().invoke(main, ["import", str(path), "--phase", "VAL"])
    assert result.exit_code == 2 and "'VAL' is not one of 'test', 'train'" in result.output
