"""PyTorch modules as cnncalc specs: `cnncalc import torch:package.module:factory` and
`cnncalc.from_torch(module, input_shape)`.

The module is recorded by torch_trace (torch.fx, else a fake-tensor run with hooks), then
every call becomes a spec layer:

- Leaf modules map by type: nn.Conv1d/2d/3d and ConvTranspose*, Linear, BatchNorm*,
  pooling (windowed, adaptive, and adaptive to 1 = global), LayerNorm, GroupNorm,
  InstanceNorm*, LocalResponseNorm, the activations, Dropout*, Flatten / Unflatten,
  Upsample, PixelShuffle, ChannelShuffle, the padding modules, Identity (no layer), and
  the helper modules of cnncalc.torch (Add, Concat, Reshape, Slice, Scale ...).
- Functions and tensor methods between them map by name: + - * (add, sub, mul; with a
  plain number, an identity with a comment; with a per-channel parameter, a scale or
  the bias of the layer before), cat, flatten / view / reshape / squeeze / unsqueeze
  (a reshape from the shapes PyTorch computed), permute / transpose, relu and the other
  activations, adaptive / windowed pooling, mean over the spatial axes (global
  pooling), interpolate, pad, dropout, chunk / split and slicing (slices), F.linear /
  F.conv with parameters.
- Anything else is listed, all at once, in one error naming each call.

Every layer's output shape, as cnncalc computes it, is checked against the shape
PyTorch computed; a difference is an error (it would be a cnncalc defect).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..errors import SpecError
from ..layers.base import product
from .builder import SpecBuilder, Where
from .common import compact, drop, entry, fold_bias, is_per_channel, is_scalar, padding_field
from .torch_trace import INPUT, Call, Const, Ref, TraceFailed, input_names, record

if TYPE_CHECKING:
    from . import ImportOptions

Shape = tuple[int, ...]
PREFIX = "torch:"


class Unsupported(Exception):
    """A call with no cnncalc layer: what it is and, optionally, what would be accepted."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


def to_spec(source: str, options: ImportOptions) -> dict[str, Any]:
    """The spec of the module `torch:package.module:factory` returns (the factory is called with no arguments)."""
    module, name = load_factory(source)
    return convert(module, dict(options.inputs), options.batch, name, source)


def from_torch(module: nn.Module, input_shape: Any = None, *, batch: int = 1,
               name: str | None = None) -> dict[str, Any]:
    """The spec (a dict, see cnncalc.importers) of a PyTorch module, for `cnncalc.analyze`'s reader.

    `input_shape` is one sample's shape, channels first (`(3, 224, 224)`), or a mapping of
    forward's input names to shapes; a module built by cnncalc.torch knows its own.
    """
    if input_shape is None:
        inputs: dict[str, Shape] = {}
    elif isinstance(input_shape, Mapping):
        inputs = {str(key): tuple(int(size) for size in value) for key, value in input_shape.items()}
    else:
        inputs = {"": tuple(int(size) for size in input_shape)}
    label = name or str(getattr(module, "spec_name", type(module).__name__))
    return convert(module, inputs, batch, label, label)


def load_factory(source: str) -> tuple[nn.Module, str]:
    """Import `package.module`, call `factory()`; the current directory is importable, as with `python -m`."""
    text = source[len(PREFIX):] if source.startswith(PREFIX) else source
    module_name, _, attribute = text.partition(":")
    if not module_name or not attribute:
        raise SpecError(f"{source}: expected torch:package.module:factory",
                        hint="e.g. torch:torchvision.models:resnet18 or torch:mymodels:build")
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError(f"{source}: cannot import {module_name}: {error}",
                        hint="run from the directory that holds it, or install its package") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise SpecError(f"{source}: {module_name} has no '{attribute}'", hint="name a function or class in it")
        found = getattr(found, part)
    if not callable(found):
        raise SpecError(f"{source}: '{attribute}' is not callable", hint="name a function returning a module")
    try:
        module = found()
    except Exception as error:
        raise SpecError(f"{source}: {attribute}() raised {type(error).__name__}: {error}",
                        hint="the factory is called with no arguments") from None
    if not isinstance(module, nn.Module):
        raise SpecError(f"{source}: {attribute}() returned {type(module).__name__}, not a torch.nn.Module")
    return module, attribute.split(".")[-1]


def convert(module: nn.Module, inputs: dict[str, Shape], batch: int | None, name: str, label: str) -> dict[str, Any]:
    names = input_names(module)
    shapes = _input_shapes(module, names, inputs, label)
    known = getattr(module, "input_shapes", None)  # a cnncalc.torch Network keeps its spec's batch
    known_batch = next(iter(known.values()))[0] if isinstance(known, Mapping) and known else 1
    spec_batch = batch or known_batch
    try:
        calls, outputs, recorder = record(module, shapes, spec_batch, is_leaf)
    except TraceFailed as error:
        raise SpecError(f"{label}: running the module on inputs "
                        f"{', '.join('x'.join(map(str, shape)) for shape in shapes)} failed: {error}",
                        hint="give the input shape it takes: --input CxHxW") from None
    converter = _Converter(label, spec_batch, calls)
    converter.run()
    result = converter.spec(name, outputs, recorder)
    return result


