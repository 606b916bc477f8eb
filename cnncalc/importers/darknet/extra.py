"""Darknet's rarer sections: [reorg] (YOLOv2), [crop] (pjreddie's classifiers), [local] (YOLOv1),
[crnn], [rnn], [gru] and [lstm] (one time step); and the table of every section cnncalc imports."""

from __future__ import annotations

from typing import Any, Callable

from ...layers.base import product
from .converter import BASIC_CONVERTERS, _Converter
from .tables import ACTIVATIONS


def reorg(converter: _Converter) -> str:
    """[reorg] stride=s: space to depth, out = c*s*s x h/s x w/s (reorg_layer.c, reorg_old_layer.c);
    reverse=1 the other way, c/(s*s) x h*s x w*s; extra=n makes a row of the inputs and n more. cnncalc's pixel_unshuffle / pixel_shuffle make these
    shapes (Darknet orders the elements its own way: the counts are the same)."""
    read = converter.reader
    stride = read.integer("stride", 1, 1)
    reverse = read.integer("reverse", 0) != 0
    extra = read.integer("extra", 0)
    if extra:  # pjreddie's go.cfg: the input as a row, `extra` zeros after it (outputs = inputs + extra)
        size = product(converter.builder.shape(converter.previous))
        row = converter.add("reshape", converter.name("reorg") + "_row", [converter.previous], {"shape": [1, size]})
        padded = converter.add("pad", converter.name("reorg") + "_pad", [row], {"padding": [[0, extra]]})
        return converter.add("flatten", converter.name("reorg"), [padded])
    # flatten= only reorders the elements (reorg_layer.c): the same shape
    channels, height, width = converter.builder.shape(converter.previous)
    if reverse:
        if channels % (stride * stride):
            raise read.fail("stride", f"reverse [reorg] stride={stride} needs channels divisible by {stride ** 2}; "
                                      f"the input has {channels}")
        return converter.add("pixel_shuffle", converter.name("reorg"), [converter.previous],
                             {"upscale_factor": stride})
    if height % stride or width % stride:
        raise read.fail("stride", f"[reorg] stride={stride} of a {width}x{height} input: Darknet drops the "
                                  "last rows and columns, which cnncalc does not import",
                        f"give an input whose width and height are multiples of {stride}")
    return converter.add("pixel_unshuffle", converter.name("reorg"), [converter.previous],
                         {"downscale_factor": stride})


def crop(converter: _Converter) -> str:
    """[crop] crop_height, crop_width: at inference the centre, (h - crop_height)/2 rows down
    (crop_layer.c, forward_crop_layer); the colour jitter it applies while training is not counted."""
    read = converter.reader
    source = converter.previous
    _, height, width = converter.builder.shape(source)
    crop_height, crop_width = read.integer("crop_height", 1, 1), read.integer("crop_width", 1, 1)
    if crop_height > height or crop_width > width:
        raise read.fail("crop_height", f"[crop] of {crop_width}x{crop_height} from a {width}x{height} input")
    cuts = [(dim, (size - cropped) // 2, cropped) for dim, size, cropped in ((1, height, crop_height),
                                                                           (2, width, crop_width)) if cropped != size]
    if not cuts:
        return converter.add("identity", converter.name("crop"), [source])
    out = source
    for number, (dim, start, cropped) in enumerate(cuts):
        name = converter.name("crop") + ("" if number == len(cuts) - 1 else "_rows")
        out = converter.add("slice", name, [out], {"dim": dim, "start": start, "end": start + cropped})
    return out


