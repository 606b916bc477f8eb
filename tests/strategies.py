"""Random specs that are valid by construction, as YAML text.

`random_spec()` is a Hypothesis strategy (used by test_properties.py and meant for a
PyTorch parity test); `build_spec(RandomChooser(random.Random(seed)))` makes the same
kind of spec from a seeded generator (used by test_fuzz.py as mutation seeds).

The generator walks forward from a random input, keeping every tensor's shape. Each
layer's parameters are drawn within bounds that keep it valid (a kernel never wider than
the padded input, groups that divide both channel counts, pool padding at most half the
kernel, ...), and the layer's output shape is then taken from cnncalc's own single-layer
calculator (`cnncalc.calculator.analyze_layer`), which doubles as a check of the draw:
a layer it rejects is a bug of this generator and fails loudly.

Every spec stays valid when its input's spatial sizes grow (the monotonicity property
relies on it): branches that are merged are built from "centred" layers (odd kernel,
padding d*(k-1)/2, or padding same) whose output size floor((n-1)/s) + 1 depends only on
the stride, so both sides of a merge agree at every input size; sizes that must match a
number written in the spec (in_features, normalized_shape, an explicit reshape) are only
written where they do not depend on the input size.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import yaml
from hypothesis import reject
from hypothesis import strategies as st

from cnncalc import SpecError
from cnncalc.calculator import analyze_layer

T = TypeVar("T")
Shape = tuple[int, ...]

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "hardswish",
               "hardsigmoid", "sigmoid", "tanh", "mish", "softmax", "log_softmax")
BLOCK_TYPES = ("conv", "add")  # every block has these; its norm and activation are picked among allowed ones
MAX_CHANNELS = 48
MAX_UPSAMPLE_SIZE = 64  # no upsampling past this, so sizes stay readable


class Chooser(Protocol):
    """Where the generator's choices come from: Hypothesis (shrinkable) or random.Random."""

    def integer(self, low: int, high: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...


class HypothesisChooser:
    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return int(self.draw(st.integers(low, high)))

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))  # type: ignore[no-any-return]


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))


@dataclass(frozen=True)
class Options:
    max_layers: int = 10
    ranks: tuple[int, ...] = (0, 1, 2, 3)  # spatial axes of the input; 0 is a feature vector [F]
    blocks: bool = True
    pytorch: bool = False  # only padding forms torch.nn modules take (no [begin, end] pairs, no strided `same`)
    exclude: frozenset[str] = frozenset()  # layer types never to write
    tokens: bool = False  # transformer encoders on tokens, reductions and elementwise math (strategies_tokens.py)


class GeneratorBug(AssertionError):
    """A layer the generator thought valid and cnncalc's calculator rejected."""


class Excluded(Exception):
    """The spec came out with a type the options exclude (where no other choice fitted)."""


def written_types(document: Any) -> set[str]:
    """Every `type:` written anywhere in a spec document."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("type"), str):
                found.add(node["type"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def layer_output(kind: str, shapes: list[Shape], values: dict[str, Any]) -> Shape:
    """The per-sample output shape of one layer, from cnncalc's single-layer calculator."""
    try:
        report = analyze_layer(kind, shapes, values)
    except SpecError as error:
        raise GeneratorBug(f"generated an invalid layer {kind} {values} on {shapes}: {error}") from None
    return report.layers[0].output_shape[1:]


@dataclass
class Value:
    """A tensor of the spec being built: its shape, and how later entries can name it."""

    shape: Shape
    entry: dict[str, Any] | None  # the top-level entry that made it; None for the spec's input
    fixed_sizes: bool  # spatial sizes independent of the input's size (after global pooling, ...)
    fixed_channels: bool = True  # axis 0 independent of the input's size (false after flatten)

    @property
    def rank(self) -> int:
        return len(self.shape) - 1


