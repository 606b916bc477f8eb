"""Rows that are one cnncalc layer: Concat and the torch.nn modules model files name."""

from __future__ import annotations

from typing import Any, Callable

from .rows import Built, Context, arg


def concat(ctx: Context) -> Built:
    dim = arg(ctx.row.args, 0, 1)
    return Built({"type": "concat", "dim": dim - 1 if dim > 0 else dim}, sum(ctx.inputs), {})


def upsample(ctx: Context) -> Built:
    a = ctx.row.args
    entry: dict[str, Any] = {"type": "upsample", "mode": arg(a, 2, "nearest")}
    if arg(a, 0, None) is not None:
        entry["size"] = a[0]
    else:
        entry["scale_factor"] = arg(a, 1, None)
    return Built(entry, ctx.inputs[0], {})


def maxpool(ctx: Context) -> Built:
    a = ctx.row.args
    k = a[0]
    return Built({"type": "maxpool2d", "kernel_size": k, "stride": arg(a, 1, k), "padding": arg(a, 2, 0)},
                 ctx.inputs[0], {})


def zeropad(ctx: Context) -> Built:
    """nn.ZeroPad2d: (left, right, top, bottom) in torch's order, [[top, bottom], [left, right]] here."""
    pad = ctx.row.args[0]
    left, right, top, bottom = [pad] * 4 if isinstance(pad, int) else pad
    return Built({"type": "pad", "padding": [[top, bottom], [left, right]]}, ctx.inputs[0], {})


def identity(ctx: Context) -> Built:
    return Built({"type": "identity"}, ctx.inputs[0], {})


def conv_transpose2d(ctx: Context) -> Built:
    """nn.ConvTranspose2d is a base module: its out_channels scale with the width."""
    a, c2 = ctx.row.args, ctx.width(ctx.row.args[0])
    return Built({"type": "conv_transpose2d", "out_channels": c2, "kernel_size": arg(a, 1, 1),
                  "stride": arg(a, 2, 1), "padding": arg(a, 3, 0)}, c2, {})


def batchnorm2d(ctx: Context) -> Built:
    return Built({"type": "batchnorm2d"}, ctx.inputs[0], {})


PLAIN: dict[str, Callable[[Context], Built]] = {
    "Concat": concat, "nn.Upsample": upsample, "nn.MaxPool2d": maxpool, "nn.ZeroPad2d": zeropad,
    "nn.Identity": identity, "nn.ConvTranspose2d": conv_transpose2d, "nn.BatchNorm2d": batchnorm2d,
}
