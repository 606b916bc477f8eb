"""The calls of token and attention networks as spec layers: matmul, attention,
nn.MultiheadAttention, einsum, reductions over any axes, elementwise math, normalize,
select / unbind / stack / expand / roll, stochastic depth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ..common import drop, entry
from .converter import UNBATCHED, Unsupported, _module
from .functions import FUNCTIONS, FunctionConverter
from .leaves import MODULES, is_leaf as is_cnn_leaf
from .trace import Call, Const, Ref


class TokenConverter(FunctionConverter):
    def stochastic_depth(self, call: Call) -> str:
        return self.add("stochastic_depth", [self.source(call)], {}, comment="an identity at inference")

    def tensor_operands(self, values: list[Any]) -> list[str]:
        """Spec names of operands: computed tensors, and layers for the constants among them."""
        against = next((self.value(value) for value in values if isinstance(value, Ref)), None)
        if against is None:
            raise Unsupported("no operand is computed from the inputs")
        batched = next((self.value(value) for value in values if isinstance(value, Ref)
                        and self.layout(self.value(value)) != UNBATCHED), against)
        return [self.aligned(self.operand(value, against), batched) for value in values]

    def matmul(self, call: Call) -> str:
        first, second = self.arg(call, 0, "input"), self.arg(call, 1, "other")
        if str(call.target) == "__rmatmul__":
            first, second = second, first
        left, right = self.tensor_operands([first, second])
        transpose = self.swapped_last_axes(right)
        if transpose is not None:
            right = transpose
        return self.add("matmul", [left, right], {"transpose_b": True if transpose is not None else None})

    def swapped_last_axes(self, name: str) -> str | None:
        """The tensor a permute swapping the last two axes reads, when the permute has no other reader:
        the permute is dropped and the matmul multiplies by the transpose (a view, no copy)."""
        producer = entry(self.builder, name)
        if producer is None or producer["type"] != "permute" or self.users(name) != 1:
            return None
        dims = list(producer["dims"])
        swapped = list(range(len(dims)))
        if len(dims) < 2:
            return None
        swapped[-2], swapped[-1] = swapped[-1], swapped[-2]
        if dims != swapped or self.layout(name) != self.layout(producer["from"]):
            return None
        drop(self.builder, producer)
        return str(producer["from"])

    def attention(self, call: Call) -> str:
        query, key, value = (self.arg(call, position, keyword) for position, keyword in
                             enumerate(("query", "key", "value")))
        mask = self.arg(call, 3, "attn_mask")
        counted = isinstance(mask, Ref) or (isinstance(mask, Const) and mask.learned)  # BEiT's relative bias
        names = self.tensor_operands([query, key, value] + ([mask] if counted else []))
        scale = self.arg(call, 6, "scale")
        return self.add("attention", names, {"is_causal": True if self.arg(call, 5, "is_causal", False) else None,
                                             "scale": float(scale) if scale is not None else None})

    def multihead_attention(self, call: Call) -> list[Any]:
        module = _module(call)
        if module.bias_k is not None or module.add_zero_attn:
            raise Unsupported("add_bias_kv or add_zero_attn", "cnncalc's multihead_attention has neither")
        query, key, value = (self.arg(call, position, keyword) for position, keyword in
                             enumerate(("query", "key", "value")))
        sources = [self.value(query)] if query == key == value else self.tensor_operands([query, key, value])
        mask = self.arg(call, 4, "attn_mask")
        if isinstance(mask, Ref):
            raise Unsupported("an attention mask computed from the inputs", "cnncalc counts a fixed one")
        name = self.add("multihead_attention", sources, {"num_heads": module.num_heads, "embed_dim": module.embed_dim,
                                                          "bias": None if module.in_proj_bias is not None else False})
        return [name, None]  # the averaged weights are not counted (fast paths do not compute them)

    def einsum(self, call: Call) -> str:
        equation = str(call.args[0]).replace(" ", "")
        operands = list(call.args[1:])
        if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
            operands = list(operands[0])
        if "..." in equation or "->" not in equation:
            raise Unsupported(f"einsum '{equation}'", "cnncalc takes one letter per axis and an explicit output")
        left, output = equation.split("->")
        letters = left.split(",")
        refs = [index for index, operand in enumerate(operands) if isinstance(operand, Ref)]
        if not refs:
            raise Unsupported("no operand is computed from the inputs")
        batch_axis, folded = self.layout(self.value(operands[refs[0]]))
        batch = letters[refs[0]][batch_axis]
        if not folded:
            for index in refs:
                if letters[index].find(batch) != self.layout(self.value(operands[index]))[0]:
                    raise Unsupported(f"einsum '{equation}' does not keep the batch axis of each input")
            if batch not in output:
                raise Unsupported(f"einsum '{equation}' sums over the batch axis")
            self.hint = (output.index(batch), False)
            letters = [operand.replace(batch, "") for operand in letters]
            output = output.replace(batch, "")
        names = [self.value(operand) if isinstance(operand, Ref) else self.operand(operand) for operand in operands]
        return self.add("einsum", names, {"equation": f"{','.join(letters)}->{output}"})

    def reduce(self, call: Call) -> Any:
        name = str(call.target)
        source = self.source(call)
        dims = self.arg(call, 1, "dim")
        if dims is None:
            raise Unsupported(f"{name} over every axis, the batch included", "give dim")
        if not isinstance(dims, (int, tuple, list)):
            raise Unsupported(f"{name} with {dims!r}", "cnncalc reduces over listed axes")
        listed = [dims] if isinstance(dims, int) else list(dims)
        keepdim = bool(self.arg(call, 2, "keepdim", False))
        rank = len(self.full(source))
        spatial = sorted(int(dim) % rank for dim in listed) == list(range(2, rank))
        if name in ("mean", "amax") and spatial and rank > 2 and self.layout(source) == (0, False):
            return self.mean(call)
        kind = {"mean": "mean", "sum": "sum", "amax": "max", "amin": "min", "max": "max", "min": "min",
                "var": "mean", "std": "mean"}[name]
        if name in ("var", "std"):  # a mean of squared deviations: the shape and count of a mean, no MACs
            keepdim = bool(self.arg(call, 3, "keepdim", call.kwargs.get("keepdim", False)))
        axes = sorted(self.axis(source, int(dim)) for dim in listed)
        reduced = self.add(kind, [source], {"dim": axes[0] if len(axes) == 1 else axes,
                                            "keepdim": True if keepdim else None})
        return [reduced, None] if name in ("max", "min") else reduced  # (values, indices)

    def math(self, call: Call) -> str:
        name = str(call.target).strip("_").removesuffix("_")
        kind = {"neg": "neg", "negative": "neg", "reciprocal": "reciprocal"}.get(name, name)
        return self.add(kind, [self.source(call)], {})

    def power(self, call: Call) -> str:
        exponent = self.arg(call, 1, "exponent")
        if not isinstance(self.arg(call, 0, "input"), Ref) or not isinstance(exponent, (int, float)):
            raise Unsupported("a power with a computed exponent", "cnncalc raises a tensor to a fixed number")
        return self.add("pow", [self.source(call)], {"exponent": float(exponent)})

    def normalize(self, call: Call) -> str:
        source = self.source(call)
        return self.add("normalize", [source], {"p": float(self.arg(call, 1, "p", 2.0)),
                                                "dim": self.axis(source, int(self.arg(call, 2, "dim", 1))) or None})

    def stack(self, call: Call) -> str:
        names = self.tensor_operands(list(self.arg(call, 0, "tensors")))
        rank = len(self.full(names[0])) + 1
        dim = int(self.arg(call, 1, "dim", 0)) % rank
        batch_axis, folded = self.layout(names[0])
        if batch_axis < 0:
            return self.add("stack", names, {"dim": dim or None})
        if dim == batch_axis and folded:
            raise Unsupported("stacks at the folded batch axis", "cnncalc stacks the axes of each sample")
        self.hint = (batch_axis + 1 if dim <= batch_axis else batch_axis, folded)  # CrossViT: stack(dim=0)
        return self.add("stack", names, {"dim": (dim if folded or dim <= batch_axis else dim - 1) or None})

    def unbind(self, call: Call) -> list[str]:
        source = self.source(call)
        dim = int(self.arg(call, 1, "dim", 0))
        return [self.selected(source, dim, index) for index in range(len(call.result))]

    def select_call(self, call: Call) -> str:
        return self.selected(self.source(call), int(self.arg(call, 1, "dim")), int(self.arg(call, 2, "index")))

    def expand(self, call: Call) -> str:
        source = self.source(call)
        target = self.per_sample(tuple(call.result.shape), self.layout(source))
        if target is None:
            raise Unsupported("expands the batch axis", "cnncalc expands the axes of each sample")
        return self.add("expand", [source], {"shape": list(target)})

    def roll(self, call: Call) -> str:
        source = self.source(call)
        shifts, dims = self.arg(call, 1, "shifts"), self.arg(call, 2, "dims")
        if dims is None:
            raise Unsupported("roll of the flattened tensor", "give dims")
        shifts = [shifts] if isinstance(shifts, int) else list(shifts)
        dims = [dims] if isinstance(dims, int) else list(dims)
        return self.add("roll", [source], {"shifts": [int(shift) for shift in shifts],
                                           "dims": [self.axis(source, int(dim)) for dim in dims]})

    def attribute(self, call: Call) -> Any:
        """`.values` / `.indices` of torch.max's or torch.sort's result."""
        item, field = self.arg(call, 0, "input"), self.arg(call, 1, "name")
        if isinstance(item, Ref) and item.item is None and isinstance(self.values.get(item.index), list):
            position = {"values": 0, "indices": 1}.get(str(field))
            if position is not None:
                found = self.values[item.index][position]
                if found is None:
                    raise Unsupported(f".{field} is not counted")
                return found
        raise Unsupported(f"the attribute {field!r}")

    def repeat(self, call: Call) -> str:
        """x.repeat(B, 1, 1, 1) of one sample made for the whole batch: the same sample, per sample."""
        source = self.source(call)
        counts = [item for item in call.args[1:]]
        if len(counts) == 1 and isinstance(counts[0], (tuple, list)):
            counts = list(counts[0])
        if len(counts) != len(self.full(source)) or any(int(count) != 1 for count in counts[1:]) or \
                self.layout(source) != (0, False):
            raise Unsupported(f"repeat {counts}", "cnncalc repeats only along the batch axis")
        return source

    def masked(self, call: Call) -> str:
        return self.add("identity", [self.source(call)], {},
                        comment=f"{call.target}: fills masked elements, no arithmetic counted")

    def rmsnorm_module(self, call: Call) -> str:
        module = _module(call)
        shape = list(module.normalized_shape)
        return self.add("rmsnorm", [self.source(call)], {
            "normalized_shape": shape[0] if len(shape) == 1 else shape,
            "affine": None if module.elementwise_affine else False})


Handler = Callable[[TokenConverter, Call], Any]

MATH = ("sqrt", "rsqrt", "exp", "log", "abs", "neg", "square", "reciprocal", "sin", "cos", "erf")

TOKEN_FUNCTIONS: dict[str, Handler] = {
    "stochastic_depth": TokenConverter.stochastic_depth, "drop_path": TokenConverter.stochastic_depth,
    **{name: TokenConverter.matmul for name in ("matmul", "bmm", "__matmul__", "__rmatmul__")},
    "scaled_dot_product_attention": TokenConverter.attention,
    "einsum": TokenConverter.einsum,
    **{name: TokenConverter.reduce for name in ("mean", "sum", "amax", "amin", "max", "min", "var", "std")},
    **{name: TokenConverter.math for name in (*MATH, *(f"{name}_" for name in MATH), "__neg__", "negative")},
    **{name: TokenConverter.power for name in ("pow", "__pow__", "pow_", "float_power")},
    "normalize": TokenConverter.normalize, "stack": TokenConverter.stack, "unbind": TokenConverter.unbind,
    "select": TokenConverter.select_call, "expand": TokenConverter.expand, "expand_as": TokenConverter.expand,
    "roll": TokenConverter.roll, "getattr": TokenConverter.attribute,
    **{name: TokenConverter.masked for name in ("masked_fill", "masked_fill_")}, "repeat": TokenConverter.repeat,
    **{name: FunctionConverter.passthrough for name in ("to", "type_as", "half", "bfloat16", "double")},
}

TOKEN_MODULES: dict[type, Handler] = {
    nn.MultiheadAttention: TokenConverter.multihead_attention, nn.RMSNorm: TokenConverter.rmsnorm_module,
}

ALL_FUNCTIONS: dict[str, Callable[[Any, Call], Any]] = {**FUNCTIONS, **TOKEN_FUNCTIONS}
ALL_MODULES: dict[type, Callable[[Any, Call], Any]] = {**MODULES, **TOKEN_MODULES}


def is_leaf(module: nn.Module) -> bool:
    """Modules recorded whole: those a handler maps."""
    return is_cnn_leaf(module) or any(cls in TOKEN_MODULES for cls in type(module).__mro__)
