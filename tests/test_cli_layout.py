"""Output that fits and reads: 80 columns when piped, the terminal's width on one, colours
only where they mean something and only on a terminal without NO_COLOR."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import common, main
from cnncalc.render.check import render_check
from cnncalc.render.colour import GREEN, RED, paint, verdicts
from cnncalc.render.columns import CELLS
from cnncalc.render.table import render_table


def test_piped_output_is_80_columns_wide():
    result = CliRunner().invoke(main, ["analyze", "specs/mobilenet_v2.yaml"])
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert common.layout_width({"width": None, "output": None}) == 80


def test_a_terminal_gives_its_width_and_colour_unless_no_color(monkeypatch):
    import os
    import shutil

    monkeypatch.setattr(common, "to_terminal", lambda: True)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback: os.terminal_size((132, 40)))
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert common.layout_width({"width": None, "output": None}) == 132
    assert common.layout_width({"width": 100, "output": None}) == 100
    assert common.use_color({"output": None}) is True
    assert common.use_color({"output": "x.txt"}) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert common.use_color({"output": None}) is False


def test_verdicts_are_green_and_red_only_when_asked():
    assert verdicts("params  PASS", False) == "params  PASS"
    assert verdicts("a PASS b FAIL", True) == f"a {paint('PASS', GREEN)} b {paint('FAIL', RED)}"
    assert verdicts("PASSWORD", True) == "PASSWORD"


def test_check_table_paints_its_verdicts_and_keeps_its_layout():
    from cnncalc.budgets import check, parse_budget

    report = cnncalc.analyze("specs/lenet5.yaml")
    outcomes = check(report, [parse_budget("params", "62k", None), parse_budget("macs", "400k", None)], {})
    plain = render_check([("specs/lenet5.yaml", "lenet5", outcomes)], "table", "2mac", 80)
    coloured = render_check([("specs/lenet5.yaml", "lenet5", outcomes)], "table", "2mac", 80, color=True)
    assert "\x1b[" not in plain
    assert coloured.replace(paint("PASS", GREEN), "PASS").replace(paint("FAIL", RED), "FAIL") == plain
    assert coloured.count("\x1b[32m") == 1 and coloured.count("\x1b[31m") == 1


def test_the_peak_row_is_marked_on_a_terminal():
    report = cnncalc.analyze("specs/lenet5.yaml")
    text = render_table(report, report.layers, ("name", "type", "memory"), 80, True, CELLS)
    marked = [line for line in text.splitlines() if "\x1b[33m" in line]
    assert len(marked) == 2 and "act1" in marked[0] and "Peak activations" in marked[1]
    assert "\x1b[" not in render_table(report, report.layers, ("name", "type", "memory"), 80, False, CELLS)


@pytest.mark.parametrize("command", ["analyze", "layer", "explain", "export", "import", "fps", "chips", "check",
                                     "diff", "schema"])
def test_every_command_has_an_example_in_its_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"cnncalc {command}" in result.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("words, expected", [
    ("cnncalc analyze x --chip jetson-orin-nano-8", ["jetson-orin-nano-8gb", "jetson-orin-nano-8gb-super"]),
    ("cnncalc explain outp", ["outputs"]),
    ("cnncalc explain conv_transpose3", ["conv_transpose3d"]),
    ("cnncalc analyze x --columns name,ma", ["name,macs"]),
    ("cnncalc analyze x --columns params_", ["params_share"]),
], ids=["chip", "key", "type", "column after a comma", "column"])
def test_shell_completion_completes_chips_types_keys_and_columns(words, expected):
    result = CliRunner().invoke(main, [], prog_name="cnncalc", env={"_CNNCALC_COMPLETE": "bash_complete",
                                                                   "COMP_WORDS": words,
                                                                   "COMP_CWORD": str(len(words.split()) - 1)})
    assert [line.split(",", 1)[1] for line in result.output.splitlines()] == expected


def test_completion_is_documented():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert 'eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)"' in readme
