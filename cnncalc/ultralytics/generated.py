"""Blocks whose layer list depends on a count: C2f and C3k2 (their last concat takes
2 + n tensors), HGBlock (likewise), ResNetLayer (its blocks are named layer.0 ...) and
CBFuse (one input per earlier CBLinear). Each is
written here as cnncalc spec data for the count the model uses, so the converted
spec holds it like any other block."""

from __future__ import annotations

from typing import Any

from .heads import head
from .rows import Built, Context, arg

Block = dict[str, Any]


def c2f_block(kind: str, n: int, c3k: bool = False) -> tuple[str, Block]:
    """C2f / C3k2 with n inner blocks: cv1 to 2c channels, its second half through
    m.0 ... m.{n-1} in a row, everything concatenated, cv2."""
    if kind == "C2f":
        inner = {"type": "Bottleneck", "c2": "${int(c2 * e)}", "shortcut": "$shortcut", "g": "$g", "e": 1.0}
    elif c3k:  # C3k: a C3 whose bottlenecks are 3x3, 3x3
        inner = {"type": "C3", "c2": "${int(c2 * e)}", "n": 2, "shortcut": "$shortcut", "g": "$g", "k1": 3, "k2": 3}
    else:
        inner = {"type": "Bottleneck", "c2": "${int(c2 * e)}", "shortcut": "$shortcut", "g": "$g"}
    layers = [
        {"type": "Conv", "name": "cv1", "c2": "${2 * int(c2 * e)}"},
        {"type": "slice", "name": "chunk", "start": "${int(c2 * e)}"},  # the second of cv1's two chunks
        *({**inner, "name": f"m.{i}"} for i in range(n)),
        {"type": "concat", "name": "cat", "from": ["cv1", *(f"m.{i}" for i in range(n))]},
        {"type": "Conv", "name": "cv2", "c2": "$c2"},
    ]
    params = {"c2": 16, "shortcut": kind != "C2f", "g": 1, "e": 0.5}
    what = "C3k (a C3 of 3x3 bottlenecks)" if c3k else "Bottleneck"
    description = f"{kind} with {n} {what}: cv1's second half through them in a row, all joined, cv2"
    return f"{kind}{'_c3k' if c3k else ''}_n{n}", {"description": description, "params": params, "layers": layers}




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


BUILDERS = {"Detect": head, "Segment": head, "Pose": head, "OBB": head, "v10Detect": head, "HGStem": hgstem,
            "HGBlock": hgblock, "ResNetLayer": resnet_layer, "CBLinear": cblinear, "CBFuse": cbfuse}
