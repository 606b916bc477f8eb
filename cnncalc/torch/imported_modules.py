"""The modules torch.nn lacks for layers imported from Darknet: its shortcut of unequal
shapes and the locally connected layer. Like modules.py's helpers, each class uses only
`torch`, `nn`, `F` and `Tensor` and stands alone (`module_source` copies it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Shortcut(nn.Module):
    """The first input plus each other one over the elements they share, counted in C, H, W order
    (AlexeyAB darknet's shortcut); `weights` learns one weight per input (per_feature) or per input
    and channel (per_channel)."""

    def __init__(self, inputs: int, channels: int, weights: str = "none") -> None:
        super().__init__()
        shape = {"none": None, "per_feature": (inputs, 1), "per_channel": (inputs, channels)}[weights]
        self.weight = nn.Parameter(torch.ones(shape)) if shape is not None else None

    def forward(self, x: Tensor, *others: Tensor) -> Tensor:
        per_input: list[Tensor | None] = [None] * (1 + len(others))
        if self.weight is not None:  # input k's weight for each output element: by the output's channel
            weights = self.weight.expand(self.weight.shape[0], x.shape[1])
            per_input = [row.reshape(-1, *([1] * (x.dim() - 2))).expand(x.shape[1:]).flatten() for row in weights]
        out = x.flatten(1)
        out = out * per_input[0] if per_input[0] is not None else out
        for other, weight in zip(others, per_input[1:]):
            flat = other.flatten(1)
            shared = min(out.shape[1], flat.shape[1])
            added = flat[:, :shared] * weight[:shared] if weight is not None else flat[:, :shared]
            out = torch.cat([out[:, :shared] + added, out[:, shared:]], dim=1)
        return out.reshape(x.shape)


class LocallyConnected(nn.Module):
    """A convolution with its own weights at every output position (Darknet's [local])."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int,
                 out_size: tuple[int, int]) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.out_size = kernel_size, stride, padding, out_size
        positions = out_size[0] * out_size[1]
        fan_in = in_channels * kernel_size * kernel_size
        self.weight = nn.Parameter(torch.randn(positions, out_channels, fan_in) / fan_in ** 0.5)
        self.bias = nn.Parameter(torch.zeros(out_channels, *out_size))

    def forward(self, x: Tensor) -> Tensor:
        columns = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # N, fan_in, positions
        out = torch.einsum("nfp,pof->nop", columns, self.weight)
        return out.reshape(x.shape[0], -1, *self.out_size) + self.bias

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Maximum(nn.Module):
    """The elementwise maximum of its inputs, broadcast after the batch axis."""

    def forward(self, *inputs: Tensor) -> Tensor:
        rank = max(item.dim() for item in inputs)
        out = inputs[0].reshape(inputs[0].shape[0], *([1] * (rank - inputs[0].dim())), *inputs[0].shape[1:])
        for item in inputs[1:]:
            out = torch.maximum(out, item.reshape(item.shape[0], *([1] * (rank - item.dim())), *item.shape[1:]))
        return out


IMPORTED_HELPERS: tuple[type[nn.Module], ...] = (Shortcut, Maximum, LocallyConnected)
