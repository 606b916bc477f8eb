"""`cnncalc fps` and `cnncalc chips` laid out at 80 and 120 columns, compared with golden files
(80 is what a pipe gets). A deliberate change of the output is recorded with
`CNNCALC_UPDATE_GOLDEN=1 python -m pytest tests/test_fps_golden.py` and reviewed in the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.chips import load_chips
from cnncalc.cli import main
from cnncalc.estimate import calibration
from cnncalc.fps import Compute, on_chip
from cnncalc.render.fps import render_chip, render_chips, render_fps

GOLDEN = Path(__file__).parent / "golden"
WIDTHS = (80, 120)


def fps_text(width: int) -> str:
    """`cnncalc fps --spec specs/mobilenet_v2.yaml --chip jetson-orin-nano-8gb --fps 2000`."""
    chip = load_chips()["jetson-orin-nano-8gb"]
    compute = Compute(chip.peaks["int8"], "int8", chip.id, chip.bandwidth)
    answer, _ = on_chip(cnncalc.analyze("specs/mobilenet_v2.yaml"), compute, 2000,
                        calibration=calibration(chip.id, chip.vendor))
    return render_fps(answer, "table", width)


def chips_text(width: int) -> str:
    return render_chips(list(load_chips().values()), "table", width)


CASES = {f"fps_mobilenet_v2_w{width}.txt": (fps_text, width) for width in WIDTHS}
CASES.update({f"chips_w{width}.txt": (chips_text, width) for width in WIDTHS})


@pytest.mark.parametrize("name", list(CASES))
def test_fps_output_matches_golden_file(name):
    render, width = CASES[name]
    text = render(width)
    assert max(len(line) for line in text.splitlines()) <= width
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_piped_output_is_the_80_column_layout():
    result = CliRunner().invoke(main, ["fps", "--spec", "specs/mobilenet_v2.yaml", "--chip", "jetson-orin-nano-8gb",
                                       "--fps", "2000"])
    assert result.exit_code == 0 and result.stdout == fps_text(80)
    result = CliRunner().invoke(main, ["chips"])
    assert result.exit_code == 0 and result.stdout == chips_text(80)


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_one_chip_fits_the_width_but_keeps_urls_whole(width):
    text = render_chip(load_chips()["ti-tda4vm"], "table", width)
    assert all(len(line) <= width or line.strip().startswith("https://") for line in text.splitlines())
