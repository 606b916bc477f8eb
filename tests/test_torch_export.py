"""`module_source` and `cnncalc export --torch`: the written module, executed, is the built one:
the same modules under the same names, the same parameter count and output shapes, and,
given the same weights, the same outputs. PyTorch stays an optional dependency."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def test_import_cnncalc_never_imports_torch() -> None:
    code = "import sys, cnncalc, cnncalc.cli, cnncalc.report; cnncalc.analyze('specs/lenet5.yaml'); " \
           "print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_without_torch_the_message_says_how_to_install_it() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"
            "from click.testing import CliRunner\nfrom cnncalc.cli import main\n"
            "result = CliRunner().invoke(main, ['export', 'specs/lenet5.yaml', '--torch'])\n"
            "print(result.exit_code, result.stderr.strip())")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "2 PyTorch is not installed; pip install 'cnncalc[torch]'"


torch = pytest.importorskip("torch")

from cnncalc.torch import build_module, module_source  # noqa: E402

from test_torch_parity import LAYER_CASES  # noqa: E402


def load(text: str) -> Any:
    """The module class a written source defines (the last class in it)."""
    namespace: dict[str, Any] = {}
    exec(compile(text, "<cnncalc export>", "exec"), namespace)
    classes = [value for value in namespace.values() if isinstance(value, type) and issubclass(value, torch.nn.Module)]
    return classes[-1]


def same_module(source: str | Path, device: str, **options: Any) -> tuple[Any, Any]:
    with torch.device(device):
        built = build_module(source, **options)
        written = load(module_source(source, **options))()
    assert [name for name, _ in written.named_modules()] == [name for name, _ in built.named_modules()]
    assert {key: value.shape for key, value in written.state_dict().items()} == \
           {key: value.shape for key, value in built.state_dict().items()}
    assert sum(p.numel() for p in written.parameters()) == sum(p.numel() for p in built.parameters())
    assert written.input_shapes == built.input_shapes
    return built, written


@pytest.mark.parametrize("spec", sorted(path.name for path in SPECS.glob("*.yaml")))
def test_written_module_matches_the_built_one(spec: str) -> None:
    built, written = same_module(SPECS / spec, "meta")
    inputs = [torch.empty(shape, device="meta") for shape in built.input_shapes.values()]
    assert written(*inputs).shape == built(*inputs).shape


SMALL = [("lenet5.yaml", {}), ("unet_small.yaml", {"inputs": {"": (3, 32, 32)}}),
         ("mobilenet_v2.yaml", {"inputs": {"": (3, 64, 64)}, "overrides": {"width": 0.5}}),
         ("googlenet.yaml", {"inputs": {"": (3, 64, 64)}})]


@pytest.mark.parametrize(("spec", "options"), SMALL, ids=[spec for spec, _ in SMALL])
def test_written_module_computes_the_same_values(spec: str, options: dict[str, Any]) -> None:
    built, written = same_module(SPECS / spec, "cpu", **options)
    written.load_state_dict(built.state_dict())
    inputs = [torch.randn(shape) for shape in built.input_shapes.values()]
    assert torch.equal(written.eval()(*inputs), built.eval()(*inputs))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("text", LAYER_CASES.values(), ids=LAYER_CASES.keys())
def test_written_layers_compute_the_same_values(text: str) -> None:
    built, written = same_module(text, "cpu")
    written.load_state_dict(built.state_dict())
    inputs = [torch.randn(shape) for shape in built.input_shapes.values()]
    expected, actual = built.eval()(*inputs), written.eval()(*inputs)
    for want, have in zip(expected if isinstance(expected, tuple) else (expected,),
                          actual if isinstance(actual, tuple) else (actual,)):
        assert torch.equal(want, have)


def test_written_source_reads_like_pytorch() -> None:
    text = module_source(SPECS / "resnet18.yaml", overrides={"num_classes": 10})
    assert "class Resnet18(nn.Module):" in text
    assert '        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)\n' in text
    assert '                "downsample": nn.ModuleDict({\n' in text
    assert "        x = self.conv1(input)\n" in text and "        fc = self.fc(x)\n        return fc\n" in text
    assert "self.fc = nn.Linear(512, 10)" in text
    compile(text, "resnet18.py", "exec")


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_export_prints_the_module() -> None:
    code, out, _ = run("export", str(SPECS / "lenet5.yaml"), "--torch", "--set", "num_classes=3")
    assert code == 0
    assert sum(p.numel() for p in load(out)().parameters()) == 61_706 - 7 * 85


def test_export_writes_a_file_and_keeps_an_existing_one(tmp_path: Path) -> None:
    target = tmp_path / "net.py"
    assert run("export", str(SPECS / "lenet5.yaml"), "--torch", "-o", str(target))[0] == 0
    assert "class Lenet5(nn.Module):" in target.read_text()
    target.write_text("mine")
    code, _, err = run("export", str(SPECS / "lenet5.yaml"), "--torch", "-o", str(target))
    assert (code, err.strip(), target.read_text()) == (2, f"{target} exists; add --force to overwrite it", "mine")
    code, _, _ = run("export", str(SPECS / "resnet18.yaml"), "--torch", "--input", "3x64x64", "-o", str(target),
                     "--force")
    assert code == 0 and "class Resnet18" in target.read_text()


def test_export_errors_exit_2_with_one_message(tmp_path: Path) -> None:
    assert run("export", str(SPECS / "lenet5.yaml"))[::2] == (
        2, "cnncalc export: say what to export: --torch (a PyTorch nn.Module, as Python source)\n")
    spec = tmp_path / "pool.yaml"
    spec.write_text("input: {shape: [3, 8, 8]}\nlayers:\n"
                    "  - {type: avgpool2d, kernel_size: 2, padding: [[0, 1], [0, 1]], count_include_pad: false}\n")
    code, out, err = run("export", str(spec), "--torch")
    assert code == 2 and out == ""
    assert err.startswith(f"{spec}:3:5: layer 'avgpool2d_1' (avgpool2d): average pooling with (begin, end) "
                          "padding [(0, 1), (0, 1)] and count_include_pad: false")
    assert "has no exact PyTorch equivalent" in err
    code, _, err = run("export", str(tmp_path / "missing.yaml"), "--torch")
    assert code == 2 and "cannot read" in err
