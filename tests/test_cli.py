"""The command line through click's runner and a real subprocess: outputs, formats, files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

RESNET18 = "specs/resnet18.yaml"


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_table_has_totals_and_assumptions():
    code, out, _ = run("analyze", RESNET18, "--width", "80")
    assert code == 0
    assert "11.69 M (11,689,512)" in out
    assert "convention 2mac" in out and "FLOPs = 2 x MACs" in out
    assert "float32, 4 bytes per element" in out
    assert "decimal units" in out and "binary" in out
    assert "Peak activations" in out and "at bn1" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_json_is_exact_and_complete():
    code, out, _ = run("analyze", RESNET18, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"cnncalc", "name", "convention", "inputs", "layers", "totals", "outputs"}
    assert data["convention"] == {"flops": "2mac", "dtype": "float32", "bytes_per_element": 4, "batch": 1,
                                  "optimizer": "adam"}
    assert data["inputs"] == {"input": [1, 3, 224, 224]}
    assert data["totals"]["params"] == 11_689_512
    assert data["outputs"] == {"fc": [1, 1000]}
    first = data["layers"][0]
    assert first == {"name": "conv1", "type": "conv2d", "from": ["input"], "output_shape": [1, 64, 112, 112],
                     "params": 9408, "buffers": 0, "macs": 118_013_952, "flops": 236_027_904,
                     "activation_bytes": 3_211_264, "view": False,
                     "receptive_field": {"size": [7, 7], "jump": [2, 2], "start": [0, 0]}}
    assert sum(layer["params"] for layer in data["layers"]) == data["totals"]["params"]


def test_json_keeps_every_layer_whatever_the_depth():
    full = json.loads(run("analyze", RESNET18, "--format", "json")[1])
    folded = json.loads(run("analyze", RESNET18, "--format", "json", "--depth", "1")[1])
    assert full == folded


def test_depth_folds_block_instances_and_keeps_totals():
    rows = list(csv.DictReader(io.StringIO(run("analyze", RESNET18, "--format", "csv", "--depth", "1")[1])))
    names = [row["name"] for row in rows]
    assert names[:6] == ["conv1", "bn1", "relu", "maxpool", "layer1.0", "layer1.1"]
    assert rows[4]["type"] == "basic"
    assert sum(int(row["params"]) for row in rows) == 11_689_512
    assert sum(int(row["macs"]) for row in rows) == 1_814_073_344


@pytest.mark.parametrize("convention,flops", [("2mac", 3_628_146_688), ("mac", 1_814_073_344)])
def test_conventions(convention, flops):
    data = json.loads(run("analyze", RESNET18, "--format", "json", "--convention", convention)[1])
    assert data["totals"]["flops"] == flops
    assert data["convention"]["flops"] == convention


def test_overrides_change_the_numbers():
    data = json.loads(run("analyze", "specs/mobilenet_v2.yaml", "--format", "json", "--set", "width=0.5",
                          "--input", "3x160x160", "--batch", "4", "--dtype", "int8")[1])
    assert data["inputs"] == {"input": [4, 3, 160, 160]}
    assert data["convention"]["bytes_per_element"] == 1
    assert data["totals"]["params"] == 1_968_680  # torchvision mobilenet_v2(width_mult=0.5)


def test_markdown_table():
    code, out, _ = run("analyze", RESNET18, "--format", "markdown", "--depth", "1")
    assert code == 0
    assert out.startswith("### resnet18\n")
    assert "| layer1.0 | basic | 64x56x56 |" in out
    assert "- **Convention**: 2mac" in out


def test_output_file_is_never_clobbered(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("keep me")
    code, out, err = run("analyze", RESNET18, "--format", "json", "-o", str(target))
    assert code == 2 and "exists" in err and "--force" in err
    assert target.read_text() == "keep me"
    code, _, _ = run("analyze", RESNET18, "--format", "json", "-o", str(target), "--force")
    assert code == 0 and json.loads(target.read_text())["totals"]["params"] == 11_689_512


def test_layer_calculator():
    code, out, _ = run("layer", "conv2d", "--input", "16x50x100", "--out-channels", "33", "--kernel-size", "3x5",
                       "--stride", "2x1", "--padding", "4x2", "--dilation", "3x1")
    assert code == 0
    assert out.splitlines()[0] == "conv2d: 16x50x100 -> 33x26x100"
    assert "params   7,953" in out
    assert "MACs     20,592,000" in out
    assert "FLOPs    41,184,000" in out


def test_layer_calculator_merges_and_json():
    code, out, _ = run("layer", "concat", "--input", "16x8x8", "--input", "32x8x8", "--format", "json")
    assert code == 0
    assert json.loads(out)["outputs"] == {"concat": [1, 48, 8, 8]}


@pytest.mark.parametrize("arguments,message", [
    (["layer", "conv2d", "--input", "16x50x100", "--out-channels", "33", "--kernel-size", "3", "--strid", "2"],
     "unknown field 'strid'; did you mean 'stride'?"),
    (["layer", "conv2e", "--input", "3x8x8"], "unknown layer type 'conv2e'; did you mean 'conv2d'?"),
    (["layer", "conv2d", "--input", "3x8x8"], "missing required field"),
    (["analyze", RESNET18, "--set", "widht=0.5"], "--set widht: the spec has no parameter 'widht'"),
    (["analyze", RESNET18, "--columns", "name,bogus"], "unknown column 'bogus'"),
    (["analyze", "no-such-file.yaml"], "cannot read no-such-file.yaml"),
], ids=["misspelled-field", "unknown-type", "missing-field", "unknown-param", "unknown-column", "missing-file"])
def test_usage_errors_exit_2(arguments, message):
    code, out, err = run(*arguments)
    assert code == 2
    assert out == ""
    assert message in err


def test_explain_every_type_has_help():
    from cnncalc.layers import REGISTRY

    code, out, _ = run("explain")
    assert code == 0
    for kind in REGISTRY:
        assert kind in out
        code, text, _ = run("explain", kind)
        assert code == 0 and "full:" in text


def test_every_command_and_option_has_help():
    for name, command in main.commands.items():
        assert command.help, name
        for parameter in command.params:
            if parameter.param_type_name == "option":
                assert parameter.help, f"{name} {parameter.name}"


def test_real_subprocess():
    result = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", RESNET18, "--format", "json"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert json.loads(result.stdout)["totals"]["macs"] == 1_814_073_344


@pytest.mark.parametrize("spec", ["specs/resnet18.yaml", "specs/googlenet.yaml", "specs/unet_small.yaml"])
def test_json_text_equals_the_documented_structure(spec):
    # render_json writes layer lines by hand for speed; they must parse to report_json exactly
    import cnncalc
    from cnncalc.render.formats import render_json, report_json

    report = cnncalc.analyze(spec, batch=2)
    assert json.loads(render_json(report)) == report_json(report)


# One working call of `cnncalc layer` per type: (input shapes, fields, expected output shape).
EVERY_TYPE = {
    "conv": (["4x9x9"], ["--out-channels", "2", "--kernel-size", "3"], "2x7x7"),
    "conv1d": (["4x9"], ["--out-channels", "2", "--kernel-size", "3"], "2x7"),
    "conv3d": (["4x5x9x9"], ["--out-channels", "2", "--kernel-size", "3"], "2x3x7x7"),
    "conv_transpose": (["4x5x5"], ["--out-channels", "2", "--kernel-size", "2", "--stride", "2"], "2x10x10"),
    "conv_transpose1d": (["4x5"], ["--out-channels", "2", "--kernel-size", "3"], "2x7"),
    "conv_transpose3d": (["4x2x5x5"], ["--out-channels", "2", "--kernel-size", "2", "--stride", "2"], "2x4x10x10"),
    "linear": (["10"], ["--out-features", "3"], "3"),
    "maxpool": (["4x9x9"], ["--kernel-size", "3"], "4x3x3"),
    "maxpool1d": (["4x9"], ["--kernel-size", "2"], "4x4"),
    "maxpool3d": (["4x4x8x8"], ["--kernel-size", "2"], "4x2x4x4"),
    "avgpool": (["4x9x9"], ["--kernel-size", "3"], "4x3x3"),
    "avgpool1d": (["4x9"], ["--kernel-size", "2", "--ceil-mode", "true"], "4x5"),
    "avgpool3d": (["4x4x8x8"], ["--kernel-size", "2"], "4x2x4x4"),
    "adaptive_avgpool": (["4x9x9"], ["--output-size", "3"], "4x3x3"),
    "adaptive_avgpool1d": (["4x9"], ["--output-size", "2"], "4x2"),
    "adaptive_avgpool3d": (["4x4x8x8"], ["--output-size", "1"], "4x1x1x1"),
    "adaptive_maxpool": (["4x9x9"], ["--output-size", "3"], "4x3x3"),
    "adaptive_maxpool1d": (["4x9"], ["--output-size", "2"], "4x2"),
    "adaptive_maxpool2d": (["4x9x9"], ["--output-size", "2x3"], "4x2x3"),
    "adaptive_maxpool3d": (["4x4x8x8"], ["--output-size", "1"], "4x1x1x1"),
    "global_avgpool": (["4x9x9"], [], "4x1x1"),
    "global_maxpool": (["4x9"], [], "4x1"),
    "batchnorm": (["4x9x9"], [], "4x9x9"),
    "batchnorm1d": (["4x9"], [], "4x9"),
    "batchnorm3d": (["4x2x3x3"], [], "4x2x3x3"),
    "layernorm": (["4x9x9"], [], "4x9x9"),
    "groupnorm": (["4x9x9"], ["--num-groups", "2"], "4x9x9"),
    "instancenorm": (["4x9x9"], [], "4x9x9"),
    "instancenorm1d": (["4x9"], [], "4x9"),
    "instancenorm2d": (["4x9x9"], ["--affine", "true"], "4x9x9"),
    "instancenorm3d": (["4x2x3x3"], [], "4x2x3x3"),
    "lrn": (["4x9x9"], ["--size", "3"], "4x9x9"),
    "scale": (["4x9x9"], ["--bias", "true"], "4x9x9"),
    "leaky_relu": (["4x9x9"], ["--negative-slope", "0.2"], "4x9x9"),
    "prelu": (["4x9x9"], ["--num-parameters", "4"], "4x9x9"),
    "elu": (["4x9x9"], ["--alpha", "0.5"], "4x9x9"),
    "softmax": (["10"], [], "10"),
    "log_softmax": (["4x9x9"], ["--dim", "0"], "4x9x9"),
    "add": (["4x9x9", "4x1x1"], [], "4x9x9"),
    "sub": (["4x9x9", "4x9x9"], [], "4x9x9"),
    "mul": (["4x9x9", "1x9x9"], [], "4x9x9"),
    "concat": (["4x9x9", "2x9x9"], [], "6x9x9"),
    "flatten": (["4x9x9"], [], "324"),
    "reshape": (["4x9x9"], ["--shape", "[-1, 81]"], "4x81"),
    "permute": (["4x9x8"], ["--dims", "[1, 2, 0]"], "9x8x4"),
    "slice": (["4x9x9"], ["--start", "1", "--end", "3"], "2x9x9"),
    "pad": (["4x9x9"], ["--padding", "1"], "4x11x11"),
    "channel_shuffle": (["4x9x9"], ["--groups", "2"], "4x9x9"),
    "pixel_shuffle": (["8x3x3"], ["--upscale-factor", "2"], "2x6x6"),
    "pixel_unshuffle": (["2x6x6"], ["--downscale-factor", "2"], "8x3x3"),
    "shortcut": (["4x9x9", "2x9x9"], ["--weights", "per_channel"], "4x9x9"),
    "maximum": (["4x9x9", "4x1x1"], [], "4x9x9"),
    "local2d": (["4x9x9"], ["--out-channels", "2", "--kernel-size", "3"], "2x7x7"),
    "upsample": (["4x9x9"], ["--scale-factor", "2", "--mode", "bilinear"], "4x18x18"),
    "identity": (["4x9x9"], [], "4x9x9"),
    "dropout": (["4x9x9"], ["--p", "0.5"], "4x9x9"),
    "drop_path": (["4x9x9"], [], "4x9x9"),
    "stochastic_depth": (["4x9x9"], [], "4x9x9"),
    "div": (["4x9x9", "4x1x1"], [], "4x9x9"),
    "matmul": (["4x9x8", "4x8x3"], [], "4x9x3"),
    "attention": (["2x9x8", "2x5x8", "2x5x3"], [], "2x9x3"),
    "multihead_attention": (["9x8"], ["--num-heads", "2"], "9x8"),
    "einsum": (["2x9x8", "2x5x8"], ["--equation", "hqd,hkd->hqk"], "2x9x5"),
    "parameter": (["9x8"], ["--shape", "[1, 8]"], "1x8"),
    "constant": (["9x8"], ["--shape", "[9, 8]", "--value", "1"], "9x8"),
    "embedding": (["9"], ["--num-embeddings", "100", "--embedding-dim", "8"], "9x8"),
    "rmsnorm": (["9x8"], ["--normalized-shape", "8"], "9x8"),
    "mean": (["4x9x9"], ["--dim", "[1, 2]"], "4"),
    "sum": (["4x9x9"], ["--dim", "0", "--keepdim", "true"], "1x9x9"),
    "max": (["9x8"], ["--dim", "0"], "8"),
    "min": (["9x8"], ["--dim", "-1"], "9"),
    "pow": (["4x9x9"], ["--exponent", "2"], "4x9x9"),
    "normalize": (["9x8"], ["--dim", "-1"], "9x8"),
    "select": (["9x8"], ["--index", "0"], "8"),
    "stack": (["9x8", "9x8"], [], "2x9x8"),
    "expand": (["1x8"], ["--shape", "[9, -1]"], "9x8"),
    "roll": (["4x9x9"], ["--shifts", "[1, 2]", "--dims", "[1, 2]"], "4x9x9"),
    **{kind: (["4x9x9"], [], "4x9x9") for kind in ("sqrt", "rsqrt", "exp", "log", "abs", "neg", "square",
                                                  "reciprocal", "sin", "cos", "erf")},
}
SIMPLE_TYPES = ("conv2d", "conv_transpose2d", "maxpool2d", "avgpool2d", "adaptive_avgpool2d", "batchnorm2d",
                "relu", "relu6", "selu", "gelu", "sigmoid", "silu", "tanh", "hardsigmoid", "hardswish", "mish")


def test_every_type_is_in_the_layer_table():
    from cnncalc.layers import REGISTRY

    assert set(REGISTRY) == set(EVERY_TYPE) | set(SIMPLE_TYPES)


@pytest.mark.parametrize("kind", sorted(set(EVERY_TYPE) | set(SIMPLE_TYPES)))
def test_layer_command_works_for_every_type(kind):
    inputs, fields, expected = EVERY_TYPE.get(kind, (["4x9x9"], [], None))
    if kind.startswith(("conv", "conv_transpose")) and kind in SIMPLE_TYPES:
        fields = ["--out-channels", "2", "--kernel-size", "3"]
    elif kind in ("maxpool2d", "avgpool2d"):
        fields = ["--kernel-size", "3"]
    elif kind == "adaptive_avgpool2d":
        fields = ["--output-size", "1"]
    arguments = ["layer", kind, *[item for shape in inputs for item in ("--input", shape)], *fields]
    code, out, err = run(*arguments)
    assert code == 0, err
    if expected:
        assert out.splitlines()[0].endswith(f"-> {expected}")
