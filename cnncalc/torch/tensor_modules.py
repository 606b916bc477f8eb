"""The small modules torch.nn lacks for token networks: products of computed tensors,
learned and fixed tensors, reductions, elementwise functions and indexing.

Like modules.py's helpers, each class uses only `torch`, `nn`, `F` and `Tensor` and
stands alone: `module_source` copies their source into the files it writes. Every
module takes and returns batch-first tensors; per-sample axes count from 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MatMul(nn.Module):
    """torch.matmul of two batch-first tensors, their per-sample axes aligned at the end."""

    def __init__(self, transpose_b: bool = False) -> None:
        super().__init__()
        self.transpose_b = transpose_b

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        rank = max(a.dim(), b.dim())
        a = a.reshape(a.shape[0], *([1] * (rank - a.dim())), *a.shape[1:])
        b = b.reshape(b.shape[0], *([1] * (rank - b.dim())), *b.shape[1:])
        return torch.matmul(a, b.transpose(-2, -1) if self.transpose_b else b)

    def extra_repr(self) -> str:
        return f"transpose_b={self.transpose_b}"


class Attention(nn.Module):
    """F.scaled_dot_product_attention of q, k, v; a mask gets the batch's axes aligned first."""

    def __init__(self, is_causal: bool = False, scale: float | None = None) -> None:
        super().__init__()
        self.is_causal, self.scale = is_causal, scale

    def forward(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is not None:
            mask = mask.reshape(mask.shape[0], *([1] * (q.dim() - mask.dim())), *mask.shape[1:])
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=self.is_causal, scale=self.scale)

    def extra_repr(self) -> str:
        return f"is_causal={self.is_causal}, scale={self.scale}"


class MultiheadAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention, batch first, returning only the output (need_weights=False);
    one input is self-attention."""

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True, kdim: int | None = None,
                 vdim: int | None = None) -> None:
        super().__init__(embed_dim, num_heads, bias=bias, kdim=kdim, vdim=vdim, batch_first=True)

    def forward(self, query: Tensor, key: Tensor | None = None,  # type: ignore[override]
                value: Tensor | None = None) -> Tensor:
        key = query if key is None else key
        value = key if value is None else value
        return super().forward(query, key, value, need_weights=False)[0]


class LearnedTensor(nn.Module):
    """A learned tensor (a class token, a position embedding), one copy per sample of the input's batch.

    A copy, not an expand: a view of a parameter made under no_grad requires grad but has no
    grad_fn, which FlopCounterMode's module tracker cannot follow."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, *shape))

    def forward(self, x: Tensor) -> Tensor:
        return self.weight.repeat(x.shape[0], *([1] * (self.weight.dim() - 1)))


class ConstantTensor(nn.Module):
    """A fixed tensor (a buffer) filled with one value, one copy per sample of the input's batch."""

    def __init__(self, shape: tuple[int, ...], value: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("value", torch.full((1, *shape), value))

    def forward(self, x: Tensor) -> Tensor:
        return self.value.repeat(x.shape[0], *([1] * (self.value.dim() - 1)))


class Reduce(nn.Module):
    """torch.mean, sum, amax or amin over the listed axes."""

    def __init__(self, function: str, dims: tuple[int, ...], keepdim: bool = False) -> None:
        super().__init__()
        self.function, self.dims, self.keepdim = function, dims, keepdim

    def forward(self, x: Tensor) -> Tensor:
        return getattr(torch, self.function)(x, dim=self.dims, keepdim=self.keepdim)

    def extra_repr(self) -> str:
        return f"function={self.function!r}, dims={self.dims}, keepdim={self.keepdim}"


class Function(nn.Module):
    """An elementwise torch function of one tensor (torch.sqrt, torch.exp, ...)."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: Tensor) -> Tensor:
        return getattr(torch, self.function)(x)

    def extra_repr(self) -> str:
        return f"function={self.function!r}"


class Pow(nn.Module):
    def __init__(self, exponent: float) -> None:
        super().__init__()
        self.exponent = exponent

    def forward(self, x: Tensor) -> Tensor:
        return torch.pow(x, self.exponent)

    def extra_repr(self) -> str:
        return f"exponent={self.exponent}"


class Normalize(nn.Module):
    """F.normalize: vectors along dim divided by their p-norm."""

    def __init__(self, p: float, dim: int) -> None:
        super().__init__()
        self.p, self.dim = p, dim

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(x, p=self.p, dim=self.dim)

    def extra_repr(self) -> str:
        return f"p={self.p}, dim={self.dim}"


class Select(nn.Module):
    def __init__(self, dim: int, index: int) -> None:
        super().__init__()
        self.dim, self.index = dim, index

    def forward(self, x: Tensor) -> Tensor:
        return x.select(self.dim, self.index)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, index={self.index}"


class Stack(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: Tensor) -> Tensor:
        return torch.stack(inputs, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Expand(nn.Module):
    """x.expand to the per-sample `shape`, new axes added after the batch first."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], *([1] * (len(self.shape) + 1 - x.dim())), *x.shape[1:])
        return x.expand(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Roll(nn.Module):
    def __init__(self, shifts: tuple[int, ...], dims: tuple[int, ...]) -> None:
        super().__init__()
        self.shifts, self.dims = shifts, dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.roll(x, self.shifts, self.dims)

    def extra_repr(self) -> str:
        return f"shifts={self.shifts}, dims={self.dims}"


class Einsum(nn.Module):
    """torch.einsum of batch-first tensors (the equation names the batch axis too)."""

    def __init__(self, equation: str) -> None:
        super().__init__()
        self.equation = equation

    def forward(self, *inputs: Tensor) -> Tensor:
        return torch.einsum(self.equation, *inputs)

    def extra_repr(self) -> str:
        return f"equation={self.equation!r}"


TENSOR_HELPERS: tuple[type[nn.Module], ...] = (
    MatMul, Attention, MultiheadAttention, LearnedTensor, ConstantTensor, Reduce, Function, Pow, Normalize, Select,
    Stack, Expand, Roll, Einsum)
