"""The PyTorch importer on hand-written, torchvision-style modules.

Known answers come from PyTorch itself: parameters are `sum(p.numel())`, buffers the
running statistics, MACs half of FlopCounterMode's FLOPs, the output shape the one a
forward pass returns. The specs of specs/ are checked in test_import_roundtrip.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import Tensor, nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.errors import SpecError  # noqa: E402
from cnncalc.importers import ImportOptions  # noqa: E402
from cnncalc.importers.emit import spec_text  # noqa: E402
from cnncalc.importers.torch import to_spec  # noqa: E402


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock, written as torchvision writes it (`out += identity`)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class InvertedResidual(nn.Module):
    """torchvision's MobileNet v2 block: expand 1x1, depthwise 3x3, project 1x1, residual when it fits."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += [nn.Conv2d(inp, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
                   nn.ReLU6(inplace=True), nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class Functional(nn.Module):
    """The functions fx records between modules: view(size(0), -1), cat, chunk, slicing, mean, interpolate,
    a layer-scale parameter, F.relu, a scalar multiply."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.gamma = nn.Parameter(torch.ones(16, 1, 1))
        self.branch = nn.Conv2d(8, 8, 1)
        self.head = nn.Linear(16, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.stem(x)) * self.gamma
        left, right = torch.chunk(x, 2, dim=1)
        x = torch.cat([self.branch(left), right[:, :, :, :]], dim=1) * 0.5
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.max_pool2d(x, 2)
        x = x.mean((2, 3))
        return self.head(x.view(x.size(0), -1))


class ShapeDependent(nn.Module):
    """Control flow on a size: fx cannot trace it, the hooks recorder can."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] > 64:
            x = F.max_pool2d(x, 2)
        return torch.flatten(F.adaptive_avg_pool2d(self.conv(x), 1), 1)


def pytorch_counts(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, int, int, tuple[int, ...]]:
    """(params, buffers, MACs, output shape) as PyTorch counts them."""
    module.eval()
    params = sum(parameter.numel() for parameter in module.parameters())
    buffers = sum(buffer.numel() for name, buffer in module.named_buffers() if "num_batches_tracked" not in name)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        output = module(torch.zeros((1, *shape)))
    return params, buffers, counter.get_total_flops() // 2, tuple(output.shape)


def analysed(spec: dict[str, Any]) -> Any:
    return cnncalc.analyze(spec_text(spec, "test"))


MODULES = [
    ("basic-block", lambda: BasicBlock(64, 64), (64, 56, 56)),
    ("basic-block-downsample", lambda: BasicBlock(64, 128, 2), (64, 56, 56)),
    ("mobilenet-v2-block", lambda: InvertedResidual(24, 24, 1, 6), (24, 56, 56)),
    ("mobilenet-v2-block-stride", lambda: InvertedResidual(16, 24, 2, 6), (16, 112, 112)),
    ("functional", Functional, (3, 16, 16)),
    ("shape-dependent", ShapeDependent, (3, 96, 96)),
]


@pytest.mark.parametrize("factory,shape", [case[1:] for case in MODULES], ids=[case[0] for case in MODULES])
def test_counts_match_pytorch(factory: Any, shape: tuple[int, ...]) -> None:
    module = factory()
    spec = cnncalc.from_torch(module, shape)
    report = analysed(spec)
    params, buffers, macs, output = pytorch_counts(module, shape)
    assert (report.totals.params, report.totals.buffers, report.totals.macs) == (params, buffers, macs)
    assert list(report.outputs.values()) == [output]


def test_basic_block_layers() -> None:
    spec = cnncalc.from_torch(BasicBlock(64, 128, 2), (64, 56, 56))
    assert [(layer["type"], layer["name"], layer["from"]) for layer in spec["layers"]] == [
        ("conv2d", "conv1", "x"), ("batchnorm2d", "bn1", "conv1"), ("relu", "relu", "bn1"),
        ("conv2d", "conv2", "relu"), ("batchnorm2d", "bn2", "conv2"), ("conv2d", "downsample.0", "x"),
        ("batchnorm2d", "downsample.1", "downsample.0"), ("add", "add", ["bn2", "downsample.1"]),
        ("relu", "relu_2", "add")]
    assert spec["description"] == "PyTorch module, recorded with torch.fx"


def test_same_as_the_hand_written_spec() -> None:
    """The imported MobileNet v2 block against the same block written as a spec, layer by layer."""
    written = cnncalc.analyze(textwrap.dedent("""\
        input: {shape: [24, 56, 56]}
        layers:
          - {type: conv2d, out_channels: 144, kernel_size: 1, bias: false}
          - {type: batchnorm2d}
          - {type: relu6}
          - {type: conv2d, out_channels: 144, kernel_size: 3, padding: 1, groups: 144, bias: false}
          - {type: batchnorm2d}
          - {type: relu6}
          - {type: conv2d, out_channels: 24, kernel_size: 1, bias: false}
          - {type: batchnorm2d}
          - {type: add, from: [input, -1]}
        """))
    imported = analysed(cnncalc.from_torch(InvertedResidual(24, 24, 1, 6), (24, 56, 56)))
    assert [(row.type, row.output_shape, row.params, row.buffers, row.macs) for row in imported.layers] == \
        [(row.type, row.output_shape, row.params, row.buffers, row.macs) for row in written.layers]


def test_shape_dependent_module_uses_hooks() -> None:
    spec = cnncalc.from_torch(ShapeDependent(), (3, 96, 96))
    assert spec["description"] == "PyTorch module, recorded with forward hooks"
    assert [layer["type"] for layer in spec["layers"]] == ["maxpool2d", "conv2d", "global_avgpool", "flatten"]


