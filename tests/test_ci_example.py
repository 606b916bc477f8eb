"""The README's GitHub Actions job, run locally: every `run:` step except installing
cnncalc (this environment has it) and posting the comment (that needs GitHub)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUDGETED = """name: tiny
input: {shape: [3, 32, 32]}
layers:
  - {type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: relu}
budgets:
  params: %s
"""


def workflow_steps() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    job = readme.split("name: model budgets", 1)[1].split("```", 1)[0]
    return [step for step in re.findall(r"- run: (.+)", job)
            if not step.startswith(("pip install", "gh pr comment"))]


@pytest.mark.skipif(shutil.which("cnncalc") is None, reason="the cnncalc command is not installed")
@pytest.mark.parametrize("params,passes", [("1k", True), ("100", False)], ids=["within", "over"])
def test_readme_workflow_steps(tmp_path, params, passes):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.yaml").write_text(BUDGETED % params)
    summary = tmp_path / "summary.md"
    environment = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    steps = workflow_steps()
    assert len(steps) == 3
    results = [subprocess.run(["bash", "-c", step], cwd=tmp_path, env=environment, capture_output=True, text=True,
                              check=False) for step in steps]
    assert [result.returncode for result in results[:2]] == [0, 0]
    assert "| params | 1.00 k | 224 |" in summary.read_text() or "| params | 100 | 224 |" in summary.read_text()
    assert results[2].returncode == (0 if passes else 1)
    if not passes:
        assert results[2].stdout.startswith("::error file=models/tiny.yaml,line=7,col=11,")
