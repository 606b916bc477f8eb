"""What every importer shares: dispatch by suffix, lazy loading, and the YAML writer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.importers import IMPORTERS, ImportOptions, import_spec, is_import_source
from cnncalc.importers.emit import scalar, spec_text
from cnncalc.yamlread import load

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("value", "text"), [
    pytest.param("conv1", "conv1", id="name"),
    pytest.param("fire2/squeeze1x1", "fire2/squeeze1x1", id="slash"),
    pytest.param("/model/Conv_0", "/model/Conv_0", id="onnx-path"),
    pytest.param("yolov4-tiny", "yolov4-tiny", id="dash-inside"),
    pytest.param("layer2.0.bn2", "layer2.0.bn2", id="dots"),
    pytest.param("SqueezeNet v1.1", '"SqueezeNet v1.1"', id="space"),
    pytest.param("true", '"true"', id="boolean-word"),
    pytest.param("null", '"null"', id="null-word"),
    pytest.param("yes", '"yes"', id="yaml-1.1-boolean"),
    pytest.param("1x1", '"1x1"', id="starts-with-digit"),
    pytest.param("-x", '"-x"', id="leading-dash"),
    pytest.param("a: b", '"a: b"', id="colon"),
    pytest.param("a,b", '"a,b"', id="comma"),
    pytest.param("", '""', id="empty"),
    pytest.param("näme", '"n\\u00e4me"', id="non-ascii"),
    pytest.param(0.1, "0.1", id="float"),
    pytest.param(1e-05, "1e-05", id="small-float"),
    pytest.param(1.0, "1.0", id="whole-float"),
    pytest.param(float("inf"), ".inf", id="infinity"),
    pytest.param(3, "3", id="int"),
    pytest.param(False, "false", id="bool"),
    pytest.param(None, "null", id="none"),
    pytest.param([[0, 1], [0, 1]], "[[0, 1], [0, 1]]", id="pairs"),
    pytest.param({"shape": [3, 8, 8], "batch": 1}, "{shape: [3, 8, 8], batch: 1}", id="mapping"),
])
def test_scalar(value: Any, text: str) -> None:
    assert scalar(value) == text
    assert load(f"key: {text}", "<test>")["key"] == value  # reads back as the same value


def _spec(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "two-branch",
        "inputs": {"image": {"shape": [3, 8, 8], "batch": 1}},
        "layers": [
            {"type": "conv2d", "name": "a", "from": "image", "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"#": "a branch from the input", "type": "conv2d", "name": "b", "from": ["image"], "out_channels": 4,
             "kernel_size": 1},
            {"type": "add", "name": "sum", "from": ["a", "b"]},
            {"type": "relu", "name": "out", "from": "sum"},
        ],
    }
    spec.update(extra)
    return spec


def test_spec_text_layout() -> None:
    assert spec_text(_spec(outputs=["out"]), "made by hand\non a test") == """\
# made by hand
# on a test
name: two-branch
input: {shape: [3, 8, 8], batch: 1}
layers:
  - {type: conv2d, name: a, out_channels: 4, kernel_size: 3, padding: 1}
  # a branch from the input
  - {type: conv2d, name: b, from: input, out_channels: 4, kernel_size: 1}
  - {type: add, name: sum, from: [a, b]}
  - {type: relu, name: out}
