"""Rendered tables at a fixed width, compared with golden files.

A deliberate change of the output is recorded with
`CNNCALC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and reviewed in the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "resnet18_depth1_w80.txt": ["analyze", "specs/resnet18.yaml", "--depth", "1", "--width", "80"],
    "lenet5_full_w100.txt": ["analyze", "specs/lenet5.yaml", "--convention", "full", "--width", "100"],
    "unet_small_depth2_w80.md": ["analyze", "specs/unet_small.yaml", "--depth", "2", "--format", "markdown"],
    "mobilenet_v2_depth1.csv": ["analyze", "specs/mobilenet_v2.yaml", "--depth", "1", "--format", "csv"],
    "layer_conv2d.txt": ["layer", "conv2d", "--input", "16x50x100", "--out-channels", "33", "--kernel-size",
                         "3x5", "--stride", "2x1", "--padding", "4x2", "--dilation", "3x1"],
}
# Every command's table output at 80 and at 120 columns (80 is also what a pipe gets).
SWEEP = ["analyze", "specs/resnet18.yaml", "--sweep", "input=3x224x224,3x640x640", "--chip", "jetson-orin-nano-8gb",
         "--fps", "1000"]
for columns in ("80", "120"):
    CASES.update({
        f"resnet18_depth1_w{columns}.txt": ["analyze", "specs/resnet18.yaml", "--depth", "1", "--width", columns],
        f"mobilenet_v2_by_type_w{columns}.txt": ["analyze", "specs/mobilenet_v2.yaml", "--by", "type", "--width",
                                                 columns],
        f"resnet18_sweep_chip_w{columns}.txt": [*SWEEP, "--width", columns],
        f"check_specs_w{columns}.txt": ["check", "specs/lenet5.yaml", "specs/alexnet.yaml", "specs/mobilenet_v2.yaml",
                                        "--width", columns],
        f"diff_lenet5_w{columns}.txt": ["diff", "specs/lenet5.yaml", "tests/data/lenet5_wide.yaml", "--width", columns],
        f"diff_lenet5_chip_w{columns}.txt": ["diff", "specs/lenet5.yaml", "tests/data/lenet5_wide.yaml", "--chip",
                                             "jetson-orin-nano-8gb", "--fps", "1000", "--width", columns],
        f"diff_resnet18_34_w{columns}.txt": ["diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--width", columns],
        f"explain_w{columns}.txt": ["explain", "--width", columns],
        f"layer_conv2d_w{columns}.txt": ["layer", "conv2d", "--input", "16x50x100", "--out-channels", "33",
                                         "--kernel-size", "3x5", "--width", columns],
    })
EXIT_CODES = {name: 1 for name in CASES if "sweep_chip" in name}


@pytest.mark.parametrize("name", list(CASES))
def test_rendered_output_matches_golden_file(name):
    result = CliRunner().invoke(main, CASES[name])
    assert result.exit_code == EXIT_CODES.get(name, 0), result.stderr
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()


@pytest.mark.parametrize("name", [name for name in CASES if name.endswith(("_w80.txt", "_w120.txt"))])
def test_golden_tables_fit_their_width(name):
    width = int(name.rsplit("_w", 1)[1].split(".")[0])
    lines = (GOLDEN / name).read_text().splitlines()
    assert max(len(line) for line in lines) <= width, name


def test_table_fits_80_columns():
    for spec in ("specs/googlenet.yaml", "specs/mobilenet_v2.yaml", "specs/resnet3d_50.yaml"):
        result = CliRunner().invoke(main, ["analyze", spec, "--width", "80"])
        assert max(len(line) for line in result.stdout.splitlines()) <= 80, spec
