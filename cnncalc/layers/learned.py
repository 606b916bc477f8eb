"""Tensors that are not computed from an input: learned parameters and fixed constants, and
the embedding table that looks rows up by index."""

from __future__ import annotations

from . import fields as f
from .base import NO_FIELD, Cost, Layer, Shape, option, product, register


@register("parameter")
class LearnedTensor(Layer):
    """A learned tensor of a given per-sample shape, read by later layers through from:
    (ViT's class token [1, C], a position embedding [T, C], a relative-position table).

    It takes no input and is broadcast over the batch, as `cls_token.expand(N, -1, -1)` is.
    params = prod(shape)
    """

    arity = "none"
    full_rule = "0 (read, not computed)"

    shape: tuple[int, ...] = option(parse=f.count_list, doc="per-sample shape, e.g. [1, 192]")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return Cost(shape=self.shape, params=product(self.shape), field=NO_FIELD)


@register("constant")
class ConstantTensor(Layer):
    """A fixed tensor of a given per-sample shape, filled with value: a buffer, not learned
    (a fixed filter, a scalar to multiply by, an attention mask). No input, broadcast over the batch.

    buffers = prod(shape)
    """

    arity = "none"
    full_rule = "0 (read, not computed)"

    shape: tuple[int, ...] = option(parse=f.count_list, doc="per-sample shape, e.g. [1] for a scalar")
    value: float = option(0.0, parse=f.number, doc="what every element holds")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        return Cost(shape=self.shape, buffers=product(self.shape), field=NO_FIELD)


@register("embedding")
class Embedding(Layer):
    """A table of learned rows looked up by index (torch.nn.Embedding): [...] indices -> [..., D].

    params = num_embeddings * embedding_dim; the lookup is a copy, no MACs.
    """

    full_rule = "0 (a lookup)"

    num_embeddings: int = option(parse=f.count, doc="rows in the table (the vocabulary)")
    embedding_dim: int = option(parse=f.count, doc="D, the size of each row")

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        (shape,) = inputs
        return Cost(shape=(*shape, self.embedding_dim), params=self.num_embeddings * self.embedding_dim,
                    field=NO_FIELD)
