"""The detection heads as they run in eval mode, written for the model's feature levels:
Detect (box and class branches per level, the DFL decode and the box decoding),
Segment (+ mask coefficients and the prototype masks), Pose (+ keypoints) and OBB
(+ angles)."""

from __future__ import annotations

from typing import Any

from .model import Model
from .rows import Built, Context, make_divisible

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


def class_branch(level: int, channels: int, c3: int, nc: int, legacy: bool, prefix: str = "") -> dict[str, Any]:
    if legacy:
        return plain_branch(f"{prefix}cv3", level, c3, nc)
    return branch(f"{prefix}cv3.{level}", f"x{level}", [
        {"name": "0", "layers": [{"type": "DWConv", "name": "0", "c2": channels, "k": 3}, conv("1", c3)]},
        {"name": "1", "layers": [{"type": "DWConv", "name": "0", "c2": c3, "k": 3}, conv("1", c3)]},
        {"type": "conv2d", "name": "2", "out_channels": nc, "kernel_size": 1}])


def flattened(prefix: str, what: str, levels: int, size: int) -> list[dict[str, Any]]:
    """Each level's map viewed as [size, H*W], then joined along the anchors."""
    views = [{"type": "reshape", "name": f"{what}_view{i}", "from": f"{prefix}.{i}", "shape": [size, -1]}
             for i in range(levels)]
    return [*views, {"type": "concat", "name": what, "dim": 1, "from": [v["name"] for v in views]}]


def extra_head(kind: str, model: Model, args: tuple[Any, ...]) -> tuple[str, int] | None:
    """The third branch of Segment (mask coefficients), Pose (keypoints) and OBB (angles);
    their YOLO26 versions (Segment26, Pose26, OBB26) have the same outputs."""
    base = kind.removesuffix("26")
    if base == "Segment":
        return "mask_coefficient", args[1] if len(args) > 1 else 32
    if base == "Pose":
        return "kpts", model.kpt_shape[0] * model.kpt_shape[1]
    if base == "OBB":
        return "angle", args[1] if len(args) > 1 else 1
    return None