def _input_shapes(module: nn.Module, names: list[str], inputs: dict[str, Shape], label: str) -> list[Shape]:
    known = getattr(module, "input_shapes", None)  # a cnncalc.torch Network: batch first
    defaults: dict[str, Shape] = {}
    if isinstance(known, Mapping):
        defaults = {str(key): tuple(value)[1:] for key, value in known.items()}
    for key in inputs:
        if key and key not in names:
            raise SpecError(f"{label}: --input {key}=...: forward takes {', '.join(names)}",
                            hint="name one of forward's inputs")
    if "" in inputs and len(names) > 1:
        raise SpecError(f"{label}: forward takes {', '.join(names)}", hint="name the one --input sets: NAME=3x224x224")
    shapes = []
    for position, input_name in enumerate(names):
        shape = inputs.get(input_name) or (inputs.get("") if len(names) == 1 else None) or defaults.get(input_name)
        if shape is None:
            raise SpecError(f"{label}: the shape of input '{input_name}' is not known",
                            hint=f"give one sample's shape: --input {input_name}=3x224x224 "
                                 "(from Python: cnncalc.from_torch(module, (3, 224, 224)))")
        if not 1 <= len(shape) <= 4:
            raise SpecError(f"{label}: input '{input_name}' {list(shape)} has {len(shape)} axes per sample",
                            hint="cnncalc takes 1 to 4: [F], [C, L], [C, H, W] or [C, D, H, W]")
        shapes.append(tuple(shape))
    return shapes


class _Poisoned(Exception):
    """A call reading the result of a call that could not be converted (already reported)."""


POISON = object()


