"""The PyTorch modules of a plan, and the few small modules torch.nn does not have.

The helper classes (Crop ... UpsampleLike) use only `torch`, `nn`, `F` and `Tensor`:
`module_source` copies their source into the modules it writes, so that those need
nothing but PyTorch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .mapping import Call
from .plan import Plan
from .imported_modules import IMPORTED_HELPERS
from .tensor_modules import TENSOR_HELPERS


class Crop(nn.Module):
    """Cuts (begin, end) elements off each spatial axis: uneven cropping, which no torch.nn layer does."""

    def __init__(self, crops: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.crops = crops

    def forward(self, x: Tensor) -> Tensor:
        for axis, (begin, end) in enumerate(self.crops, start=2):
            x = x.narrow(axis, begin, x.shape[axis] - begin - end)
        return x

    def extra_repr(self) -> str:
        return f"crops={self.crops}"


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels at each position (ConvNeXt's LayerNorm2d), for [N, C, ...] inputs."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class Scale(nn.Module):
    """A learned per-channel multiply, and add with bias (ConvNeXt's layer scale, Caffe's Scale)."""

    def __init__(self, channels: int, spatial_axes: int, bias: bool = False) -> None:
        super().__init__()
        shape = (channels,) + (1,) * spatial_axes
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weight if self.bias is None else x * self.weight + self.bias


class Merge(nn.Module):
    """Inputs broadcast on their per-sample shapes, aligned at the end: the batch stays first."""

    def aligned(self, inputs: tuple[Tensor, ...]) -> list[Tensor]:
        rank = max(x.dim() for x in inputs)
        return [x.reshape(x.shape[0], *([1] * (rank - x.dim())), *x.shape[1:]) for x in inputs]


class Add(Merge):
    def forward(self, *inputs: Tensor) -> Tensor:
        first, *rest = self.aligned(inputs)
        for x in rest:
            first = first + x
        return first


class Sub(Merge):
    def forward(self, *inputs: Tensor) -> Tensor:
        first, second = self.aligned(inputs)
        return first - second


class Mul(Merge):
    def forward(self, *inputs: Tensor) -> Tensor:
        first, *rest = self.aligned(inputs)
        for x in rest:
            first = first * x
        return first


class Div(Merge):
    def forward(self, *inputs: Tensor) -> Tensor:
        first, second = self.aligned(inputs)
        return first / second


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: Tensor) -> Tensor:
        return torch.cat(inputs, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Reshape(nn.Module):
    """Each sample to `shape` (-1 once for the inferred size)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Permute(nn.Module):
    """Reorders the axes after the batch: `dims` count the batch as 0."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, *self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Slice(nn.Module):
    """Elements start:end of axis `dim` (the batch is 0), as Python slices them."""

    def __init__(self, dim: int, start: int, end: int | None) -> None:
        super().__init__()
        self.dim, self.start, self.end = dim, start, end

    def forward(self, x: Tensor) -> Tensor:
        return x[(slice(None),) * self.dim + (slice(self.start, self.end),)]

    def extra_repr(self) -> str:
        return f"dim={self.dim}, start={self.start}, end={self.end}"


class UpsampleLike(nn.Module):
    """Resizes its first input to the spatial size of its second."""

    def __init__(self, mode: str = "nearest", align_corners: bool | None = None) -> None:
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: Tensor, reference: Tensor) -> Tensor:
        return F.interpolate(x, size=tuple(reference.shape[2:]), mode=self.mode, align_corners=self.align_corners)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, align_corners={self.align_corners}"


HELPERS: dict[str, type[nn.Module]] = {cls.__name__: cls for cls in (
    Crop, ChannelLayerNorm, Scale, Merge, Add, Sub, Mul, Div, Concat, Reshape, Permute, Slice, UpsampleLike,
    *TENSOR_HELPERS, *IMPORTED_HELPERS)}

# The attributes Network sets; no layer's module may take these names.
NETWORK_ATTRIBUTES = frozenset({"spec_name", "input_names", "input_shapes", "output_names", "layers", "_runs",
                                "_freed"})
RESERVED = frozenset(dir(nn.ModuleDict())) | NETWORK_ATTRIBUTES  # an instance: `training` too


def instantiate(spec: Call) -> nn.Module:
    """The module a Call describes, its Call arguments built first (nn.Sequential's)."""
    factory = getattr(nn, spec.factory[3:]) if spec.factory.startswith("nn.") else HELPERS[spec.factory]
    args = [instantiate(item) if isinstance(item, Call) else item for item in spec.args]
    module: nn.Module = factory(*args, **dict(spec.kwargs))
    return module


class Network(nn.Module):
    """A spec as a PyTorch module: `forward(*inputs)` runs every layer in the spec's order.

    Each layer's module sits where its cnncalc name says (`layer2.0.bn2`), in
    nn.ModuleDicts for block instances and chains. `input_shapes` holds the spec's
    input shapes, batch first; forward takes one tensor per input, in that order, and
    returns the output, or a tuple of outputs in the spec's order.
    """

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.spec_name = plan.name
        self.input_names = tuple(plan.inputs)
        self.input_shapes = {name: (plan.batch, *shape) for name, shape in plan.inputs.items()}
        self.output_names = plan.outputs
        self._runs: list[tuple[nn.Module, tuple[str, ...], str]] = []
        for step in plan.steps:
            module = instantiate(step.call)
            parent: nn.Module = self
            for part in step.path[:-1]:
                if part not in parent._modules:
                    parent.add_module(part, nn.ModuleDict())
                parent = parent.get_submodule(part)
            parent.add_module(step.path[-1], module)
            self._runs.append((module, step.inputs, step.name))
        self._freed = _last_uses(plan)

    def layers(self) -> dict[str, nn.Module]:
        """Each layer's module by its cnncalc name, in execution order."""
        return {name: module for module, _, name in self._runs}

    def forward(self, *inputs: Tensor) -> Tensor | tuple[Tensor, ...]:
        if len(inputs) != len(self.input_names):
            raise TypeError(f"{self.spec_name} takes {len(self.input_names)} input tensors "
                            f"({', '.join(self.input_names)}); got {len(inputs)}")
        values = dict(zip(self.input_names, inputs))
        for (module, sources, name), freed in zip(self._runs, self._freed):
            values[name] = module(*(values[source] for source in sources))
            for source in freed:  # nothing reads it any more: let it go
                del values[source]
        results = tuple(values[name] for name in self.output_names)
        return results[0] if len(results) == 1 else results


def _last_uses(plan: Plan) -> list[tuple[str, ...]]:
    """For each step, the values it is the last to read (outputs are kept to the end)."""
    last: dict[str, int] = {}
    for index, step in enumerate(plan.steps):
        for source in step.inputs:
            last[source] = index
    freed: list[list[str]] = [[] for _ in plan.steps]
    for name, index in last.items():
        if name not in plan.outputs:
            freed[index].append(name)
    return [tuple(names) for names in freed]
