"""`export --torch` of a spec that follows torchvision's names: torchvision's own state
dicts load into the exported module with strict=True (the ResNets' projection shortcut is
`downsample.0` / `downsample.1`, an nn.Sequential in torchvision), and the loaded module
computes what torchvision's does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

torch = pytest.importorskip("torch")

SPECS = Path(__file__).parent.parent / "specs"
RESNETS = ("resnet18", "resnet34", "resnet50")


def torchvision_models() -> Any:
    """torchvision.models, or a skip. Its wheel is a CUDA build whose C operators cannot load
    on the CPU-only torch: defining the two schemas it registers fakes for makes the import work."""
    if not hasattr(torch.ops.torchvision, "nms"):
        try:
            library = torch.library.Library("torchvision", "DEF")
            library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
            torchvision_models.library = library  # type: ignore[attr-defined]  # kept alive with the schemas
        except RuntimeError:  # defined meanwhile (a conftest): nothing to do
            pass
    return pytest.importorskip("torchvision.models")


def exported(name: str, tmp_path: Path) -> Any:
    """The module class `cnncalc export specs/NAME.yaml --torch -o FILE` writes."""
    target = tmp_path / f"{name}.py"
    result = CliRunner().invoke(main, ["export", str(SPECS / f"{name}.yaml"), "--torch", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    namespace: dict[str, Any] = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)
    return [value for value in namespace.values()
            if isinstance(value, type) and issubclass(value, torch.nn.Module)][-1]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_shortcut_keys_are_torchvisions(name: str, tmp_path: Path) -> None:
    """Without torchvision: the keys its ResNets' state dicts hold for the first projection
    shortcut (torchvision.models.resnet, `downsample = nn.Sequential(conv1x1(...), norm_layer(...))`)."""
    keys = set(exported(name, tmp_path)().state_dict())
    assert {"layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias",
            "layer2.0.downsample.1.running_mean", "layer2.0.downsample.1.running_var",
            "layer2.0.downsample.1.num_batches_tracked"} <= keys
    assert not [key for key in keys if ".conv." in key or ".bn." in key]


@pytest.mark.parametrize("name", RESNETS)
def test_torchvision_state_dict_loads_strictly(name: str, tmp_path: Path) -> None:
    models = torchvision_models()
    reference = getattr(models, name)(weights=None).eval()
    module = exported(name, tmp_path)().eval()
    module.load_state_dict(reference.state_dict(), strict=True)  # raises on any missing or extra key
    sample = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(module(sample), reference(sample), atol=1e-5)


def test_imported_torchvision_model_exports_back_to_its_names(tmp_path: Path) -> None:
    """`import torch:...` keeps torchvision's names, so the round trip loads its weights too."""
    models = torchvision_models()
    from cnncalc.importers.emit import spec_text
    from cnncalc.importers.torch import from_torch
    from cnncalc.torch import module_source

    reference = models.resnet18(weights=None).eval()
    spec = tmp_path / "imported.yaml"
    spec.write_text(spec_text(from_torch(reference, (3, 224, 224), name="resnet18"), "# imported\n"))
    namespace: dict[str, Any] = {}
    exec(compile(module_source(spec), "imported.py", "exec"), namespace)
    module = [value for value in namespace.values()
              if isinstance(value, type) and issubclass(value, torch.nn.Module)][-1]().eval()
    module.load_state_dict(reference.state_dict(), strict=True)
    sample = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(module(sample), reference(sample), atol=1e-5)
