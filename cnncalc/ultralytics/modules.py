"""Each Ultralytics module row as one cnncalc block instance, and its output channels.

The rules follow `ultralytics.nn.tasks.parse_model` (read, not copied): for the
"base" modules the first argument is the output channel count, scaled by the width
multiple, capped by max_channels and rounded up to a multiple of 8, and the other
arguments follow in the module's order; modules with a repeat argument take the
depth-scaled repeat count inside; others repeat as a Sequential (`model.N.0` ...).
"""

from __future__ import annotations

import math
from typing import Callable

from . import generated
from .torchvision import torchvision
from .rows import Built, Context, Entry, arg, keyword

# Modules cnncalc does not read yet, and why (the unknown-module message says it).
NOT_YET = {
    "C2fAttn": "YOLO-World's text-guided attention needs the text embeddings",
    "ImagePoolingAttn": "YOLO-World's text-guided attention needs the text embeddings",
    "WorldDetect": "YOLO-World's head needs the text embeddings",
    "YOLOEDetect": "YOLOE's head needs the text or visual prompt embeddings",
    "YOLOESegment": "YOLOE's head needs the text or visual prompt embeddings",
    "YOLOESegment26": "YOLOE's head needs the text or visual prompt embeddings",
}

# Blocks written for a count hold one entry per repeat: far past any real model, and it keeps a
# typo (repeats 100000000) from building a huge list before the walk's own layer limit can speak.
REPEAT_LIMIT = 10_000
# Modules whose repeat count is an argument (parse_model's repeat_modules, and HGBlock).
REPEAT_INSIDE = frozenset({"C1", "C2", "C3", "C3x", "C3Ghost", "BottleneckCSP", "RepC3", "C2f", "C3k2", "HGBlock",
                           "C3TR", "C2fPSA", "C2fCIB", "C2PSA", "A2C2f"})

# module: (block, names of the arguments after c2, whether the repeat count goes inside)
SCALED: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "Conv": ("Conv", ("k", "s", "p", "g", "d", "act"), False),
    "GhostConv": ("GhostConv", ("k", "s", "g", "act"), False),
    "Focus": ("Focus", ("k", "s", "p", "g", "act"), False),
    "ConvTranspose": ("ConvTranspose", ("k", "s", "p", "bn", "act"), False),
    "C1": ("C1", (), True),
    "C2": ("C2", ("shortcut", "g", "e"), True),
    "C3": ("C3", ("shortcut", "g", "e"), True),
    "C3x": ("C3x", ("shortcut", "g", "e"), True),
    "C3Ghost": ("C3Ghost", ("shortcut", "g", "e"), True),
    "BottleneckCSP": ("BottleneckCSP", ("shortcut", "g", "e"), True),
    "RepC3": ("RepC3", ("e",), True),
    "SPPELAN": ("SPPELAN", ("c3", "k"), False),
    "ELAN1": ("ELAN1", ("c3", "c4"), False),
    "RepNCSPELAN4": ("RepNCSPELAN4", ("c3", "c4", "n"), False),
    "ADown": ("ADown", (), False),
    "AConv": ("AConv", (), False),
    "SCDown": ("SCDown", ("k", "s"), False),
    "PSA": ("PSA", ("e",), False),
    "C2PSA": ("C2PSA", ("e",), True),
    "C3TR": ("C3TR", ("shortcut", "g", "e"), True),
}


def scaled(module: str) -> Callable[[Context], Built]:
    block, names, inside = SCALED[module]

    def build(ctx: Context) -> Built:
        c2 = ctx.width(ctx.row.args[0])
        entry: Entry = {"type": block, "c2": c2}
        if inside:
            entry["n"] = ctx.repeats
        for name, value in zip(names, ctx.row.args[1:]):
            entry.update(keyword(name, value))
        return Built(entry, c2, {})
    build.__name__ = module
    return build


def dwconv(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    entry = {"type": "DWConv", "c2": c2, "k": arg(a, 1, 1), "s": arg(a, 2, 1), "d": arg(a, 3, 1),
             "g": math.gcd(ctx.inputs[0], c2), **keyword("act", arg(a, 4, True))}
    return Built(entry, c2, {})


def bottleneck(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    k1, k2 = arg(a, 3, (3, 3))
    return Built({"type": "Bottleneck", "c2": c2, "shortcut": arg(a, 1, True), "g": arg(a, 2, 1), "k1": k1,
                  "k2": k2, "e": arg(a, 4, 0.5)}, c2, {})


def c2f(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    name, block = generated.c2f_block("C2f", ctx.repeats)
    return Built({"type": name, "c2": c2, "shortcut": arg(a, 1, False), "g": arg(a, 2, 1), "e": arg(a, 3, 0.5)},
                 c2, {name: block})


def c3k2(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    c3k = arg(a, 1, False) or ctx.model.scale in ("m", "l", "x")
    inner = "attn" if arg(a, 3, False) else "c3k" if c3k else "bottleneck"
    name, block = generated.c2f_block("C3k2", ctx.repeats, inner)
    return Built({"type": name, "c2": c2, "e": arg(a, 2, 0.5), "g": arg(a, 4, 1), "shortcut": arg(a, 5, True)},
                 c2, {name: block})


def c2fpsa(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    name, block = generated.c2f_block("C2fPSA", ctx.repeats, "psa")
    return Built({"type": name, "c2": c2, "e": arg(a, 1, 0.5)}, c2, {name: block})


def c2fcib(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    name, block = generated.c2f_block("C2fCIB", ctx.repeats, "cib")
    return Built({"type": name, "c2": c2, "shortcut": arg(a, 1, False), "lk": arg(a, 2, False), "g": arg(a, 3, 1),
                  "e": arg(a, 4, 0.5)}, c2, {name: block})


def sppf(ctx: Context) -> Built:
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    if arg(a, 2, 3) != 3:
        raise ValueError(f"SPPF with n={a[2]} max pools: cnncalc's SPPF has 3")
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
    entry = {"type": "Classify", "c2": a[0]}
    for name, value in zip(("k", "s", "p", "g"), a[1:]):
        entry.update(keyword(name, value))
    return Built(entry, a[0], {})


CONVERTERS: dict[str, Callable[[Context], Built]] = {
    **{module: scaled(module) for module in SCALED},
    "DWConv": dwconv, "Bottleneck": bottleneck, "C2f": c2f, "C3k2": c3k2, "C2fPSA": c2fpsa, "C2fCIB": c2fcib, "SPPF": sppf, "SPP": spp,
    "Classify": classify, "TorchVision": torchvision,
    **generated.BUILDERS,
}
