"""The layer registry and what every layer type shares.

A layer type is a frozen dataclass of its validated fields, registered under its
YAML names, with one pure method: `infer(inputs) -> Cost`, from the per-sample
input shapes to the output shape and every count. Shapes are per sample and
channels first; costs are per sample (the report multiplies by the batch).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from fractions import Fraction
from typing import Any, Callable, ClassVar

from ..errors import FieldError, ShapeError
from .fields import describe

Shape = tuple[int, ...]
Parser = Callable[[str, Any], Any]

# Fields PyTorch has that change no count: accepted on every layer, ignored.
IGNORED_FIELDS = frozenset(
    {"eps", "momentum", "inplace", "p", "padding_mode", "approximate", "align_corners"}
)
# Fields every entry accepts; the walker reads them, layers never see them.
ENTRY_FIELDS = frozenset({"type", "name", "from", "repeat", "when"})


@dataclass(frozen=True)
class Window:
    """How a layer maps positions along each spatial axis: the receptive-field step."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_begin: tuple[int, ...]


@dataclass(frozen=True)
class Resample:
    """Which input positions an output position of an upsampling layer reads, per spatial
    axis (cnncalc/field.py turns it into the receptive field; docs/counting.md).

    scale: output positions per input position (2 for a 2x upsample). taps: 1 reads
    floor(o / scale) (nearest, pixel_shuffle), 2 and 4 the linear and cubic neighbours of
    (o + 1/2) / scale - 1/2 (align_corners false, PyTorch's default); 0 is a transposed
    convolution, whose output o reads the inputs (o + pad_begin - j*dilation) / stride for the
    taps j < kernel that divide.
    """

    scale: tuple[Fraction, ...]
    taps: int
    kernel: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    pad_begin: tuple[int, ...] = ()


def interpolation(sizes_in: tuple[int, ...], sizes_out: tuple[int, ...], taps: int) -> Resample:
    """A resize from `sizes_in` to `sizes_out` reading `taps` input positions per axis."""
    return Resample(tuple(Fraction(out, size) for size, out in zip(sizes_in, sizes_out)), taps)


POINTWISE = "pointwise"  # each output position sees its own input position
NO_FIELD = "none"  # the output has no receptive field: it upsamples or has no spatial axes


@dataclass(frozen=True)
class Cost:
    """What one layer does to one sample."""

    shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    full_flops: int = 0  # every multiply, add, compare and function, see each type's full_rule
    field: Window | Resample | str = POINTWISE
    view: bool = False  # a PyTorch view: allocates nothing, aliases its input


def option(default: Any = MISSING, *, parse: Parser, doc: str) -> Any:
    """A layer field: its default (none when required), its parser and its help."""
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Base of every layer type. `kind` is the YAML type name it was built from."""

    kind: str
    arity: ClassVar[str] = "one"  # "one" input, "many" (merges, upsample to a reference), or "none" (parameter)
    full_rule: ClassVar[str] = "0"  # the `full` convention's cost, in words, for `explain`

    def infer(self, inputs: tuple[Shape, ...]) -> Cost:
        raise NotImplementedError

    @classmethod
    def options(cls) -> list[Any]:
        return [spec for spec in fields(cls) if "parse" in spec.metadata]


class Registry(dict[str, type[Layer]]):
    """Layer classes by type name. Families most specs never use are named in `deferred`
    and imported on first use, so start-up does not build their dataclasses (a CNN spec
    reads no token layer). Iterating imports every family first: listings see every type."""

    def __init__(self) -> None:
        super().__init__()
        self.deferred: dict[str, str] = {}  # type name -> the module that registers it

    def defer(self, module: str, names: tuple[str, ...]) -> None:
        self.deferred.update(dict.fromkeys(names, module))

    def _load(self, name: str) -> None:
        module = self.deferred[name]
        importlib.import_module(module)
        for other in [key for key, value in self.deferred.items() if value == module]:
            if not dict.__contains__(self, other):
                raise RuntimeError(f"{module} does not register layer type '{other}'")
            del self.deferred[other]

    def _load_all(self) -> None:
        while self.deferred:
            self._load(next(iter(self.deferred)))

    def __missing__(self, name: str) -> type[Layer]:
        if name not in self.deferred:
            raise KeyError(name)
        self._load(name)
        return dict.__getitem__(self, name)

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self.deferred

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[name] if name in self else default

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._load_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._load_all()
        return dict.values(self)

    def items(self) -> Any:
        self._load_all()
        return dict.items(self)


REGISTRY = Registry()


def register(*names: str) -> Callable[[type[Layer]], type[Layer]]:
    """Register a layer class under its YAML type names; a name taken twice is a bug."""

    def add(cls: type[Layer]) -> type[Layer]:
        for name in names:
            if dict.__contains__(REGISTRY, name):
                raise RuntimeError(f"layer type '{name}' registered twice")
            dict.__setitem__(REGISTRY, name, cls)
        return cls

    return add


def build(kind: str, values: dict[str, Any]) -> Layer:
    """A validated layer of type `kind` from its YAML fields (entry keys removed)."""
    cls = REGISTRY[kind]
    specs = {spec.name: spec for spec in cls.options()}
    arguments: dict[str, Any] = {"kind": kind}
    for key, value in values.items():
        if key in specs:
            arguments[key] = specs[key].metadata["parse"](key, value)
        elif key not in IGNORED_FIELDS and key not in ENTRY_FIELDS:
            raise FieldError(key, f"unknown field {describe(key)}", _field_hint(key, sorted(specs)))
    for name, spec in specs.items():
        if name not in arguments and spec.default is MISSING:
            raise FieldError(None, f"missing required field '{name}'", f"{kind} needs {_required(cls)}")
    return cls(**arguments)


def _required(cls: type[Layer]) -> str:
    return ", ".join(spec.name for spec in cls.options() if spec.default is MISSING)


def _field_hint(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known + sorted(IGNORED_FIELDS), n=1)  # YAML keys may be numbers
    listing = ", ".join(known) if known else "none besides name, from, repeat, when"
    prefix = f"did you mean '{close[0]}'? " if close else ""
    return f"{prefix}fields: {listing}"


def spatial_rank(kind: str, shape: Shape, family: str) -> int:
    """The number of spatial axes: from the type's suffix (conv2d: 2) or the input (conv)."""
    rank = int(kind[-2]) if kind[-1] == "d" and kind[-2] in "123" else len(shape) - 1
    if len(shape) != rank + 1 or rank < 1:
        axes = {1: "[C, L]", 2: "[C, H, W]", 3: "[C, D, H, W]"}.get(rank, "[C, spatial...]")
        raise ShapeError(
            f"{family} expects input {axes}, got {list(shape)}",
            "check the layers before it, or use the type of the right rank",
        )
    return rank


