"""Darknet sections as cnncalc layers: one method per section type, routes, shortcuts and detection heads."""

from __future__ import annotations

import struct
from typing import Any, Callable

from ...layers.base import product
from ..builder import SpecBuilder
from .sections import Reader, Section, repeated_note
from .tables import ACTIVATIONS, APPROXIMATED, HEADS, PREFIX


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
        self.notes: list[str] = []
        self.bflops = 0.0  # Darknet's own Total BFLOPS, summed as it sums them (see count)

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
            readable = f"can only read layers 0 to {here - 1}" if here else "is the first: no layer comes before it"
            itself = " itself" if index == here else ""
            raise self.reader.fail(key, f"{key}: {value} is layer {index}{itself}, but layer {here} {readable}",
                                   "negative numbers count back from this layer")
        return self.outputs[index]

    def activation(self, source: str, default: str) -> str:
        mapped = ACTIVATIONS[self.reader.text("activation", default)]
        if mapped is None:
            return source
        kind, fields = mapped
        written = self.reader.text("activation", default)
        if written in APPROXIMATED and self.comment is None:
            self.comment = f"{self.name(written)}: {APPROXIMATED[written]}"
        return self.add(kind, self.name(written), [source], dict(fields))

    def convert(self, section: Section, converters: dict[str, Callable[[_Converter], str]]) -> None:
        self.reader = Reader(self.filename, section)
        shown = "".join(f" {key}={section.options[key].value}" for key in ("layers", "groups", "group_id", "from")
                        if key in section.options and section.kind in ("route", "shortcut", "sam", "scale_channels"))
        self.comment = f"{section.index}: [{section.written}]{shown} (line {section.line})"
        note = repeated_note(section)
        if note:
            self.notes.append(note)
        if section.kind in HEADS:
            self.outputs.append(self.head(section.kind))
        else:
            self.outputs.append(converters[section.kind](self))

    # -- one method per section type --------------------------------------------------

    def convolutional(self) -> str:
        return self._convolution("conv2d", "conv", "logistic")

    def deconvolutional(self) -> str:
        return self._convolution("conv_transpose2d", "deconv", "logistic")

    def count(self, bflops: float) -> None:
        """Add a layer's BFLOPs to Darknet's total as Darknet does: each a float (layer.bflops), summed in a
        float (parse_network_cfg_custom's `bflops += l.bflops`)."""
        self.bflops = _float32(self.bflops + _float32(bflops))

    def _convolution(self, kind: str, prefix: str, default_activation: str) -> str:
        read = self.reader
        size = read.integer("size", 1, 1)
        stride, _ = read.strides()
        padding = size // 2 if read.integer("pad", 0) else read.integer("padding", 0)
        dilation = read.integer("dilation", 1, 1) if kind == "conv2d" and size > 1 else 1  # size 1: Darknet sets 1
        normalize = read.integer("batch_normalize", 0) != 0
        filters = read.integer("filters", None, 1)
        fields: dict[str, Any] = {"out_channels": filters, "kernel_size": size}
        groups = read.integer("groups", 1, 1)
        # A dilated convolution pads pad*dilation (convolutional_layer.c passes l.pad * l.dilation to cuDNN)
        for key, value, default in (("stride", stride, 1), ("padding", padding * dilation, 0),
                                    ("dilation", dilation, 1), ("groups", groups, 1)):
            if value != default:
                fields[key] = value
        if normalize:
            fields["bias"] = False
        xnor = kind == "conv2d" and read.integer("xnor", 0) != 0
        comment = self.comment
        if xnor:
            self.comment = (f"{comment}: xnor=1, binary weights and inputs; Darknet counts it at 1/32 of these "
                            "float MACs in its BFLOPS")
        source = self.previous
        out = self.add(kind, self.name(prefix), [source], fields)
        if dilation > 1:
            self._check_dilated(source, out, size, padding)
        if kind == "conv2d":
            height, width = self.builder.shape(out)[1:]
            weights = self.builder.shape(source)[0] // groups * filters * size * size
            self.count(2.0 * weights * height * width / 1e9 / (32 if xnor else 1))
        if normalize:
            out = self.add("batchnorm2d", self.name("bn"), [out])
        return self.activation(out, default_activation)

    def _check_dilated(self, source: str, out: str, size: int, padding: int) -> None:
        """Darknet sizes a dilated convolution's output as an undilated one's (convolutional_out_height):
        only where that agrees with what it computes is the layer imported."""
        read = self.reader
        stride_y, stride_x = (read.integer("stride_y", read.integer("stride", 1, 1), 1),
                              read.integer("stride_x", read.integer("stride", 1, 1), 1))
        height, width = self.builder.shape(source)[1:]
        darknet = ((height + 2 * padding - size) // stride_y + 1, (width + 2 * padding - size) // stride_x + 1)
        if self.builder.shape(out)[1:] != darknet:
            raise read.fail("dilation", f"dilation={read.integer('dilation', 1)}: Darknet sizes this output "
                                        f"{darknet[1]}x{darknet[0]} (as without dilation) but computes "
                                        f"{self.builder.shape(out)[2]}x{self.builder.shape(out)[1]}",
                            "use pad=1, with which both agree")

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
        source = self.previous
        out = self.add(kind, self.name(prefix), [source], fields)
        self.count(size * size * product(self.builder.shape(out)) / 1e9)  # maxpool_layer.c: size*size*c*out_h*out_w
        return out

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
        """`add` of equal shapes; Darknet's `shortcut` when they differ (the overlap is added) or weights are
        learned. Darknet counts out_w*out_h*out_c per `from` layer, twice with weights (shortcut_layer.c)."""
        read = self.reader
        sources = [self.previous] + [self.reference("from", value) for value in read.integers("from")]
        weights = {"none": "none", "per_feature": "per_feature", "per_layer": "per_feature",
                   "per_channel": "per_channel"}.get(read.text("weights_type", "none"))
        if weights is None:
            raise read.fail("weights_type", f"weights_type={read.text('weights_type', '')} is not one of none, "
                                            "per_feature, per_channel")
        shapes = [self.builder.shape(source) for source in sources]
        if weights == "none" and all(shape == shapes[0] for shape in shapes):
            out = self.add("add", self.name("shortcut"), sources)
        else:
            fields = {"weights": weights} if weights != "none" else {}
            out = self.add("shortcut", self.name("shortcut"), sources, fields)
        self.count(product(shapes[0]) * (len(sources) - 1) / 1e9 * (2 if weights != "none" else 1))
        return self.activation(out, "linear")

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


def _float32(value: float) -> float:
    """`value` rounded to a C float, as Darknet keeps its BFLOPs."""
    rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    return rounded


BASIC_CONVERTERS: dict[str, Callable[[_Converter], str]] = {
    "convolutional": _Converter.convolutional, "deconvolutional": _Converter.deconvolutional,
    "maxpool": _Converter.maxpool, "local_avgpool": _Converter.local_avgpool, "avgpool": _Converter.avgpool,
    "route": _Converter.route, "shortcut": _Converter.shortcut, "upsample": _Converter.upsample,
    "connected": _Converter.connected, "dropout": _Converter.dropout, "softmax": _Converter.softmax,
    "cost": _Converter.cost, "batchnorm": _Converter.batchnorm, "activation": _Converter.activation_section,
    "lrn": _Converter.lrn, "sam": _Converter.sam, "scale_channels": _Converter.scale_channels,
    "empty": _Converter.empty,
}
