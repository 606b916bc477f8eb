"""Malformed Ultralytics model files: one message naming the file, line, column and
layer (`model.N`) and exit status 2, never a traceback. Each case edits one line of a
small valid file; a problem the walk finds inside a converted layer is reported at the
Ultralytics row that made it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.errors import SpecError
from cnncalc.ultralytics import READERS

VALID = """\
nc: 2
scales:
  n: [0.5, 0.25, 256]
backbone:
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 1, Conv, [64, 3, 2]]
head:
  - [[-1], 1, Concat, [1]]
  - [[1], 1, Detect, [nc]]
"""
CONVERTED = "`cnncalc import {file}` prints the converted spec"
ACTS = "nn.SiLU(), nn.ReLU(), nn.ReLU6(), nn.Hardswish(), nn.GELU(), nn.Mish(), nn.Identity(), nn.Sigmoid(), nn.Tanh()"

# (id, line replaced (old, new) or None, --set values, expected message after "{file}:")
CASES = [
    ("unknown-modules", [("Conv, [32, 3, 2]", "Foo, [32]"), ("Conv, [64, 3, 2]", "WorldDetect, [64]"),
                         ("Concat, [1]", "C2fAttn, [64]"), ("Detect, [nc]", "C2PSa, [64]")], {},
     "5:13: layer 'model.0' (Foo): 4 layers use modules cnncalc cannot read: Foo (model.0, line 5), "
     "WorldDetect (model.1, line 6), C2fAttn (model.2, line 8), C2PSa (model.3, line 9); C2fAttn: "
     "not read yet, YOLO-World's text-guided attention needs the text embeddings; WorldDetect: "
     "not read yet, YOLO-World's head needs the text embeddings; C2PSa: did you mean C2PSA? "
     f"docs/ultralytics.md lists the {len(READERS)} modules cnncalc reads"),
    ("row-too-short", [("[-1, 1, Conv, [64, 3, 2]]", "[-1, 1, Conv]")], {},
     "6:5: layer 'model.1' (?): layer 1 must be [from, repeats, module, args]"),
    ("from-ahead", [("[-1, 1, Conv, [64, 3, 2]]", "[3, 1, Conv, [64]]")], {},
     "6:6: layer 'model.1' (Conv): from 3 does not name an earlier layer of layer 1; "
     "-1 is the layer before; 0 the first layer"),
    ("repeats-zero", [("[-1, 1, Conv, [64, 3, 2]]", "[-1, 0, Conv, [64]]")], {},
     "6:10: layer 'model.1' (Conv): repeats 0 is not a whole number >= 1"),
    ("repeats-past-limit", [("[-1, 1, Conv, [64, 3, 2]]", "[-1, 100000, C2f, [64]]")], {},
     "6:18: layer 'model.1' (C2f): repeats 50000 (after the depth multiple) is more than 10,000; "
     "real models repeat a module a few times; check the repeats and depth"),
    ("repeats-past-floats", [("[-1, 1, Conv, [64, 3, 2]]", "[-1, 10000000000000000000, C2f, [64]]")], {},
     "6:32: layer 'model.1' (C2f): repeats 10000000000000000000 (after the depth multiple) is more than 10,000; "
     "real models repeat a module a few times; check the repeats and depth"),
    ("no-args", [("Conv, [64, 3, 2]", "Conv, []")], {},
     "6:13: layer 'model.1' (Conv): Conv cannot take args [] (tuple index out of range); "
     "see the module's arguments in Ultralytics' documentation"),
    ("unknown-act", [("Conv, [64, 3, 2]", 'Conv, [64, 3, 2, null, 1, 1, "nn.Foo()"]')], {},
     "6:13: layer 'model.1' (Conv): Conv cannot take args [64, 3, 2, None, 1, 1, 'nn.Foo()'] "
     f"(act 'nn.Foo()' is not True, False or one of {ACTS}); see the module's arguments in Ultralytics' documentation"),
    ("stride-zero-in-the-walk", [("Conv, [64, 3, 2]", "Conv, [64, 3, 0]")], {},
     "6:13: layer 'model.1.conv' (conv2d): stride is 0; stride takes a whole number >= 1, or one per spatial "
     "axis like [3, 5]; " + CONVERTED),
    ("concat-sizes", [("[[-1], 1, Concat, [1]]", "[[-1, 0], 1, Concat, [1]]")], {},
     "8:18: layer 'model.2' (concat): concat along dim 0 of 16x160x160 and 8x320x320: other axes differ "
     "(input 16x160x160 and 8x320x320); every axis except dim must agree; " + CONVERTED),
    ("nc-not-a-number", [("nc: 2", "nc: many")], {}, "1:5: 'nc' must be a whole number, not 'many'"),
    ("scale-value", [("n: [0.5, 0.25, 256]", "n: [0.5, 0.25]")], {},
     "3:6: scale 'n' must be [depth, width, max_channels], not [0.5, 0.25]"),
    ("activation", [("backbone:", "activation: nn.Foo()\nbackbone:")], {},
     f"4:13: activation 'nn.Foo()' is not one cnncalc maps; cnncalc maps {ACTS}"),
    ("backbone-not-a-list", [("backbone:\n  - [-1, 1, Conv, [32, 3, 2]]\n  - [-1, 1, Conv, [64, 3, 2]]",
                              "backbone: 3")], {},
     "4:11: 'backbone' must be a list of [from, repeats, module, args]"),
    ("set-unknown-scale", [], {"scale": "q"}, "3:3: scale 'q' is not in this file's scales; scales: n"),
    ("set-other-parameter", [], {"width": 2}, "1:1: --set width: an Ultralytics model file takes --set scale or nc"),
]


def write(tmp_path: Path, edits: list[tuple[str, str]]) -> Path:
    text = VALID
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "yolo-bad.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("edits", "settings", "expected"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_located_message(tmp_path: Path, edits: list[tuple[str, str]], settings: dict[str, object],
                         expected: str) -> None:
    path = write(tmp_path, edits)
    with pytest.raises(SpecError) as caught:
        cnncalc.analyze(path, overrides=settings)
    assert str(caught.value) == f"{path}:" + expected.format(file=path)


@pytest.mark.parametrize("case", [CASES[0], CASES[8]], ids=lambda case: case[0])
def test_the_command_line_exits_2_with_the_message(tmp_path: Path, case: tuple[Any, ...]) -> None:
    path = write(tmp_path, case[1])
    result = CliRunner().invoke(main, ["analyze", str(path)])
    assert result.exit_code == 2
    assert f"{path}:" + case[3].format(file=path) in " ".join(result.output.split())


def test_the_valid_file_reads(tmp_path: Path) -> None:
    report = cnncalc.analyze(write(tmp_path, []))
    assert report.outputs == {"model.3": (1, 6, 25600)}  # 4 box + 2 class rows; 160 x 160 anchors (stride 4)


OLD_STYLE = "nc: 3\ndepth_multiple: {depth}\nwidth_multiple: {width}\nbackbone:\n  - [-1, 1, Conv, [{channels}, 3, 2]]\n" \
            "head:\n  - [-1, 1, Classify, [3]]\n"


@pytest.mark.parametrize(("values", "expected"), [
    ({"width": ".inf"}, "3:17: 'width_multiple' must be a number above 0 and below 1,000, not inf"),
    ({"depth": ".nan"}, "2:17: 'depth_multiple' must be a number above 0 and below 1,000, not nan"),
    ({"width": "1e300"}, "3:17: 'width_multiple' must be a number above 0 and below 1,000, not 1e+300"),
    ({"channels": "1" + "0" * 400}, "5:13: layer 'model.0' (Conv): Conv cannot take args [1" + "0" * 400
                                    + ", 3, 2] (int too large to convert to float)"),
], ids=["infinite-width", "nan-depth", "huge-width", "channels-past-floats"])
def test_multiples_and_channels_past_any_float(tmp_path: Path, values: dict[str, str], expected: str) -> None:
    path = tmp_path / "yolo-old.yaml"
    path.write_text(OLD_STYLE.format(**{"depth": "1.0", "width": "0.5", "channels": "16", **values}))
    with pytest.raises(SpecError) as caught:
        cnncalc.analyze(path)
    assert str(caught.value).startswith(f"{path}:" + expected)