def test_training_flags_are_restored() -> None:
    module = BasicBlock(8, 8)
    module.train()
    cnncalc.from_torch(module, (8, 8, 8))
    assert all(sub.training for sub in module.modules())


class Unmappable(nn.Module):
    """Calls cnncalc has no layer for (cumsum, sort), in two submodules, after attention it maps."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.first = Sorting()
        self.second = Sorting()

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.attn(x, x, x)
        return self.second(self.first(out)) + torch.exp(x)


class Sorting(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.cumsum(torch.sort(x, dim=-1).values, dim=1)


def test_every_unsupported_call_is_listed_once_with_its_module() -> None:
    """Every call is tried, even after one that fails (a stand-in of PyTorch's shape takes its
    place), and the message is not cut however many there are."""
    with pytest.raises(SpecError) as error:
        cnncalc.from_torch(Unmappable(), (4, 8), name="unmappable")
    assert str(error.value).splitlines()[:3] == [
        "unmappable: 4 calls cnncalc cannot map:",
        "  sort: no cnncalc layer type at first:sort, second:sort_1",
        "  cumsum: no cnncalc layer type at first:cumsum, second:cumsum_1"]


def test_a_long_list_of_unmapped_calls_is_not_cut() -> None:
    module = nn.Sequential(*[Sorting() for _ in range(60)])
    with pytest.raises(SpecError) as error:
        cnncalc.from_torch(module, (4, 8), name="many")
    message = str(error.value)
    assert len(message) > 1000 and "more characters" not in message
    assert "59:cumsum_59" in message


def test_input_shape_is_needed() -> None:
    with pytest.raises(SpecError, match="the shape of input 'x' is not known; give one sample's shape: "
                                        r"--input x=3x224x224 \(from Python"):
        cnncalc.from_torch(BasicBlock(8, 8))


def test_a_failing_forward_names_the_inputs() -> None:
    with pytest.raises(SpecError, match=r"running the module on inputs 4x8x8 failed: RuntimeError: "):
        cnncalc.from_torch(BasicBlock(8, 8), (4, 8, 8), name="block")


def test_factory_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_models_for_cnncalc.py").write_text(textwrap.dedent("""\
        from torch import nn
        def small():
            return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
        """))
    monkeypatch.chdir(tmp_path)
    spec = to_spec("torch:my_models_for_cnncalc:small", ImportOptions({"": (3, 8, 8)}, 2))
    assert spec["name"] == "small"
    report = analysed(spec)
    assert (report.totals.params, report.assumptions.batch) == (4 * 27 + 4 + 144 * 2 + 2, 2)
    assert [layer["name"] for layer in spec["layers"]] == ["0", "1", "2", "3"]


def test_an_installed_package_wins_over_a_folder_of_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout holding `torchvision/` must not replace the installed torchvision: its code never runs."""
    installed, checkout = tmp_path / "site-packages", tmp_path / "checkout"
    for folder, body in ((installed, "from torch import nn\ndef build():\n    return nn.Conv2d(3, 4, 1)\n"),
                         (checkout, "import pathlib\npathlib.Path('RAN').write_text('the checkout ran')\n"
                                    "def build():\n    raise SystemExit('shadowed')\n")):
        (folder / "cnncalc_probe_package").mkdir(parents=True)
        (folder / "cnncalc_probe_package" / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.chdir(checkout)
    monkeypatch.setattr(sys, "path", [os.getcwd(), *sys.path])  # as `python -m` would put it first
    spec = to_spec("torch:cnncalc_probe_package:build", ImportOptions({"": (3, 8, 8)}))
    assert [layer["type"] for layer in spec["layers"]] == ["conv2d"]
    assert not (checkout / "RAN").exists()
    assert sys.path[0] == os.getcwd(), "sys.path is given back as it was"


def test_a_network_with_nothing_to_count_names_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cnncalc_passthrough_models.py").write_text(
        "from torch import nn\nclass Through(nn.Module):\n    def forward(self, x):\n        return x\n"
        "def build():\n    return Through()\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as error:
        to_spec("torch:cnncalc_passthrough_models:build", ImportOptions({"": (3, 8, 8)}))
    assert str(error.value) == ("torch:cnncalc_passthrough_models:build: the network 'build' has no layers cnncalc "
                                "can count; cnncalc counts what is computed from the inputs")


@pytest.mark.parametrize("source,problem", [
    ("torch:nothing_here_at_all:build", "torch:nothing_here_at_all:build: cannot import nothing_here_at_all: "),
    ("torch:torch.nn", "torch:torch.nn: expected torch:package.module:factory"),
    ("torch:torch.nn:NoSuchThing", "torch:torch.nn:NoSuchThing: torch.nn has no 'NoSuchThing'"),
    ("torch:torch.nn.functional:relu", "torch:torch.nn.functional:relu: relu() raised TypeError: "),
    ("torch:torch:get_default_dtype", "torch:torch:get_default_dtype: get_default_dtype() returned dtype, not a "
                                      "torch.nn.Module"),
])
def test_bad_sources(source: str, problem: str) -> None:
    with pytest.raises(SpecError) as error:
        to_spec(source, ImportOptions({"": (3, 8, 8)}))
    assert str(error.value).startswith(problem)


def test_import_cnncalc_does_not_import_torch() -> None:
    code = "import sys, cnncalc; cnncalc.from_torch; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
