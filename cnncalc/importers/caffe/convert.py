"""A Caffe prototxt as a cnncalc spec: the net read, its inputs declared, its layers converted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ...errors import Mark, SpecError
from .. import ImportOptions, read_text
from ..builder import SpecBuilder
from ..common import guess
from ..prototxt import Message, describe, parse
from .converter import _Converter
from .inputs import _Input, _inputs
from .forks import CONVERTERS
from .layer import NET_KEYS, SOLVER_KEYS, is_training_only, word
from .net import _check_types, _layers


def to_spec(path: Path, options: ImportOptions) -> dict[str, Any]:
    """The spec of a Caffe prototxt (see the module's docstring for what each layer type becomes)."""
    filename = str(path)
    top = parse(read_text(path), filename)
    net = _net_of(top, filename)
    if options.phase is None and not options.stages and top is not net:  # a solver: its first test_state
        state = top.last("test_state")
        if state is not None and isinstance(state.value, Message):
            stages = tuple(str(item.value) for item in state.value.all("stage") if isinstance(item.value, str))
            options = replace(options, stages=stages)
    for key in net.names():
        if key not in NET_KEYS:
            at = net.last(key)
            raise SpecError(f"unknown field '{key}' at the top of the file",
                            mark=Mark(filename, at.line, at.column) if at else None,
                            hint=f"{guess(key, NET_KEYS)}a net has {', '.join(NET_KEYS)}")
    all_layers = _layers(net, filename, options)
    inputs = _inputs(net, all_layers, filename)
    phase_note = None
    if not inputs and options.phase is None:  # a train prototxt whose data layers are TRAIN's only
        training = _layers(net, filename, replace(options, phase="TRAIN"))
        if _inputs(net, training, filename):
            all_layers, inputs = training, _inputs(net, training, filename)
            phase_note = "Read in the TRAIN phase: in TEST, the net has no input (give --phase to choose)."
    layers, not_counted = _check_types(all_layers, filename)
    if not inputs:
        raise SpecError("the net declares no input", mark=Mark(filename, 1, 1),
                        hint="add input: \"data\" with input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }, "
                             "or an Input layer")
    builder = SpecBuilder()
    converter = _Converter(filename, builder)
    batch = _add_inputs(inputs, options, builder, converter)
    skipped = [f"{layer.name} ({layer.type})" for layer in all_layers if is_training_only(layer.type)]
    for layer in layers:
        converter.convert(layer, CONVERTERS)
    if not builder.layers:
        first = all_layers[0].where.mark if all_layers else Mark(filename, 1, 1)
        raise SpecError("the net has no layers cnncalc can count", mark=first,
                        hint="its layers are inputs or training-only ones (losses, Accuracy, Silence)" if all_layers
                        else "add layer { name: ... type: ... bottom: ... top: ... } blocks")
    notes = [phase_note] if phase_note else []
    notes += converter.notes
    if not_counted:
        notes.append("Not counted (they decode or propose boxes, or read what such a layer makes): " + ", ".join(
            f"{layer.name} ({layer.type}, line {layer.where.mark.line if layer.where.mark else '?'})"
            for layer in not_counted) + ".")
    if skipped:
        notes.append(f"Left out as training-only: {', '.join(skipped)}.")
    if options.batch is None and batch != 1:
        notes.append(f"Batch {batch}, as the file's input shape gives it (analyze --batch 1 for one sample).")
    name_field = net.last("name")
    name = word(name_field, filename, "name", "AlexNet") if name_field is not None else path.stem
    outputs = builder.unconsumed()
    return builder.spec(name, outputs if len(outputs) > 1 else None, " ".join(notes) or None)


def _net_of(top: Message, filename: str) -> Message:
    """The net: the file itself, or the `net_param { ... }` of a solver that holds it inline."""
    names = set(top.names())
    if "net_param" in names:
        found = top.last("net_param")
        if found is not None and isinstance(found.value, Message):
            return found.value
        raise SpecError("net_param is not a { ... } block", mark=Mark(filename, found.line, found.column)
                        if found else None, hint="a solver holds its net as net_param { layer { ... } ... }")
    elsewhere = [key for key in ("net", "train_net", "test_net") if key in names]
    if elsewhere or ("layer" not in names and "layers" not in names and names & SOLVER_KEYS):
        at = top.last(elsewhere[0]) if elsewhere else top.fields[0]
        where = f" names its net in {describe(at.value)}" if elsewhere and at is not None else " holds no net"
        raise SpecError(f"this is a Caffe solver: it{where}", mark=Mark(filename, at.line, at.column) if at else None,
                        hint="import the net's prototxt (deploy or train_val) instead")
    return top


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
