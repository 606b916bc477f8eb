"""Where the batch is in an ONNX tensor: cnncalc's shapes are per sample, ONNX's are whole.

Most tensors hold the batch first and apart: ONNX [N, C, H, W] is cnncalc's [C, H, W]. Transformers
move it and fold other axes into it: Swin's windows ([N, C, H, W] -> [N*nW, ws*ws, C]), attention heads
([N, T, h, d] -> [N*h, T, d]), nn.MultiheadAttention's [T, N, E]. A Layout says, for one ONNX tensor,
which axis holds the batch and whether that axis is the batch alone (`folded` False: ONNX has one axis
more than cnncalc's shape) or the batch times one of cnncalc's axes (`folded` True: the same rank, that
axis' ONNX size is batch x its cnncalc size).

Every count stays exact: a per-sample shape with the same elements, in the same groups, gives the same
parameters and MACs whatever axis the batch was stored in. A graph exported at batch 1 cannot tell a
folded axis from the batch; its reshape targets (k, ...) with k > 1 are read as folded.
"""

from __future__ import annotations

from dataclasses import dataclass

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """The batch's ONNX axis, and whether a cnncalc axis is folded into it."""

    axis: int = 0
    folded: bool = False


STANDARD = Layout()
NO_BATCH = Layout(-1)  # computed from constants only (a relative-position MLP's table): no batch axis


def whole_shape(shape: Shape, layout: Layout, batch: int) -> Shape:
    """The ONNX shape of a tensor of per-sample `shape` stored with `layout`."""
    if layout.axis < 0:
        return shape
    if layout.folded:
        return (*shape[:layout.axis], shape[layout.axis] * batch, *shape[layout.axis + 1:])
    return (*shape[:layout.axis], batch, *shape[layout.axis:])


def spec_axis(layout: Layout, axis: int) -> int | None:
    """cnncalc's axis for ONNX axis `axis` (already in range); None for the batch axis itself."""
    if layout.axis < 0:
        return axis
    if axis == layout.axis:
        return axis if layout.folded else None
    return axis - 1 if axis > layout.axis and not layout.folded else axis


def per_sample(full: Shape, batch: int) -> tuple[Shape, Layout] | None:
    """A new ONNX shape (a Reshape's) as a per-sample shape: the batch first and apart when the first
    size is the batch, else folded into the first axis; None when the first size is no multiple of it."""
    if not full:
        return None
    if full[0] == batch:
        return tuple(full[1:]), STANDARD
    if full[0] % batch:
        return None
    return (full[0] // batch, *full[1:]), Layout(0, True)


def moved(layout: Layout, kept: list[int]) -> Layout | None:
    """The layout after an operator that keeps the ONNX axes `kept`, in that order (a permutation, a
    reduction, an index); None when the batch axis is not among them."""
    if layout.axis < 0:
        return layout
    if layout.axis not in kept:
        return None
    return Layout(kept.index(layout.axis), layout.folded)
