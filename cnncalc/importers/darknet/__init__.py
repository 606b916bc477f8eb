"""Darknet `.cfg` files (pjreddie's and AlexeyAB's darknet) as cnncalc specs.

A cfg is a list of `[section]`s of `key=value` lines (`#` and `;` start comments).
The first section is `[net]`; each next one is a layer, numbered from 0, that reads
the layer before it unless it names others (`[route] layers=-1,23`, `[shortcut]
from=-3`: negative numbers count back from the layer itself).

Each layer becomes one to three cnncalc layers, named after the Darknet layer's number
so that Darknet's console print and cnncalc's table line up: `[convolutional]` 5 is
`conv_5`, then `bn_5` (batch_normalize=1: the convolution loses its bias), then its
activation (`leaky_5`); `[route]` 8 is `route_8`, `[yolo]` 30 is `yolo_30`.
Output sizes follow Darknet's parser (src/parser.c and the *_layer.c files):

- convolution: pad=1 means padding = size/2; out = (in + 2*padding - size)/stride + 1.
- maxpool: padding (default size-1) is split padding/2 before and the rest after the
  input, out = (in + padding - size)/stride + 1: size 2 stride 1 pads right and bottom
  by one and keeps the size, written as padding [[0, 1], [0, 1]].
- route: concatenation; groups/group_id keep the group_id-th of `groups` channel slices
  of each input. upsample: nearest, by `stride`. avgpool: global. connected: flattens.
- [yolo], [region], [detection] and [Gaussian_yolo] are detection heads that only
  decode boxes: identity layers, listed as the spec's outputs.

Darknet's BFLOPs are 2 x MACs of convolutions (xnor ones at 1/32), plus size*size per
max-pool output element and one add per shortcut input, and nothing for [connected]; the
spec's description gives that total for the cfg's input (cnncalc's own FLOPs count
[connected] too). `[net] batch` is the training batch (images per weight update), so the
spec's batch is 1, as Darknet's per-image BFLOPs are. The rarer sections ([reorg], [crop],
[local], recurrent ones) are described in docs/importers.md.
"""

from __future__ import annotations

from .convert import to_spec

__all__ = ["to_spec"]
