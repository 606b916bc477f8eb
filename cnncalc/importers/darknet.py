"""Darknet `.cfg` files (pjreddie's and AlexeyAB's darknet) as cnncalc specs.

A cfg is a list of `[section]`s of `key=value` lines (`#` and `;` start comments).
The first section is `[net]`; each next one is a layer, numbered from 0, that reads
the layer before it unless it names others (`[route] layers=-1,23`, `[shortcut]
from=-3`: negative numbers count back from the layer itself).

Each layer becomes one to three cnncalc layers, named after the Darknet layer's number
so that Darknet's console print and cnncalc's table line up: `[convolutional]` 5 is
`conv_5`, then `bn_5` (batch_normalize=1: the convolution loses its bias), then its
activation (`leaky_5`); `[route]` 8 is `route_8`, `[yolo]` 30 is `yolo_30`.
Output sizes follow Darknet's parser (src/parser.c and the *_layer.c files):

- convolution: pad=1 means padding = size/2; out = (in + 2*padding - size)/stride + 1.
- maxpool: padding (default size-1) is split padding/2 before and the rest after the
  input, out = (in + padding - size)/stride + 1: size 2 stride 1 pads right and bottom
  by one and keeps the size, written as padding [[0, 1], [0, 1]].
- route: concatenation; groups/group_id keep the group_id-th of `groups` channel slices
  of each input. upsample: nearest, by `stride`. avgpool: global. connected: flattens.
- [yolo], [region], [detection] and [Gaussian_yolo] are detection heads that only
  decode boxes: identity layers, listed as the spec's outputs.

Darknet's BFLOPs are 2 x MACs of convolutions and connected layers, plus, for max
pooling, size*size per output element (a count of comparisons that cnncalc puts in its
`full` convention only). `[net] batch` is the training batch (images per weight
update), so the spec's batch is 1, as Darknet's per-image BFLOPs are.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import Mark, SpecError
from . import ImportOptions, read_text
from .builder import SpecBuilder, Where

# Section names Darknet accepts for the same layer (src/parser.c, string_to_layer_type).
ALIASES = {"network": "net", "conv": "convolutional", "deconv": "deconvolutional", "max": "maxpool",
           "avg": "avgpool", "local_avg": "local_avgpool", "conn": "connected", "soft": "softmax",
           "normalization": "lrn", "silence": "empty"}
HEADS = ("yolo", "region", "detection", "gaussian_yolo")

# Darknet activation -> cnncalc layer (None: linear, no layer).
ACTIVATIONS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "linear": None, "leaky": ("leaky_relu", {"negative_slope": 0.1}), "relu": ("relu", {}),
    "relu6": ("relu6", {}), "logistic": ("sigmoid", {}), "tanh": ("tanh", {}), "elu": ("elu", {}),
    "selu": ("selu", {}), "gelu": ("gelu", {}), "mish": ("mish", {}), "swish": ("silu", {}),
}

# Keys that change nothing cnncalc counts (training settings), accepted in every layer section.
TRAINING_KEYS = {"clip", "onlyforward", "dont_update", "burnin_update", "stopbackward", "train_only_bn",
                 "dontload", "dontloadscales", "learning_rate", "stream", "wait_stream"}

# The keys of each layer section Darknet's parser reads; heads and [net] take any.
KEYS: dict[str, set[str]] = {
    "convolutional": {"filters", "size", "stride", "stride_x", "stride_y", "pad", "padding", "groups",
                      "batch_normalize", "activation", "dilation", "antialiasing", "share_index", "sway", "rotate",
                      "stretch", "stretch_sway", "coordconv", "binary", "xnor", "bin_output", "flipped", "dot",
                      "angle", "grad_centr", "reverse", "cbn", "assisted_excitation"},
    "deconvolutional": {"filters", "size", "stride", "pad", "padding", "batch_normalize", "activation"},
    "maxpool": {"size", "stride", "stride_x", "stride_y", "padding", "maxpool_depth", "out_channels",
                "antialiasing", "maxpool_zero_nonmax"},
    "local_avgpool": {"size", "stride", "stride_x", "stride_y", "padding"},
    "avgpool": set(),
    "route": {"layers", "groups", "group_id"},
    "shortcut": {"from", "activation", "weights_type", "weights_normalization"},
    "upsample": {"stride", "scale"},
    "connected": {"output", "activation", "batch_normalize"},
    "dropout": {"probability", "dropblock", "dropblock_size_rel", "dropblock_size_abs"},
    "softmax": {"groups", "temperature", "tree", "spatial", "noloss"},
    "cost": {"type", "scale", "ratio"},
    "batchnorm": set(),
    "activation": {"activation"},
    "lrn": {"size", "alpha", "beta", "kappa"},
    "sam": {"from", "activation"},
    "scale_channels": {"from", "activation", "scale_wh"},
    "empty": set(),
}

# Options cnncalc cannot express: key -> (the one value it can, why the others are not imported).
UNSUPPORTED_OPTIONS: dict[str, dict[str, tuple[str | None, str]]] = {
    "convolutional": {
        "antialiasing": ("0", "adds a fixed blur convolution after the layer"),
        "share_index": (None, "shares another layer's weights"),
        "dilation": ("1", "Darknet's size rule for dilated convolutions is not modelled"),
        "sway": ("0", "deformable (rotated) kernels"), "rotate": ("0", "deformable (rotated) kernels"),
        "stretch": ("0", "deformable (stretched) kernels"), "stretch_sway": ("0", "deformable kernels"),
        "coordconv": ("0", "adds coordinate channels"),
    },
    "maxpool": {"maxpool_depth": ("0", "pools across channels"),
                "antialiasing": ("0", "adds a fixed blur convolution after the layer")},
    "shortcut": {"weights_type": ("none", "learned weights on the summed inputs")},
    "softmax": {"groups": ("1", "softmax in groups"), "tree": (None, "hierarchical softmax")},
    "scale_channels": {"scale_wh": ("0", "scales positions rather than channels")},
}

# The prefix of cnncalc names for each section's layer.
PREFIX = {"convolutional": "conv", "deconvolutional": "deconv", "maxpool": "max", "local_avgpool": "local_avg",
          "avgpool": "avg", "connected": "connected", "gaussian_yolo": "gaussian_yolo"}


@dataclass(frozen=True)
class Option:
    value: str
    line: int
    column: int  # of the value
    key_column: int


@dataclass
class Section:
    """One [section] of the cfg: its kind as written and its options, first one of a key kept (as Darknet)."""

    written: str
    line: int
    column: int
    index: int  # Darknet's layer number; -1 for [net]
    options: dict[str, Option] = field(default_factory=dict)
    repeated: dict[str, Option] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        name = self.written.lower()
        return ALIASES.get(name, name)

    @property
    def prefix(self) -> str:
        return PREFIX.get(self.kind, self.kind)


def read_cfg(text: str, filename: str) -> list[Section]:
    """The sections of a cfg, with the line and column of everything; malformed lines are errors."""
    sections: list[Section] = []
    index = -1
    for number, raw in enumerate(text.splitlines(), 1):
        content = raw.strip()
        if not content or content[0] in "#;":
            continue
        column = len(raw) - len(raw.lstrip()) + 1
        for marker in "#;":  # a comment after a value
            content = content.split(marker, 1)[0].rstrip()
        if content.startswith("["):
            name = content[1:-1].strip() if content.endswith("]") else ""
            if not content.endswith("]") or not name or "[" in name or "]" in name:
                raise SpecError(f"malformed section header '{content}'", mark=Mark(filename, number, column),
                                hint="a section is a name in brackets on a line of its own, e.g. [convolutional]")
            sections.append(Section(name, number, column, index))
            index += 1
            continue
        key, sep, value = content.partition("=")
        key = "".join(key.split())
        where = Mark(filename, number, column)
        if not sections:
            raise SpecError(f"'{content}' comes before the first [section]", mark=where,
                            hint="a Darknet cfg starts with [net]")
        section = sections[-1]
        if not sep or not key:
            raise SpecError(f"[{section.written}]: expected key=value, found '{content}'", mark=where,
                            hint="a truncated or mistyped line? cfg lines are [section] or key=value")
        option = Option("".join(value.split()), number, column + raw.lstrip().index("=") + 1, column)
        if key in section.options:
            section.repeated.setdefault(key, option)
        else:
            section.options[key] = option
    if not sections:
        raise SpecError("the file has no [sections]", mark=Mark(filename, 1, 1),
                        hint="a Darknet cfg starts with [net], then one section per layer")
    return sections


class Reader:
    """Typed access to one section's options; every problem names the line and the layer."""

    def __init__(self, filename: str, section: Section) -> None:
        self.filename = filename
        self.section = section
        name = f"{section.prefix}_{section.index}" if section.index >= 0 else "net"
        self.where = Where(Mark(filename, section.line, section.column), (name, f"[{section.written}]"))

    def fail(self, key: str | None, problem: str, hint: str | None = None, at_key: bool = False) -> SpecError:
        """An error at the value of `key` (at the key itself with at_key), else at the section's header."""
        option = self.section.options.get(key) if key else None
        mark = self.where.mark
        if option is not None:
            mark = Mark(self.filename, option.line, option.key_column if at_key else option.column)
        return SpecError(problem, mark=mark, layer=self.where.layer, hint=hint)

    def has(self, key: str) -> bool:
        return key in self.section.options

    def raw(self, key: str) -> Option | None:
        if key in self.section.repeated:
            again = self.section.repeated[key]
            raise SpecError(f"{key} is given twice (lines {self.section.options[key].line} and {again.line})",
                            mark=Mark(self.filename, again.line, again.key_column), layer=self.where.layer,
                            hint="keep one: Darknet would use the first and ignore the other")
        return self.section.options.get(key)

    def text(self, key: str, default: str) -> str:
        option = self.raw(key)
        return default if option is None else option.value

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        option = self.raw(key)
        if option is None:
            if default is None:
                raise self.fail(None, f"[{self.section.written}] needs {key}=", "a truncated section?")
            return default
        try:
            value = int(option.value)
        except ValueError:
            raise self.fail(key, f"{key}={option.value} is not a whole number") from None
        if value < minimum:
            raise self.fail(key, f"{key}={value} is below {minimum}")
        return value

    def number(self, key: str, default: float) -> float:
        option = self.raw(key)
        if option is None:
            return default
        try:
            return float(option.value)
        except ValueError:
            raise self.fail(key, f"{key}={option.value} is not a number") from None

    def integers(self, key: str) -> list[int]:
        option = self.raw(key)
        if option is None:
            raise self.fail(None, f"[{self.section.written}] needs {key}=", "e.g. layers=-1,-4")
        try:
            return [int(item) for item in option.value.split(",") if item != ""]
        except ValueError:
            raise self.fail(key, f"{key}={option.value} is not a list of layer numbers") from None

    def strides(self) -> tuple[int | list[int], int]:
        """(stride as cnncalc takes it: one number, or [y, x]; the plain `stride`)."""
        stride = self.integer("stride", 1, 1)
        across = self.integer("stride_x", stride, 1)
        down = self.integer("stride_y", stride, 1)
        return (across if across == down else [down, across]), stride


