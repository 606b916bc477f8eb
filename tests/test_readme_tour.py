"""The README's tour, run top to bottom as written (in a scratch directory holding the
bundled specs, so that its -o files land there), and the outputs its comments promise."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

ROOT = Path(__file__).resolve().parent.parent


def tour_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## A tour", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "cnncalc", line
            commands.append(words[1:])
    return commands


@pytest.mark.parametrize("arguments", tour_commands(), ids=lambda words: " ".join(words[:3]))
def test_every_tour_command_runs(tmp_path, monkeypatch, arguments):
    if "--torch" in arguments:
        pytest.importorskip("torch")
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, (arguments, result.stderr)
    if "-o" in arguments:
        assert (tmp_path / arguments[arguments.index("-o") + 1]).stat().st_size > 0
    if arguments[0] == "layer":
        assert "33x26x100" in result.stdout and "7,953" in result.stdout  # what the comment says


def test_the_tour_covers_outputs_by_and_schema():
    joined = [" ".join(words) for words in tour_commands()]
    assert any("--by type" in line for line in joined)
    assert any(line.startswith("explain outputs") for line in joined)
    assert any(line.startswith("schema") for line in joined)
    readme = (ROOT / "README.md").read_text()
    (example,) = [block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "head_p3" in block]
    import cnncalc

    report = cnncalc.analyze(example)
    assert report.outputs == {"head_p3": (1, 255, 32, 32), "head_p4": (1, 255, 16, 16)}
