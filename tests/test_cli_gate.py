"""The CI gate without friction: several specs skip the ones without budgets, markdown
renders as GitHub shows it, budgets read in their own unit, diff gates what matters,
and the README's pre-commit `rev` is a release of this package."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc import __version__
from cnncalc.budgets import in_written_unit
from cnncalc.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_the_readmes_check_command_works_on_the_bundled_specs():
    code, out, err = run("check", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "specs").glob("*.yaml")))
    assert code == 0, err
    assert "no budgets (skipped):\n  specs/alexnet.yaml (alexnet)\n" in out
    for budgeted in ("lenet5", "resnet18", "mobilenet_v2"):
        assert f"specs/{budgeted}.yaml ({budgeted})\n  Budget" in out
    assert re.search(r"all \d+ budgets hold; \d+ specs without budgets skipped\.", out)


def test_a_spec_alone_without_budgets_is_an_error_unless_skipped():
    code, out, err = run("check", "specs/alexnet.yaml")
    assert code == 2 and out == "" and "specs/alexnet.yaml: no budgets to check" in err
    code, out, _ = run("check", "specs/alexnet.yaml", "--skip-unbudgeted")
    assert code == 0 and out.startswith("no budgets (skipped):\n  specs/alexnet.yaml (alexnet)\n")
    assert "no budgets checked; 1 spec without budgets skipped." in out


def test_the_pre_commit_hook_skips_specs_without_budgets():
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: cnncalc check --skip-unbudgeted" in hook


@pytest.mark.parametrize("form", ["json", "junit", "markdown"])
def test_skipped_specs_in_every_format(form):
    code, out, _ = run("check", "specs/alexnet.yaml", "specs/lenet5.yaml", "--format", form)
    assert code == 0
    if form == "json":
        specs = json.loads(out)["specs"]
        assert [(spec["name"], spec["skipped"]) for spec in specs] == [("alexnet", "no budgets"), ("lenet5", None)]
    elif form == "junit":
        assert '<skipped message="no budgets"/>' in out and 'tests="4" failures="0"' in out
    else:
        assert "#### `specs/alexnet.yaml` (alexnet): no budgets (skipped)" in out


def test_markdown_summary_follows_a_blank_line():
    _, out, _ = run("check", "specs/lenet5.yaml", "--format", "markdown")
    table_end, summary = out.rstrip("\n").rsplit("\n\n", 1)
    assert table_end.endswith("| ✅ PASS |") and summary.startswith("all 3 budgets hold.")


@pytest.mark.parametrize("value, written, shown", [
    (25e6, "25MB", "25.0 MB"),
    (46_758_048, "48MB", "46.8 MB"),
    (980_480, "15MB", "980.5 kB"),
    (2472, "2KiB", "2.4 KiB"),
    (-424, "2KiB", "-424 B"),
    (2000, "1KB", "2.0 KB"),
    (6_422_528, "8MiB", "6.1 MiB"),
    (100, "100", "100 B"),
], ids=["MB", "MB actual", "kB below MB", "KiB", "bytes below KiB", "KB", "MiB", "bare"])
def test_budgets_echo_the_unit_they_were_written_in(value, written, shown):
    assert in_written_unit(value, written) == shown


def test_the_check_table_shows_megabytes_for_a_megabyte_budget():
    _, out, _ = run("check", "specs/resnet18.yaml")
    assert "  weights           48.0 MB  46.8 MB  1.2 MB (+2.6 %)    PASS" in out


def test_diff_names_totals_as_budgets_and_gates_what_matters():
    # resnet18 -> resnet34: params +86.5 %, buffers +77.3 %, activations +53.3 %, training +81.3 %.
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "87%", "--format", "json")
    data = json.loads(out)
    assert list(data["totals"]) == ["params", "buffers", "macs", "flops", "weights", "activations",
                                    "peak_activations", "training"]
    assert code == 1 and data["fail"] == ["macs", "flops"]  # not buffers, activations or training
    code, out, _ = run("diff", "specs/resnet18.yaml", "specs/resnet34.yaml", "--fail-above", "103%",
                       "--fail-above", "buffers=5%", "--fail-above", "activation_bytes=5%", "--format", "json")
    assert code == 1 and json.loads(out)["fail"] == ["buffers", "activations"]


def test_readme_pre_commit_rev_is_the_package_version():
    readme = (ROOT / "README.md").read_text()
    revs = re.findall(r"rev: (\S+)", readme)
    assert revs == [f"v{__version__}"]
    assert f"git+https://github.com/your-org/cnncalc@v{__version__}" in readme
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{__version__}"' in pyproject
