"""`analyze --sweep`: every row equals a separate run with that value."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from cnncalc.cli import main


def run_json(*arguments: str) -> dict:
    result = CliRunner().invoke(main, list(arguments) + ["--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("sweep,single", [
    ("input=3x224x224,3x320x320,3x640x640", lambda value: ["--input", value]),
    ("batch=1,8", lambda value: ["--batch", value]),
], ids=["input", "batch"])
def test_rows_match_separate_runs(sweep, single):
    rows = run_json("analyze", "specs/resnet18.yaml", "--sweep", sweep)["rows"]
    for row, value in zip(rows, sweep.split("=")[1].split(",")):
        alone = run_json("analyze", "specs/resnet18.yaml", *single(value))["totals"]
        assert {key: row[key] for key in ("params", "macs", "flops", "peak_activation_bytes")} == \
            {key: alone[key] for key in ("params", "macs", "flops", "peak_activation_bytes")}


def test_parameter_sweep_with_a_chip_matches_fps():
    rows = run_json("analyze", "specs/mobilenet_v2.yaml", "--sweep", "width=0.5,1.0", "--chip",
                    "jetson-orin-nano-8gb")["rows"]
    assert rows[0]["params"] == 1_968_680 and rows[1]["params"] == 3_504_872
    alone = CliRunner().invoke(main, ["fps", "--spec", "specs/mobilenet_v2.yaml", "--set", "width=0.5", "--chip",
                                      "jetson-orin-nano-8gb", "--format", "json"])
    assert rows[0]["roofline_fps"] == pytest.approx(json.loads(alone.stdout)["roofline_fps"])


def test_csv_and_errors():
    result = CliRunner().invoke(main, ["analyze", "specs/resnet18.yaml", "--sweep", "batch=1,2", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["batch"] for row in rows] == ["1", "2"] and int(rows[1]["macs"]) == 2 * int(rows[0]["macs"])
    result = CliRunner().invoke(main, ["analyze", "specs/resnet18.yaml", "--sweep", "batch"])
    assert result.exit_code == 2 and "write NAME=V1,V2" in result.stderr