class _Converter:
    def __init__(self, label: str, batch: int, calls: list[Call]) -> None:
        self.label = label
        self.batch = batch
        self.calls = calls
        self.builder = SpecBuilder()
        self.values: dict[int, Any] = {}  # call index -> spec name, or list of names (a tuple result)
        self.makers: dict[str, int] = {}  # spec name -> index of the call that made it
        self.pads: dict[str, tuple[str, list[tuple[int, int]], float, str]] = {}  # pad layer -> source, pairs...
        self.call = Call("", INPUT, (), {}, None)  # the call being converted, for names and errors

    # -- running ----------------------------------------------------------------------

    def run(self) -> None:
        problems: list[str] = []
        for index, call in enumerate(self.calls):
            self.call = call
            if call.target == INPUT:
                self.values[index] = self.builder.add_input(call.name, tuple(call.result.shape[1:]), self.batch)
                continue
            try:
                value = self.convert(call)
            except _Poisoned:
                if self.handler(call) is None:
                    problems.append(f"'{call.name}' ({describe(call.target)})")
                value = POISON
            except Unsupported as error:
                problems.append(f"'{call.name}' ({describe(call.target)}): {error.what}")
                value = POISON
            self.values[index] = value
            if isinstance(value, str) and value not in self.makers:
                self.makers[value] = index
        if problems:
            count = len(problems)
            raise SpecError(f"{self.label}: {count} call{'s' if count > 1 else ''} cnncalc cannot map: "
                            + "; ".join(problems),
                            hint="cnncalc maps the torch.nn layers of CNNs and the functions between them "
                                 "(see the README's 'Importing models')")

    def spec(self, name: str, outputs: list[Any], recorder: str) -> dict[str, Any]:
        names: list[str] = []
        for output in outputs:
            if not isinstance(output, Ref):
                raise SpecError(f"{self.label}: an output is not computed from the inputs ({describe(output)})")
            value = self.value(output)
            if value not in names:
                names.append(value)
        description = f"PyTorch module, recorded with {'torch.fx' if recorder == 'fx' else 'forward hooks'}"
        return self.builder.spec(name, names, description)

    def handler(self, call: Call) -> Callable[[_Converter, Call], Any] | None:
        if isinstance(call.target, nn.Module):
            for cls in type(call.target).__mro__:
                if cls in MODULES:
                    return MODULES[cls]
                if cls.__module__ == "cnncalc.torch.modules" and cls.__name__ in HELPERS:
                    return HELPERS[cls.__name__]
            return None
        return FUNCTIONS.get(str(call.target))

    def convert(self, call: Call) -> Any:
        for ref in _all_refs((call.args, call.kwargs)):
            if self.values.get(ref.index) is POISON:
                raise _Poisoned()
        handler = self.handler(call)
        if handler is None:
            raise Unsupported("no cnncalc layer type")
        value = handler(self, call)
        self.check_shape(call, value)
        return value

    def check_shape(self, call: Call, value: Any) -> None:
        """cnncalc's output shape against PyTorch's: a difference is a cnncalc (or importer) defect."""
        if not isinstance(value, str) or not isinstance(call.result, torch.Tensor):
            return
        theirs = tuple(call.result.shape)
        ours = (self.batch, *self.builder.shape(value))
        if theirs != ours:
            raise SpecError(f"{self.label}: '{call.name}' ({describe(call.target)}): cnncalc computes "
                            f"{list(ours)}, PyTorch {list(theirs)}",
                            hint="a cnncalc defect: please report it with the module")

    # -- helpers -----------------------------------------------------------------------

    def value(self, ref: Ref) -> str:
        found = self.values[ref.index]
        if ref.item is not None:
            found = found[ref.item]
        if not isinstance(found, str):
            raise Unsupported("reads a tuple of tensors as one tensor")
        return found

    def source(self, call: Call, position: int = 0, keyword: str = "input") -> str:
        item = self.arg(call, position, keyword)
        if not isinstance(item, Ref):
            raise Unsupported(f"argument {position} is {describe(item)}, not a tensor computed from the inputs")
        return self.value(item)

    @staticmethod
    def arg(call: Call, position: int, keyword: str, default: Any = None) -> Any:
        if len(call.args) > position:
            return call.args[position]
        return call.kwargs.get(keyword, default)

    def shape(self, name: str) -> Shape:
        return self.builder.shape(name)

    def full(self, name: str) -> Shape:
        return (self.batch, *self.shape(name))

    def add(self, kind: str, sources: list[str], fields: dict[str, Any], comment: str | None = None) -> str:
        call = self.call
        fields = {key: value for key, value in fields.items() if value is not None}
        where = Where(None, (call.name, describe(call.target)))
        try:
            return self.builder.add(kind, call.name, sources, fields, where, comment)
        except SpecError as error:
            raise SpecError(f"{self.label}: {error}", hint=error.hint) from None

    def dim(self, dim: int, rank: int) -> int:
        """A PyTorch dim (batch = 0) as a spec dim (channels = 0)."""
        if not -rank <= dim < rank:
            raise Unsupported(f"dim {dim} is out of range for {rank} axes")
        dim %= rank
        if dim == 0:
            raise Unsupported("acts on the batch axis", "cnncalc's layers act on each sample")
        return dim - 1

    def users(self, name: str) -> int:
        index = self.makers.get(name)
        return self.calls[index].users if index is not None else 2

    def reshaped(self, source: str, result: Any) -> str:
        """The layer turning `source` into PyTorch's result shape: none, flatten or reshape."""
        full = tuple(result.shape)
        if not full or full[0] != self.batch:
            raise Unsupported(f"the result {list(full)} does not keep the batch ({self.batch}) first",
                              "cnncalc's layers reshape each sample")
        shape = full[1:]
        if shape == self.shape(source):
            return source
        if not shape:
            raise Unsupported(f"the result {list(full)} leaves no axis per sample")
        if len(shape) == 1:
            return self.add("flatten", [source], {})
        return self.add("reshape", [source], {"shape": list(shape)})

    def slices(self, source: str, bounds: list[tuple[int, int, int]]) -> str:
        """(axis with batch = 0, start, end) of the axes kept in part, one slice layer each."""
        for axis, start, end in bounds:
            size = self.full(source)[axis]
            begin, stop, step = slice(start, end).indices(size)
            if step != 1:
                raise Unsupported("a slice with a step", "cnncalc's slice takes every element")
            if begin == 0 and stop == size:
                continue
            dim = self.dim(axis, len(self.full(source)))
            source = self.add("slice", [source], {"dim": dim or None, "start": begin or None,
                                                  "end": stop if stop != size else None})
        return source

    def take_pad(self, source: str, accept: Callable[[list[tuple[int, int]], float, str], bool]
                 ) -> tuple[str, list[tuple[int, int]]] | None:
        """The pad layer making `source`, removed, when only the next layer reads it and `accept` says it folds."""
        record = self.pads.get(source)
        if record is None or self.users(source) != 1:
            return None
        origin, pairs, value, mode = record
        if not accept(pairs, value, mode):
            return None
        layer = entry(self.builder, source)
        if layer is not None:
            drop(self.builder, layer)
        del self.pads[source]
        return origin, pairs

    # -- modules ------------------------------------------------------------------------

    def conv_module(self, call: Call) -> str:
        module = _module(call)
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        return self.convolution(self.source(call), transposed, tuple(module.weight.shape), module.bias is not None,
                                module.stride, module.padding, module.dilation, module.groups,
                                module.output_padding if transposed else None)

    def convolution(self, source: str, transposed: bool, weight: Shape, bias: bool, stride: Any, padding: Any,
                    dilation: Any, groups: int, output_padding: Any) -> str:
        rank = len(weight) - 2
        kernel = list(weight[2:])
        out_channels = weight[1] * groups if transposed else weight[0]
        strides = [stride] * rank if isinstance(stride, int) else list(stride)
        dilations = [dilation] * rank if isinstance(dilation, int) else list(dilation)
        if isinstance(padding, str):
            padding_value: Any = padding if padding == "same" else None
        else:
            pads = [padding] * rank if isinstance(padding, int) else list(padding)
            pairs = [(int(pad), int(pad)) for pad in pads]
            if not transposed:
                folded = self.take_pad(source, lambda extra, value, mode: mode == "constant" and value == 0)
                if folded is not None:
                    source = folded[0]
                    pairs = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, folded[1])]
            padding_value = padding_field(pairs)
        fields: dict[str, Any] = {"out_channels": out_channels, "kernel_size": compact(kernel),
                                  "stride": compact(strides) if set(strides) != {1} else None,
                                  "padding": padding_value}
        if transposed:
            extra = [output_padding] * rank if isinstance(output_padding, int) else list(output_padding)
            fields["output_padding"] = compact(extra) if set(extra) != {0} else None
        fields.update({"dilation": compact(dilations) if set(dilations) != {1} else None,
                       "groups": groups if groups != 1 else None, "bias": None if bias else False})
        return self.add(f"conv_transpose{rank}d" if transposed else f"conv{rank}d", [source], fields)

    def linear_module(self, call: Call) -> str:
        module = _module(call)
        if isinstance(module.weight, nn.parameter.UninitializedParameter):
            raise Unsupported("an uninitialized lazy module", "run the module once before importing it")
        return self.linear(self.source(call), tuple(module.weight.shape), module.bias is not None)

    def linear(self, source: str, weight: Shape, bias: bool) -> str:
        if len(weight) != 2:
            raise Unsupported(f"weight {list(weight)} is not a matrix")
        return self.add("linear", [source], {"out_features": weight[0], "bias": None if bias else False,
                                             "in_features": weight[1]})

    def batchnorm_module(self, call: Call) -> str:
        module = _module(call)
        source = self.source(call)
        fields = {"affine": None if module.affine else False,
                  "track_running_stats": None if module.track_running_stats else False}
        if isinstance(module, nn.modules.instancenorm._InstanceNorm):
            rank = len(self.shape(source)) - 1
            return self.add(f"instancenorm{rank}d", [source], {
                "affine": True if module.affine else None,
                "track_running_stats": True if module.track_running_stats else None})
        return self.add(f"batchnorm{max(len(self.shape(source)) - 1, 1)}d", [source], fields)

    def pool_module(self, call: Call) -> str:
        module = _module(call)
        is_max = isinstance(module, nn.modules.pooling._MaxPoolNd)
        rank = len(self.shape(self.source(call))) - 1
        return self.pool(self.source(call), is_max, rank, module.kernel_size, module.stride, module.padding,
                         getattr(module, "dilation", 1), module.ceil_mode, getattr(module, "count_include_pad", True))

    def pool(self, source: str, is_max: bool, rank: int, kernel: Any, stride: Any, padding: Any, dilation: Any,
             ceil_mode: bool, include_pad: bool) -> str:
        def per_axis(value: Any) -> list[int]:
            return [int(value)] * rank if isinstance(value, int) else [int(item) for item in value]

        kernels = per_axis(kernel)
        strides = per_axis(stride) if stride not in (None, [], ()) else kernels
        pairs = [(pad, pad) for pad in per_axis(padding)]

        def folds(extra: list[tuple[int, int]], value: float, mode: str) -> bool:
            total = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, extra)]
            if ceil_mode or mode != "constant" or any(max(pair) > k // 2 for pair, k in zip(total, kernels)):
                return False
            return value == float("-inf") if is_max else (value == 0 and (include_pad or not any(pad for pad, _ in
                                                                                                  pairs)))

        folded = self.take_pad(source, folds)
        if folded is not None:
            source = folded[0]
            pairs = [(b + pb, e + pe) for (b, e), (pb, pe) in zip(pairs, folded[1])]
            include_pad = True
        dilations = per_axis(dilation)
        fields: dict[str, Any] = {"kernel_size": compact(kernels),
                                  "stride": compact(strides) if strides != kernels else None,
                                  "padding": padding_field(pairs)}
        if is_max:
            fields["dilation"] = compact(dilations) if set(dilations) != {1} else None
        fields["ceil_mode"] = True if ceil_mode else None
        if not is_max and fields["padding"] is not None and not include_pad:
            fields["count_include_pad"] = False
        return self.add(f"{'max' if is_max else 'avg'}pool{rank}d", [source], fields)

    def adaptive(self, call: Call, is_max: bool | None = None) -> str:
        source = self.source(call)
        if is_max is None:
            is_max = "Max" in type(call.target).__name__
        out = tuple(call.result.shape[2:])
        if out and set(out) == {1}:
            return self.add("global_maxpool" if is_max else "global_avgpool", [source], {})
        rank = len(out)
        return self.add(f"adaptive_{'max' if is_max else 'avg'}pool{rank}d", [source], {"output_size": compact(out)})

    def layernorm_module(self, call: Call) -> str:
        module = _module(call)
        source = self.source(call)
        affine = module.elementwise_affine
        comment = None
        if affine and module.bias is None:
            comment = "bias=False: cnncalc counts a weight and a bias"
        if type(module).__name__ == "ChannelLayerNorm":
            return self.add("layernorm", [source], {"affine": None if affine else False}, comment)
        shape = list(module.normalized_shape)
        return self.add("layernorm", [source], {"normalized_shape": compact(shape) if len(shape) > 1 else shape[0],
                                                "affine": None if affine else False}, comment)

    def groupnorm_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("groupnorm", [self.source(call)], {"num_groups": module.num_groups,
                                                            "affine": None if module.affine else False})

    def lrn_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("lrn", [self.source(call)], {"size": module.size, "alpha": float(module.alpha),
                                                      "beta": float(module.beta), "k": float(module.k)})

    def activation_module(self, call: Call) -> str:
        module = call.target
        source = self.source(call)
        if isinstance(module, nn.ReLU6):
            return self.add("relu6", [source], {})
        if isinstance(module, nn.Hardtanh):
            return self.clamp(source, module.min_val, module.max_val)
        if isinstance(module, nn.LeakyReLU):
            return self.add("leaky_relu", [source], {"negative_slope": float(module.negative_slope)})
        if isinstance(module, nn.ELU):
            return self.add("elu", [source], {"alpha": float(module.alpha)})
        if isinstance(module, nn.PReLU):
            return self.add("prelu", [source], {"num_parameters": module.num_parameters
                                                if module.num_parameters != 1 else None})
        if isinstance(module, nn.GELU):
            return self.add("gelu", [source], {"approximate": module.approximate
                                               if module.approximate != "none" else None})
        if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
            if module.dim is None:
                raise Unsupported("softmax without dim", "give nn.Softmax its dim")
            kind = "softmax" if isinstance(module, nn.Softmax) else "log_softmax"
            return self.add(kind, [source], {"dim": self.dim(module.dim, len(self.full(source))) or None})
        return self.add(ACTIVATION_MODULES[type(module)], [source], {})

    def clamp(self, source: str, low: Any, high: Any) -> str:
        if low == 0 and high == 6:
            return self.add("relu6", [source], {})
        if low == 0 and high is None:
            return self.add("relu", [source], {})
        raise Unsupported(f"clamp to [{low}, {high}] has no layer type", "cnncalc maps [0, 6] (relu6), [0, inf) (relu)")

    def passthrough(self, call: Call) -> str:
        return self.source(call)

    def dropout(self, call: Call) -> str:
        return self.add("dropout", [self.source(call)], {})

    def shaped(self, call: Call) -> str:
        return self.reshaped(self.source(call), call.result)

    def upsample_module(self, call: Call) -> str:
        module = _module(call)
        return self.upsample(self.source(call), module.size, module.scale_factor, module.mode)

    def upsample(self, source: str, size: Any, scale_factor: Any, mode: str) -> str:
        rank = len(self.shape(source)) - 1
        if mode == "linear":
            mode = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(rank, mode)
        if mode not in ("nearest", "linear", "bilinear", "bicubic", "trilinear"):
            raise Unsupported(f"mode '{mode}'", "nearest, linear, bilinear, bicubic, trilinear")
        fields: dict[str, Any] = {"mode": mode if mode != "nearest" else None}
        if size is not None:
            fields["size"] = compact([int(item) for item in size]) if not isinstance(size, int) else size
        else:
            fields["scale_factor"] = compact([float(item) for item in scale_factor]) \
                if isinstance(scale_factor, (tuple, list)) else float(scale_factor)
        return self.add("upsample", [source], fields)

    def pixel_shuffle_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("pixel_shuffle", [self.source(call)], {"upscale_factor": module.upscale_factor})

    def channel_shuffle_module(self, call: Call) -> str:
        module = _module(call)
        return self.add("channel_shuffle", [self.source(call)], {"groups": module.groups})

    def pad_module(self, call: Call) -> str:
        module = _module(call)
        name = type(module).__name__
        mode = ("reflect" if "Reflection" in name else "replicate" if "Replication" in name
                else "circular" if "Circular" in name else "constant")
        return self.pad(self.source(call), tuple(module.padding), mode, float(getattr(module, "value", 0.0)))

    def pad(self, source: str, padding: tuple[int, ...], mode: str, value: float) -> str:
        """F.pad's (left, right, top, bottom, ...): the last axis first."""
        rank = len(self.shape(source)) - 1
        if len(padding) % 2 or len(padding) // 2 > rank:
            raise Unsupported(f"padding {list(padding)} pads more than the {rank} spatial axes")
        pairs = [(0, 0)] * (rank - len(padding) // 2) + [
            (int(padding[2 * axis]), int(padding[2 * axis + 1])) for axis in reversed(range(len(padding) // 2))]
        if min(min(pair) for pair in pairs) < 0:
            raise Unsupported("negative padding (cropping)", "cnncalc pads with zeros or more")
        name = self.add("pad", [source], {"padding": padding_field(pairs) or 0, "mode": None if mode == "constant"
                                          else mode, "value": value if mode == "constant" and value else None})
        self.pads[name] = (source, pairs, value, mode)
        return name

    # -- cnncalc.torch's own helper modules -----------------------------------------------

    def merge_module(self, call: Call) -> str:
        kind = type(call.target).__name__.lower()
        sources = [self.value(item) for item in call.args if isinstance(item, Ref)]
        if kind == "concat":
            return self.add("concat", sources, {"dim": self.dim(_module(call).dim, len(self.full(sources[0]))) or None})
        return self.add(kind, sources, {})

    def permute_module(self, call: Call) -> str:
        return self.permute(self.source(call), list(_module(call).dims))

    def slice_module(self, call: Call) -> str:
        module = _module(call)
        return self.slices(self.source(call), [(module.dim, module.start, module.end)])

    def crop_module(self, call: Call) -> str:
        source = self.source(call)
        full = self.full(source)
        return self.slices(source, [(axis, begin, full[axis] - end)
                                    for axis, (begin, end) in enumerate(_module(call).crops, start=2)])

    def scale_module(self, call: Call) -> str:
        return self.add("scale", [self.source(call)], {"bias": True if _module(call).bias is not None else None})

    def upsample_like_module(self, call: Call) -> str:
        sources = [self.value(item) for item in call.args if isinstance(item, Ref)]
        mode = _module(call).mode
        return self.add("upsample", sources, {"mode": mode if mode != "nearest" else None})

    # -- functions and methods --------------------------------------------------------------

    def elementwise(self, call: Call) -> str:
        name = str(call.target).strip("_")
        reverse = name.startswith("r") and name[1:] in ("add", "sub", "mul", "truediv", "div")
        kind = {"add": "add", "iadd": "add", "sub": "sub", "isub": "sub", "subtract": "sub", "rsub": "sub",
                "mul": "mul", "imul": "mul", "multiply": "mul", "radd": "add", "rmul": "mul"}.get(name, "div")
        first = self.arg(call, 0, "input")
        second = self.arg(call, 1, "other")
        if reverse:
            first, second = second, first
        if isinstance(first, Ref) and isinstance(second, Ref):
            if kind == "div":
                raise Unsupported("division of two tensors has no layer type", "cnncalc has add, sub and mul")
            return self.add(kind, [self.value(first), self.value(second)], {})
        constant_first = not isinstance(first, Ref)
        tensor, constant = (second, first) if constant_first else (first, second)
        if not isinstance(tensor, Ref):
            raise Unsupported("no operand is computed from the inputs")
        source = self.value(tensor)
        shape = constant.shape if isinstance(constant, Const) else ()
        if isinstance(constant, (int, float)) or (isinstance(constant, Const) and is_scalar(shape)):
            number = constant if isinstance(constant, (int, float)) else float(constant.tensor.reshape(-1)[0]) \
                if not constant.tensor.is_meta and not _is_fake(constant.tensor) else "a constant"
            return self.add("identity", [source], {}, comment=f"{kind} by {number}: no layer type; counted as an "
                                                                "identity (no parameters, no MACs)")
        if not isinstance(constant, Const) or not is_per_channel(self.builder, source, shape, self.batch) or (
                constant_first and kind in ("sub", "div")):
            raise Unsupported(f"{kind} with a constant of shape {list(shape)} on a tensor {list(self.full(source))}",
                              "cnncalc maps a number (identity) and a per-channel parameter (scale, or the bias of "
                              "the layer before)")
        if kind in ("mul", "div"):
            return self.add("scale", [source], {}, comment="a per-channel multiply by a parameter or buffer")
        if self.users(source) == 1 and fold_bias(self.builder, source):
            return source
        raise Unsupported("a per-channel add that is not the bias of the layer before",
                          "cnncalc folds it into a convolution, linear or scale without a bias that only it reads")

    def cat(self, call: Call) -> str:
        tensors = self.arg(call, 0, "tensors")
        dim = self.arg(call, 1, "dim", 0)
        sources = [self.value(item) for item in tensors] if all(isinstance(item, Ref) for item in tensors) else None
        if sources is None:
            raise Unsupported("concatenates a constant", "cnncalc concatenates tensors computed from the inputs")
        return self.add("concat", sources, {"dim": self.dim(int(dim), len(self.full(sources[0]))) or None})

    def permute_call(self, call: Call) -> str:
        source = self.source(call)
        rank = len(self.full(source))
        name = str(call.target)
        if name in ("transpose", "swapaxes", "swapdims"):
            first, second = (int(self.arg(call, 1, "dim0")) % rank, int(self.arg(call, 2, "dim1")) % rank)
            order = list(range(rank))
            order[first], order[second] = order[second], order[first]
        else:
            dims = [item for item in call.args[1:]] or list(call.kwargs.get("dims", []))
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = list(dims[0])
            order = [int(item) % rank for item in dims]
        if order[0] != 0:
            raise Unsupported(f"moves the batch axis (order {order})", "cnncalc permutes the axes of each sample")
        return self.permute(source, [item - 1 for item in order[1:]]) if order != list(range(rank)) else source

    def permute(self, source: str, dims: list[int]) -> str:
        return self.add("permute", [source], {"dims": dims})

    def activation_call(self, call: Call) -> str:
        name = str(call.target).rstrip("_")
        source = self.source(call)
        if name in ("softmax", "log_softmax"):
            dim = self.arg(call, 1, "dim")
            if dim is None:
                raise Unsupported("softmax without dim", "give its dim")
            return self.add(name, [source], {"dim": self.dim(int(dim), len(self.full(source))) or None})
        if name == "leaky_relu":
            return self.add(name, [source], {"negative_slope": float(self.arg(call, 1, "negative_slope", 0.01))})
        if name == "elu":
            return self.add(name, [source], {"alpha": float(self.arg(call, 1, "alpha", 1.0))})
        if name in ("hardtanh", "clamp", "clip"):
            low = self.arg(call, 1, "min_val" if name == "hardtanh" else "min", -1.0 if name == "hardtanh" else None)
            high = self.arg(call, 2, "max_val" if name == "hardtanh" else "max", 1.0 if name == "hardtanh" else None)
            return self.clamp(source, low, high)
        if name == "gelu":
            approximate = call.kwargs.get("approximate", "none")
            return self.add("gelu", [source], {"approximate": approximate if approximate != "none" else None})
        return self.add(FUNCTION_ACTIVATIONS[name], [source], {})

    def adaptive_call(self, call: Call) -> str:
        return self.adaptive(call, "max" in str(call.target))

    def pool_call(self, call: Call) -> str:
        name = str(call.target)
        source = self.source(call)
        rank = len(self.shape(source)) - 1
        is_max = name.startswith("max")
        kernel = self.arg(call, 1, "kernel_size")
        stride = self.arg(call, 2, "stride")
        padding = self.arg(call, 3, "padding", 0)
        if is_max:
            dilation, ceil_mode = self.arg(call, 4, "dilation", 1), self.arg(call, 5, "ceil_mode", False)
            include_pad = True
        else:
            dilation, ceil_mode = 1, self.arg(call, 4, "ceil_mode", False)
            include_pad = self.arg(call, 5, "count_include_pad", True)
        return self.pool(source, is_max, rank, kernel, stride, padding, dilation, bool(ceil_mode), bool(include_pad))

    def mean(self, call: Call) -> str:
        source = self.source(call)
        rank = len(self.full(source))
        dims = self.arg(call, 1, "dim")
        dims = [dims] if isinstance(dims, int) else list(dims or [])
        if sorted(int(dim) % rank for dim in dims) != list(range(2, rank)):
            raise Unsupported(f"{call.target} over dims {dims}: no layer type",
                              "cnncalc maps a mean or max over every spatial axis (global pooling)")
        kind = "global_maxpool" if "max" in str(call.target) else "global_avgpool"
        pooled = self.add(kind, [source], {})
        return self.reshaped(pooled, call.result) if tuple(call.result.shape[1:]) != self.shape(pooled) else pooled

    def interpolate(self, call: Call) -> str:
        source = self.source(call)
        size = self.arg(call, 1, "size")
        scale = self.arg(call, 2, "scale_factor")
        mode = self.arg(call, 3, "mode", "nearest")
        if size is None and scale is None:
            raise Unsupported("neither size nor scale_factor")
        return self.upsample(source, size, scale, mode)

    def pad_call(self, call: Call) -> str:
        mode = self.arg(call, 2, "mode", "constant")
        value = self.arg(call, 3, "value", 0.0)
        return self.pad(self.source(call), tuple(self.arg(call, 1, "pad")), mode, float(value or 0.0))

    def pieces(self, call: Call) -> list[str]:
        """chunk / split: one slice per piece, from the pieces' shapes PyTorch computed."""
        source = self.source(call)
        rank = len(self.full(source))
        dim = int(self.arg(call, 2, "dim", 0)) % rank
        names, start = [], 0
        for piece in call.result:
            size = int(piece.shape[dim])
            names.append(self.slices(source, [(dim, start, start + size)]))
            start += size
        return names

    def getitem(self, call: Call) -> Any:
        item = self.arg(call, 0, "input")
        index = self.arg(call, 1, "index")
        if isinstance(item, Ref) and isinstance(self.values[item.index], list) and item.item is None:
            return self.values[item.index][index]
        source = self.source(call)
        rank = len(self.full(source))
        parts = list(index) if isinstance(index, tuple) else [index]
        if Ellipsis in parts:
            at = parts.index(Ellipsis)
            parts = parts[:at] + [slice(None)] * (rank - len(parts) + 1) + parts[at + 1:]
        if any(not isinstance(part, slice) for part in parts):
            raise Unsupported(f"indexing with {describe(index)}", "cnncalc slices with start:end on each axis")
        if parts and parts[0] != slice(None):
            raise Unsupported("slices the batch axis", "cnncalc's slice acts on each sample")
        full = self.full(source)
        bounds = []
        for axis, part in enumerate(parts):
            if part.step not in (None, 1):
                raise Unsupported("a slice with a step", "cnncalc's slice takes every element")
            if part != slice(None):
                bounds.append((axis, part.start or 0, part.stop if part.stop is not None else full[axis]))
        return self.slices(source, bounds)

    def pixel_shuffle_call(self, call: Call) -> str:
        return self.add("pixel_shuffle", [self.source(call)], {"upscale_factor": int(self.arg(call, 1,
                                                                                             "upscale_factor"))})

    def channel_shuffle_call(self, call: Call) -> str:
        return self.add("channel_shuffle", [self.source(call)], {"groups": int(self.arg(call, 1, "groups"))})

    def functional_linear(self, call: Call) -> str:
        weight = self.arg(call, 1, "weight")
        bias = self.arg(call, 2, "bias")
        if not isinstance(weight, Const):
            raise Unsupported("the weight is computed", "cnncalc maps F.linear with a parameter")
        return self.linear(self.source(call), weight.shape, bias is not None)

    def functional_conv(self, call: Call) -> str:
        weight = self.arg(call, 1, "weight")
        if not isinstance(weight, Const):
            raise Unsupported("the weight is computed", "cnncalc maps F.conv with a parameter")
        return self.convolution(self.source(call), False, weight.shape, self.arg(call, 2, "bias") is not None,
                                self.arg(call, 3, "stride", 1), self.arg(call, 4, "padding", 0),
                                self.arg(call, 5, "dilation", 1), int(self.arg(call, 6, "groups", 1)), None)

    def functional_layer_norm(self, call: Call) -> str:
        shape = list(self.arg(call, 1, "normalized_shape"))
        affine = self.arg(call, 2, "weight") is not None
        return self.add("layernorm", [self.source(call)], {
            "normalized_shape": compact(shape) if len(shape) > 1 else shape[0], "affine": None if affine else False})


def _module(call: Call) -> Any:
    """The module a call ran (its handler knows the type)."""
    return call.target


def _is_fake(tensor: Any) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    return isinstance(tensor, FakeTensor)


def _all_refs(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, (tuple, list)):
        return [ref for item in value for ref in _all_refs(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _all_refs(item)]
    return []


def describe(value: Any) -> str:
    """A call's target or an argument, as an error names it: Conv2d, relu, a tensor of 3x4."""
    if isinstance(value, nn.Module):
        return type(value).__name__
    if isinstance(value, Const):
        return f"a constant of shape {list(value.shape)}"
    if isinstance(value, Ref):
        return "a tensor"
    return str(value)


def is_leaf(module: nn.Module) -> bool:
    """Modules recorded whole: those a handler maps (the helpers of cnncalc.torch included)."""
    for cls in type(module).__mro__:
        if cls in MODULES or (cls.__module__ == "cnncalc.torch.modules" and cls.__name__ in HELPERS):
            return True
    return False


Handler = Callable[[_Converter, Call], Any]

ACTIVATION_MODULES: dict[type, str] = {
    nn.ReLU: "relu", nn.SELU: "selu", nn.SiLU: "silu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
    nn.Hardsigmoid: "hardsigmoid", nn.Hardswish: "hardswish", nn.Mish: "mish",
}

MODULES: dict[type, Handler] = {
    **{cls: _Converter.conv_module for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                                               nn.ConvTranspose2d, nn.ConvTranspose3d)},
    nn.Linear: _Converter.linear_module,
    **{cls: _Converter.batchnorm_module for cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
                                                    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)},
    **{cls: _Converter.pool_module for cls in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d,
                                               nn.AvgPool3d)},
    **{cls: _Converter.adaptive for cls in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                                            nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)},
    nn.LayerNorm: _Converter.layernorm_module, nn.GroupNorm: _Converter.groupnorm_module,
    nn.LocalResponseNorm: _Converter.lrn_module,
    **{cls: _Converter.activation_module for cls in (*ACTIVATION_MODULES, nn.ReLU6, nn.Hardtanh, nn.LeakyReLU, nn.ELU,
                                                     nn.PReLU, nn.GELU, nn.Softmax, nn.LogSoftmax)},
    **{cls: _Converter.dropout for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)},
    nn.Identity: _Converter.passthrough, nn.Flatten: _Converter.shaped, nn.Unflatten: _Converter.shaped,
    nn.Upsample: _Converter.upsample_module, nn.PixelShuffle: _Converter.pixel_shuffle_module,
    nn.ChannelShuffle: _Converter.channel_shuffle_module,
    **{cls: _Converter.pad_module for cls in (
        nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d, nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d,
        nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d, nn.ReplicationPad1d, nn.ReplicationPad2d,
        nn.ReplicationPad3d, nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d)},
}

