"""Measures, with Ultralytics, the known answers for the Ultralytics-format files in specs/.

    YOLO_OFFLINE=1 python tests/ultralytics_known.py > tests/data/ultralytics_known.json

For each (file, scale) in FILES: the parameters (`sum(p.numel() for p in
model.parameters())`), FlopCounterMode's FLOPs for the eval-mode forward of a
1x3x640x640 input (with PyTorch's math attention path, which is what it counts), and
every `model.N` output shape (the first tensor of a tuple), from the model Ultralytics
builds from the file. tests/test_ultralytics_known_answers.py checks cnncalc against the
stored numbers without Ultralytics, and re-measures them when it is installed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent.parent / "specs"
FILES = {  # file in specs/: the scales measured ("" for a file without scales)
    "yolo_custom_ultralytics.yaml": "ns",
    "yolo_attention_ultralytics.yaml": "nsl",
    "yolo_transformer_seg_ultralytics.yaml": "ns",
    "yolo_pose26_ultralytics.yaml": "",
    "rtdetr_small_ultralytics.yaml": "",
}
IMAGE = 640


def allow_torchvision() -> None:
    """Lets torchvision import where its wheel is a CUDA build on a CPU-only torch: its C
    operators do not load, and its fake kernels for nms and qnms then fail ("operator
    torchvision::nms does not exist"); defining their two schemas first is enough
    (Ultralytics imports torchvision to build models). A working torchvision is left alone."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:
        return
    import torch

    try:
        import torchvision  # noqa: F401
        return
    except RuntimeError:
        for name in [name for name in sys.modules if name == "torchvision" or name.startswith("torchvision.")]:
            del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
    allow_torchvision.library = library  # type: ignore[attr-defined]  # kept alive: dropping it undefines them


def build(config: dict[str, Any]) -> Any:
    """The model Ultralytics builds from a parsed model file, in eval mode."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    allow_torchvision()
    from ultralytics.nn.tasks import (ClassificationModel, DepthModel, DetectionModel, OBBModel, PoseModel,
                                      RTDETRDetectionModel, SegmentationModel, SemanticSegmentationModel)

    head = config["head"][-1][2]
    kinds = {"Segment": SegmentationModel, "Segment26": SegmentationModel, "Pose": PoseModel,
             "Pose26": PoseModel, "OBB": OBBModel, "OBB26": OBBModel, "Classify": ClassificationModel,
             "RTDETRDecoder": RTDETRDetectionModel, "SemanticSegment": SemanticSegmentationModel, "Depth": DepthModel}
    return kinds.get(head, DetectionModel)(config, verbose=False).eval()


def measure(config: dict[str, Any], image: int = IMAGE) -> dict[str, Any]:
    """Params, FlopCounterMode FLOPs and model.N output shapes of the model built from `config`."""
    params, flops, shapes = counts(build(config), image)
    return {"params": params, "flops": flops, "shapes": {name: list(shape) for name, shape in shapes.items()}}


def counts(model: Any, image: int) -> tuple[int, int, dict[str, tuple[int, ...]]]:
    """(params, FlopCounterMode FLOPs, model.N output shapes) of an Ultralytics model in eval mode,
    for one zero image of image x image."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[str, tuple[int, ...]] = {}
    for index, module in enumerate(model.model):
        def record(module: Any, _inputs: Any, output: Any, name: str = f"model.{index}") -> None:
            if type(module).__name__ == "CBLinear":  # its conv's output, returned split: the whole is compared
                shapes[name] = (*output[0].shape[:1], sum(part.shape[1] for part in output), *output[0].shape[2:])
                return
            while isinstance(output, (tuple, list)):  # a head's predictions come first
                output = output[0]
            shapes[name] = tuple(output.shape)
        module.register_forward_hook(record)
    # The fused attention kernels count as nothing under FlopCounterMode; the math path counts the matmuls.
    torch.backends.mha.set_fastpath_enabled(False)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, image, image))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops(), shapes


def config_of(name: str, scale: str) -> dict[str, Any]:
    import yaml

    config: dict[str, Any] = yaml.safe_load((SPECS / name).read_text())
    if scale:
        config["scale"] = scale
    return config


def main() -> None:
    import ultralytics

    known: dict[str, Any] = {"ultralytics": ultralytics.__version__, "image": IMAGE, "models": {}}
    for name, scales in FILES.items():
        for scale in scales or [""]:
            known["models"][f"{name}:{scale}"] = measure(config_of(name, scale))
            print(f"{name} {scale or '-'}", file=sys.stderr)
    print(compact(json.dumps(known, indent=1)))


def compact(text: str) -> str:
    """Each shape on one line: [1, 64, 80, 80]."""
    return re.sub(r"\[[\d,\s]+\]", lambda found: json.dumps(json.loads(found.group(0))), text)


if __name__ == "__main__":
    main()
