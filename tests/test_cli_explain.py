"""`cnncalc explain KEY`: the spec's own keys, beside the layer types."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cnncalc.budgets import BUDGET_KEYS, FPS_KEYS
from cnncalc.cli import main
from cnncalc.explain import KEY_TOPICS


def run(*arguments: str):
    return CliRunner().invoke(main, ["explain", *arguments])


@pytest.mark.parametrize("key", ["outputs", "blocks", "budgets", "from", "repeat", "when", "params", "input"])
def test_each_spec_key_is_explained(key):
    result = run(key)
    assert result.exit_code == 0
    assert result.output.startswith(f"{key}:\n")
    assert f"{key}:" in result.output.split("\n", 3)[3]  # the body shows the key in use


def test_budgets_names_every_budget_and_fps_key():
    output = run("budgets").output
    for key in (*BUDGET_KEYS, *FPS_KEYS):
        assert key in output, key


def test_the_list_names_the_keys():
    output = run().output
    assert "Spec keys (`cnncalc explain KEY`):" in output
    assert ", ".join(KEY_TOPICS) in output


def test_a_typo_suggests_a_key_or_a_type():
    result = run("outputz")
    assert result.exit_code == 2
    assert "unknown layer type or spec key 'outputz'; did you mean 'outputs'?" in result.output


def test_the_examples_in_explain_keys_analyse():
    """The YAML in `explain blocks` is a fragment; the outputs rule it states holds."""
    import cnncalc

    spec = """
input: {shape: [3, 16, 16]}
layers:
  - {type: conv2d, name: stem, out_channels: 4, kernel_size: 3, padding: 1}
  - {type: conv2d, name: a, out_channels: 2, kernel_size: 1}
  - {type: conv2d, name: b, from: stem, out_channels: 3, kernel_size: 1}
"""
    assert list(cnncalc.analyze(spec).outputs) == ["b"]
    assert list(cnncalc.analyze(spec + "outputs: [a, b]\n").outputs) == ["a", "b"]
