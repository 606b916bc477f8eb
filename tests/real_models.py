"""Real models from torchvision, timm and Ultralytics, and PyTorch's own counts for them:
the known answers of the PyTorch importer's sweep (tests/sweep_torch.py) and of
tests/test_import_torch_real.py. Not part of cnncalc: test helpers only.

PyTorch's counts: params = sum(p.numel() for p in model.parameters()), MACs = half of
FlopCounterMode's total on a forward of zeros, with the math path of
scaled_dot_product_attention and nn.MultiheadAttention's fast path off (torch 2.13 counts
0 FLOPs for the fused CPU kernels: see docs/peers.md).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TIMM_FAMILIES = HERE / "data" / "timm_families.json"


_LIBRARIES: list[object] = []  # the schemas stay defined while the library object lives


def prepare_torchvision() -> None:
    """Let the CUDA build of torchvision import on the CPU-only torch: its fake kernels need
    the two schemas its C library would define (tests only, never in the package)."""
    import torch

    if _LIBRARIES:
        return
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBRARIES.append(library)


@dataclass(frozen=True)
class Model:
    """One model of the sweep: corpus, name and how to build it."""

    corpus: str  # torchvision, timm, ultralytics
    name: str
    shape: tuple[int, ...]  # one sample's input shape
    kind: str = ""  # timm: cnn or transformer; torchvision: classification or segmentation
    params: int = 0  # known beforehand (timm's meta build), for the default subset's size limit


def build(model: Model) -> Any:
    """The model, with random weights, in eval mode."""
    if model.corpus == "torchvision":
        prepare_torchvision()
        import torchvision

        module = torchvision.models.get_model(model.name, weights=None, **_torchvision_options(model.name))
    elif model.corpus == "timm":
        prepare_torchvision()
        import timm

        module = timm.create_model(model.name, pretrained=False)
    else:
        prepare_torchvision()  # ultralytics imports torchvision
        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics import RTDETR, YOLO

        module = (RTDETR if "rtdetr" in model.name else YOLO)(model.name).model
    return module.eval()


def _torchvision_options(name: str) -> dict[str, Any]:
    if name in ("googlenet", "inception_v3"):
        return {"aux_logits": False, "init_weights": False}  # what their pretrained weights build
    if name.startswith(("fcn_", "deeplabv3_")):
        return {"aux_loss": False, "weights_backbone": None}
    if name.startswith("lraspp_"):
        return {"weights_backbone": None}
    return {}


def torchvision_models() -> list[Model]:
    prepare_torchvision()
    import torchvision

    models = []
    for module, kind in ((torchvision.models, "classification"), (torchvision.models.segmentation, "segmentation")):
        for name in torchvision.models.list_models(module=module):
            size = 520 if kind == "segmentation" else _torchvision_crop(name)
            models.append(Model("torchvision", name, (3, size, size), kind))
    return models


def _torchvision_crop(name: str) -> int:
    import torchvision

    weights = torchvision.models.get_model_weights(name)
    first = list(weights)[0]
    crop = getattr(first.transforms.keywords, "get", lambda *_: None)("crop_size") \
        if hasattr(first.transforms, "keywords") else None
    return int(crop or first.meta.get("min_size", (224, 224))[0] if crop is None else crop)


def timm_models() -> list[Model]:
    """One model per timm architecture family (module), the one with the fewest parameters,
    as chosen by `python tests/sweep_torch.py --choose-timm` (tests/data/timm_families.json)."""
    table = json.loads(TIMM_FAMILIES.read_text())
    return [Model("timm", row["model"], tuple(row["input_size"]), row["kind"], row["params"]) for row in table]


ULTRALYTICS_SCALED = {"yolov3", "yolov3-tiny", "yolov3-spp", "rtdetr-l", "rtdetr-x", "rtdetr-resnet50",
                      "rtdetr-resnet101", "yolov8-rtdetr", "yolov10n", "yolov10s", "yolov10m", "yolov10b",
                      "yolov10l", "yolov10x", "yolov9t", "yolov9s", "yolov9m", "yolov9c", "yolov9e",
                      "yolov9c-seg", "yolov9e-seg"}


def ultralytics_models() -> list[Model]:
    """Every model YAML Ultralytics ships, at its smallest scale ('n' where it has scales)."""
    prepare_torchvision()
    import ultralytics

    root = Path(ultralytics.__file__).parent / "cfg" / "models"
    models = []
    for path in sorted(root.rglob("*.yaml")):
        stem = path.stem
        if stem not in ULTRALYTICS_SCALED and "scales:" in path.read_text():
            stem = _with_scale(stem, "n")
        size = 224 if "-cls" in stem else 640
        models.append(Model("ultralytics", f"{stem}.yaml", (3, size, size), "cls" if "-cls" in stem else "det"))
    return models


def _with_scale(stem: str, scale: str) -> str:
    """yolov8-seg -> yolov8n-seg, yolo11 -> yolo11n, yoloe-11-seg -> yoloe-11n-seg (Ultralytics' naming)."""
    head, dash, rest = stem.partition("-")
    if head == "yoloe":
        version, _, tail = rest.partition("-")
        return f"yoloe-{version}{scale}" + (f"-{tail}" if tail else "")
    return f"{head}{scale}{dash}{rest}"


@contextlib.contextmanager
def math_attention() -> Iterator[None]:
    """Attention on PyTorch's math path, where FlopCounterMode counts its matmuls."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    saved = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(saved)


@dataclass(frozen=True)
class Counts:
    params: int
    macs: int
    outputs: list[list[int]]


def pytorch_counts(module: Any, shape: tuple[int, ...], batch: int = 1) -> Counts:
    """What PyTorch says: parameters, half FlopCounterMode's FLOPs, the output tensors' shapes."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    params = sum(parameter.numel() for parameter in module.parameters())
    counter = FlopCounterMode(display=False)
    flags = [(parameter, parameter.requires_grad) for parameter in module.parameters()]
    for parameter, _ in flags:  # FlopCounterMode's module tracker fails on a parameter passed to a module (CaiT)
        parameter.requires_grad_(False)
    try:
        with math_attention(), counter, torch.no_grad():
            output = module(torch.zeros((batch, *shape)))
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)
    distinct = list({id(item): item for item in _tensors(output)}.values())  # a tensor returned twice is one output
    return Counts(params, counter.get_total_flops() // 2, [list(item.shape) for item in distinct])


def never_called(module: Any, shape: tuple[int, ...]) -> dict[str, int]:
    """Parameters of the submodules a forward never calls (YOLOE's text branch), by module name:
    the documented exception to `params == sum(p.numel())`."""
    import torch

    called: set[int] = set()
    handles = [sub.register_forward_pre_hook(lambda sub, args: called.add(id(sub))) for sub in module.modules()]
    try:
        with math_attention(), torch.no_grad():
            module(torch.zeros((1, *shape)))
    finally:
        for handle in handles:
            handle.remove()
    unused = {}
    for name, sub in module.named_modules():
        count = sum(parameter.numel() for parameter in sub.parameters(recurse=False))
        if id(sub) not in called and count:
            unused[name] = count
    return unused


def _tensors(value: Any) -> list[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in _tensors(item)]
    return []


def cnncalc_counts(module: Any, shape: tuple[int, ...], name: str) -> tuple[Counts, str]:
    """What cnncalc says through from_torch, and the spec's description (how it was recorded)."""
    import cnncalc
    from cnncalc.importers.emit import spec_text

    spec = cnncalc.from_torch(module, shape, name=name)
    report = cnncalc.analyze(spec_text(spec, name))
    return Counts(report.totals.params, report.totals.macs,
                  [list(item) for item in report.outputs.values()]), str(spec.get("description", ""))


def to_json(counts: Counts | None) -> dict[str, Any] | None:
    return asdict(counts) if counts is not None else None
