"""Which PyTorch module stands for each token-network layer (tensor_modules.py's helpers and
torch.nn's RMSNorm and Embedding), without importing PyTorch. The batch axis is first in
PyTorch, so every per-sample axis moves up by one."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from ..layers import Shape
from ..layers.activation import normalize_dim
from ..layers.attention import Attention, MatMul, MultiheadAttention
from ..layers.einsum import Einsum
from ..layers.index import Expand, Roll, Select, Stack
from ..layers.learned import ConstantTensor, Embedding, LearnedTensor
from ..layers.norm import RMSNorm
from ..layers.reduce import REDUCTIONS, MathFunction, Normalize, Power, Reduce, reduced_axes
from .calls import Call, Unsupported, call, options


def matmul(layer: MatMul, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("MatMul", **options(transpose_b=(layer.transpose_b, False)))


def attention(layer: Attention, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("Attention", **options(is_causal=(layer.is_causal, False), scale=(layer.scale, None)))


def multihead_attention(layer: MultiheadAttention, inputs: tuple[Shape, ...], output: Shape) -> Call:
    embed = inputs[0][-1]
    key_dim, value_dim = (inputs[1][-1], inputs[2][-1]) if len(inputs) == 3 else (embed, embed)
    return call("MultiheadAttention", embed, layer.num_heads, **options(
        bias=(layer.bias, True), kdim=(key_dim, embed), vdim=(value_dim, embed)))


def learned(layer: LearnedTensor | ConstantTensor, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """The tensor, expanded over the batch of the network's first input (plan.py wires it)."""
    if isinstance(layer, LearnedTensor):
        return call("LearnedTensor", layer.shape)
    return call("ConstantTensor", layer.shape, **options(value=(layer.value, 0.0)))


def embedding(layer: Embedding, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("nn.Embedding", layer.num_embeddings, layer.embedding_dim)


def rmsnorm(layer: RMSNorm, inputs: tuple[Shape, ...], output: Shape) -> Call:
    return call("nn.RMSNorm", layer.normalized_shape, **options(elementwise_affine=(layer.affine, True)))


def reduce(layer: Reduce, inputs: tuple[Shape, ...], output: Shape) -> Call:
    dims = tuple(axis + 1 for axis in reduced_axes(layer.dim, len(inputs[0])))
    return call("Reduce", REDUCTIONS[layer.kind], dims, **options(keepdim=(layer.keepdim, False)))


def function(layer: MathFunction | Power | Normalize, inputs: tuple[Shape, ...], output: Shape) -> Call:
    if isinstance(layer, Power):
        return call("Pow", layer.exponent)
    if isinstance(layer, Normalize):
        return call("Normalize", layer.p, normalize_dim(layer.dim, len(inputs[0])) + 1)
    return call("Function", layer.kind)


def indexing(layer: Any, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """Select, stack, expand and roll, their axes counted after the batch."""
    rank = len(inputs[0])
    if isinstance(layer, Select):
        return call("Select", normalize_dim(layer.dim, rank) + 1, layer.index)
    if isinstance(layer, Stack):
        return call("Stack", normalize_dim(layer.dim, rank + 1) + 1)
    if isinstance(layer, Expand):
        return call("Expand", output)
    return call("Roll", layer.shifts, tuple(normalize_dim(dim, rank) + 1 for dim in layer.dims))


def einsum(layer: Einsum, inputs: tuple[Shape, ...], output: Shape) -> Call:
    """The equation with a letter it does not use for the batch axis in front of every term."""
    equation = layer.equation
    used = set("".join(equation.operands) + equation.output)
    free = [letter for letter in string.ascii_letters if letter not in used]
    if not free:
        raise Unsupported(f"einsum {equation.output!r} of all 52 letters", "torch.einsum needs one more for the batch")
    batch = free[0]
    terms = ",".join(batch + letters for letters in equation.operands)
    return call("Einsum", f"{terms}->{batch}{equation.output}")


TENSOR_MAPPERS: dict[type, Callable[[Any, tuple[Shape, ...], Shape], Call]] = {
    MatMul: matmul, Attention: attention, MultiheadAttention: multihead_attention,
    LearnedTensor: learned, ConstantTensor: learned, Embedding: embedding, RMSNorm: rmsnorm,
    Reduce: reduce, MathFunction: function, Power: function, Normalize: function,
    Select: indexing, Stack: indexing, Expand: indexing, Roll: indexing, Einsum: einsum,
}
