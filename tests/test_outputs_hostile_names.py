"""Output that cannot be turned against its reader: names holding newlines, control
characters, bidi overrides or workflow commands stay one record per line in every format.

A spec's names are written by whoever wrote the spec, perhaps in a pull request; cnncalc's
output is read by people, terminals and CI runners, and GitHub runs a line of a step's
output that starts with `::` (or `##[`) as a workflow command.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.render.columns import short
from cnncalc.render.escape import display, github_message, github_property

DANGEROUS = {
    "newline": "\n", "carriage-return": "\r", "tab": "\t", "nul": "\x00", "escape": "\x1b[31m", "delete": "\x7f",
    "c1-next-line": "\x85", "c1-csi": "\x9b", "line-separator": "\u2028", "paragraph-separator": "\u2029",
    "right-to-left-override": "\u202e", "left-to-right-isolate": "\u2066", "zero-width-no-break": "\ufeff",
    "pipe": "|", "workflow-command": "\n::error file=README.md,line=1::pwned",
    "command-without-newline": "::warning::x",
    "v1-command": "##[error]x", "azure-command": "##vso[task.setvariable variable=x]1", "percent": "100%0A",
}
EVERYTHING = "".join(DANGEROUS.values())


@pytest.mark.parametrize("text, shown", [
    ("conv1", "conv1"),
    ("a\nb", "a\\nb"),
    ("a\r\nb", "a\\r\\nb"),
    ("\t", "\\t"),
    ("\x00\x1b[31m\x7f", "\\x00\\x1b[31m\\x7f"),
    ("\x85\x9b", "\\x85\\x9b"),
    ("\u2028\u2029", "\\u2028\\u2029"),
    ("abc\u202edef", "abc\\u202edef"),
    ("\ud800", "\\ud800"),
    ("\n::error file=x::y", "\\n:\\x3aerror file=x:\\x3ay"),
    (":::", ":\\x3a:"),
    ("##[error]x", "#\\x23[error]x"),
    ("x ##vso[y]", "x #\\x23vso[y]"),
    ("back\\slash", "back\\slash"),
    ("é 日本 😀", "é 日本 😀"),
], ids=["plain", "newline", "crlf", "tab", "c0-and-delete", "c1", "separators", "bidi-override", "surrogate",
        "workflow-command", "colons", "v1-command", "azure-command", "backslash-kept", "printable-unicode-kept"])
def test_display(text, shown):
    assert display(text) == shown


@pytest.mark.parametrize("function, text, escaped", [
    (github_message, "100% done\r\nnext", "100%25 done%0D%0Anext"),
    (github_property, "a:b,c%\n", "a%3Ab%2Cc%25%0A"),
], ids=["message", "property"])
def test_github_escaping(function, text, escaped):
    assert function(text) == escaped


def hostile_spec(folder: Path, suffix: str = EVERYTHING, channels: int = 4, last: str = "c") -> Path:
    """Every name of the spec holds every dangerous text: the spec's, an input's, layers', a block instance's."""
    spec = {
        "name": "net" + suffix,
        "inputs": {"in" + suffix: {"shape": [3, 8, 8]}},
        "blocks": {"blk": {"layers": [{"type": "relu", "name": "inner" + suffix}]}},
        "layers": [{"type": "conv2d", "name": "a" + suffix, "out_channels": channels, "kernel_size": 3},
                   {"type": "blk", "name": "b" + suffix},
                   {"type": "relu", "name": last + suffix, "from": "a" + suffix}],
        "budgets": {"params": 10, "macs": "1G"},
    }
    path = folder / f"{'hostile' if suffix else 'tame'}-{channels}-{last}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=False, width=1000), encoding="utf-8")
    return path


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def assert_safe_lines(text: str, commands_allowed: bool = False) -> list[str]:
    """Every line printable, and none a workflow command (GitHub trims leading spaces first)."""
    lines = text.split("\n")
    for line in lines:
        assert line.isprintable(), repr(line)
        if not commands_allowed:
            assert not line.lstrip().startswith(("::", "##[")), repr(line)
        assert "##vso[" not in line, repr(line)
    return lines


@pytest.fixture
def hostile(tmp_path):
    return hostile_spec(tmp_path)


@pytest.fixture
def tame(tmp_path):
    return hostile_spec(tmp_path, suffix="")


@pytest.mark.parametrize("form", ["table", "csv", "markdown", "json"])
def test_analyze_keeps_one_record_per_line(hostile, tame, form):
    code, out, err = run("analyze", str(hostile), "--format", form, "--width", "2000")
    # b.inner reaches no output: the warning names it, escaped like every other line.
    assert code == 0 and assert_safe_lines(err) == [err.split("\n")[0], ""]
    assert err.startswith("warning: 1 layer reaches no output (c")
    lines = assert_safe_lines(out)
    assert len(lines) == len(run("analyze", str(tame), "--format", form, "--width", "2000")[1].split("\n"))
    if form == "markdown":
        rows = [line for line in lines if line.startswith("| ")]
        assert len(rows) == 2 + 3 and all(len(re.findall(r"(?<!\\)\|", row)) == 9 for row in rows)  # 8 columns
    if form == "csv":
        assert len(list(csv.reader(io.StringIO(out)))) == len(lines) - 1 == 1 + 3


def test_json_keeps_names_exact(hostile):
    data = json.loads(run("analyze", str(hostile), "--format", "json")[1])
    assert data["name"] == "net" + EVERYTHING
    assert list(data["inputs"]) == ["in" + EVERYTHING]
    assert [layer["name"] for layer in data["layers"]] == ["a" + EVERYTHING, f"b{EVERYTHING}.inner{EVERYTHING}",
                                                           "c" + EVERYTHING]


def test_the_table_shows_each_name_escaped(hostile):
    out = run("analyze", str(hostile), "--width", "2000", "--columns", "name")[1]
    shown = display(EVERYTHING)
    assert out.split("\n")[:6] == ["net" + shown, "Layer", "─" * 5, short("a" + shown),
                                   short(f"b{shown}.inner{shown}"), short("c" + shown)]


@pytest.mark.parametrize("form", ["table", "json", "markdown", "github", "junit"])
def test_check_keeps_one_record_per_line(hostile, tame, form):
    code, out, err = run("check", str(hostile), "--format", form)
    assert (code, err) == (1, "")
    lines = assert_safe_lines(out, commands_allowed=form == "github")
    assert len(lines) == len(run("check", str(tame), "--format", form)[1].split("\n"))
    if form == "github":
        [annotation, verdict, end] = lines
        assert annotation == (f"::error file={github_property(display(str(hostile)))},line=8,col=11,"
                              "title=cnncalc budget::params 112 exceeds budget 10")
        assert verdict.startswith("1 of 2 budgets exceeded.") and end == ""
    if form == "junit":
        cases = ElementTree.fromstring(out).findall(".//testcase")
        assert {case.get("classname") for case in cases} == {"net" + display(EVERYTHING)}


@pytest.mark.parametrize("form", ["table", "json", "markdown", "github", "junit"])
def test_diff_keeps_one_record_per_line(tmp_path, form):
    base, head = hostile_spec(tmp_path), hostile_spec(tmp_path, channels=5, last="d")
    code, out, err = run("diff", str(base), str(head), "--format", form, "--fail-above", "1%")
    assert (code, err) == (1, "")
    lines = assert_safe_lines(out, commands_allowed=form == "github")
    if form == "github":
        assert all(re.fullmatch(r"::error title=cnncalc diff::[a-z_]+ grew \+[0-9.]+ %25 \(.*\), over 1 %25", line)
                   for line in lines[:-2])
    if form == "json":
        data = json.loads(out)
        assert {layer["name"] for layer in data["layers"]} == {
            "a" + EVERYTHING, f"b{EVERYTHING}.inner{EVERYTHING}", "c" + EVERYTHING, "d" + EVERYTHING}
    if form in ("table", "markdown"):
        changes = [line for line in lines if line.lstrip().startswith(("+ ", "- ", "~ ", "! "))]
        assert len(changes) == 4 and sum(display("c" + EVERYTHING) in line for line in changes) == 1


@pytest.mark.parametrize("form", ["table", "csv", "markdown", "json"])
def test_sweep_keeps_one_record_per_line(hostile, tame, form):
    code, out, err = run("analyze", str(hostile), "--sweep", "batch=1,2", "--format", form)
    assert (code, err) == (0, "")
    lines = assert_safe_lines(out)
    assert len(lines) == len(run("analyze", str(tame), "--sweep", "batch=1,2", "--format", form)[1].split("\n"))
    if form == "json":
        assert [list(row["outputs"]) for row in json.loads(out)["rows"]] == [["c" + EVERYTHING]] * 2


def test_an_error_naming_a_hostile_layer_is_one_line(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump({"input": {"shape": [3, 8, 8]}, "layers": [
        {"type": "conv2d", "name": "bad" + DANGEROUS["workflow-command"], "out_channels": 4}]}))
    code, out, err = run("analyze", str(spec))
    assert (code, out) == (2, "")
    assert err == (f"{spec}:7:3: layer 'bad\\n:\\x3aerror file=README.md,line=1:\\x3apwned' (conv2d): "
                   "missing required field 'kernel_size'; conv2d needs out_channels, kernel_size\n")


HOSTILE_CHIP = {"id": "npu" + EVERYTHING, "name": "N" + EVERYTHING, "vendor": "V" + EVERYTHING,
                "peak": {"int8": 4.0e12}, "bandwidth": 6.8e10, "source": ["s" + EVERYTHING], "notes": EVERYTHING}


@pytest.fixture
def chip_file(tmp_path):
    path = tmp_path / "chips.yaml"
    path.write_text(yaml.safe_dump({"chips": [HOSTILE_CHIP]}, allow_unicode=False, width=1000))
    return path


@pytest.mark.parametrize("arguments", [
    ["chips"], ["chips", "--format", "markdown"], ["chips", "--format", "json"],
    ["chips", HOSTILE_CHIP["id"]], ["chips", HOSTILE_CHIP["id"], "--format", "markdown"],
    ["fps", "--chip", HOSTILE_CHIP["id"], "--flops", "1G"],
    ["fps", "--chip", HOSTILE_CHIP["id"], "--flops", "1G", "--format", "markdown"],
    ["analyze", "HOSTILE", "--chip", HOSTILE_CHIP["id"], "--width", "2000"],
    ["analyze", "HOSTILE", "--chip", HOSTILE_CHIP["id"], "--format", "markdown"],
], ids=["chips", "chips-markdown", "chips-json", "chip", "chip-markdown", "fps", "fps-markdown", "roofline",
        "roofline-markdown"])
def test_chip_names_stay_on_their_line(chip_file, hostile, arguments):
    arguments = [str(hostile) if item == "HOSTILE" else item for item in arguments]
    code, out, err = run(*arguments, "--chips", str(chip_file))
    # analyze warns that b.inner reaches no output; the warning is escaped like the output.
    assert code == 0 and (err == "" or err.startswith("warning: 1 layer reaches no output (c"))
    assert_safe_lines(err)
    assert_safe_lines(out)
    if "json" in arguments:
        assert json.loads(out)[-1]["id"] == HOSTILE_CHIP["id"]
    elif "markdown" in arguments and arguments[0] == "chips" and len(arguments) == 3:
        assert display(HOSTILE_CHIP["id"]).replace("|", "\\|") in out
    else:
        assert display(HOSTILE_CHIP["id"]) in out


@pytest.mark.parametrize("chip", [[], ["--chip", "jetson-orin-nano-8gb"]], ids=["layers-chart", "roofline"])
def test_a_chart_draws_hostile_names_literally(tmp_path, chip):
    """matplotlib reads `$...$` as mathtext and fails on `$\\frac{$` (a layer name cannot hold `$`,
    the spec's name can); names are drawn as text."""
    pytest.importorskip("matplotlib")
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump({"name": "net $\\frac{$ " + EVERYTHING, "input": {"shape": [3, 8, 8]}, "layers": [
        {"type": "conv2d", "name": "a" + EVERYTHING, "out_channels": 4, "kernel_size": 3},
        {"type": "relu", "name": "b"}]}, allow_unicode=False, width=1000))
    chart = tmp_path / "chart.png"
    code, _, err = run("analyze", str(spec), "--plot", str(chart), *chip)
    assert (code, err) == (0, f"wrote {chart}\n")
    assert chart.read_bytes().startswith(b"\x89PNG")