def pose26_branches(prefix: str, model: Model, inputs: tuple[int, ...]) -> list[Block]:
    """Pose26's keypoint branch: two 3x3 Convs (cv4.i), a 1x1 conv2d to the keypoints (cv4_kpts.i).
    Its sigma convs (cv4_sigma.i) run only in training: their weights are parameter layers."""
    keypoints, dims = model.kpt_shape
    c4, levels = max(inputs[0] // 4, keypoints * (dims + 2)), len(inputs)
    layers = [branch(f"{prefix}cv4.{i}", f"x{i}", [conv("0", c4, 3), conv("1", c4, 3)]) for i in range(levels)]
    layers += [{"type": "conv2d", "name": f"{prefix}cv4_kpts.{i}", "from": f"{prefix}cv4.{i}",
                "out_channels": keypoints * dims, "kernel_size": 1} for i in range(levels)]
    layers += flattened(f"{prefix}cv4_kpts", f"{prefix}kpts", levels, keypoints * dims)
    layers += [{"type": "parameter", "name": f"{prefix}cv4_sigma.{i}", "shape": [2 * keypoints, c4 + 1]}
               for i in range(levels)]
    return layers


def branches(prefix: str, kind: str, model: Model, args: tuple[Any, ...], inputs: tuple[int, ...]) -> list[Block]:
    """Box, class (and extra) branches on every level, each flattened to [size, H*W] and joined."""
    nc, levels, first = model.nc, len(inputs), inputs[0]
    box_size = 4 * model.reg_max
    c2, c3 = max(16, first // 4, box_size), max(first, min(nc, 100))
    legacy = kind != "v10Detect" and not any(row.module in ("C3k2", "A2C2f", "C2fCIB") for row in model.rows)
    layers = [plain_branch(f"{prefix}cv2", i, c2, box_size) for i in range(levels)]
    layers += flattened(f"{prefix}cv2", f"{prefix}boxes", levels, box_size)
    layers += [class_branch(i, inputs[i], c3, nc, legacy, prefix) for i in range(levels)]
    layers += flattened(f"{prefix}cv3", f"{prefix}scores", levels, nc)
    extra = extra_head(kind, model, args)
    if kind == "Pose26":
        layers += pose26_branches(prefix, model, inputs)
    elif extra:
        name, size = extra
        layers += [plain_branch(f"{prefix}cv4", i, max(first // 4, size), size) for i in range(levels)]
        layers += flattened(f"{prefix}cv4", f"{prefix}{name}", levels, size)
    return layers


def head_block(kind: str, model: Model, args: tuple[Any, ...], inputs: tuple[int, ...]) -> tuple[str, Block]:
    """Detect, Segment, Pose, OBB or v10Detect as it runs in eval mode: the per-level branches
    (twice with end2end: the one-to-one copies run too, unused), the DFL decode (softmax over
    reg_max bins and its fixed 1x1 conv), the sigmoid of the class scores and the joined
    output [4 + nc (+ extras), anchors]. The box decoding with anchors and strides
    (dist2bbox), Pose's keypoint decode and OBB's angle mapping are elementwise: no MACs,
    no layer here."""
    levels = len(inputs)
    layers = branches("", kind, model, args, inputs)
    if model.end2end or kind == "v10Detect":
        layers += branches("one2one_", kind, model, args, inputs)
    extra = extra_head(kind, model, args)
    if kind == "Pose26":  # RealNVP's 12 MLPs (2 -> 64 -> 64 -> 2) score keypoints in training only
        layers.append({"type": "parameter", "name": "flow_model", "shape": [12, REALNVP_MLP]})
    if kind in ("Segment", "Segment26"):  # Ultralytics runs it after the decode; here before, so that the block ends with y
        layers += proto(kind, model, args, inputs, extra[1] if extra else 32)
    if model.reg_max > 1:
        layers.append({"type": "DFL", "name": "dfl", "from": "boxes", "reg_max": model.reg_max})
    layers += [
        {"type": "sigmoid", "name": "scores_sigmoid", "from": "scores"},
        {"type": "concat", "name": "y",
         "from": ["dfl" if model.reg_max > 1 else "boxes", "scores_sigmoid", *([extra[0]] if extra else [])]},
    ]
    name = f"{kind}_{levels}levels{'_end2end' if model.end2end else ''}"
    description = (f"{kind} on {levels} levels, as it runs in eval mode: box and class branches, DFL decode, "
                   "sigmoid, joined [4 + nc (+ extras), anchors]; the anchor and stride arithmetic is elementwise")
    return name, {"description": description, "inputs": [f"x{i}" for i in range(levels)], "layers": layers}


REALNVP_MLP = 2 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2  # weights and biases of one of RealNVP's MLPs


def proto(kind: str, model: Model, args: tuple[Any, ...], inputs: tuple[int, ...], masks: int) -> list[Block]:
    """The prototype masks: Proto on the first level (Segment); Segment26's Proto26 first adds the
    other levels (a 1x1 Conv to the first level's channels, upsampled) and fuses them with a 3x3
    Conv. Proto26's semantic branch (semseg) runs only in training: its weights are parameter layers."""
    npr = make_npr(model, args)
    layers: list[Block] = []
    source = "x0"
    if kind == "Segment26":
        for i in range(1, len(inputs)):
            layers.append(branch(f"proto.feat_refine.{i - 1}", f"x{i}", [
                conv("0", inputs[0]), {"type": "upsample", "name": "up", "scale_factor": 2 ** i}]))
        layers.append({"type": "add", "name": "proto.sum",
                       "from": ["x0", *(f"proto.feat_refine.{i - 1}" for i in range(1, len(inputs)))]})
        layers.append(conv("proto.feat_fuse", npr, 3))
        source = "proto.feat_fuse"
    layers.append({"name": "proto", "from": source, "layers": [
        conv("cv1", npr, 3),
        {"type": "conv_transpose2d", "name": "upsample", "out_channels": npr, "kernel_size": 2, "stride": 2},
        conv("cv2", npr, 3), conv("cv3", masks)]})
    if kind == "Segment26":  # Conv(ch0, npr, 3), Conv(npr, npr, 3) (weights and batch norms), Conv2d(npr, nc, 1)
        layers += [{"type": "parameter", "name": "proto.semseg.0", "shape": [npr, inputs[0] * 9 + 2]},
                   {"type": "parameter", "name": "proto.semseg.1", "shape": [npr, npr * 9 + 2]},
                   {"type": "parameter", "name": "proto.semseg.2", "shape": [model.nc, npr + 1]}]
    return layers


def make_npr(model: Model, args: tuple[Any, ...]) -> int:
    npr = args[2] if len(args) > 2 else 256
    return make_divisible(min(npr, model.max_channels) * model.width)


def head(ctx: Context) -> Built:
    name, block = head_block(ctx.row.module, ctx.model, ctx.row.args, ctx.inputs)
    return Built({"type": name}, 0, {name: block})


def semantic_segment(ctx: Context) -> Built:
    """SemanticSegment (YOLO26-sem): a 3x3 Conv and a 1x1 conv2d to the classes on the first
    level, [nc, H/8, W/8] in eval mode; its auxiliary head on the second level (Conv(ch1, ch0, 3),
    Conv2d(ch0, nc, 1)) trains only: its weights are parameter layers."""
    nc, first = ctx.row.args[0] if ctx.row.args else 19, ctx.inputs[0]
    layers: list[Block] = []
    if len(ctx.inputs) > 1:
        layers += [{"type": "parameter", "name": "aux_head.0", "shape": [first, ctx.inputs[1] * 9 + 2]},
                   {"type": "parameter", "name": "aux_head.1", "shape": [nc, first + 1]}]
    layers.append(branch("classifier", "x0", [
        conv("0", first, 3), {"type": "conv2d", "name": "1", "out_channels": nc, "kernel_size": 1}]))
    name = f"SemanticSegment_{len(ctx.inputs)}levels"
    block = {"description": "SemanticSegment in eval mode: a 3x3 Conv and a 1x1 conv2d to the classes on the first level",
             "inputs": [f"x{i}" for i in range(len(ctx.inputs))], "layers": layers}
    return Built({"type": name}, nc, {name: block})


def depth(ctx: Context) -> Built:
    """Depth (YOLO26-depth): every level to c_mid channels (proj.i, 1x1 Convs); from the coarsest,
    upsampled x2 (bilinear), added to the next finer level and refined (two 3x3 Convs); then
    head: 3x3 Conv to c_mid/2, 2x2 transposed conv, 3x3 Conv to c_mid/4, 1x1 conv2d to one
    channel: [1, H/4, W/4] log-depth; the clamp, exp and calibration are elementwise."""
    c_mid, levels = ctx.row.args[0] if ctx.row.args else 256, len(ctx.inputs)
    layers: list[Block] = [branch(f"proj.{i}", f"x{i}", [conv("conv", c_mid)]) for i in range(levels)]
    out = f"proj.{levels - 1}"
    for i in range(levels - 2, -1, -1):
        layers += [{"type": "upsample", "name": f"up{i}", "from": out, "scale_factor": 2, "mode": "bilinear"},
                   {"type": "add", "name": f"sum{i}", "from": [f"up{i}", f"proj.{i}"]},
                   {"name": f"refine.{i}", "layers": [conv("0", c_mid, 3), conv("1", c_mid, 3)]}]
        out = f"refine.{i}"
    layers += [
        {"name": "head", "from": out, "layers": [
            conv("0", c_mid // 2, 3),
            {"type": "conv_transpose2d", "name": "1", "out_channels": c_mid // 2, "kernel_size": 2, "stride": 2},
            conv("2", c_mid // 4, 3), {"type": "conv2d", "name": "3", "out_channels": 1, "kernel_size": 1}]},
        {"type": "constant", "name": "cal_a", "shape": [1], "value": 1.0},
        {"type": "constant", "name": "cal_b", "shape": [1]},
        {"type": "mul", "name": "calibrated", "from": ["cal_a", "head"]},
        {"type": "add", "name": "shifted", "from": ["calibrated", "cal_b"]},
        {"type": "exp", "name": "depth"},
    ]
    name = f"Depth_{levels}levels"
    block = {"description": f"Depth on {levels} levels in eval mode: projections, coarse-to-fine fusion, "
                            "upsampling head to one log-depth channel at a quarter of the input size",
             "inputs": [f"x{i}" for i in range(levels)], "layers": layers}
    return Built({"type": name}, 1, {name: block})
