"""Caffe's kernel/stride/pad fields per spatial axis, and its pooling output size."""

from __future__ import annotations

from .layer import Params

CONVOLUTION_KEYS = ("num_output", "bias_term", "pad", "kernel_size", "stride", "dilation", "pad_h", "pad_w",
                    "kernel_h", "kernel_w", "stride_h", "stride_w", "group", "weight_filler", "bias_filler", "engine",
                    "axis", "force_nd_im2col")
POOLING_KEYS = ("pool", "pad", "pad_h", "pad_w", "kernel_size", "kernel_h", "kernel_w", "stride", "stride_h",
                "stride_w", "engine", "global_pooling", "round_mode", "ceil_mode")


def _per_axis(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else values


def _spatial(params: Params, name: str, rank: int, default: int | None) -> list[int]:
    """kernel_size/stride/pad (repeated, one or one per axis) or their _h/_w forms, as Caffe reads them."""
    height, width = params.one(f"{name}_h"), params.one(f"{name}_w")
    key = "kernel_size" if name == "kernel" else name
    if height is not None or width is not None:
        if rank != 2 or height is None or width is None or params.message.all(key):
            raise params.layer.fail(f"{params.block}: give {name}_h and {name}_w together, for 2D only, or {key}",
                                    at=height or width)
        return [params.integer(f"{name}_h"), params.integer(f"{name}_w", minimum=1 if name != "pad" else 0)]
    values = params.integers(key, 1 if name in ("kernel", "stride", "dilation") else 0)
    if not values:
        if default is None:
            raise params.layer.fail(f"{params.layer.type} needs {params.block}.{key}", "a truncated layer?")
        return [default] * rank
    if len(values) == 1:
        return values * rank
    if len(values) != rank:
        raise params.layer.fail(f"{params.block}.{key} has {len(values)} values for {rank} spatial axes",
                                f"give one, or {rank}", params.message.all(key)[0])
    return values


def _caffe_pool_size(size: int, kernel: int, stride: int, pad: int, ceil: bool) -> int:
    """Caffe's PoolingLayer::Reshape, in integers: ceil((in + 2p - k)/s) + 1 (floor with round_mode FLOOR),
    one less when the last window would start in the padding."""
    room = size + 2 * pad - kernel
    out = (-(-room // stride) if ceil else room // stride) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out
