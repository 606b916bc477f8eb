"""Products of two computed tensors: matmul, scaled dot-product attention, multi-head attention."""

from __future__ import annotations

from ..errors import ShapeError
from . import fields as f
from .base import NO_FIELD, Cost, Layer, Shape, option, product, register
from .merge import broadcast


def _matrices(shapes: tuple[Shape, ...], kind: str) -> None:
    for shape in shapes:
        if len(shape) < 2:
            raise ShapeError(f"{kind} expects per-sample shapes of at least 2 axes [..., rows, columns]; "
                             f"got {list(shape)}", "a linear layer multiplies the last axis by learned weights")


@register("matmul")
class MatMul(Layer):
    """Matrix product of two computed tensors (torch.matmul), from: [a, b].

    [..., n, k] @ [..., k, m] -> [..., n, m]; the leading axes broadcast like NumPy.
    With transpose_b the second is [..., m, k] and is multiplied by its transpose,
    a view that copies nothing (attention's q @ k^T).
    MACs = prod(broadcast leading axes) * n * k * m (PyTorch's flop_counter: bmm)
    """

    arity = "many"
    full_rule = "per output element: 2k - 1 (k multiplies, k - 1 adds)"

    transpose_b: bool = option(False, parse=f.flag, doc="multiply by the transpose of the second input")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) != 2:
            raise ShapeError(f"matmul takes exactly 2 inputs; got {len(inputs)}", "list them in from: [a, b]")
        _matrices(inputs, "matmul")
        first, second = inputs
        k, m = (second[-1], second[-2]) if self.transpose_b else (second[-2], second[-1])
        if first[-1] != k:
            axis = "columns" if self.transpose_b else "rows"
            hint = f"the first's last axis must equal the second's {axis}"
            if not self.transpose_b:
                hint += " (transpose_b: true multiplies by its transpose)"
            raise ShapeError(f"matmul of {list(first)} and {list(second)}: {first[-1]} columns against {k} {axis}",
                             hint)
        leading = _leading(first[:-2], second[:-2])
        n = first[-2]
        outputs = product(leading) * n * m
        return Cost(shape=(*leading, n, m), macs=outputs * k, full_flops=outputs * (2 * k - 1), field=NO_FIELD)


def _leading(*shapes: Shape) -> Shape:
    present = tuple(shape for shape in shapes if shape)
    if not present:
        return ()
    try:
        return broadcast(present)
    except ShapeError:
        listed = " and ".join("x".join(map(str, shape)) for shape in present)
        raise ShapeError(f"leading axes {listed} do not broadcast",
                         "sizes must be equal or 1 on every axis before the last two") from None


_SOFTMAX_PER_ROW = 3  # per element of a row: exp, add, divide (one add fewer per row)


@register("attention")
class Attention(Layer):
    """Scaled dot-product attention (F.scaled_dot_product_attention), from: [q, k, v] or [q, k, v, mask].

    q [..., L, E], k [..., S, E], v [..., S, Ev] -> [..., L, Ev], the same leading axes
    (heads: [H, L, d]); a mask broadcasts to [..., L, S].
    MACs = prod(...) * L * S * (E + Ev): q @ k^T, then the weights @ v, the two
    matmuls of PyTorch's math path (what FlopCounterMode counts there; see docs/peers.md).
    Masks, is_causal and scale change nothing counted.
    """

    arity = "many"
    full_rule = ("per leading index: L*S*(2E - 1) for q @ k^T, L*S to scale, L*(3S - 1) for the softmax, "
                 "L*Ev*(2S - 1) for the weights @ v, +L*S with a mask")

    is_causal: bool = option(False, parse=f.flag, doc="mask the future (counts nothing)")
    scale: float | None = option(None, parse=f.optional(f.positive_number), doc="default 1/sqrt(E)")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) not in (3, 4):
            raise ShapeError(f"attention takes 3 inputs (q, k, v) or 4 (q, k, v, mask); got {len(inputs)}",
                             "list them in from: [q, k, v]")
        query, key, value = inputs[:3]
        _matrices((query, key, value), "attention")
        if not query[:-2] == key[:-2] == value[:-2]:
            raise ShapeError(f"q {list(query)}, k {list(key)} and v {list(value)} have different leading axes",
                             "q, k and v need the same axes before the last two (batch of heads)")
        if query[-1] != key[-1] or key[-2] != value[-2]:
            raise ShapeError(f"q {list(query)}, k {list(key)} and v {list(value)} do not fit",
                             "q and k need the same last axis, k and v the same number of rows")
        leading, rows, columns = product(query[:-2]), query[-2], key[-2]
        scores = leading * rows * columns
        if len(inputs) == 4:
            if self.is_causal:
                raise ShapeError("attention with is_causal and a mask", "PyTorch takes one or the other: "
                                 "a causal mask, or is_causal: true with from: [q, k, v]")
            _mask(inputs[3], (*query[:-2], rows, columns))
        embed, out = query[-1], value[-1]
        full = (scores * (2 * embed - 1) + scores + leading * rows * (_SOFTMAX_PER_ROW * columns - 1)
                + leading * rows * out * (2 * columns - 1) + (scores if len(inputs) == 4 else 0))
        return Cost(shape=(*query[:-1], out), macs=scores * (embed + out), full_flops=full, field=NO_FIELD)