"""


def test_spec_text_with_several_inputs_and_outputs() -> None:
    spec = _spec(outputs=["sum", "out"], description="two heads")
    spec["inputs"]["depth"] = {"shape": [1, 8, 8], "batch": 1}
    text = spec_text(spec, "test")
    assert "inputs:\n  image: {shape: [3, 8, 8], batch: 1}\n  depth: {shape: [1, 8, 8], batch: 1}\n" in text
    assert "  - {type: conv2d, name: a, from: image, out_channels: 4, kernel_size: 3, padding: 1}" in text
    assert 'description: two heads' not in text and 'description: "two heads"' in text
    assert text.endswith("outputs: [sum, out]\n")
    report = cnncalc.analyze(text)
    assert report.outputs == {"sum": (1, 4, 8, 8), "out": (1, 4, 8, 8)}


def test_importers_by_suffix() -> None:
    assert set(IMPORTERS) >= {".cfg", ".prototxt", ".onnx"}
    assert is_import_source("net.cfg") and is_import_source(Path("a/net.PROTOTXT"))
    assert is_import_source("torch:torchvision.models:resnet18")
    assert not is_import_source("net.yaml") and not is_import_source("name: x\nlayers: []\n")


def test_unknown_suffix() -> None:
    with pytest.raises(cnncalc.SpecError, match=r"net\.caffemodel: cnncalc does not import '\.caffemodel' files; "
                                                r"it imports \.cfg, \.prototxt, \.onnx"):
        import_spec(Path("net.caffemodel"), ImportOptions())


def test_missing_file() -> None:
    with pytest.raises(cnncalc.SpecError, match=r"^cannot read missing\.cfg: No such file or directory$"):
        cnncalc.analyze("missing.cfg")


def test_a_missing_optional_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from cnncalc import importers

    def no_onnx(name: str) -> None:
        raise ModuleNotFoundError("No module named 'onnx'", name="onnx")

    monkeypatch.setattr(importlib, "import_module", no_onnx)
    with pytest.raises(cnncalc.SpecError, match=r"importing ONNX models needs the onnx package; "
                                                r"pip install 'cnncalc\[onnx\]'"):
        importers.IMPORTERS[".onnx"](Path("model.onnx"), ImportOptions())


def test_an_importer_not_installed_is_named() -> None:
    from cnncalc.importers import _load

    with pytest.raises(cnncalc.SpecError, match="this cnncalc cannot import Foo models"):
        _load("no_such_importer", "Foo", None)


def test_importing_cnncalc_loads_no_importer() -> None:
    code = ("import sys, cnncalc; cnncalc.analyze('specs/yolov4-tiny.cfg'); "
            "print(sorted(name for name in sys.modules if name.startswith(('onnx', 'torch', 'cnncalc.importers.')) "
            "and not name.startswith('cnncalc.importers.darknet.')))")  # the darknet package's own modules
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == ("['cnncalc.importers.builder', 'cnncalc.importers.common', 'cnncalc.importers.darknet', "
                           "'cnncalc.importers.emit']")


def test_error_in_the_converted_spec_names_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A problem only the spec reader sees points at the converted spec, and says how to print it."""
    from cnncalc.importers import darknet

    def broken(path: Path, options: ImportOptions) -> dict[str, Any]:
        return {"name": "x", "inputs": {"input": {"shape": [3, 8, 8], "batch": 1}},
                "layers": [{"type": "relu", "name": "r", "from": "input"}, {"type": "relu", "name": "r"}]}

    monkeypatch.setattr(darknet, "to_spec", broken)
    path = tmp_path / "net.cfg"
    path.write_text("[net]\n")
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value) == (f"{path} (imported):7:24: layer 'r' (relu): name 'r' is used twice; every layer "
                                 f"name must be unique; `cnncalc import {path}` prints the converted spec")


def test_import_command_errors() -> None:
    result = CliRunner().invoke(main, ["import", "net.h5"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("net.h5: cnncalc does not import '.h5' files")
    result = CliRunner().invoke(main, ["import", "specs/yolov4-tiny.cfg", "--input", "x=3x8x8"])
    assert result.exit_code == 2
    assert result.stderr == ("--input x=...: a Darknet network has one input, 'input'; give --input CxHxW\n")


@pytest.mark.parametrize(("source", "shape", "outputs"), [
    pytest.param("specs/yolov4-tiny.cfg", (3, 64, 64), [(1, 255, 2, 2), (1, 255, 4, 4)], id="darknet"),
    pytest.param("tests/data/squeezenet_v1.1.prototxt", (3, 67, 67), [(1, 1000, 1, 1)], id="caffe"),
])
def test_imported_networks_run_in_pytorch(source: str, shape: tuple[int, ...],
                                          outputs: list[tuple[int, ...]]) -> None:
    """Darknet's padded max pools, route slices and Caffe's ceil pooling, run by PyTorch itself."""
    torch = pytest.importorskip("torch")
    from cnncalc.torch import build_module

    report = cnncalc.analyze(ROOT / source, inputs={"": shape}, batch=1)
    model = build_module(ROOT / source, inputs={"": shape}, batch=1)
    result = model(torch.zeros(1, *shape))
    result = result if isinstance(result, tuple) else (result,)
    assert [tuple(tensor.shape) for tensor in result] == outputs == list(report.outputs.values())
    assert sum(parameter.numel() for parameter in model.parameters()) == report.totals.params