def _check(sections: list[Section], filename: str) -> None:
    """Unknown keys (typos) first; then every section, option or activation cnncalc cannot import, at once."""
    unsupported: list[tuple[Section, Option | None, str]] = []
    for section in sections[1:]:
        kind = section.kind
        if kind in HEADS:
            continue
        if kind not in CONVERTERS:
            unsupported.append((section, None, f"[{section.written}] (layer {section.index}, line {section.line})"))
            continue
        known = KEYS[kind] | TRAINING_KEYS
        for key, option in section.options.items():
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                guess = f"did you mean '{close[0]}'? " if close else ""
                raise Reader(filename, section).fail(
                    key, f"unknown key '{key}' in [{section.written}]",
                    f"{guess}[{section.written}] takes {', '.join(sorted(KEYS[kind])) or 'no keys'}", at_key=True)
        for key, (accepted, why) in UNSUPPORTED_OPTIONS.get(kind, {}).items():
            found = section.options.get(key)
            if found is not None and found.value != accepted:
                unsupported.append((section, found, f"[{section.written}] {key}={found.value} (layer "
                                                    f"{section.index}, line {found.line}: {why})"))
        activation = section.options.get("activation")
        if activation is not None and activation.value not in ACTIVATIONS:
            unsupported.append((section, activation, f"activation={activation.value} ([{section.written}] layer "
                                                      f"{section.index}, line {activation.line})"))
    if unsupported:
        first, at, _ = unsupported[0]
        mark = Mark(filename, at.line, at.column) if at else Mark(filename, first.line, first.column)
        supported = ", ".join(f"[{name}]" for name in [*CONVERTERS, *HEADS])
        raise SpecError("cannot import " + "; ".join(text for _, _, text in unsupported), mark=mark,
                        hint=f"cnncalc has no layer type for these; it imports {supported} and the activations "
                             f"{', '.join(ACTIVATIONS)}")


