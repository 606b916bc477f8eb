"""Ultralytics' TorchVision module for the torchvision ResNets, written as cnncalc blocks.

`TorchVision(c2, model, weights, unwrap, truncate)` builds `torchvision.models.<model>`
and, unwrapped, keeps its children but the last `truncate` in an nn.Sequential `m`. A
ResNet's children are conv1, bn1, relu, maxpool, layer1 ... layer4, avgpool, fc
(torchvision/models/resnet.py, read, not copied): so `m.0` ... `m.{9 - truncate}` carry
torchvision's own layers, named as PyTorch names them (`model.0.m.4.0.conv1`).
Other torchvision models, `unwrap: False` and `split` are refused with the row's message.
"""

from __future__ import annotations

from typing import Any

from .rows import Built, Context, arg

Block = dict[str, Any]

# name: (residual block, blocks per stage); torchvision's resnet18 ... resnet152
RESNETS: dict[str, tuple[str, tuple[int, ...]]] = {
    "resnet18": ("TVBasicBlock", (2, 2, 2, 2)),
    "resnet34": ("TVBasicBlock", (3, 4, 6, 3)),
    "resnet50": ("TVBottleneck", (3, 4, 6, 3)),
    "resnet101": ("TVBottleneck", (3, 4, 23, 3)),
    "resnet152": ("TVBottleneck", (3, 8, 36, 3)),
}
WIDTHS = (64, 128, 256, 512)


def _children(model: str, classes: int) -> list[Block]:
    """The ten children of torchvision's ResNet, each an entry named by its index in `m`.
    torchvision's forward flattens between avgpool and fc; that flatten is no child of its
    own, so it rides with fc (m.9) and goes with it when fc is truncated."""
    block, counts = RESNETS[model]
    stages = [{"name": str(4 + index),
               "layers": [{"type": block, "name": str(number), "planes": width,
                           "s": 2 if number == 0 and index > 0 else 1} for number in range(count)]}
              for index, (width, count) in enumerate(zip(WIDTHS, counts))]
    return [
        {"type": "conv2d", "name": "0", "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3,
         "bias": False},
        {"type": "batchnorm2d", "name": "1"},
        {"type": "relu", "name": "2"},
        {"type": "maxpool2d", "name": "3", "kernel_size": 3, "stride": 2, "padding": 1},
        *stages,
        {"type": "adaptive_avgpool2d", "name": "8", "output_size": 1},
        {"name": "9", "layers": [{"type": "flatten", "name": "flatten"},
                                 {"type": "linear", "name": "fc", "out_features": classes}]},
    ]


def torchvision(ctx: Context) -> Built:
    a = ctx.row.args
    c2, model = a[0], arg(a, 1, None)
    unwrap, truncate, split = arg(a, 3, True), arg(a, 4, 2), arg(a, 5, False)
    if model not in RESNETS:
        raise ValueError(f"TorchVision model {model!r}: cnncalc reads {', '.join(RESNETS)}")
    if unwrap is not True or split is not False or not isinstance(truncate, int) or not 0 <= truncate <= 9:
        raise ValueError("TorchVision is read unwrapped (True), with truncate 0 to 9 and split False")
    kept = _children(model, 1000)[:10 - truncate]
    name = f"TorchVision_{model}_t{truncate}"
    block = {"description": f"torchvision's {model}, its last {truncate} children left out",
             "layers": [{"name": "m", "layers": kept}]}
    return Built({"type": name}, c2, {name: block})
