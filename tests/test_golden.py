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


@pytest.mark.parametrize("name", list(CASES))
def test_rendered_output_matches_golden_file(name):
    result = CliRunner().invoke(main, CASES[name])
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()


def test_table_fits_80_columns():
    for spec in ("specs/googlenet.yaml", "specs/mobilenet_v2.yaml", "specs/resnet3d_50.yaml"):
        result = CliRunner().invoke(main, ["analyze", spec, "--width", "80"])
        assert max(len(line) for line in result.stdout.splitlines()) <= 80, spec
