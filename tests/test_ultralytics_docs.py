"""docs/ultralytics.md stays true: it names every module cnncalc reads and every one it
refuses for now, and its YOLOv8 figures are cnncalc's current ones."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import cnncalc
from cnncalc.ultralytics import READERS
from cnncalc.ultralytics.modules import NOT_YET

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "ultralytics.md").read_text()
PEERS = (Path(__file__).resolve().parent.parent / "docs" / "peers.md").read_text()


@pytest.mark.parametrize("module", [*READERS, *NOT_YET])
def test_every_module_is_named(module: str) -> None:
    assert f"`{module}`" in PAGE


def package_file(name: str) -> Path | None:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0], "cfg", "models").glob(f"*/{name}"))
    return found[0] if found else None


@pytest.mark.skipif(package_file("yolov8.yaml") is None, reason="ultralytics is not installed")
@pytest.mark.parametrize("scale", "nsmlx")
def test_the_gflops_table_quotes_cnncalcs_figures(scale: str) -> None:
    row = re.search(rf"^\| YOLOv8{scale} \| ([\d,]+) \(.*?\) \| ([\d,]+) \| ([\d,]+) = 8 x ([\d,]+) \|$", PAGE, re.M)
    assert row is not None
    thop, flops, difference, batchnorm = (int(item.replace(",", "")) for item in row.groups())
    report = cnncalc.analyze(package_file("yolov8.yaml"), overrides={"scale": scale})  # type: ignore[arg-type]
    elements = sum(layer.output_shape[1] * layer.output_shape[2] * layer.output_shape[3]
                   for layer in report.layers if layer.type == "batchnorm2d")
    assert (flops, batchnorm) == (2 * report.totals.macs, elements)
    assert thop - flops == difference == 8 * batchnorm


PEER_ROWS = [("YOLOv8", "yolov8.yaml", scale) for scale in "nsmlx"] + [("YOLO11", "yolo11.yaml", scale) for scale in "nsmlx"]


@pytest.mark.skipif(package_file("yolov8.yaml") is None, reason="ultralytics is not installed")
@pytest.mark.parametrize(("family", "name", "scale"), PEER_ROWS, ids=[f"{row[0]}{row[2]}" for row in PEER_ROWS])
def test_the_peers_table_of_ultralytics_gflops_holds(family: str, name: str, scale: str) -> None:
    """docs/peers.md: thop's figure = cnncalc's FLOPs + 8 per batch-norm element, with cnncalc's own figures."""
    row = re.search(rf"^\| {family}{scale} \| ([\d.]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", PEERS, re.M)
    assert row is not None
    printed = float(row.group(1))
    thop, flops, batchnorm, difference = (int(item.replace(",", "")) for item in row.groups()[1:])
    report = cnncalc.analyze(package_file(name), overrides={"scale": scale})  # type: ignore[arg-type]
    elements = sum(layer.output_shape[1] * layer.output_shape[2] * layer.output_shape[3]
                   for layer in report.layers if layer.type == "batchnorm2d")
    assert (flops, batchnorm) == (2 * report.totals.macs, elements)
    assert thop - flops == difference == 8 * batchnorm
    assert f"{thop / 1e9:.1f}" == f"{printed:.1f}"


@pytest.mark.parametrize("module", [module for module in READERS if module not in ("Concat",) and
                                    not module.startswith("nn.")])
def test_explain_shows_every_ultralytics_module(module: str) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    result = CliRunner().invoke(main, ["explain", module])
    assert result.exit_code == 0, result.output
    assert "Ultralytics" in result.output


def test_explain_prints_a_shipped_block_and_a_written_one() -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    shipped = CliRunner().invoke(main, ["explain", "C2PSA"]).output
    assert "shipped with cnncalc" in shipped and "- {type: PSABlock, name: m, repeat: $n}" in shipped
    written = CliRunner().invoke(main, ["explain", "C3k2"]).output
    assert written.startswith("C3k2_n2\n") and "- {type: Bottleneck, c2: '${int(c2 * e)}', shortcut: $shortcut, g: $g, name: m.1}" in written