class _Converter:
    """Turns checked sections into layers; `outputs[i]` names Darknet layer i's output."""

    def __init__(self, filename: str, builder: SpecBuilder, input_name: str) -> None:
        self.filename = filename
        self.builder = builder
        self.input_name = input_name
        self.outputs: list[str] = []
        self.heads: list[str] = []
        self.reader: Reader
        self.comment: str | None = None

    @property
    def previous(self) -> str:
        return self.outputs[-1] if self.outputs else self.input_name

    def add(self, kind: str, name: str, sources: list[str], fields: dict[str, Any] | None = None) -> str:
        comment, self.comment = self.comment, None  # on the first layer a section makes
        return self.builder.add(kind, name, sources, fields or {}, self.reader.where, comment)

    def name(self, prefix: str) -> str:
        return f"{prefix}_{self.reader.section.index}"

    def reference(self, key: str, value: int) -> str:
        here = self.reader.section.index
        index = value if value >= 0 else here + value
        if not 0 <= index < here:
            raise self.reader.fail(key, f"{key}: {value} is layer {index}, but layer {here} can only read layers 0 "
                                        f"to {here - 1}", "negative numbers count back from this layer")
        return self.outputs[index]

    def activation(self, source: str, default: str) -> str:
        mapped = ACTIVATIONS[self.reader.text("activation", default)]
        if mapped is None:
            return source
        kind, fields = mapped
        return self.add(kind, self.name(self.reader.text("activation", default)), [source], dict(fields))

    def convert(self, section: Section) -> None:
        self.reader = Reader(self.filename, section)
        shown = "".join(f" {key}={section.options[key].value}" for key in ("layers", "groups", "group_id", "from")
                        if key in section.options and section.kind in ("route", "shortcut", "sam", "scale_channels"))
        self.comment = f"{section.index}: [{section.written}]{shown} (line {section.line})"
        if section.kind in HEADS:
            self.outputs.append(self.head(section.kind))
        else:
            self.outputs.append(CONVERTERS[section.kind](self))

    # -- one method per section type --------------------------------------------------

    def convolutional(self) -> str:
        return self._convolution("conv2d", "conv", "logistic")

    def deconvolutional(self) -> str:
        return self._convolution("conv_transpose2d", "deconv", "logistic")

    def _convolution(self, kind: str, prefix: str, default_activation: str) -> str:
        read = self.reader
        size = read.integer("size", 1, 1)
        stride, _ = read.strides()
        padding = size // 2 if read.integer("pad", 0) else read.integer("padding", 0)
        normalize = read.integer("batch_normalize", 0) != 0
        fields: dict[str, Any] = {"out_channels": read.integer("filters", None, 1), "kernel_size": size}
        groups = read.integer("groups", 1, 1)
        for key, value, default in (("stride", stride, 1), ("padding", padding, 0), ("groups", groups, 1)):
            if value != default:
                fields[key] = value
        if normalize:
            fields["bias"] = False
        out = self.add(kind, self.name(prefix), [self.previous], fields)
        if normalize:
            out = self.add("batchnorm2d", self.name("bn"), [out])
        return self.activation(out, default_activation)

    def maxpool(self) -> str:
        return self._pool("maxpool2d", "max", {})

    def local_avgpool(self) -> str:
        return self._pool("avgpool2d", "local_avg", {"count_include_pad": False})

    def _pool(self, kind: str, prefix: str, extra: dict[str, Any]) -> str:
        read = self.reader
        stride, plain = read.strides()
        size = read.integer("size", plain, 1)
        padding = read.integer("padding", size - 1)
        begin, end = padding // 2, padding - padding // 2  # Darknet starts windows at -padding/2
        fields: dict[str, Any] = {"kernel_size": size, "stride": stride}
        if padding:
            fields["padding"] = begin if begin == end else [[begin, end], [begin, end]]
        fields.update(extra)
        return self.add(kind, self.name(prefix), [self.previous], fields)

    def avgpool(self) -> str:
        return self.add("global_avgpool", self.name("avg"), [self.previous])

    def route(self) -> str:
        read = self.reader
        layers = read.integers("layers")
        if not layers:
            raise read.fail("layers", "layers= names no layer", "e.g. layers=-1,-4")
        sources = [self.reference("layers", value) for value in layers]
        groups = read.integer("groups", 1, 1)
        group = read.integer("group_id", 0)
        if group >= groups:
            raise read.fail("group_id", f"group_id={group} is not below groups={groups}")
        if groups > 1:
            parts = []
            for number, source in enumerate(sources):
                channels = self.builder.shape(source)[0]
                if channels % groups:
                    raise read.fail("groups", f"groups={groups} does not split the {channels} channels of "
                                              f"'{source}' evenly")
                width = channels // groups
                name = self.name("route") if len(sources) == 1 else f"{self.name('route')}_part{number}"
                parts.append(self.add("slice", name, [source], {"start": width * group, "end": width * (group + 1)}))
            if len(parts) == 1:
                return parts[0]
            sources = parts
        if len(sources) == 1:
            return self.add("identity", self.name("route"), sources)
        return self.add("concat", self.name("route"), sources)

    def shortcut(self) -> str:
        sources = [self.previous] + [self.reference("from", value) for value in self.reader.integers("from")]
        return self.activation(self.add("add", self.name("shortcut"), sources), "linear")

    def _multiply(self, prefix: str) -> str:
        sources = [self.previous] + [self.reference("from", value) for value in self.reader.integers("from")]
        return self.activation(self.add("mul", self.name(prefix), sources), "linear")

    def sam(self) -> str:
        return self._multiply("sam")

    def scale_channels(self) -> str:
        return self._multiply("scale_channels")

    def upsample(self) -> str:
        stride = self.reader.integer("stride", 2, -(2**31))
        if stride < 1:
            raise self.reader.fail("stride", f"stride={stride}: a negative stride makes [upsample] downsample, "
                                             "which cnncalc has no layer type for")
        return self.add("upsample", self.name("upsample"), [self.previous], {"scale_factor": stride})

    def connected(self) -> str:
        read = self.reader
        source = self.previous
        if len(self.builder.shape(source)) > 1:
            source = self.add("flatten", self.name("flatten"), [source])
        normalize = read.integer("batch_normalize", 0) != 0
        fields: dict[str, Any] = {"out_features": read.integer("output", None, 1)}
        if normalize:
            fields["bias"] = False
        out = self.add("linear", self.name("connected"), [source], fields)
        if normalize:
            out = self.add("batchnorm1d", self.name("bn"), [out])
        return self.activation(out, "logistic")

    def dropout(self) -> str:
        return self.add("dropout", self.name("dropout"), [self.previous])

    def softmax(self) -> str:
        return self.add("softmax", self.name("softmax"), [self.previous])

    def cost(self) -> str:
        return self.add("identity", self.name("cost"), [self.previous])

    def empty(self) -> str:
        return self.add("identity", self.name("empty"), [self.previous])

    def batchnorm(self) -> str:
        kind = "batchnorm2d" if len(self.builder.shape(self.previous)) == 3 else "batchnorm1d"
        return self.add(kind, self.name("bn"), [self.previous])

    def activation_section(self) -> str:
        out = self.activation(self.previous, "linear")
        return out if out != self.previous else self.add("identity", self.name("linear"), [self.previous])

    def lrn(self) -> str:
        read = self.reader
        fields: dict[str, Any] = {"size": read.integer("size", 5, 1)}
        for key, name, default in (("alpha", "alpha", 1e-4), ("beta", "beta", 0.75), ("kappa", "k", 1.0)):
            value = read.number(key, default)
            if value != default:
                fields[name] = value
        return self.add("lrn", self.name("lrn"), [self.previous], fields)

    def head(self, kind: str) -> str:
        """A detection head: boxes decoded from its input, nothing counted; checked as Darknet checks it."""
        read = self.reader
        channels = self.builder.shape(self.previous)[0]
        classes = read.integer("classes", 20 if kind != "detection" else 1)
        anchors = read.integer("num", 1, 1)
        if kind in ("yolo", "gaussian_yolo"):
            if read.has("mask"):
                anchors = len(read.integers("mask"))
            per_anchor, rule = (classes + 5, "classes + 5") if kind == "yolo" else (classes + 9, "classes + 9")
        elif kind == "region":
            per_anchor, rule = classes + read.integer("coords", 4) + 1, "classes + coords + 1"
        else:
            per_anchor = 0
        if per_anchor and channels != anchors * per_anchor:
            raise read.fail(None, f"the layer before [{read.section.written}] has {channels} channels, but "
                                  f"{anchors} anchors of {rule} = {per_anchor} need {anchors * per_anchor}",
                            "set filters= of the convolution before it to that number, as Darknet requires")
        name = self.add("identity", self.name(PREFIX.get(kind, kind)), [self.previous])
        self.heads.append(name)
        return name


