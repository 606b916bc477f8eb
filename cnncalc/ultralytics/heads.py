"""The detection heads as they run in eval mode, written for the model's feature levels:
Detect (box and class branches per level, the DFL decode and the box decoding),
Segment (+ mask coefficients and the prototype masks), Pose (+ keypoints) and OBB
(+ angles)."""

from __future__ import annotations

from typing import Any

from .model import Model
from .modules import Built, Context, make_divisible

Block = dict[str, Any]


def conv(name: str, c2: Any, k: int = 1, **more: Any) -> dict[str, Any]:
    return {"type": "Conv", "name": name, "c2": c2, "k": k, **more}


def branch(name: str, source: str, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "from": source, "layers": layers}


def plain_branch(prefix: str, level: int, middle: int, out: int, bias: bool = True) -> dict[str, Any]:
    """Conv 3x3, Conv 3x3, a 1x1 conv2d with bias: Detect's box branch and the extra heads."""
    return branch(f"{prefix}.{level}", f"x{level}", [
        conv("0", middle, 3), conv("1", middle, 3),
        {"type": "conv2d", "name": "2", "out_channels": out, "kernel_size": 1, "bias": bias}])


def class_branch(level: int, channels: int, c3: int, nc: int, legacy: bool) -> dict[str, Any]:
    if legacy:
        return plain_branch("cv3", level, c3, nc)
    return branch(f"cv3.{level}", f"x{level}", [
        {"name": "0", "layers": [{"type": "DWConv", "name": "0", "c2": channels, "k": 3}, conv("1", c3)]},
        {"name": "1", "layers": [{"type": "DWConv", "name": "0", "c2": c3, "k": 3}, conv("1", c3)]},
        {"type": "conv2d", "name": "2", "out_channels": nc, "kernel_size": 1}])


def flattened(prefix: str, what: str, levels: int, size: int) -> list[dict[str, Any]]:
    """Each level's map viewed as [size, H*W], then joined along the anchors."""
    views = [{"type": "reshape", "name": f"{what}_view{i}", "from": f"{prefix}.{i}", "shape": [size, -1]}
             for i in range(levels)]
    return [*views, {"type": "concat", "name": what, "dim": 1, "from": [v["name"] for v in views]}]


def head_block(kind: str, model: Model, args: tuple[Any, ...], inputs: tuple[int, ...]) -> tuple[str, Block]:
    """Detect, Segment, Pose or OBB as it runs in eval mode: the per-level branches,
    the DFL decode (softmax over reg_max bins and its fixed 1x1 conv), the box decoding
    with anchors and strides (elementwise: an identity here, no MACs), the sigmoid of
    the class scores and the joined output [4 + nc (+ extras), anchors]."""
    if model.end2end or model.reg_max < 2:
        raise ValueError(f"{kind} with end2end or reg_max 1 (YOLO26's head) is not supported yet")
    nc, reg_max, levels = model.nc, model.reg_max, len(inputs)
    legacy = not any(row.module in ("C3k2", "A2C2f", "C2fCIB") for row in model.rows)
    c2, c3 = max(16, inputs[0] // 4, reg_max * 4), max(inputs[0], min(nc, 100))
    layers: list[dict[str, Any]] = []
    layers += [plain_branch("cv2", i, c2, 4 * reg_max) for i in range(levels)]
    layers += flattened("cv2", "boxes", levels, 4 * reg_max)
    layers += [class_branch(i, inputs[i], c3, nc, legacy) for i in range(levels)]
    layers += flattened("cv3", "scores", levels, nc)
    extra, extra_size = None, 0
    if kind == "Segment":
        nm, npr = args[1] if len(args) > 1 else 32, make_npr(model, args)
        extra, extra_size = "mask_coefficient", nm
        layers += [plain_branch("cv4", i, max(inputs[0] // 4, nm), nm) for i in range(levels)]
    elif kind == "Pose":
        extra_size = model.kpt_shape[0] * model.kpt_shape[1]
        extra = "kpts"
        layers += [plain_branch("cv4", i, max(inputs[0] // 4, extra_size), extra_size) for i in range(levels)]
    elif kind == "OBB":
        extra_size = args[1] if len(args) > 1 else 1
        extra = "angle"
        layers += [plain_branch("cv4", i, max(inputs[0] // 4, extra_size), extra_size) for i in range(levels)]
    if extra:
        layers += flattened("cv4", extra, levels, extra_size)
    if kind == "Segment":  # Ultralytics runs it after the decode; here before, so that the block ends with y
        layers.append({"name": "proto", "from": "x0", "layers": [
            conv("cv1", npr, 3),
            {"type": "conv_transpose2d", "name": "upsample", "out_channels": npr, "kernel_size": 2, "stride": 2},
            conv("cv2", npr, 3), conv("cv3", nm)]})
    # The box decoding with anchors and strides (dist2bbox), Pose's keypoint decode and OBB's
    # angle mapping are elementwise on [4 or extras, anchors]: no MACs, no layer here.
    layers += [
        {"type": "DFL", "name": "dfl", "from": "boxes", "reg_max": reg_max},
        {"type": "sigmoid", "name": "scores_sigmoid", "from": "scores"},
        {"type": "concat", "name": "y", "from": ["dfl", "scores_sigmoid", *([extra] if extra else [])]},
    ]
    name = f"{kind}_{levels}levels"
    description = (f"{kind} on {levels} levels, as it runs in eval mode: box and class branches, DFL decode, "
                   "sigmoid, joined [4 + nc (+ extras), anchors]; the anchor and stride arithmetic is elementwise")
    return name, {"description": description, "inputs": [f"x{i}" for i in range(levels)], "layers": layers}


def make_npr(model: Model, args: tuple[Any, ...]) -> int:
    npr = args[2] if len(args) > 2 else 256
    return make_divisible(min(npr, model.max_channels) * model.width)


def head(ctx: Context) -> Built:
    name, block = head_block(ctx.row.module, ctx.model, ctx.row.args, ctx.inputs)
    return Built({"type": name}, 0, {name: block})
