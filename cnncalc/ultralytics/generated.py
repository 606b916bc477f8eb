"""Blocks whose layer list depends on a count: C2f and C3k2 (their last concat takes
2 + n tensors), HGBlock (likewise), ResNetLayer (its blocks are named layer.0 ...) and
CBFuse (one input per earlier CBLinear). Each is
written here as cnncalc spec data for the count the model uses, so the converted
spec holds it like any other block."""

from __future__ import annotations

from typing import Any

from .heads import depth, head, semantic_segment
from .rtdetr import rtdetr_decoder
from .rows import Built, Context, arg

Block = dict[str, Any]


# The inner blocks of the C2f family (C2f, C3k2, C2fPSA, C2fCIB), on c = int(c2 * e) channels.
INNER: dict[str, tuple[dict[str, Any], str]] = {
    "c2f": ({"type": "Bottleneck", "c2": "${int(c2 * e)}", "shortcut": "$shortcut", "g": "$g", "e": 1.0}, "Bottleneck"),
    "bottleneck": ({"type": "Bottleneck", "c2": "${int(c2 * e)}", "shortcut": "$shortcut", "g": "$g"}, "Bottleneck"),
    "c3k": ({"type": "C3", "c2": "${int(c2 * e)}", "n": 2, "shortcut": "$shortcut", "g": "$g", "k1": 3, "k2": 3},
            "C3k (a C3 of 3x3 bottlenecks)"),
    "attn": ({"layers": [{"type": "Bottleneck", "name": "0", "c2": "${int(c2 * e)}", "shortcut": "$shortcut", "g": "$g"},
                         {"type": "PSABlock", "name": "1"}]}, "Bottleneck + PSABlock"),
    "psa": ({"type": "PSABlock"}, "PSABlock"),
    "cib": ({"type": "CIB", "c2": "${int(c2 * e)}", "shortcut": "$shortcut", "e": 1.0, "lk": "$lk"}, "CIB"),
}


def c2f_block(kind: str, n: int, inner: str = "") -> tuple[str, Block]:
    """C2f, C3k2, C2fPSA or C2fCIB with n inner blocks: cv1 to 2c channels, its second
    half through m.0 ... m.{n-1} in a row, everything concatenated, cv2."""
    layer, what = INNER[inner or "c2f"]
    layers = [
        {"type": "Conv", "name": "cv1", "c2": "${2 * int(c2 * e)}"},
        {"type": "slice", "name": "chunk", "start": "${int(c2 * e)}"},  # the second of cv1's two chunks
        *({**layer, "name": f"m.{i}"} for i in range(n)),
        {"type": "concat", "name": "cat", "from": ["cv1", *(f"m.{i}" for i in range(n))]},
        {"type": "Conv", "name": "cv2", "c2": "$c2"},
    ]
    params: dict[str, Any] = {"c2": 16, "shortcut": kind not in ("C2f", "C2fCIB"), "g": 1, "e": 0.5}
    if inner == "cib":
        params["lk"] = False
    description = f"{kind} with {n} {what}: cv1's second half through them in a row, all joined, cv2"
    suffix = f"_{inner}" if inner and inner not in ("bottleneck", "psa", "cib") else ""
    return f"{kind}{suffix}_n{n}", {"description": description, "params": params, "layers": layers}


def a2c2f(ctx: Context) -> Built:
    """A2C2f (YOLO12): cv1, then n stages in a row (two ABlocks each with a2, else a C3k), all
    joined, cv2; at scales l and x (Ultralytics adds residual=True, mlp_ratio=1.2) the
    output is scaled by a learned per-channel gamma and added to the input."""
    a, c2 = list(ctx.row.args), ctx.width(ctx.row.args[0])
    if ctx.model.scale in ("l", "x"):
        a += [True, 1.2]
    a2, area, residual, mlp_ratio = arg(a, 1, True), arg(a, 2, 1), arg(a, 3, False), arg(a, 4, 2.0)
    e, g, shortcut = arg(a, 5, 0.5), arg(a, 6, 1), arg(a, 7, True)
    if int(c2 * e) % 32:
        raise ValueError(f"A2C2f's hidden channels int({c2} * {e}) must be a multiple of 32, as Ultralytics asserts")
    n = ctx.repeats
    if a2:
        stage: dict[str, Any] = {"layers": [{"type": "ABlock", "name": str(j), "heads": "${c // 32}",
                                             "mlp_ratio": "$mlp_ratio", "area": "$area"} for j in range(2)]}
    else:
        stage = {"type": "C3", "c2": "$c", "n": 2, "shortcut": "$shortcut", "g": "$g", "k1": 3, "k2": 3}
    layers: list[dict[str, Any]] = [
        {"type": "Conv", "name": "cv1", "c2": "$c"},
        *({**stage, "name": f"m.{i}"} for i in range(n)),
        {"type": "concat", "name": "cat", "from": ["cv1", *(f"m.{i}" for i in range(n))]},
        {"type": "Conv", "name": "cv2", "c2": "$c2"},
    ]
    residual = bool(a2 and residual)
    if residual:
        layers += [{"type": "parameter", "name": "gamma", "shape": ["$c2", 1, 1]},
                   {"type": "mul", "name": "scaled", "from": ["gamma", "cv2"]},
                   {"type": "add", "name": "add", "from": ["input", "scaled"]}]
    name = f"A2C2f{'_attn' if a2 else '_c3k'}{'_residual' if residual else ''}_n{n}"
    what = "two ABlocks" if a2 else "a C3k"
    block = {"description": f"A2C2f with {n} stages of {what}: cv1, the stages in a row, all joined, cv2"
                            + (", gamma-scaled and added to the input" if residual else ""),
             "params": {"c2": 16, "area": 1, "mlp_ratio": 2.0, "e": 0.5, "g": 1, "shortcut": True,
                        "c": "${int(c2 * e)}"},
             "layers": layers}
    entry = {"type": name, "c2": c2, "area": area, "mlp_ratio": mlp_ratio, "e": e, "g": g, "shortcut": shortcut}
    return Built(entry, c2, {name: block})