# cnncalc.torch.modules, by class name (importing them here would need the spec engine's torch side).
HELPERS: dict[str, Handler] = {
    "Add": _Converter.merge_module, "Sub": _Converter.merge_module, "Mul": _Converter.merge_module,
    "Concat": _Converter.merge_module, "Reshape": _Converter.shaped, "Permute": _Converter.permute_module,
    "Slice": _Converter.slice_module, "Crop": _Converter.crop_module, "Scale": _Converter.scale_module,
    "ChannelLayerNorm": _Converter.layernorm_module, "UpsampleLike": _Converter.upsample_like_module,
}

FUNCTION_ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "selu": "selu", "silu": "silu", "sigmoid": "sigmoid",
                        "tanh": "tanh", "hardsigmoid": "hardsigmoid", "hardswish": "hardswish", "mish": "mish"}

FUNCTIONS: dict[str, Handler] = {
    **{name: _Converter.elementwise for name in (
        "add", "add_", "iadd", "__add__", "__iadd__", "__radd__", "sub", "sub_", "isub", "subtract", "__sub__",
        "__isub__", "__rsub__", "rsub", "mul", "mul_", "imul", "multiply", "__mul__", "__imul__", "__rmul__",
        "truediv", "itruediv", "div", "div_", "divide", "true_divide", "__truediv__", "__itruediv__",
        "__rtruediv__", "__div__")},
    "cat": _Converter.cat, "concat": _Converter.cat, "concatenate": _Converter.cat,
    **{name: _Converter.shaped for name in ("flatten", "view", "reshape", "squeeze", "unsqueeze", "unflatten",
                                            "view_as", "reshape_as", "squeeze_", "unsqueeze_")},
    **{name: _Converter.passthrough for name in ("contiguous", "clone", "detach", "float")},
    **{name: _Converter.permute_call for name in ("permute", "transpose", "swapaxes", "swapdims")},
    **{name: _Converter.activation_call for name in (
        *FUNCTION_ACTIVATIONS, *(f"{name}_" for name in FUNCTION_ACTIVATIONS), "leaky_relu", "leaky_relu_", "elu",
        "elu_", "gelu", "softmax", "log_softmax", "hardtanh", "hardtanh_", "clamp", "clip", "clamp_")},
    **{name: _Converter.adaptive_call for name in (
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
        "adaptive_max_pool2d", "adaptive_max_pool3d")},
    **{name: _Converter.pool_call for name in ("avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d", "max_pool2d",
                                               "max_pool3d")},
    "mean": _Converter.mean, "amax": _Converter.mean,
    "interpolate": _Converter.interpolate, "upsample": _Converter.interpolate,
    **{name: _Converter.dropout for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout")},
    "pad": _Converter.pad_call,
    "chunk": _Converter.pieces, "split": _Converter.pieces, "tensor_split": _Converter.pieces,
    "getitem": _Converter.getitem, "__getitem__": _Converter.getitem,
    "pixel_shuffle": _Converter.pixel_shuffle_call, "channel_shuffle": _Converter.channel_shuffle_call,
    "native_channel_shuffle": _Converter.channel_shuffle_call,
    "linear": _Converter.functional_linear,
    **{name: _Converter.functional_conv for name in ("conv1d", "conv2d", "conv3d")},
    "layer_norm": _Converter.functional_layer_norm,
}