@dataclass
class _Builder:
    choose: Chooser
    options: Options
    entries: list[dict[str, Any]] = field(default_factory=list)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    block_recipes: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    history: list[Value] = field(default_factory=list)
    names: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    tokens: Any = field(init=False, repr=False)  # the token moves, strategies_tokens.Tokens

    def __post_init__(self) -> None:
        from strategies_tokens import Tokens  # it imports this module's Value and layer_output

        self.tokens = Tokens(self)

    # -- small draws -----------------------------------------------------------------------

    def allowed(self, kind: str) -> bool:
        return kind not in self.options.exclude

    def pick(self, options: Sequence[str]) -> str:
        usable = [kind for kind in options if self.allowed(kind)]
        return self.choose.choice(usable or ["identity"])

    def flip(self, percent: int = 50) -> bool:
        return self.choose.integer(1, 100) <= percent

    def per_axis(self, rank: int, highs: Sequence[int], low: int = 1) -> tuple[Any, tuple[int, ...]]:
        """(what to write, the value on each axis): an int, or a list of one per axis."""
        if self.flip(60):
            value = self.choose.integer(low, max(low, min(highs)))
            written: Any = value if self.flip(70) else [value] * rank
            return written, (value,) * rank
        values = tuple(self.choose.integer(low, max(low, high)) for high in highs)
        return list(values), values

    def fresh_name(self) -> str:
        self.names += 1
        return f"n{self.names}"

    def ref(self, value: Value) -> str:
        """A name `from:` can use for a top-level value, naming its entry if needed."""
        if value.entry is None:
            return "input"
        if "name" not in value.entry:
            value.entry["name"] = self.fresh_name()
        return str(value.entry["name"])

    def channels(self, multiple_of: int = 1) -> int:
        return multiple_of * self.choose.integer(1, max(1, MAX_CHANNELS // multiple_of))

    def rank_type(self, base: str, rank: int) -> str:
        """conv2d for rank 2, or now and then the shorthand whose rank comes from the input."""
        ranked, shorthand = f"{base}{rank}d", base
        if not self.allowed(shorthand) or (self.allowed(ranked) and not self.flip(20)):
            return ranked
        return shorthand

    # -- the spec --------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        rank = self.choose.choice(self.options.ranks)
        high = {0: 1, 1: 40, 2: 24, 3: 10}[rank]
        shape = (self.choose.integer(1, 16), *(self.choose.integer(1, high) for _ in range(rank)))
        document: dict[str, Any] = {"name": "random"}
        if self.flip(30):
            self.params = {"base": self.choose.integer(1, 16), "width": self.choose.choice([0.5, 1.0, 2.0])}
            document["params"] = self.params
        document["input"] = {"shape": list(shape)}
        if self.flip(30):
            document["input"]["batch"] = self.choose.integer(1, 4)
        if self.flip(30):
            document["dtype"] = self.choose.choice(["float32", "float16", "bfloat16", "int8"])
        current = Value(shape, None, fixed_sizes=rank == 0)
        self.history.append(current)
        for _ in range(self.choose.integer(1, self.options.max_layers)):
            current = self.step(current)
        if current.rank > 0 and self.flip(60):
            current = self.head(current)
        if self.blocks:
            document["blocks"] = self.blocks
        document["layers"] = self.entries
        return document

    def add(self, entry: dict[str, Any], value: Value) -> Value:
        """Append a top-level entry that makes `value`."""
        self.entries.append(entry)
        value.entry = entry
        self.history.append(value)
        return value

    def step(self, current: Value) -> Value:
        moves: list[Callable[[Value], Value]]
        if current.rank == 0:
            moves = [self.dense, self.dense, self.pointwise, self.norm, self.dense_merge, self.skipped]
        else:
            moves = [self.conv, self.conv, self.conv, self.pool, self.pointwise, self.norm, self.residual,
                     self.residual, self.squeeze_excite, self.reshaping, self.transposed, self.adaptive,
                     self.skipped, self.repeated]
            if self.options.tokens:
                moves += [self.tokens.encoder, self.tokens.elementwise]
            if self.options.blocks:
                moves += [self.block_use, self.block_use]
        return self.choose.choice(moves)(current)

    # -- windowed layers -------------------------------------------------------------------------

    def conv(self, current: Value) -> Value:
        kind = self.pick([self.rank_type("conv", current.rank)])
        if kind == "identity":
            return self.pointwise(current)
        entry, values = self.conv_fields(kind, current, centred=False, stride=None)
        return self.add(entry, Value(layer_output(kind, [current.shape], values), None, current.fixed_sizes))

    def conv_fields(self, kind: str, current: Value, centred: bool,
                    stride: tuple[int, ...] | None,
                    out_channels: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """A convolution's fields (as written, as values); centred keeps floor((n-1)/s)+1."""
        rank, sizes, in_channels = current.rank, current.shape[1:], current.shape[0]
        entry: dict[str, Any] = {"type": kind}
        groups = 1
        if out_channels is None:
            if self.flip(20):  # depthwise
                groups = in_channels
                out_channels = in_channels * self.choose.integer(1, 2)
            else:
                groups = self.choose.choice([g for g in range(1, in_channels + 1) if in_channels % g == 0])
                out_channels = self.channels(groups)
        else:
            common = [g for g in range(1, in_channels + 1) if in_channels % g == 0 and out_channels % g == 0]
            groups = self.choose.choice(common)
        entry["out_channels"] = self.out_channels_text(out_channels, in_channels)
        written_dilation, dilation = self.per_axis(rank, [2] * rank)
        if stride is None:
            written_stride, stride = self.per_axis(rank, [3] * rank)
        else:
            written_stride = stride[0] if len(set(stride)) == 1 and self.flip(70) else list(stride)
        pytorch_same = not self.options.pytorch or all(s == 1 for s in stride)
        forms = ["same"] if centred else ["int", "list", "pairs", "same", "valid"]
        if centred and pytorch_same:
            forms = ["same", "centred", "centred"]
        elif centred:
            forms = ["centred"]
        elif self.options.pytorch:
            forms = ["int", "list", "valid"] + (["same"] if pytorch_same else [])
        form = self.choose.choice(forms)
        if form == "centred":
            half = self.per_axis(rank, [2] * rank, low=0)[1]
            kernel = tuple(2 * h + 1 for h in half)
            written_kernel = kernel[0] if len(set(kernel)) == 1 and self.flip(70) else list(kernel)
            pads = tuple(d * h for d, h in zip(dilation, half))
            written_padding: Any = pads[0] if len(set(pads)) == 1 and self.flip(70) else list(pads)
        else:
            pairs = [(0, 0)] * rank
            if form == "int":
                pad = self.choose.integer(0, 3)
                written_padding, pairs = pad, [(pad, pad)] * rank
            elif form == "list":
                pads = [self.choose.integer(0, 3) for _ in range(rank)]
                written_padding, pairs = pads, [(p, p) for p in pads]
            elif form == "pairs":
                pairs = [(self.choose.integer(0, 3), self.choose.integer(0, 3)) for _ in range(rank)]
                written_padding = [list(pair) for pair in pairs]
            else:
                written_padding = form
            if form == "same":  # any kernel fits
                highs = [5] * rank
            else:
                highs = [min(7, (size + begin + end - 1) // d + 1)
                         for size, (begin, end), d in zip(sizes, pairs, dilation)]
            written_kernel, kernel = self.per_axis(rank, highs)
        entry["kernel_size"] = written_kernel
        if stride != (1,) * rank or self.flip(30):
            entry["stride"] = written_stride
        if written_padding != 0 or self.flip(30):
            entry["padding"] = written_padding
        if dilation != (1,) * rank or self.flip(20):
            entry["dilation"] = written_dilation
        if groups != 1 or self.flip(20):
            entry["groups"] = groups
        if self.flip(40):
            entry["bias"] = self.choose.choice([True, False])
        if self.flip(15):
            entry["in_channels"] = in_channels
        values = dict(entry, out_channels=out_channels)
        del values["type"]
        return entry, values

    def out_channels_text(self, out_channels: int, in_channels: int) -> Any:
        """The number, or now and then an expression that evaluates to it."""
        if self.params and self.flip(30) and out_channels % self.params["base"] == 0:
            return f"${{{out_channels // self.params['base']} * base}}"
        if self.flip(10) and out_channels == in_channels:
            return "${in_channels}"
        if self.flip(10) and out_channels % in_channels == 0:
            return f"${{in_channels * {out_channels // in_channels}}}"
        return out_channels

    def transposed(self, current: Value) -> Value:
        kind = self.pick([self.rank_type("conv_transpose", current.rank)])
        if kind == "identity" or max(current.shape[1:]) > MAX_UPSAMPLE_SIZE:
            return self.conv(current)
        rank, sizes, in_channels = current.rank, current.shape[1:], current.shape[0]
        groups = self.choose.choice([g for g in range(1, in_channels + 1) if in_channels % g == 0])
        out_channels = self.channels(groups)
        written_kernel, kernel = self.per_axis(rank, [4] * rank)
        written_stride, stride = self.per_axis(rank, [3] * rank)
        written_dilation, dilation = self.per_axis(rank, [2] * rank)
        entry: dict[str, Any] = {"type": kind, "out_channels": out_channels, "kernel_size": written_kernel,
                                 "stride": written_stride}
        if dilation != (1,) * rank:
            entry["dilation"] = written_dilation
        # The output (n-1)*s - crop + d*(k-1) + output_padding + 1 must stay >= 1: crop at most
        # (n-1)*s + d*(k-1) on each axis (sizes only grow from here, so it stays valid).
        room = [(n - 1) * s + d * (k - 1) for n, s, d, k in zip(sizes, stride, dilation, kernel)]
        if self.flip(50):
            if self.options.pytorch or self.flip(50):
                pads = [self.choose.integer(0, r // 2) for r in room]
                entry["padding"] = pads if len(set(pads)) > 1 or self.flip(30) else pads[0]
            else:
                pairs = []
                for r in room:
                    begin = self.choose.integer(0, min(3, r))
                    pairs.append([begin, self.choose.integer(0, min(3, r - begin))])
                entry["padding"] = pairs
        if self.flip(40):
            extra = [self.choose.integer(0, max(s, d) - 1) for s, d in zip(stride, dilation)]
            entry["output_padding"] = extra if len(set(extra)) > 1 or self.flip(30) else extra[0]
        if groups != 1:
            entry["groups"] = groups
        if self.flip(40):
            entry["bias"] = self.choose.choice([True, False])
        values = {key: value for key, value in entry.items() if key != "type"}
        return self.add(entry, Value(layer_output(kind, [current.shape], values), None, current.fixed_sizes))

    def pool_fields(self, kind: str, current: Value, centred: bool,
                    stride: tuple[int, ...] | None) -> dict[str, Any]:
        rank, sizes = current.rank, current.shape[1:]
        entry: dict[str, Any] = {"type": kind}
        is_max = "max" in kind
        dilation = (1,) * rank
        if is_max and not centred and self.flip(30):
            written_dilation, dilation = self.per_axis(rank, [2] * rank)
            entry["dilation"] = written_dilation
        if centred:
            # PyTorch's avg_pool3d also wants the kernel to fit the unpadded input.
            highs = [min(1, (size - 1) // 2) if rank == 3 and not is_max else 1 for size in sizes]
            half = self.per_axis(rank, highs, low=0)[1]
            kernel = tuple(2 * h + 1 for h in half)
            entry["kernel_size"] = kernel[0] if len(set(kernel)) == 1 else list(kernel)
            entry["padding"] = half[0] if len(set(half)) == 1 else list(half)
            assert stride is not None
            entry["stride"] = stride[0] if len(set(stride)) == 1 and self.flip(70) else list(stride)
            return entry
        # The window fits the input unpadded; padding is then at most half the kernel (PyTorch's rule).
        highs = [min(5, (size - 1) // d + 1) for size, d in zip(sizes, dilation)]
        written_kernel, kernel = self.per_axis(rank, highs)
        entry["kernel_size"] = written_kernel
        if self.flip(60):
            entry["stride"] = self.per_axis(rank, [3] * rank)[0]
        form = self.choose.choice(["none", "int", "list"] + ([] if self.options.pytorch else ["pairs", "same"]))
        if form == "int":
            entry["padding"] = self.choose.integer(0, min(kernel) // 2)
        elif form == "list":
            entry["padding"] = [self.choose.integer(0, k // 2) for k in kernel]
        elif form == "pairs":
            entry["padding"] = [[self.choose.integer(0, k // 2), self.choose.integer(0, k // 2)] for k in kernel]
        elif form == "same":
            entry["padding"] = "same"
        if self.flip(40):
            entry["ceil_mode"] = self.choose.choice([True, False])
        if not is_max and self.flip(20):
            entry["count_include_pad"] = self.choose.choice([True, False])
        return entry

    def pool(self, current: Value) -> Value:
        kind = self.pick([self.rank_type("maxpool", current.rank), self.rank_type("avgpool", current.rank),
                          "global_avgpool", "global_maxpool"])
        if kind.startswith("global"):
            entry: dict[str, Any] = {"type": kind}
            fixed = True
        elif kind == "identity":
            return self.pointwise(current)
        else:
            entry = self.pool_fields(kind, current, centred=False, stride=None)
            fixed = current.fixed_sizes
        values = {key: value for key, value in entry.items() if key != "type"}
        return self.add(entry, Value(layer_output(kind, [current.shape], values), None, fixed))

    def adaptive(self, current: Value) -> Value:
        kind = self.pick([self.rank_type("adaptive_avgpool", current.rank),
                          self.rank_type("adaptive_maxpool", current.rank)])
        if kind == "identity":
            return self.pool(current)
        written, _ = self.per_axis(current.rank, [8] * current.rank)
        entry = {"type": kind, "output_size": written}
        return self.add(entry, Value(layer_output(kind, [current.shape], {"output_size": written}), None, True))

    # -- layers that keep the shape -----------------------------------------------------------

    def shape_keeping(self, current: Value, families: Sequence[str] = ("activation", "norm")) -> dict[str, Any]:
        """An entry that keeps the shape: an activation or a normalization (any rank)."""
        family = self.choose.choice(list(families))
        if family == "norm":
            return self.norm_entry(current)
        kind = self.pick(ACTIVATIONS)
        entry: dict[str, Any] = {"type": kind}
        if kind == "prelu" and self.flip(50) and current.fixed_channels:
            entry["num_parameters"] = current.shape[0]
        elif kind == "leaky_relu" and self.flip(50):
            entry["negative_slope"] = self.choose.choice([0.01, 0.2, 0.1])
        elif kind == "elu" and self.flip(30):
            entry["alpha"] = self.choose.choice([1.0, 0.5])
        elif kind in ("softmax", "log_softmax") and self.flip(60):
            entry["dim"] = self.choose.integer(-current.rank - 1, current.rank)
        return entry

    def norm_entry(self, current: Value) -> dict[str, Any]:
        rank, channels = current.rank, current.shape[0]
        if rank == 0:
            options = ["batchnorm1d", "batchnorm", "layernorm"]
        else:
            options = [self.rank_type("batchnorm", rank), self.rank_type("instancenorm", rank), "layernorm", "lrn"]
            if current.fixed_channels:
                options.append("groupnorm")
            if rank == 1:
                options.append("batchnorm1d")
        kind = self.pick(options)
        entry: dict[str, Any] = {"type": kind}
        if kind == "groupnorm":
            entry["num_groups"] = self.choose.choice([g for g in range(1, channels + 1) if channels % g == 0])
        elif kind == "lrn":
            entry["size"] = self.choose.integer(1, 5)
        elif kind == "layernorm" and self.flip(40):
            # Trailing axes whose sizes the input's size cannot change.
            fixed = rank if current.fixed_sizes else 0
            fixed += 1 if current.fixed_channels and fixed == rank else 0
            if fixed:
                count = self.choose.integer(1, fixed)
                trailing = list(current.shape[len(current.shape) - count:])
                entry["normalized_shape"] = trailing[0] if count == 1 and self.flip(50) else trailing
        if kind != "lrn" and kind != "layernorm" and self.flip(30):
            entry["affine"] = self.choose.choice([True, False])
        if kind.startswith(("batchnorm", "instancenorm")) and self.flip(20):
            entry["track_running_stats"] = self.choose.choice([True, False])
        if kind.startswith(("batchnorm", "instancenorm")) and current.fixed_channels and self.flip(15):
            entry["num_features"] = channels
        return entry

    def pointwise(self, current: Value) -> Value:
        entry = self.shape_keeping(current, ("activation",))
        if self.flip(15):
            entry = {"type": self.pick(["identity", "dropout", "scale"])}
            if entry["type"] == "dropout" and self.flip(50):
                entry["p"] = 0.5
            if entry["type"] == "scale" and self.flip(50):
                entry["bias"] = self.choose.choice([True, False])
        values = {key: value for key, value in entry.items() if key != "type"}
        shape = layer_output(entry["type"], [current.shape], values)
        return self.add(entry, Value(shape, None, current.fixed_sizes, current.fixed_channels))

    def norm(self, current: Value) -> Value:
        entry = self.norm_entry(current)
        values = {key: value for key, value in entry.items() if key != "type"}
        shape = layer_output(entry["type"], [current.shape], values)
        return self.add(entry, Value(shape, None, current.fixed_sizes, current.fixed_channels))

    # -- branches and merges ---------------------------------------------------------------------

    def centred_chain(self, current: Value, stride: tuple[int, ...],
                      out_channels: int | None) -> tuple[list[dict[str, Any]], Shape]:
        """Entries of a branch whose spatial output is floor((n-1)/stride)+1 per axis, ending
        with out_channels channels when given. Returns (entries, output shape)."""
        rank = current.rank
        count = self.choose.integer(1, 3)
        strided_at = self.choose.integer(0, count - 1)
        entries: list[dict[str, Any]] = []
        shape = current.shape
        for index in range(count):
            needs_conv = out_channels is not None and out_channels != shape[0]
            step = stride if index == strided_at else (1,) * rank
            last = index == count - 1
            value = Value(shape, None, current.fixed_sizes)
            choice = self.choose.choice(["conv", "conv", "pool", "keep"])
            if last and needs_conv:
                choice = "conv"
            if choice == "keep" and step != (1,) * rank:
                choice = "conv"
            if choice == "pool" and not self.allowed(self.rank_type("maxpool", rank)):
                choice = "conv"
            if choice == "conv":
                kind = self.rank_type("conv", rank)
                target = out_channels if last and out_channels is not None else None
                entry, values = self.conv_fields(kind, value, centred=True, stride=step, out_channels=target)
                shape = layer_output(kind, [shape], values)
            elif choice == "pool":
                kind = self.pick([self.rank_type("maxpool", rank), self.rank_type("avgpool", rank)])
                entry = self.pool_fields(kind, value, centred=True, stride=step)
                shape = layer_output(kind, [shape], {k: v for k, v in entry.items() if k != "type"})
            else:
                entry = self.shape_keeping(value)
                shape = layer_output(entry["type"], [shape], {k: v for k, v in entry.items() if k != "type"})
            entries.append(entry)
        return entries, shape

    def residual(self, current: Value) -> Value:
        """Two branches from one tensor, merged by add, sub, mul or concat."""
        rank = current.rank
        source = self.ref(current)
        stride = self.choose.choice([(1,) * rank, (1,) * rank, (2,) * rank,
                                     tuple(self.choose.integer(1, 2) for _ in range(rank))])
        merge = self.pick(["add", "add", "concat", "sub", "mul"])
        if merge == "identity":
            merge = "concat"
        channels = None if merge == "concat" else self.channels()
        left, left_shape = self.centred_chain(current, stride, channels)
        left_entry: dict[str, Any] = {"name": self.fresh_name(), "layers": left}
        if self.flip(50):
            left_entry["from"] = source
        self.entries.append(left_entry)
        if stride == (1,) * rank and (channels is None or channels == current.shape[0]) and self.flip(50):
            right_name, right_shape = source, current.shape  # the identity shortcut
            right_offset = -2
        else:
            right, right_shape = self.centred_chain(current, stride, channels)
            right_name = self.fresh_name()
            self.entries.append({"name": right_name, "from": source, "layers": right})
            right_offset = -1
        sources: list[Any] = [left_entry["name"], right_name]
        if right_offset == -1 and self.flip(30):
            sources = [-2, -1]
        elif self.flip(30):
            sources.reverse()
        entry: dict[str, Any] = {"type": merge, "from": sources}
        shapes = [left_shape, right_shape]
        if merge == "concat" and left_shape[0] == right_shape[0] and rank and self.flip(30):
            entry["dim"] = self.choose.integer(1, rank)
        elif merge == "concat" and self.flip(20):
            entry["dim"] = self.choose.choice([0, -rank - 1])
        values = {key: value for key, value in entry.items() if key not in ("type", "from")}
        shape = layer_output(merge, shapes, values)
        return self.add(entry, Value(shape, None, current.fixed_sizes))

    def squeeze_excite(self, current: Value) -> Value:
        """Global pool, two 1x1 convolutions, sigmoid, then mul: a broadcast merge."""
        rank, channels = current.rank, current.shape[0]
        if not self.allowed("mul") or not self.allowed("global_avgpool"):
            return self.residual(current)
        source = self.ref(current)
        squeezed = max(1, channels // self.choose.choice([1, 2, 4]))
        conv = self.rank_type("conv", rank)
        gate = self.pick(["sigmoid", "hardsigmoid"])
        name = self.fresh_name()
        self.entries.append({"name": name, "layers": [
            {"type": "global_avgpool"},
            {"type": conv, "out_channels": squeezed, "kernel_size": 1},
            {"type": self.pick(["relu", "relu6", "silu", "hardswish"])},
            {"type": conv, "out_channels": "${%d}" % channels if self.flip(20) else channels, "kernel_size": 1},
            {"type": gate},
        ]})
        entry = {"type": "mul", "from": [source, name] if self.flip(50) else [name, source]}
        shape = layer_output("mul", [current.shape, (channels,) + (1,) * rank], {})
        return self.add(entry, Value(shape, None, current.fixed_sizes))

    def dense_merge(self, current: Value) -> Value:
        source = self.ref(current)
        width = self.channels()
        left, right = self.fresh_name(), self.fresh_name()
        self.entries.append({"type": "linear", "name": left, "out_features": width})
        self.entries.append({"type": "linear", "name": right, "from": source, "out_features": width})
        merge = self.pick(["add", "mul", "concat", "sub"])
        entry = {"type": merge, "from": [left, right]}
        shape = layer_output(merge, [(width,), (width,)], {})
        return self.add(entry, Value(shape, None, True))

    # -- reshaping and the head ---------------------------------------------------------------------

    def reshaping(self, current: Value) -> Value:
        rank, shape = current.rank, current.shape
        options = ["pad", "slice", "upsample", "upsample", "permute", "linear"]
        if rank >= 2:
            options.append("reshape")
        if shape[0] > 1:
            options.append("channel_shuffle")
        if rank == 2 and (shape[0] % 4 == 0 or shape[0] % 9 == 0):
            options.append("pixel_shuffle")
        kind = self.pick(options)
        entry: dict[str, Any] = {"type": kind}
        fixed_sizes, fixed_channels = current.fixed_sizes, current.fixed_channels
        inputs = [shape]
        if kind == "pad":
            form = self.choose.choice(["int", "list", "pairs"])
            if form == "int":
                entry["padding"] = self.choose.integer(0, 3)
            elif form == "list":
                entry["padding"] = [self.choose.integer(0, 3) for _ in range(rank)]
            else:
                entry["padding"] = [[self.choose.integer(0, 3), self.choose.integer(0, 3)] for _ in range(rank)]
        elif kind == "slice":
            # On the channels any form; on a spatial axis a start counted from the beginning,
            # so that the slice keeps its place (and stays non-empty) when the axis grows.
            dim = self.choose.integer(0, rank)
            size = shape[dim]
            start = self.choose.integer(0, size - 1)
            end = self.choose.integer(start + 1, size)
            if dim:
                entry["dim"] = dim if self.flip(70) else dim - rank - 1
            if start or self.flip(30):
                entry["start"] = start if dim or self.flip(70) else start - size
            if end != size or self.flip(30):
                entry["end"] = end if self.flip(70) or end == size else end - size
        elif kind == "upsample":
            if max(shape[1:]) > MAX_UPSAMPLE_SIZE:
                return self.pointwise(current)
            modes = ["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[rank]]
            if rank == 2:
                modes.append("bicubic")
            if self.flip(60):
                entry["mode"] = self.choose.choice(modes)
            how = self.choose.choice(["scale", "scale", "size", "reference"])
            references = [value for value in self.history if value.rank == rank]
            if how == "reference" and references:
                reference = self.choose.choice(references)
                entry["from"] = [self.ref(current), self.ref(reference)]
                inputs.append(reference.shape)
                fixed_sizes = reference.fixed_sizes
            elif how == "size":
                entry["size"] = self.per_axis(rank, [32] * rank)[0]
                fixed_sizes = True
            else:
                entry["scale_factor"] = self.choose.choice([1, 2, 3, 1.5, 2.0, [2] * rank])
        elif kind == "permute":
            axes = list(range(1, rank + 1))
            order = [axes.pop(self.choose.integer(0, len(axes) - 1)) for _ in range(rank)]
            entry["dims"] = [0, *order]
        elif kind == "linear":
            entry["out_features"] = self.channels()
            if fixed_sizes and self.flip(30):
                entry["in_features"] = shape[-1]
        elif kind == "reshape":
            if fixed_sizes and self.flip(30):
                entry["shape"] = [shape[0], -1] if self.flip(50) else [shape[0] * shape[1], *shape[2:]]
            else:
                entry["shape"] = [shape[0], -1]
        elif kind == "channel_shuffle":
            entry["groups"] = self.choose.choice([g for g in range(1, shape[0] + 1) if shape[0] % g == 0])
        elif kind == "pixel_shuffle":
            entry["upscale_factor"] = 2 if shape[0] % 4 == 0 else 3
        values = {key: value for key, value in entry.items() if key not in ("type", "from")}
        out = layer_output(kind, inputs, values)
        return self.add(entry, Value(out, None, fixed_sizes, fixed_channels))

    def head(self, current: Value) -> Value:
        if self.flip(50) and self.allowed("global_avgpool"):
            current = self.add({"type": self.pick(["global_avgpool", "global_maxpool"])},
                               Value((current.shape[0],) + (1,) * current.rank, None, True))
        features = 1
        for size in current.shape:
            features *= size
        kind = self.pick(["flatten", "reshape"])
        entry: dict[str, Any] = {"type": kind} if kind == "flatten" else {"type": "reshape", "shape": [-1]}
        current = self.add(entry, Value((features,), None, True, current.fixed_sizes))
        for _ in range(self.choose.integer(1, 3)):
            current = self.dense(current)
        return current

    def dense(self, current: Value) -> Value:
        if current.rank > 0:
            return self.conv(current)
        if self.flip(30):
            return self.pointwise(current)
        width = self.channels()
        entry: dict[str, Any] = {"type": "linear", "out_features": width}
        if self.flip(30):
            entry["bias"] = self.choose.choice([True, False])
        if current.fixed_channels and self.flip(30):
            entry["in_features"] = current.shape[0]
        return self.add(entry, Value((width,), None, True))

    # -- entries that are not one layer ------------------------------------------------------

    def skipped(self, current: Value) -> Value:
        """A valid layer whose `when` is false: it stands for its input."""
        before = len(self.entries)
        probe = self.pointwise(current) if current.rank == 0 else self.conv(current)
        entry = self.entries[before]
        del self.entries[before:]
        del self.history[-1]
        entry["when"] = self.choose.choice([False, "${false}", "${in_channels < 0}"])
        entry.pop("name", None)
        del probe
        return self.add(entry, Value(current.shape, None, current.fixed_sizes, current.fixed_channels))

    def repeated(self, current: Value) -> Value:
        """A layer repeated in a chain: a centred convolution or an activation."""
        times = self.choose.integer(1, 4)
        rank = current.rank
        if self.flip(50):
            kind = self.rank_type("conv", rank)
            channels = self.channels()
            entry, _ = self.conv_fields(kind, Value((channels,) + current.shape[1:], None, current.fixed_sizes),
                                        centred=True, stride=(1,) * rank, out_channels=channels)
            entry.pop("groups", None)
            entry.pop("in_channels", None)
            if isinstance(entry["out_channels"], str) and "in_channels" in entry["out_channels"]:
                entry["out_channels"] = channels  # the first instance's input has other channels
        else:
            entry = self.shape_keeping(current, ("activation",))
            if entry.get("num_parameters", 1) != 1:
                del entry["num_parameters"]
        entry["repeat"] = times if self.flip(80) else f"${{{times}}}"
        shape = current.shape
        values = {key: value for key, value in entry.items() if key not in ("type", "repeat")}
        if "out_channels" in values:
            values["out_channels"] = channels
        for _ in range(times):
            shape = layer_output(entry["type"], [shape], values)
        return self.add(entry, Value(shape, None, current.fixed_sizes))

    def block_use(self, current: Value) -> Value:
        """A block instance (repeated now and then), defining the block on first use."""
        if not all(map(self.allowed, BLOCK_TYPES)):
            return self.residual(current)
        if not self.blocks or self.flip(30):
            name = f"unit{len(self.blocks)}"
            self.blocks[name], self.block_recipes[name] = self.block_definition()
        name = self.choose.choice(sorted(self.blocks))
        recipe = self.block_recipes[name]
        channels = self.channels()
        times = self.choose.integer(1, 3)
        strided = self.flip(40)
        entry: dict[str, Any] = {"type": name, "channels": channels}
        if times > 1 or self.flip(20):
            entry["repeat"] = times
        if strided:
            entry["stride"] = "${2 if i == 0 else 1}" if "repeat" in entry else 2
        shape = current.shape
        for index in range(times):
            stride = 2 if strided and index == 0 else 1
            shape = self.run_block(recipe, shape, channels, stride)
        return self.add(entry, Value(shape, None, current.fixed_sizes))

    def block_definition(self) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """A rank-agnostic residual unit (shorthand types): conv, norm, act, [conv, norm], [shortcut], act."""
        half = self.choose.integer(0, 2)
        dilation = self.choose.choice([1, 1, 2])
        norm = self.pick(["batchnorm", "instancenorm", "layernorm", "groupnorm"])
        act = self.pick(["relu", "silu", "gelu", "hardswish", "relu6"])
        second = self.choose.choice(["none", "plain", "depthwise"])
        shortcut = self.flip(60)
        layers: list[dict[str, Any]] = [
            {"type": "conv", "name": "conv1", "out_channels": "$channels", "kernel_size": 2 * half + 1,
             "stride": "$stride", "padding": dilation * half, "dilation": dilation, "bias": False},
            {"type": norm} if norm != "groupnorm" else {"type": norm, "num_groups": 1},
            {"type": act},
        ]
        if second != "none":
            conv2: dict[str, Any] = {"type": "conv", "out_channels": "$channels", "kernel_size": 3, "padding": 1}
            if second == "depthwise":
                conv2["groups"] = "$channels"
            layers += [conv2, {"type": norm} if norm != "groupnorm" else {"type": norm, "num_groups": 1}]
        layers[-1] = dict(layers[-1], name="last")
        if shortcut:
            layers += [
                {"name": "shortcut", "from": "input", "when": "${stride != 1 or in_channels != channels}",
                 "layers": [{"type": "conv", "out_channels": "$channels", "kernel_size": 1, "stride": "$stride",
                             "bias": False}]},
                {"type": "add", "from": ["last", "shortcut"]},
                {"type": act},
            ]
        block = {"params": {"channels": 8, "stride": 1}, "layers": layers}
        return block, (half, dilation, norm, act, second, shortcut)

    def run_block(self, recipe: tuple[Any, ...], shape: Shape, channels: int, stride: int) -> Shape:
        """The output shape of one block instance, layer by layer through the calculator."""
        half, dilation, norm, act, second, shortcut = recipe
        norm_values = {"num_groups": 1} if norm == "groupnorm" else {}
        out = layer_output("conv", [shape], {"out_channels": channels, "kernel_size": 2 * half + 1,
                                             "stride": stride, "padding": dilation * half,
                                             "dilation": dilation, "bias": False})
        out = layer_output(norm, [out], norm_values)
        out = layer_output(act, [out], {})
        if second != "none":
            values = {"out_channels": channels, "kernel_size": 3, "padding": 1}
            if second == "depthwise":
                values["groups"] = channels
            out = layer_output("conv", [out], values)
            out = layer_output(norm, [out], norm_values)
        if shortcut:
            skip = shape
            if stride != 1 or shape[0] != channels:
                skip = layer_output("conv", [shape], {"out_channels": channels, "kernel_size": 1, "stride": stride})
            out = layer_output("add", [out, skip], {})
        return out


def build_spec(choose: Chooser, options: Options | None = None) -> str:
    """One random valid spec as YAML text, its choices taken from `choose`."""
    options = options or Options()
    document = _Builder(choose, options).spec()
    unwanted = written_types(document) & options.exclude
    if unwanted:
        raise Excluded(f"wrote {sorted(unwanted)}")
    style = choose.choice([None, False, None])  # flow style for leaf collections, or block style throughout
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=style, width=choose.choice([80, 4096]))


def random_spec(*, max_layers: int = 10, ranks: Sequence[int] = (0, 1, 2, 3), blocks: bool = True,
                pytorch: bool = False, exclude: Sequence[str] = (), tokens: bool = False) -> st.SearchStrategy[str]:
    """A Hypothesis strategy of valid specs as YAML text.

    max_layers: top-level steps (a step may write a branch, a block or a head of several
    layers); ranks: spatial axes of the input to choose from (0: a feature vector);
    blocks: use `blocks:` definitions (rank-agnostic shorthand types) with `repeat`;
    pytorch: only padding forms that torch.nn modules take; exclude: layer types never
    written (a parity test can leave out those it cannot build); tokens: transformer encoders
    (attention, heads, class tokens, position embeddings), reductions and elementwise math.
    """
    options = Options(max_layers, tuple(ranks), blocks, pytorch, frozenset(exclude), tokens)

    @st.composite
    def specs(draw: Callable[[Any], Any]) -> str:
        try:
            return build_spec(HypothesisChooser(draw), options)
        except Excluded:
            reject()  # rare: most choices avoid excluded types; a few (a merge's add) cannot

    return specs()
