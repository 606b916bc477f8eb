"""Caffe `.prototxt` network definitions (deploy or train_val) as cnncalc specs.

Read with cnncalc's own reader of the protobuf text format (no protobuf needed). Each
`layer { name type bottom top ... }` becomes the cnncalc layer of the same name; a blob
name refers to the latest layer that wrote it, so in-place layers (a ReLU whose top is
its bottom) chain as Caffe runs them. What each type becomes, with Caffe's rules:

- Inputs: `input` + `input_shape` or `input_dim` at the top, `Input` (input_param),
  `DummyData` and `MemoryData` layers. The first dim is the batch, kept unless --batch.
  Other data layers read sizes from a dataset: give them with --input NAME=CxHxW.
- Convolution, Deconvolution: num_output, kernel_size/kernel_h/kernel_w, stride, pad,
  dilation, group, bias_term; the output sizes are PyTorch's.
- Pooling MAX/AVE: Caffe rounds the output size up, out = ceil((in + 2p - k)/s) + 1,
  and with padding drops a last window that would start in the padding, as cnncalc's
  `ceil_mode: true` does (checked layer by layer; `round_mode: FLOOR` rounds down).
  global_pooling becomes global_maxpool/global_avgpool.
- InnerProduct: flatten (when its input is not flat yet) and linear.
- ReLU (negative_slope: leaky_relu), PReLU, Sigmoid, TanH, ELU, Softmax, Dropout, LRN
  (ACROSS_CHANNELS), Concat, Flatten, Reshape, Eltwise SUM/PROD (SUM with coeff 1, -1:
  sub), Split (no layer: its tops are the bottom again).
- BatchNorm: batchnorm with `affine: false`, usually followed by Scale (`scale`, with
  bias_term: a bias). Caffe keeps three blobs: mean and variance (2C, counted as
  buffers, like PyTorch's running statistics) and a one-element moving-average factor,
  left out as cnncalc leaves out PyTorch's num_batches_tracked. BatchNorm + Scale(bias)
  therefore count 2C params and 2C buffers, like one PyTorch BatchNorm2d.
- Training-only layers (losses, Accuracy, Silence, layers in the TRAIN phase only) are
  left out and named in the spec's description.

The forks' layers (SSD, PSPNet, FCN, SENet, PVANet), solvers, include/exclude rules and
the layers left uncounted (PriorBox, DetectionOutput, Python proposal layers and what
reads them) are described in docs/importers.md. Every other type is listed, all at once,
in one error.
"""

from __future__ import annotations

from .convert import to_spec

__all__ = ["to_spec"]
