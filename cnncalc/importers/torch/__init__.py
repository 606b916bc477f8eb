"""PyTorch modules as cnncalc specs: `cnncalc import torch:package.module:factory` and
`cnncalc.from_torch(module, input_shape)`.

The module is recorded by trace.py (torch.fx, else a fake-tensor run with hooks), then
every call becomes a spec layer:

- Leaf modules map by type: nn.Conv1d/2d/3d and ConvTranspose*, Linear, BatchNorm*,
  pooling (windowed, adaptive, and adaptive to 1 = global), LayerNorm, GroupNorm,
  InstanceNorm*, LocalResponseNorm, the activations, Dropout*, Flatten / Unflatten,
  Upsample, PixelShuffle, ChannelShuffle, the padding modules, Identity (no layer), and
  the helper modules of cnncalc.torch (Add, Concat, Reshape, Slice, Scale ...).
- Functions and tensor methods between them map by name: + - * (add, sub, mul; with a
  plain number, an identity with a comment; with a per-channel parameter, a scale or
  the bias of the layer before), cat, flatten / view / reshape / squeeze / unsqueeze
  (a reshape from the shapes PyTorch computed), permute / transpose, relu and the other
  activations, adaptive / windowed pooling, mean over the spatial axes (global
  pooling), interpolate, pad, dropout, chunk / split and slicing (slices), F.linear /
  F.conv with parameters.
- Anything else is listed, all at once, in one error naming each call.

Every layer's output shape, as cnncalc computes it, is checked against the shape
PyTorch computed; a difference is an error (it would be a cnncalc defect).
"""

from __future__ import annotations

from .convert import from_torch, to_spec

__all__ = ["from_torch", "to_spec"]
