"""`cnncalc analyze --plot FILE`: the roofline with --chip, per-layer MACs and memory without;
files written in the format their extension names, never over an existing file without
--force, and one clear message when matplotlib is missing."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.chips import load_chips
from cnncalc.cli import main
from cnncalc.fps import Compute, on_chip

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent
MOBILENET = str(ROOT / "specs" / "mobilenet_v2.yaml")
RESNET18 = str(ROOT / "specs" / "resnet18.yaml")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MISSING = "plotting needs matplotlib: pip install 'cnncalc[plot]'\n"


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_roofline_png_is_written_beside_the_normal_output(tmp_path):
    target = tmp_path / "roofline.png"
    code, out, err = run("analyze", MOBILENET, "--chip", "jetson-orin-nano-8gb", "--plot", str(target))
    assert code == 0 and "Roofline" in out and "Slowest kernels" in out
    assert err == f"wrote {target}\n"
    assert target.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("arguments", [[], ["--depth", "1"]], ids=["every-layer", "depth-1"])
def test_layers_chart_is_a_valid_svg(tmp_path, arguments):
    target = tmp_path / "layers.svg"
    code, out, _ = run("analyze", RESNET18, *arguments, "--plot", str(target))
    assert code == 0 and out.startswith("resnet18\n")
    assert ElementTree.parse(target).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def test_pdf_and_json_output(tmp_path):
    target = tmp_path / "roofline.pdf"
    code, out, _ = run("analyze", RESNET18, "--chip", "nvidia-a100-sxm-80gb", "--format", "json",
                       "--plot", str(target))
    assert code == 0 and out.startswith("{")
    assert target.read_bytes().startswith(b"%PDF-")


def test_an_existing_plot_is_kept_without_force(tmp_path):
    target = tmp_path / "layers.png"
    target.write_bytes(b"mine")
    code, out, err = run("analyze", RESNET18, "--plot", str(target))
    assert (code, out, err) == (2, "", f"{target} exists; add --force to overwrite it\n")
    assert target.read_bytes() == b"mine"
    code, _, _ = run("analyze", RESNET18, "--plot", str(target), "--force")
    assert code == 0 and target.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "chart.png.txt"], ids=["jpg", "none", "txt"])
def test_unknown_extension_names_the_accepted_ones(tmp_path, name):
    target = tmp_path / name
    code, out, err = run("analyze", RESNET18, "--plot", str(target))
    suffix = Path(name).suffix
    assert (code, out) == (2, "")
    assert err == f"--plot {target}: unknown extension '{suffix}'; use .png, .svg or .pdf\n"
    assert not target.exists()


def test_missing_matplotlib_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    target = tmp_path / "roofline.png"
    code, out, err = run("analyze", MOBILENET, "--chip", "jetson-orin-nano-8gb", "--plot", str(target))
    assert (code, out, err) == (2, "", MISSING)
    assert not target.exists()


def test_matplotlib_is_not_imported_by_cnncalc_or_the_cli():
    script = ("import sys\nfrom click.testing import CliRunner\nimport cnncalc\nfrom cnncalc.cli import main\n"
              f"result = CliRunner().invoke(main, ['analyze', {MOBILENET!r}, '--chip', 'jetson-orin-nano-8gb'])\n"
              "assert result.exit_code == 0, result.output\nprint('matplotlib' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_plot_and_output_may_not_name_the_same_file(tmp_path):
    target = tmp_path / "out.svg"
    code, _, err = run("analyze", RESNET18, "-o", str(target), "--plot", str(target))
    assert (code, err) == (2, f"--plot and -o both name {target}\n")


def test_roofline_needs_a_bandwidth(tmp_path):
    code, _, err = run("analyze", RESNET18, "--chip", "hailo-8", "--plot", str(tmp_path / "r.png"))
    assert code == 2
    assert err == "--plot with --chip draws the roofline, which needs the chip's bandwidth: add --bandwidth RATE\n"


def test_plot_does_not_combine_with_sweep(tmp_path):
    code, _, err = run("analyze", RESNET18, "--sweep", "batch=1,2", "--plot", str(tmp_path / "r.png"))
    assert (code, err) == (2, "--plot draws one analysis; it does not combine with --sweep\n")


def test_roofline_accounts_for_every_layer_and_names_the_slowest():
    from cnncalc.plot import roofline_figure

    report = cnncalc.analyze(MOBILENET)
    chip = load_chips()["jetson-orin-nano-8gb"]
    answer, lines = on_chip(report, Compute(chip.peaks["int8"], "int8", chip.id, chip.bandwidth))
    assert lines is not None
    figure = roofline_figure(report, answer, lines)
    axes = figure.axes[0]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    counted = [int(match.group(1)) for entry in legend
               if (match := re.search(r"(\d+) (?:layers?|kernels?), ", entry))]
    # memory-bound kernels, compute-bound kernels, not shown (zero ops), layers fused into a kernel
    assert len(counted) == 4
    assert sum(counted) == len(report.layers)
    assert any(entry.startswith("not shown, no ops") for entry in legend)
    names = {text.get_text().rsplit(" ", 2)[0] for text in axes.texts}
    plotted = sorted((layer for layer in lines.layers if layer.ops), key=lambda layer: layer.seconds)
    assert {layer.name for layer in plotted[-5:]} <= names
    title = figure.texts[0].get_text()
    assert "mobilenet_v2 on jetson-orin-nano-8gb, int8" in title and f"roofline {lines.fps:,.0f} fps" in title
