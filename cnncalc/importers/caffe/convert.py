"""A Caffe prototxt as a cnncalc spec: the net read, its inputs declared, its layers converted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import Mark, SpecError
from .. import ImportOptions, read_text
from ..builder import SpecBuilder
from ..common import guess
from ..prototxt import parse
from .converter import _Converter
from .inputs import _Input, _inputs
from .layer import NET_KEYS, TRAINING_ONLY, word
from .net import _check_types, _layers


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec of a Caffe prototxt (see the module's docstring for what each layer type becomes)."""
    filename = str(path)
    net = parse(read_text(path), filename)
    for key in net.names():
        if key not in NET_KEYS:
            at = net.last(key)
            raise SpecError(f"unknown field '{key}' at the top of the file",
                            mark=Mark(filename, at.line, at.column) if at else None,
                            hint=f"{guess(key, NET_KEYS)}a net has {', '.join(NET_KEYS)}")
    all_layers = _layers(net, filename)
    inputs = _inputs(net, all_layers, filename)
    layers = _check_types(all_layers, filename)
    if not inputs:
        raise SpecError("the net declares no input", mark=Mark(filename, 1, 1),
                        hint="add input: \"data\" with input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }, "
                             "or an Input layer")
    builder = SpecBuilder()
    converter = _Converter(filename, builder)
    batch = _add_inputs(inputs, options, builder, converter)
    skipped = [f"{layer.name} ({layer.type})" for layer in all_layers if layer.type in TRAINING_ONLY]
    for layer in layers:
        converter.convert(layer)
    if not builder.layers:
        first = all_layers[0].where.mark if all_layers else Mark(filename, 1, 1)
        raise SpecError("the net has no layers cnncalc can count", mark=first,
                        hint="its layers are inputs or training-only ones (losses, Accuracy, Silence)" if all_layers
                        else "add layer { name: ... type: ... bottom: ... top: ... } blocks")
    notes = list(converter.notes)
    if skipped:
        notes.append(f"Left out as training-only: {', '.join(skipped)}.")
    if options.batch is None and batch != 1:
        notes.append(f"Batch {batch}, as the file's input shape gives it (analyze --batch 1 for one sample).")
    name_field = net.last("name")
    name = word(name_field, filename, "name", "AlexNet") if name_field is not None else path.stem
    outputs = builder.unconsumed()
    return builder.spec(name, outputs if len(outputs) > 1 else None, " ".join(notes) or None)


def _add_inputs(inputs: list[_Input], options: ImportOptions, builder: SpecBuilder, converter: _Converter) -> int:
    """Declare the inputs (with --input shapes where given); returns the batch."""
    names = [item.name for item in inputs]
    given = dict(options.inputs)
    if "" in given:
        if len(inputs) != 1:
            raise SpecError(f"--input {'x'.join(map(str, given['']))}: the net has inputs {', '.join(names)}",
                            hint="name one: --input data=3x224x224")
        given[names[0]] = given.pop("")
    for name in given:
        if name not in names:
            raise SpecError(f"--input {name}=...: the net has no input '{name}'", hint=f"inputs: {', '.join(names)}")
    batches = {item.dims[0] for item in inputs if item.dims is not None}
    if options.batch is None and len(batches) > 1:
        raise SpecError(f"the inputs give different batches {sorted(batches)}", mark=inputs[0].where.mark,
                        hint="cnncalc takes one batch for every input: give --batch N")
    batch = options.batch or (batches.pop() if batches else 1)
    for item in inputs:
        if item.name in given:
            shape = tuple(given[item.name])
        elif item.dims is None:
            raise item.where.fail(f"the data layer '{item.layer}' reads its sizes from a dataset",
                                  f"give them: --input {item.name}=CxHxW, or import the deploy prototxt")
        else:
            shape = tuple(item.dims[1:])
            if not 1 <= len(shape) <= 4:
                raise item.where.fail(f"input '{item.name}' has {len(item.dims)} dims",
                                      "cnncalc takes a batch and 1 to 4 more: [N, C], [N, C, H, W], ...")
        converter.blobs[item.name] = builder.add_input(item.name, shape, batch)
    return batch
