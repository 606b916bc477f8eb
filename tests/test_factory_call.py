"""torch:package.module:factory(name=literal, ...): keyword literals read, never evaluated."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc import SpecError
from cnncalc.cli import main
from cnncalc.factory_call import split_call


@pytest.mark.parametrize("text, name, arguments", [
    ("resnet18", "resnet18", {}),
    ("resnet50(num_classes=10)", "resnet50", {"num_classes": 10}),
    ("resnet50(weights=None, num_classes=10)", "resnet50", {"weights": None, "num_classes": 10}),
    ("models.make( width = 0.5 , act='relu', sizes=[1, 2], flag=True, shift=-3)", "models.make",
     {"width": 0.5, "act": "relu", "sizes": [1, 2], "flag": True, "shift": -3}),
    ("make()", "make", {}),
], ids=["bare", "one", "none and int", "every literal", "empty"])
def test_keyword_literals_are_read(text, name, arguments):
    assert split_call(text, "torch:m:" + text) == (name, arguments)


@pytest.mark.parametrize("text, message", [
    ("make(4)", "positional arguments are not taken"),
    ("make(**options)", "**arguments are not taken"),
    ("make(x=__import__('os').system('true'))", "argument 'x' is not a literal (__import__('os').system('true'))"),
    ("make(x=y)", "argument 'x' is not a literal (y)"),
    ("make(x=1+len([]))", "argument 'x' is not a literal"),
    ("make(x=1", "cannot read the factory call"),
    ("make(x=1); import os", "cannot read the factory call"),
    ("make(x=1)(y=2)", "is not one call of make"),
    ("make(x=(" + "[" * 300 + "]" * 300 + "))", "cannot read the factory call"),
    ("make(x='" + "a" * 3000 + "')", "the factory's arguments pass 2,000 characters"),
], ids=["positional", "double star", "a call", "a name", "an operator", "unclosed", "a statement",
        "another function", "deep nesting", "too long"])
def test_anything_but_keyword_literals_is_refused(text, message):
    with pytest.raises(SpecError) as caught:
        split_call(text, "torch:m:make")
    assert str(caught.value).startswith("torch:m:make: ") and message in str(caught.value)


def test_analyze_calls_a_factory_with_its_keyword_arguments(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "tinynet_keywords.py").write_text(
        "import torch.nn as nn\n\n"
        "def make(channels=8, bias=True):\n"
        "    return nn.Sequential(nn.Conv2d(3, channels, 3, bias=bias), nn.ReLU())\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["analyze", "torch:tinynet_keywords:make(channels=4, bias=False)", "--input", "3x16x16",
                                       "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 4 * 3 * 3 * 3  # nn.Conv2d(3, 4, 3, bias=False)
    result = CliRunner().invoke(main, ["analyze", "torch:tinynet_keywords:make(channels=print('x'))", "--input", "3x16x16"])
    assert result.exit_code == 2 and "argument 'channels' is not a literal" in result.stderr
