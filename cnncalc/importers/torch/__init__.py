"""PyTorch modules as cnncalc specs: `cnncalc import torch:package.module:factory` and
`cnncalc.from_torch(module, input_shape)`.

The module is recorded (recorded.py: what a record holds; trace.py: torch.fx, then one run of
the traced graph on fake tensors; hooks.py: a run of the module itself with hooks, where fx
cannot trace or keeps whole a function cnncalc does not know), at batch 2 so that windows or
heads folded into the batch axis can be divided out, and on real zeros where fake tensors
cannot follow a shape that depends on the data. Then every call becomes a spec layer:

- Leaf modules map by type (leaves.py; tensors.py for MultiheadAttention and RMSNorm):
  convolutions, linear, the norms (a LayerNorm subclass over NCHW channels as a channel
  layernorm), pooling, the activations, dropout, reshaping and padding modules, timm's
  TF-SAME modules (`padding: same`), and the helper modules of cnncalc.torch.
- Functions and tensor methods between them map by name (functions.py for the CNN ones,
  tensors.py for attention, matmul, einsum, reductions, elementwise math, select / stack /
  expand / roll, stochastic depth).
- Tensors that do not depend on the inputs (learned.py): parameters become `parameter`
  layers, counted once; buffers and tensors made in forward `constant` layers.
- Anything else is listed, all at once, with the module path of each call, in one error.

Every layer's output shape, as cnncalc computes it, is checked against the shape PyTorch
computed; a difference is an error (it would be a cnncalc defect).
"""

from __future__ import annotations

from .convert import from_torch, to_spec

__all__ = ["from_torch", "to_spec"]
