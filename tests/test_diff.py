"""`cnncalc diff`: totals and per-layer changes, stored JSON baselines, growth thresholds."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

GOLDEN = Path(__file__).parent / "golden"


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def diff_json(*arguments: str) -> tuple[int, dict]:
    code, out, err = run("diff", *arguments, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def test_resnet18_to_resnet34():
    code, data = diff_json("specs/resnet18.yaml", "specs/resnet34.yaml")
    assert code == 0
    assert data["totals"]["params"] == {"base": 11_689_512, "head": 21_797_672, "delta": 10_108_160,
                                        "percent": pytest.approx(86.47, abs=0.01)}
    added = {layer["name"] for layer in data["layers"] if layer["change"] == "added"}
    # the extra blocks: layer1.2, layer2.2-3, layer3.2-5, layer4.2, each conv1 bn1 relu1 conv2 bn2 add relu
    assert {name.rsplit(".", 1)[0] for name in added} == {"layer1.2", "layer2.2", "layer2.3", "layer3.2",
                                                          "layer3.3", "layer3.4", "layer3.5", "layer4.2"}
    assert len(added) == 8 * 7
    assert not [layer for layer in data["layers"] if layer["change"] in ("removed", "changed")]


def test_changed_layers_name_what_changed(tmp_path):
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text(Path("specs/resnet18.yaml").read_text().replace("out_features: $num_classes",
                                                                     "out_features: 10"))
    _, data = diff_json("specs/resnet18.yaml", str(narrow))
    [change] = data["layers"]
    assert change["name"] == "fc" and change["change"] == "changed"
    assert change["fields"] == ["output_shape", "params", "macs", "flops"]


def test_stored_json_baseline(tmp_path):
    baseline = tmp_path / "baseline.json"
    assert run("analyze", "specs/resnet18.yaml", "--format", "json", "-o", str(baseline))[0] == 0
    code, data = diff_json(str(baseline), "specs/resnet18.yaml")
    assert code == 0 and data["layers"] == [] and all(item["delta"] == 0 for item in data["totals"].values())


def test_refuses_different_conventions_unless_told(tmp_path):
    baseline = tmp_path / "mac.json"
    run("analyze", "specs/resnet18.yaml", "--format", "json", "--convention", "mac", "-o", str(baseline))
    code, out, err = run("diff", str(baseline), "specs/resnet18.yaml")
    assert code == 2 and "differ in convention" in err and "--allow-convention-change" in err
    code, data = diff_json(str(baseline), "specs/resnet18.yaml", "--allow-convention-change")
    assert code == 0 and data["totals"]["flops"]["percent"] == pytest.approx(100)


def test_fail_above_thresholds():
    # resnet18 -> resnet34: params +86.5 %, buffers +77.3 %, macs and flops +102.0 %, activations +53.3 %
    code, data = diff_json("specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "100%")
    assert code == 1 and data["fail"] == ["macs", "flops"]
    code, data = diff_json("specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "100%",
                           "--fail-above", "macs=103%", "--fail-above", "flops=103%")
    assert code == 0 and data["fail"] == []
    code, data = diff_json("specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "params=80%")
    assert code == 1 and data["fail"] == ["params"]
    code, _, err = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "flopz=2%")
    assert code == 2 and "no total 'flopz'" in err


def test_bad_json_baseline_is_located(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"cnncalc": "0.1.0",\n "totals": }')
    code, _, err = run("diff", str(broken), "specs/resnet18.yaml")
    assert code == 2 and err.startswith(f"{broken}:2:12: not JSON")


@pytest.mark.parametrize("form,suffix", [("table", "txt"), ("markdown", "md"), ("junit", "xml")])
def test_formats_match_golden_files(form, suffix):
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "flops=50%",
                       "--format", form)
    assert code == 1
    path = GOLDEN / f"diff_resnet18_34.{suffix}"
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(out)
    assert out == path.read_text()


def test_junit_and_github():
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "flops=50%",
                       "--format", "junit")
    failures = [case.get("name") for case in ElementTree.fromstring(out).findall("testcase")
                if case.find("failure") is not None]
    assert failures == ["flops"]
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "flops=50%",
                       "--format", "github")
    assert out.splitlines()[0].startswith("::error title=cnncalc diff::flops grew +102.0 %25")