def local(converter: _Converter) -> str:
    """[local]: a convolution with weights of its own at each position (local_layer.c); pad=1 pads size/2,
    and the output is (in - 1)/stride + 1, else (in - size)/stride + 1."""
    read = converter.reader
    size = read.integer("size", 1, 1)
    stride = read.integer("stride", 1, 1)
    padding = size // 2 if read.integer("pad", 0) else 0
    source = converter.previous
    fields = {"out_channels": read.integer("filters", 1, 1), "kernel_size": size}
    if stride != 1:
        fields["stride"] = stride
    if padding:
        fields["padding"] = padding
    out = converter.add("local2d", converter.name("local"), [source], fields)
    _, height, width = converter.builder.shape(source)
    darknet = tuple(((side - 1) if padding else (side - size)) // stride + 1 for side in (height, width))
    if converter.builder.shape(out)[1:] != darknet:
        raise read.fail("size", f"[local] of even size={size} with pad=1: Darknet's output "
                                f"{darknet[1]}x{darknet[0]} is not a padded window's")
    return converter.activation(out, "logistic")


def _unit(converter: _Converter, kind: str, name: str, source: str, fields: dict[str, Any], normalize: bool,
          activation: str) -> str:
    """One of a recurrent layer's inner layers, as Darknet makes them: the layer, its batch norm, its activation."""
    out = converter.add(kind, name, [source], {**fields, "bias": False} if normalize else fields)
    if normalize:
        out = converter.add("batchnorm2d" if kind == "conv2d" else "batchnorm1d", f"{name}_bn", [out])
    mapped = ACTIVATIONS[activation]
    return out if mapped is None else converter.add(mapped[0], f"{name}_{activation}", [out], dict(mapped[1]))


def crnn(converter: _Converter) -> str:
    """[crnn]: one time step of crnn_layer.c (AlexeyAB's keys output, hidden, size, pad; pjreddie's output_filters
    and hidden_filters, 3x3 padded): an input convolution (c -> hidden), a self convolution of the
    state (hidden -> hidden; the state has the input convolution's shape, so that one stands for it), their
    sum the new state, an output convolution (hidden -> output); each with its batch norm and activation."""
    read = converter.reader
    pjreddie = read.has("output_filters") or read.has("hidden_filters")  # its keys; 3x3, padded, in its darknet
    size, stride = read.integer("size", 3, 1), read.integer("stride", 1, 1)
    padding = size // 2 if read.integer("pad", int(pjreddie)) else read.integer("padding", 0)
    if read.integer("dilation", 1, 1) != 1 or read.integer("groups", 1, 1) != 1 or read.integer("xnor", 0):
        raise read.fail(None, "[crnn] with dilation, groups or xnor is not imported")
    normalize, activation = read.integer("batch_normalize", 0) != 0, read.text("activation", "logistic")
    source, name = converter.previous, converter.name("crnn")
    if len(converter.builder.shape(source)) == 1:  # [net] inputs=n: Darknet sees a 1 x 1 x n image
        source = converter.add("reshape", f"{name}_image", [source], {"shape": [*converter.builder.shape(source), 1, 1]})
    hidden = read.integer("hidden_filters" if pjreddie else "hidden", 1, 1)
    output = read.integer("output_filters" if pjreddie else "output", 1, 1)
    convolution: dict[str, Any] = {"kernel_size": size, "stride": stride, "padding": padding}
    first = _unit(converter, "conv2d", f"{name}_input", source, {"out_channels": hidden, **convolution}, normalize,
                  activation)
    if converter.builder.shape(first)[1:] != converter.builder.shape(source)[1:]:
        raise read.fail("stride", "[crnn] whose input convolution changes the size: its state would not fit")
    recurrent = _unit(converter, "conv2d", f"{name}_self", first, {"out_channels": hidden, **convolution}, normalize,
                      activation)
    state = converter.add("add", f"{name}_state", [first, recurrent])
    out = _unit(converter, "conv2d", name, state, {"out_channels": output, **convolution}, normalize, activation)
    _, height, width = converter.builder.shape(out)
    for channels, filters in ((converter.builder.shape(source)[0], hidden), (hidden, hidden), (hidden, output)):
        converter.count(2.0 * channels * filters * size * size * height * width / 1e9)
    return out


def rnn(converter: _Converter) -> str:
    """[rnn]: one time step of rnn_layer.c: connected layers input (inputs -> hidden), self (hidden -> hidden,
    on the state), output (hidden -> output), the state the sum of the first two; each with its batch norm and
    activation (logistic=1 makes the self layer's logistic). Darknet counts no BFLOPs for them. `hidden=` is
    read as AlexeyAB's darknet reads it; pjreddie's takes `output` for it (the public cfgs give both equal)."""
    read = converter.reader
    normalize, activation = read.integer("batch_normalize", 0) != 0, read.text("activation", "logistic")
    recurrent_activation = {0: activation, 1: "logistic"}.get(read.integer("logistic", 0))
    if recurrent_activation is None:
        raise read.fail("logistic", "[rnn] logistic=2 (Darknet's loggy activation) is not imported")
    source, name = converter.previous, converter.name("rnn")
    if len(converter.builder.shape(source)) > 1:
        source = converter.add("flatten", f"{name}_flatten", [source])
    hidden, output = read.integer("hidden", 1, 1), read.integer("output", 1, 1)
    first = _unit(converter, "linear", f"{name}_input", source, {"out_features": hidden}, normalize, activation)
    recurrent = _unit(converter, "linear", f"{name}_self", first, {"out_features": hidden}, normalize,
                      recurrent_activation)
    state = converter.add("add", f"{name}_state", [first, recurrent])
    return _unit(converter, "linear", name, state, {"out_features": output}, normalize, activation)


def _flat_input(converter: _Converter, name: str) -> str:
    source = converter.previous
    return source if len(converter.builder.shape(source)) == 1 else converter.add("flatten", f"{name}_flatten",
                                                                                  [source])


def _gate(converter: _Converter, name: str, source: str, state: str, outputs: int, normalize: bool,
          function: str | None) -> tuple[str, str, str]:
    """(the input's linear layer, the state's, their sum through `function`): one gate of a GRU or an LSTM, whose
    connected layers are linear (gru_layer.c, lstm_layer.c). The previous state has the input layer's shape,
    so that layer stands for it."""
    on_input = _unit(converter, "linear", f"{name}_input", source, {"out_features": outputs}, normalize, "linear")
    on_state = _unit(converter, "linear", f"{name}_state", state or on_input, {"out_features": outputs}, normalize,
                     "linear")
    summed = converter.add("add", f"{name}_sum", [on_input, on_state])
    return on_input, on_state, summed if function is None else converter.add(function, name, [summed])


def gru(converter: _Converter) -> str:
    """[gru]: one time step of gru_layer.c: z = sigmoid(Wz x + Uz s), r = sigmoid(Wr x + Ur s),
    h = tanh(Wh x + Uh (r * s)), the new state z * s + (1 - z) * h (the 1 - z is not counted)."""
    read = converter.reader
    outputs, normalize = read.integer("output", 1, 1), read.integer("batch_normalize", 0) != 0
    name = converter.name("gru")
    source = _flat_input(converter, name)
    state, _, update = _gate(converter, f"{name}_z", source, "", outputs, normalize, "sigmoid")
    _, _, reset = _gate(converter, f"{name}_r", source, state, outputs, normalize, "sigmoid")
    forgot = converter.add("mul", f"{name}_forgot", [reset, state])
    candidate_input = _unit(converter, "linear", f"{name}_h_input", source, {"out_features": outputs}, normalize,
                            "linear")
    candidate_state = _unit(converter, "linear", f"{name}_h_state", forgot, {"out_features": outputs}, normalize,
                            "linear")
    candidate = converter.add("tanh", f"{name}_h", [converter.add("add", f"{name}_h_sum",
                                                                  [candidate_input, candidate_state])])
    kept, new = (converter.add("mul", f"{name}_{part}", [update, other]) for part, other in
                 (("kept", state), ("new", candidate)))
    return converter.add("add", name, [kept, new])


def lstm(converter: _Converter) -> str:
    """[lstm]: one time step of lstm_layer.c: gates f, i, o = sigmoid(W x + U h), g = tanh(W x + U h),
    the cell c = f * c + i * g, the output o * tanh(c)."""
    read = converter.reader
    outputs, normalize = read.integer("output", 1, 1), read.integer("batch_normalize", 0) != 0
    name = converter.name("lstm")
    source = _flat_input(converter, name)
    state, _, forget = _gate(converter, f"{name}_f", source, "", outputs, normalize, "sigmoid")
    _, _, remember = _gate(converter, f"{name}_i", source, state, outputs, normalize, "sigmoid")
    _, _, candidate = _gate(converter, f"{name}_g", source, state, outputs, normalize, "tanh")
    _, _, emit = _gate(converter, f"{name}_o", source, state, outputs, normalize, "sigmoid")
    cell = converter.add("add", f"{name}_cell", [converter.add("mul", f"{name}_cell_kept", [forget, state]),
                                                  converter.add("mul", f"{name}_cell_new", [remember, candidate])])
    return converter.add("mul", name, [emit, converter.add("tanh", f"{name}_cell_tanh", [cell])])


CONVERTERS: dict[str, Callable[[_Converter], str]] = {
    **BASIC_CONVERTERS, "reorg": reorg, "reorg3d": reorg, "crop": crop, "local": local, "crnn": crnn, "rnn": rnn,
    "gru": gru, "lstm": lstm,
}