def per_axis(name: str, value: int | tuple[int, ...], rank: int) -> tuple[int, ...]:
    """An int for every axis, or one entry per axis."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ShapeError(f"{name} has {len(value)} entries for {rank} spatial axes",
                         f"give one number, or {rank} (one per spatial axis)")
    return value


def window_outputs(
    sizes: Shape, kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...], ceil_mode: bool = False,
) -> tuple[int, ...]:
    """`window_output` on every spatial axis, after checking that the kernel fits on all of them.

    The check names every axis at once (kernel 7x7, input 5x5), as the spec format's example does.
    """
    padded = tuple(size + begin + end for size, (begin, end) in zip(sizes, pads))
    if any(d * (k - 1) + 1 > room for k, d, room in zip(kernel, dilation, padded)):
        dilations = "x".join(map(str, dilation)) if len(set(dilation)) > 1 else str(dilation[0])
        raise ShapeError(
            f"kernel {'x'.join(map(str, kernel))} (dilation {dilations}) is larger than the padded input "
            f"{'x'.join(map(str, padded))}",
            "the span dilation*(kernel-1)+1 must fit in the input plus its padding on every axis",
        )
    return tuple(map(window_output, sizes, kernel, stride, pads, dilation, (ceil_mode,) * len(sizes)))


def window_output(
    size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int, ceil_mode: bool = False
) -> int:
    """The output length of a sliding window along one axis, in integers only.

    floor((in + p_begin + p_end - d*(k-1) - 1) / s) + 1; with ceil_mode the last
    window is kept when it starts inside the input or the left padding, as PyTorch does.
    The kernel must fit (see `window_outputs`).
    """
    span = dilation * (kernel - 1) + 1
    room = size + pad[0] + pad[1] - span
    if not ceil_mode:
        return room // stride + 1
    out = -(-room // stride) + 1
    if (out - 1) * stride >= size + pad[0]:
        out -= 1
    return out


def resolve_padding(
    padding: Any, sizes: Shape, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """(begin, end) per axis from an int, a list, [begin, end] pairs, `valid` or `same`."""
    rank = len(sizes)
    if padding == "valid":
        return ((0, 0),) * rank
    if padding == "same":
        pads = []
        for size, k, s, d in zip(sizes, kernel, stride, dilation):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            pads.append((total // 2, total - total // 2))  # the odd one at the end
        return tuple(pads)
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    if len(padding) != rank:
        raise ShapeError(f"padding has {len(padding)} entries for {rank} spatial axes",
                         f"give one number, {rank} (one per spatial axis) or {rank} [begin, end] pairs")
    return tuple(p if isinstance(p, tuple) else (p, p) for p in padding)


def product(values: Shape) -> int:
    result = 1
    for value in values:
        result *= value
    return result
