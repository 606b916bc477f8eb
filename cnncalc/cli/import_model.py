"""`cnncalc import`: a model written for another tool, as a cnncalc spec to keep and edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import SpecError
from .common import examples, fail, input_shape
from .output import check_output, write


@click.command(name="import", epilog=examples(
    "cnncalc import specs/yolov4-tiny.cfg -o yolov4-tiny.yaml",
    "cnncalc import model.onnx --input 3x224x224 -o model.yaml",
    "cnncalc import torch:torchvision.models:resnet18 --input 3x224x224"))
@click.argument("source", metavar="SOURCE")
@click.option("--input", "input_shapes", multiple=True, metavar="[NAME=]CxHxW",
              help="An input's per-sample shape, replacing the file's (repeatable; needed where the file leaves "
                   "a size open).")
@click.option("--batch", type=click.IntRange(min=1), help="Batch size of the spec (default: the file's, else 1).")
@click.option("--phase", type=click.Choice(["TEST", "TRAIN"], case_sensitive=False),
              help="Caffe: the phase whose include/exclude rules choose the layers (default: the file's state, else TEST).")
@click.option("--stage", "stages", multiple=True, metavar="NAME",
              help="Caffe: a stage of the net state, for include/exclude rules (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the spec to this file instead of standard output.")
@click.option("--force", is_flag=True, help="Overwrite the -o file if it exists.")
def import_command(source: str, input_shapes: tuple[str, ...], batch: int | None, phase: str | None,
                   stages: tuple[str, ...], **options: Any) -> None:
    """Convert SOURCE into a cnncalc spec: a Darknet .cfg, a Caffe .prototxt, an ONNX .onnx file,
    or torch:package.module:factory. The spec is checked by analysing it before it is written."""
    from ..importers import ImportOptions, header_for, import_spec, imported_label
    from ..importers.emit import spec_text
    from ..spec import parse_text

    inputs = dict(input_shape(item) for item in input_shapes)
    check_output(options["output"], options["force"])  # before converting anything
    try:
        spec = import_spec(source, ImportOptions(inputs, batch, phase.upper() if phase else None, stages))
        text = spec_text(spec, header_for(source))
        parse_text(text, imported_label(source))
    except SpecError as error:
        fail(str(error))
    write(text, options)