CONVERTERS: dict[str, Callable[[_Converter], str]] = {
    "convolutional": _Converter.convolutional, "deconvolutional": _Converter.deconvolutional,
    "maxpool": _Converter.maxpool, "local_avgpool": _Converter.local_avgpool, "avgpool": _Converter.avgpool,
    "route": _Converter.route, "shortcut": _Converter.shortcut, "upsample": _Converter.upsample,
    "connected": _Converter.connected, "dropout": _Converter.dropout, "softmax": _Converter.softmax,
    "cost": _Converter.cost, "batchnorm": _Converter.batchnorm, "activation": _Converter.activation_section,
    "lrn": _Converter.lrn, "sam": _Converter.sam, "scale_channels": _Converter.scale_channels,
    "empty": _Converter.empty,
}


def _input(net: Reader, options: ImportOptions) -> tuple[tuple[int, ...], int, str | None]:
    """The input's per-sample shape, the batch, and a note on Darknet's training batch."""
    unknown = [name for name in options.inputs if name not in ("", "input")]
    if unknown:
        raise SpecError(f"--input {unknown[0]}=...: a Darknet network has one input, 'input'",
                        hint="give --input CxHxW")
    given = options.inputs.get("") or options.inputs.get("input")
    if given is not None:
        shape = tuple(given)
    else:
        sizes = (net.integer("channels", 0), net.integer("height", 0), net.integer("width", 0))
        if all(sizes):
            shape = sizes
        elif net.integer("inputs", 0):
            shape = (net.integer("inputs", 0),)
        else:
            raise net.fail(None, "[net] gives no input size", "set width=, height= and channels=, or give --input "
                                                              "CxHxW")
    note = None
    if options.batch is None and net.has("batch"):
        note = (f"Darknet's [net] batch={net.integer('batch', 1)} (subdivisions={net.integer('subdivisions', 1)}) "
                "is the training batch; the spec counts one image, as Darknet's BFLOPs do "
                "(analyze --batch N for more).")
    return shape, options.batch or 1, note


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec of a Darknet cfg file (see the module's docstring for what each section becomes)."""
    filename = str(path)
    sections = read_cfg(read_text(path), filename)
    if sections[0].kind != "net":
        first = sections[0]
        raise SpecError(f"the first section is [{first.written}], not [net]", mark=Mark(filename, first.line,
                                                                                         first.column),
                        hint="a Darknet cfg starts with [net] (width, height, channels), then the layers")
    _check(sections, filename)
    shape, batch, note = _input(Reader(filename, sections[0]), options)
    builder = SpecBuilder()
    converter = _Converter(filename, builder, builder.add_input("input", shape, batch))
    for section in sections[1:]:
        converter.convert(section)
    if not converter.outputs:
        raise SpecError("the cfg has [net] but no layers", mark=Mark(filename, sections[0].line, 1))
    return builder.spec(path.stem, converter.heads or None, note)
