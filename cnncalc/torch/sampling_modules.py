"""The modules torch.nn lacks for the sampling layers: topk, index_select, grid_sample.

Like modules.py's helpers, each class uses only `torch`, `nn`, `F` and `Tensor` and
stands alone: `module_source` copies their source into the files it writes. Every
module takes and returns batch-first tensors; per-sample axes count from 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class TopK(nn.Module):
    """The indices of the k largest elements along dim (torch.topk)."""

    def __init__(self, k: int, dim: int) -> None:
        super().__init__()
        self.k, self.dim = k, dim

    def forward(self, x: Tensor) -> Tensor:
        return torch.topk(x, self.k, dim=self.dim).indices

    def extra_repr(self) -> str:
        return f"k={self.k}, dim={self.dim}"


class IndexSelect(nn.Module):
    """Each sample's entries along dim at its own indices ([batch, k]), as index_select per sample."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor, index: Tensor) -> Tensor:
        shape = [1] * x.dim()
        shape[0], shape[self.dim] = index.shape[0], index.shape[1]
        sizes = list(x.shape)
        sizes[self.dim] = index.shape[1]
        return torch.gather(x, self.dim, index.long().reshape(shape).expand(sizes))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GridSample(nn.Module):
    """F.grid_sample of x [batch, ..., C, H, W] at grid [batch, ..., Ho, Wo, 2], the leading axes as one batch."""

    def __init__(self, mode: str = "bilinear", padding_mode: str = "zeros", align_corners: bool = False) -> None:
        super().__init__()
        self.mode, self.padding_mode, self.align_corners = mode, padding_mode, align_corners

    def forward(self, x: Tensor, grid: Tensor) -> Tensor:
        lead = x.shape[:-3]
        out = F.grid_sample(x.reshape(-1, *x.shape[-3:]), grid.reshape(-1, *grid.shape[-3:]), mode=self.mode,
                            padding_mode=self.padding_mode, align_corners=self.align_corners)
        return out.reshape(*lead, *out.shape[1:])

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, padding_mode={self.padding_mode!r}, align_corners={self.align_corners}"


SAMPLING_HELPERS: tuple[type[nn.Module], ...] = (TopK, IndexSelect, GridSample)
