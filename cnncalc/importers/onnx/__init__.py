"""ONNX models as cnncalc specs (`cnncalc import model.onnx`, `cnncalc analyze model.onnx`).

Needs the `onnx` package (`pip install 'cnncalc[onnx]'`), not onnxruntime: nothing is
run. The graph is read node by node in its (topological) order:

- Graph inputs that are not initializers are the spec's inputs. The first axis is the
  batch; any other size the file leaves open (`dim_param`) must come from `--input`,
  else the error names the input and its open sizes. An open batch is `--batch`, or 1.
- Initializers and Constant nodes are constants. Only their shapes matter for weights
  (out_channels, kernel size, a bias input or not); the small integer programs that
  exporters write to compute shapes (Shape, Gather, Unsqueeze, Concat ...) are folded
  with NumPy (fold.py), so that Reshape, Pad, Resize, Slice see plain numbers.
- Every other node becomes one cnncalc layer (a few become none: Identity, a Reshape
  that changes nothing; Slice over several axes becomes one slice per axis; Split one
  slice per output), named after the node: the last module scope of PyTorch's names
  ('/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'), unique.
- Shapes are inferred by cnncalc's own layer classes as each layer is added, so a
  problem names the node, not the converted spec.

Hostile files (a model is input like any other):

- External data is never read: a tensor marked as stored outside the file (data_location
  EXTERNAL, `external_data` entries) has its dims used and its numbers never, whatever the
  location names (tensors.py); onnx's loaders and `to_array` only ever see checked tensors.
- Constant folding has an element budget (FOLD_ELEMENT_LIMIT): a result's shape is known
  before NumPy allocates it (foldsize.py), and a larger constant is kept as its shape, enough
  for a weight; only a node that needs its numbers fails, naming the node that made it.
- Tensors, attributes and node inputs are checked before use (element type, dims against the
  data, the attribute types the operators define, inputs made by earlier nodes); anything
  else a node breaks still ends as an error naming it, never a traceback.

Exactness notes (also in the README):

- BatchNormalization folded into the convolution by the exporter (torch.onnx.export in
  eval mode does it) is not in the graph: the convolution then has a bias (C
  parameters) and the batch norm's 2C parameters and 2C buffers are gone; MACs are the
  same. Export with `do_constant_folding=False` (or in training mode) to keep it.
- A constant per-channel Mul (or Div) of channels-first tensors is a `scale` layer (C
  parameters); a constant per-channel Add right after a convolution, linear or scale
  without a bias becomes its bias; a scalar Add/Sub/Mul/Div is an `identity` with a comment
  (no parameters, no MACs). Any other constant operand is a layer of its own (tokens.py):
  a `parameter` when it is an initializer, or is computed from initializers whose elements
  it holds all (a class token expanded), each initializer counted once; else a `constant`
  (a buffer). Rows of an initializer gathered by constant indices (a relative-position
  bias table read by its index buffer) are an `embedding` of a `constant`.
- PyTorch's decompositions are recognised: Sigmoid * x is silu, HardSigmoid * x is
  hardswish, x * tanh(softplus(x)) is mish, x * 0.5 * (1 + erf(x / sqrt 2)) is gelu in any
  order of its products and wherever its constants are written (found before conversion),
  x / expand(clip(ReduceL2(x))) is normalize, and the Reshape / InstanceNormalization /
  Reshape of nn.GroupNorm is groupnorm (its weight and bias follow as a `scale` with a bias:
  the same 2C parameters).
- Transformer operators (tokens.py, operands.py): MatMul and Gemm of two tensors (a transposed
  second operand read only there is matmul's transpose_b), Gather of one index (select), a run
  (slice) or any list (elements picked: the first expanded, no cost), reductions on any axes
  (over every spatial axis of [N, C, ...] still global pooling), ReduceL2, Einsum, Pow, Sqrt,
  Exp and the other elementwise functions, Expand, Tile of axes of size 1, Where with a
  constant mask, strided slices, channels-last Pad and batch norm of tokens (channels moved
  first and back).
- Transformers move the batch (nn.MultiheadAttention's [T, N, E]) and fold windows and heads
  into it ([N*nW, ws*ws, C]): each tensor's layout says where the batch is (layout.py), and
  the per-sample shapes keep the same elements, so every count stays exact. At batch 1 a
  folded axis cannot be told from the batch: a Reshape to (k, ...) with k > 1 is read as
  folded, and an input whose first axis is as long as the batch is put back batch first (a
  free reshape) before an operator that needs it there.
- Known exporter effects on counts (docs/coverage-onnx.md): both exporters merge
  initializers of equal values (the zero biases of an untrained model) and the dynamo
  exporter's optimizer folds a table lookup into its result, so the file holds other
  numbers than the model; cnncalc counts what the file holds.
- A zero Pad that only feeds a convolution (or a -inf Pad before a max pool) is folded
  into the layer's [begin, end] padding, as PyTorch's ZeroPad + Conv means.
- Pooling with ceil_mode follows PyTorch's rule (a last window that would start in the
  right padding is dropped), as the MaxPool operator text says; onnx's shape inference
  (1.23) does not drop it.
"""

from __future__ import annotations

from .convert import to_spec

__all__ = ["to_spec"]
