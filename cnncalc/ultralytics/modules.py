"""Each Ultralytics module row as one cnncalc block instance, and its output channels.

The rules follow `ultralytics.nn.tasks.parse_model` (read, not copied): for the
"base" modules the first argument is the output channel count, scaled by the width
multiple, capped by max_channels and rounded up to a multiple of 8; modules with a
repeat argument take the depth-scaled repeat count inside; others repeat as a
Sequential (`model.N.0`, `model.N.1` ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from .model import Model, Row

Entry = dict[str, Any]
# Modules that need layer types cnncalc does not have yet (attention, matmul of two tensors).
NOT_YET = ("PSA", "C2PSA", "C2fPSA", "C2fCIB", "C3TR", "A2C2f", "AIFI", "RTDETRDecoder", "C2fAttn",
           "ImagePoolingAttn", "WorldDetect", "YOLOEDetect", "YOLOESegment", "v10Detect", "SCDown")


@dataclass(frozen=True)
class Built:
    entry: Entry
    channels: int
    blocks: dict[str, Any]  # blocks written for this row's repeat count or head (name -> block)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Ultralytics' channel rounding: up to the next multiple of `divisor`."""
    return math.ceil(value / divisor) * divisor


@dataclass(frozen=True)
class Context:
    model: Model
    row: Row
    inputs: tuple[int, ...]  # channels of each `from` tensor
    repeats: int  # scaled by depth

    def width(self, channels: Any) -> int:
        return make_divisible(min(channels, self.model.max_channels) * self.model.width)


def arg(args: tuple[Any, ...], index: int, default: Any) -> Any:
    return args[index] if len(args) > index else default


def act(value: Any) -> str | None:
    """A Conv's `act` argument: True keeps the model's activation (None), False is none."""
    return None if value is True else "identity"


def conv(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    entry = {"c2": c2, "k": arg(a, 1, 1), "s": arg(a, 2, 1), "p": -1 if arg(a, 3, None) is None else a[3],
             "g": arg(a, 4, 1), "d": arg(a, 5, 1)}
    if act(arg(a, 6, True)):
        entry["act"] = "identity"
    return Built({"type": "Conv", **entry}, c2, {})


def dwconv(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    entry = {"type": "DWConv", "c2": c2, "k": arg(a, 1, 1), "s": arg(a, 2, 1), "d": arg(a, 3, 1),
             "g": math.gcd(ctx.inputs[0], c2)}
    if act(arg(a, 4, True)):
        entry["act"] = "identity"
    return Built(entry, c2, {})


def conv_transpose(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    entry = {"type": "ConvTranspose", "c2": c2, "k": arg(a, 1, 2), "s": arg(a, 2, 2), "p": arg(a, 3, 0),
             "bn": arg(a, 4, True)}
    if act(arg(a, 5, True)):
        entry["act"] = "identity"
    return Built(entry, c2, {})


def ghost_conv(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    entry = {"type": "GhostConv", "c2": c2, "k": arg(a, 1, 1), "s": arg(a, 2, 1), "g": arg(a, 3, 1)}
    if act(arg(a, 4, True)):
        entry["act"] = "identity"
    return Built(entry, c2, {})


def c3_family(kind: str) -> Callable[[Context], Built]:
    def build(ctx: Context) -> Built:
        a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
        return Built({"type": kind, "c2": c2, "n": ctx.repeats, "shortcut": arg(a, 1, True), "g": arg(a, 2, 1),
                      "e": arg(a, 3, 0.5)}, c2, {})
    build.__name__ = kind
    return build


def c2f(ctx: Context) -> Built:
    from .generated import c2f_block

    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    name, block = c2f_block("C2f", ctx.repeats)
    return Built({"type": name, "c2": c2, "shortcut": arg(a, 1, False), "g": arg(a, 2, 1), "e": arg(a, 3, 0.5)},
                 c2, {name: block})


def c3k2(ctx: Context) -> Built:
    from .generated import c2f_block

    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    c3k = arg(a, 1, False) or ctx.model.scale in ("m", "l", "x")
    name, block = c2f_block("C3k2", ctx.repeats, c3k)
    return Built({"type": name, "c2": c2, "e": arg(a, 2, 0.5), "g": arg(a, 4, 1), "shortcut": arg(a, 5, True)},
                 c2, {name: block})


def sppf(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    entry = {"type": "SPPF", "c2": c2, "k": arg(a, 1, 5), "shortcut": arg(a, 3, False)}
    if len(a) > 2:  # rows with n (YOLO26) keep cv1 without activation; older rows get the default
        entry["act1"] = "identity"
    return Built(entry, c2, {})


def spp(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    k1, k2, k3 = arg(a, 1, (5, 9, 13))
    return Built({"type": "SPP", "c2": c2, "k1": k1, "k2": k2, "k3": k3}, c2, {})


def classify(ctx: Context) -> Built:
    a = ctx.row.args
    return Built({"type": "Classify", "c2": a[0], "k": arg(a, 1, 1), "s": arg(a, 2, 1),
                  "p": -1 if arg(a, 3, None) is None else a[3], "g": arg(a, 4, 1)}, a[0], {})


def concat(ctx: Context) -> Built:
    return Built({"type": "concat", "dim": arg(ctx.row.args, 0, 1) - 1}, sum(ctx.inputs), {})


def upsample(ctx: Context) -> Built:
    a = ctx.row.args
    entry: Entry = {"type": "upsample", "mode": arg(a, 2, "nearest")}
    if arg(a, 0, None) is not None:
        entry["size"] = a[0]
    else:
        entry["scale_factor"] = arg(a, 1, None)
    return Built(entry, ctx.inputs[0], {})


def head(kind: str) -> Callable[[Context], Built]:
    def build(ctx: Context) -> Built:
        from .generated import head_block

        name, block = head_block(kind, ctx.model, ctx.row.args, ctx.inputs)
        return Built({"type": name}, 0, {name: block})
    build.__name__ = kind
    return build


CONVERTERS: dict[str, Callable[[Context], Built]] = {
    "Conv": conv, "DWConv": dwconv, "ConvTranspose": conv_transpose, "GhostConv": ghost_conv,
    "C3": c3_family("C3"), "C3Ghost": c3_family("C3Ghost"), "C2f": c2f, "C3k2": c3k2, "SPPF": sppf, "SPP": spp,
    "Classify": classify, "Concat": concat, "nn.Upsample": upsample,
    "Detect": head("Detect"), "Segment": head("Segment"), "Pose": head("Pose"), "OBB": head("OBB"),
}
REPEAT_INSIDE = frozenset({"C3", "C3Ghost", "C2f", "C3k2"})  # the repeat count is an argument