def _mask(mask: Shape, scores: Shape) -> None:
    """A mask must broadcast to the scores without growing them."""
    fits = len(mask) <= len(scores) and all(size in (1, want) for size, want in zip(reversed(mask), reversed(scores)))
    if not fits:
        raise ShapeError(f"mask {list(mask)} does not broadcast to the scores {list(scores)}",
                         "a mask is [..., L, S] or broadcasts to it")


@register("multihead_attention")
class MultiheadAttention(Layer):
    """Multi-head attention with its projections (torch.nn.MultiheadAttention, batch_first).

    from: x (self-attention) or from: [query, key, value]; query [L, E], key [S, kdim],
    value [S, vdim] -> [L, E]; num_heads divides E.
    params = E*E + kdim*E + vdim*E + E*E (q, k, v, output projections) + 4E with bias
    MACs = L*E*E + S*kdim*E + S*vdim*E (projections) + 2*L*S*E (q @ k^T and weights @ v
    over all heads) + L*E*E (output projection), as FlopCounterMode counts with the fast
    path off (see docs/peers.md)
    """

    arity = "many"
    full_rule = ("the projections as linear layers (2*in - 1 per output, +1 with bias), "
                 "and attention's rule on the heads [num_heads, L, E/num_heads]")

    num_heads: int = option(parse=f.count, doc="heads; divides embed_dim")
    bias: bool = option(True, parse=f.flag, doc="biases of the projections")
    embed_dim: int | None = option(None, parse=f.optional(f.count), doc="must agree with the query's last axis")
    batch_first: bool = option(True, parse=f.flag, doc="must be true: shapes are per sample, [L, E]")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        if len(inputs) not in (1, 3):
            raise ShapeError(f"multihead_attention takes 1 input (self-attention) or 3 (query, key, value); "
                             f"got {len(inputs)}", "list them in from: [query, key, value]")
        query, key, value = inputs * 3 if len(inputs) == 1 else inputs
        if not len(query) == len(key) == len(value) == 2:
            raise ShapeError(f"multihead_attention expects [tokens, features] inputs; got "
                             f"{' and '.join(str(list(shape)) for shape in inputs)}",
                             "as nn.MultiheadAttention takes [N, L, E]; reshape or permute to [L, E] first")
        (rows, embed), (columns, key_dim), value_dim = query, key, value[1]
        if key[0] != value[0]:
            raise ShapeError(f"key {list(key)} and value {list(value)} have different numbers of tokens",
                             "key and value are [S, kdim] and [S, vdim], with the same S")
        if self.embed_dim is not None and self.embed_dim != embed:
            raise ShapeError(f"embed_dim is {self.embed_dim} but the query has {embed} features",
                             f"remove embed_dim or make it {embed}")
        if embed % self.num_heads:
            raise ShapeError(f"num_heads {self.num_heads} does not divide {embed} features",
                             "each head takes embed_dim / num_heads features")
        if not self.batch_first:
            raise ShapeError("batch_first is false", "shapes are per sample: write [L, E] and batch_first: true")
        bias = 4 * embed if self.bias else 0
        projections = rows * embed * embed + columns * (key_dim + value_dim) * embed
        heads = Attention(kind="attention").infer(((self.num_heads, rows, embed // self.num_heads),
                                                  (self.num_heads, columns, embed // self.num_heads),
                                                  (self.num_heads, columns, embed // self.num_heads)))
        linear_flops = sum(tokens * embed * (2 * fan_in - 1 + self.bias) for tokens, fan_in in
                           ((rows, embed), (columns, key_dim), (columns, value_dim), (rows, embed)))
        return Cost(shape=(rows, embed), params=(2 * embed + key_dim + value_dim) * embed + bias,
                    macs=projections + heads.macs + rows * embed * embed,
                    full_flops=linear_flops + heads.full_flops, field=NO_FIELD)
