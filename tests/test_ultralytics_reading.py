"""How an Ultralytics model file's settings, its name and the command line choose what
cnncalc reads: scale, nc, input channels and size. The file is small enough to follow
by hand: two stride-2 Convs, a Concat of one tensor, a Detect on the stride-4 map, so
the output is [4 + nc, (H / 4) * (W / 4)]."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc

FILE = """\
nc: 2
scales:
  n: [0.5, 0.25, 256]
  s: [0.5, 0.50, 256]
backbone:
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 1, Conv, [64, 3, 2]]
head:
  - [[-1], 1, Concat, [1]]
  - [[1], 1, Detect, [nc]]
"""

# (id, file name, extra top-level lines, --set, --input, expected: model.0 output, model.3 output)
CASES = [
    ("first-scale", "tiny.yaml", "", {}, None, (1, 8, 320, 320), (1, 6, 25600)),  # 32 x 0.25 = 8
    ("scale-key", "tiny.yaml", "scale: s\n", {}, None, (1, 16, 320, 320), (1, 6, 25600)),
    ("letter-in-the-name-wins", "yolov8s-tiny.yaml", "scale: n\n", {}, None, (1, 16, 320, 320), (1, 6, 25600)),
    ("set-scale-wins", "yolov8n-tiny.yaml", "", {"scale": "s"}, None, (1, 16, 320, 320), (1, 6, 25600)),
    ("set-nc", "tiny.yaml", "", {"nc": 3}, None, (1, 8, 320, 320), (1, 7, 25600)),
    ("input-size", "tiny.yaml", "", {}, {"input": (3, 384, 640)}, (1, 8, 192, 320), (1, 6, 15360)),
    ("ch-key", "tiny.yaml", "ch: 1\n", {}, None, (1, 8, 320, 320), (1, 6, 25600)),
]


@pytest.mark.parametrize(("name", "extra", "settings", "inputs", "first", "last"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_settings(tmp_path: Path, name: str, extra: str, settings: dict[str, object],
                  inputs: dict[str, tuple[int, ...]] | None, first: tuple[int, ...], last: tuple[int, ...]) -> None:
    path = tmp_path / name
    path.write_text(extra + FILE)
    report = cnncalc.analyze(path, overrides=settings, inputs=inputs)
    outputs = {layer.name.split(".")[0] + "." + layer.name.split(".")[1]: layer.output_shape for layer in report.layers}
    assert (tuple(outputs["model.0"]), tuple(outputs["model.3"])) == (first, last)


def test_input_channels_from_ch(tmp_path: Path) -> None:
    path = tmp_path / "gray.yaml"
    path.write_text("ch: 1\n" + FILE)
    report = cnncalc.analyze(path)
    assert report.inputs == {"input": (1, 1, 640, 640)}
    assert report.layers[0].params == 1 * 8 * 3 * 3  # model.0.conv: 1 input channel, 8 filters of 3x3


def test_depth_one_is_one_row_per_ultralytics_layer(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    path = tmp_path / "tiny.yaml"
    path.write_text(FILE)
    result = CliRunner().invoke(main, ["analyze", str(path), "--depth", "1", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    assert rows == ["model.0", "model.1", "model.2", "model.3"]


def test_import_writes_a_spec_that_reads_the_same(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    source = Path(__file__).resolve().parent.parent / "specs" / "yolo_custom_ultralytics.yaml"
    target = tmp_path / "converted.yaml"
    result = CliRunner().invoke(main, ["import", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "\n  Detect_2levels:\n    description: " in target.read_text()  # blocks written one per few lines
    original, converted = cnncalc.analyze(source), cnncalc.analyze(target)
    assert [(row.name, row.output_shape, row.params, row.macs) for row in converted.layers] == \
        [(row.name, row.output_shape, row.params, row.macs) for row in original.layers]