def aifi(ctx: Context) -> Built:
    """AIFI(c1, cm, num_heads): its channels are its input's (parse_model passes ch[f] first)."""
    a = ctx.row.args
    if arg(a, 3, None) is not None:
        raise ValueError("AIFI's act argument: cnncalc reads AIFI with its default GELU only")
    return Built({"type": "AIFI", "cm": arg(a, 0, 2048), "heads": arg(a, 1, 8)}, ctx.inputs[0], {})


def hgstem(ctx: Context) -> Built:
    cm, c2 = ctx.row.args[:2]
    return Built({"type": "HGStem", "cm": cm, "c2": c2}, c2, {})


def hgblock(ctx: Context) -> Built:
    """n Convs (or LightConvs) in a row, joined with the input, squeezed (sc) and expanded (ec)."""
    a = ctx.row.args
    cm, c2, k, light, shortcut = a[0], a[1], arg(a, 2, 3), arg(a, 3, False), arg(a, 4, False)
    if arg(a, 5, None) is not None:
        raise ValueError("HGBlock's act argument: cnncalc reads HGBlocks with their default ReLU only")
    inner = "LightConv" if light else "Conv"
    layers: list[dict[str, Any]] = [{"type": inner, "name": f"m.{i}", "c2": "$cm", "k": "$k", "act": "relu"}
                                    for i in range(ctx.repeats)]
    layers += [
        {"type": "concat", "name": "cat", "from": ["input", *(f"m.{i}" for i in range(ctx.repeats))]},
        {"type": "Conv", "name": "sc", "c2": "${c2 // 2}", "act": "relu"},
        {"type": "Conv", "name": "ec", "c2": "$c2", "act": "relu"},
        {"type": "add", "name": "add", "from": ["ec", "input"], "when": "${shortcut and in_channels == c2}"},
    ]
    name = f"HGBlock{'_light' if light else ''}_n{ctx.repeats}"
    block = {"description": f"HGBlock: {ctx.repeats} {inner}s in a row, joined with the input, squeezed and excited",
             "params": {"cm": 16, "c2": 16, "k": 3, "shortcut": False}, "layers": layers}
    return Built({"type": name, "cm": cm, "c2": c2, "k": k, "shortcut": shortcut}, c2, {name: block})


def resnet_layer(ctx: Context) -> Built:
    a = ctx.row.args
    c2, s, first, n, e = a[1], arg(a, 2, 1), arg(a, 3, False), arg(a, 4, 1), arg(a, 5, 4)
    if first:
        return Built({"type": "ResNetStem", "c2": c2}, c2, {})
    blocks = [{"type": "ResNetBlock", "name": str(i), "c2": "$c2", "s": "$s" if i == 0 else 1, "e": "$e"}
              for i in range(n)]
    name = f"ResNetLayer_n{n}"
    block = {"description": f"ResNetLayer: {n} ResNetBlocks, the first with the stride",
             "params": {"c2": 64, "s": 1, "e": 4}, "layers": [{"name": "layer", "layers": blocks}]}
    return Built({"type": name, "c2": c2, "s": s, "e": e}, c2 * 4, {name: block})


def cblinear(ctx: Context) -> Built:
    a = ctx.row.args
    outputs = list(a[0])
    entry = {"type": "CBLinear", "c2": sum(outputs), "k": arg(a, 1, 1), "s": arg(a, 2, 1), "g": arg(a, 4, 1)}
    if arg(a, 3, None) is not None:
        entry["p"] = a[3]
    return Built(entry, outputs, {})


def cbfuse(ctx: Context) -> Built:
    """Picks one split of each earlier CBLinear, resizes it to the last input's size, sums them all."""
    picks = list(ctx.row.args[0])
    *splits, last = ctx.inputs
    layers: list[dict[str, Any]] = []
    for i, (outputs, index) in enumerate(zip(splits, picks)):
        start = sum(outputs[:index])
        layers.append({"type": "slice", "name": f"split{i}", "from": f"x{i}", "start": start,
                       "end": start + outputs[index]})
        layers.append({"type": "upsample", "name": f"interpolate{i}", "from": [f"split{i}", "last"]})
    layers.append({"type": "add", "name": "sum", "from": [*(f"interpolate{i}" for i in range(len(splits))), "last"]})
    name = f"CBFuse_model{ctx.row.index}"
    return Built({"type": name}, last, {name: {
        "description": f"CBFuse of model.{ctx.row.index}: splits {picks} of {len(splits)} CBLinear outputs, resized, summed",
        "inputs": [*(f"x{i}" for i in range(len(splits))), "last"], "layers": layers}})


BUILDERS = {"Depth": depth, "SemanticSegment": semantic_segment, "A2C2f": a2c2f, "AIFI": aifi, "RTDETRDecoder": rtdetr_decoder, "Detect": head, "Segment": head, "Pose": head, "OBB": head, "v10Detect": head,
            "Segment26": head, "Pose26": head, "OBB26": head, "HGStem": hgstem, "HGBlock": hgblock, "ResNetLayer": resnet_layer, "CBLinear": cblinear, "CBFuse": cbfuse}
