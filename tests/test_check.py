"""`cnncalc check`: every exit code, every format, budgets at the limit and one unit over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

GOLDEN = Path(__file__).parent / "golden"
# 16*3*3*3 + 16 = 448 conv + 16*10 + 10 = 170 linear: 618 params; weights 2,472 B.
SMALL = """name: small
input: {shape: [3, 32, 32]}
layers:
  - {type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - {type: relu}
  - {type: global_avgpool}
  - {type: flatten}
  - {type: linear, out_features: 10}
budgets:
  params: 618
  flops: 1.2M
  weights: 2KiB
  peak_activations: 64MiB
  fps: {chip: jetson-orin-nano-8gb, precision: int8, min: 30}
"""


@pytest.fixture
def spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("small.yaml").write_text(SMALL)
    return "small.yaml"


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_exactly_at_the_limit_passes_and_one_over_fails(spec):
    code, out, _ = run("check", spec, "--budget", "weights=2472B", "--format", "json")
    assert code == 0
    budgets = {item["budget"]: item for item in json.loads(out)["specs"][0]["budgets"]}
    assert budgets["params"]["actual"] == 618 and budgets["params"]["pass"] is True
    assert budgets["weights"]["margin"] == 0 and budgets["weights"]["pass"] is True
    code, out, _ = run("check", spec, "--budget", "params=617", "--budget", "weights=2472B", "--format", "json")
    assert code == 1
    budgets = {item["budget"]: item for item in json.loads(out)["specs"][0]["budgets"]}
    assert budgets["params"]["pass"] is False and budgets["params"]["margin"] == -1


def test_exit_codes(spec, tmp_path):
    assert run("check", spec, "--budget", "weights=1MB")[0] == 0
    assert run("check", spec)[0] == 1  # weights 2,472 B over 2 KiB
    Path("none.yaml").write_text(SMALL.split("budgets:")[0])
    code, out, err = run("check", "none.yaml")
    assert code == 2 and out == "" and "no budgets to check" in err and "--budget params=5M" in err
    code, _, err = run("check", spec, "--budget", "params=5Q")
    assert code == 2 and "--budget params: budget params is '5Q': unknown unit 'Q'" in err
    code, _, err = run("check", spec, "--budget", "paramz=5M")
    assert code == 2 and "unknown budget 'paramz'" in err


def test_bad_budget_in_the_spec_is_located(spec):
    Path("bad.yaml").write_text(SMALL.replace("flops: 1.2M", "flops: 1.2Mb").replace("weights: 2KiB", "wieghts: 2KiB"))
    code, _, err = run("check", "bad.yaml")
    assert code == 2 and err.startswith("bad.yaml:11:10: budget flops is '1.2Mb': unknown unit 'Mb'")
    Path("bad.yaml").write_text(SMALL.replace("weights: 2KiB", "wieghts: 2KiB"))
    code, _, err = run("check", "bad.yaml")
    assert code == 2 and err.startswith("bad.yaml:12:3: unknown budget 'wieghts'; did you mean 'weights'?")


@pytest.mark.parametrize("form", ["table", "markdown", "junit"])
def test_formats_match_golden_files(spec, form):
    code, out, _ = run("check", spec, "--format", form)
    assert code == 1
    path = GOLDEN / f"check_small.{ {'table': 'txt', 'markdown': 'md', 'junit': 'xml'}[form] }"
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(out)
    assert out == path.read_text()


def test_junit_parses_with_one_case_per_budget(spec):
    root = ElementTree.fromstring(run("check", spec, "--format", "junit")[1])
    cases = root.findall(".//testcase")
    assert [case.get("name") for case in cases] == ["params", "flops", "weights", "peak_activations", "fps"]
    assert [case.get("name") for case in cases if case.find("failure") is not None] == ["weights"]
    assert root.get("tests") == "5" and root.get("failures") == "1"


def test_github_annotation_points_at_the_budget_line(spec):
    lines = run("check", spec, "--format", "github")[1].splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert errors == ["::error file=small.yaml,line=12,col=12,title=cnncalc budget::weights 2.4 KiB exceeds "
                      "budget 2.0 KiB"]


def budget_fps(spec: str, budget: str) -> dict:
    code, out, _ = run("check", spec, "--budget", f"fps={{chip: jetson-orin-nano-8gb, min: 1.0e+12{budget}}}",
                       "--budget", "weights=1MB", "--format", "json")
    assert code == 1
    return next(item for item in json.loads(out)["specs"][0]["budgets"] if item["budget"] == "fps")


def test_fps_budget_uses_the_estimate_unless_it_names_a_model_or_a_utilization(spec):
    # Issue 13: the budget, `analyze --chip` and `fps --spec` answer from the same model.
    analyzed = json.loads(run("analyze", spec, "--chip", "jetson-orin-nano-8gb", "--format", "json")[1])
    fps = budget_fps(spec, "")
    assert fps["model"] == "estimate" and fps["actual"] == pytest.approx(analyzed["estimate"]["fps"])
    fps = budget_fps(spec, ", utilization: 1.0")
    assert fps["model"] == "roofline" and fps["actual"] == pytest.approx(analyzed["roofline"]["fps"])
    fps = budget_fps(spec, ", model: roofline")
    assert fps["model"] == "roofline" and fps["actual"] == pytest.approx(analyzed["roofline"]["fps"])
    fps = budget_fps(spec, ", model: ideal")
    assert fps["model"] == "ideal" and fps["actual"] == pytest.approx(analyzed["fps"]["fps"])


def test_fps_budget_model_is_checked(spec):
    code, _, err = run("check", spec, "--budget", "fps={chip: hailo-8, min: 30, model: best}")
    assert code == 2 and "--budget fps: fps model is 'best'; models: estimate, roofline, ideal" in err
    code, _, err = run("check", spec, "--budget", "fps={chip: hailo-8, min: 30, model: estimate, utilization: 0.5}")
    assert code == 2 and "fps model estimate takes no utilization" in err


def test_several_specs_and_a_real_subprocess(spec):
    Path("other.yaml").write_text(SMALL.replace("params: 618", "params: 600"))
    result = subprocess.run([sys.executable, "-m", "cnncalc", "check", spec, "other.yaml", "--budget", "weights=1MB",
                             "--format", "json"], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [item["spec"] for item in data["specs"]] == ["small.yaml", "other.yaml"]
    assert data["pass"] is False


@pytest.mark.parametrize("value,message", [("[1, 2]", "got a list"), ("null", "got null"),
                                           (".nan", "not a finite number")])
def test_budget_values_that_are_not_numbers(tmp_path, monkeypatch, value, message):
    monkeypatch.chdir(tmp_path)
    Path("odd.yaml").write_text(SMALL.replace("params: 618", f"params: {value}"))
    code, _, err = run("check", "odd.yaml")
    assert code == 2 and err.startswith("odd.yaml:10:11: budget params is") and message in err


def test_fps_budget_of_a_network_without_macs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("relu.yaml").write_text("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: relu}\n"
                                 "budgets:\n  fps: {chip: hailo-8, min: 30}\n")
    # The estimate charges each kernel its fixed cost, so even no MACs is a finite fps;
    # the ideal of no work is unbounded (null in JSON).
    code, out, _ = run("check", "relu.yaml", "--format", "json")
    estimated = json.loads(out)["specs"][0]["budgets"][0]
    assert code == 0 and estimated["model"] == "estimate" and 30 < estimated["actual"] < float("inf")
    code, out, _ = run("check", "relu.yaml", "--budget", "fps={chip: hailo-8, min: 30, model: ideal}",
                       "--format", "json")
    assert code == 0 and json.loads(out)["specs"][0]["budgets"][0]["actual"] is None
