"""What the commands share: option sets defined once, value parsing and one way to fail
(writing output is output.py's)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import SpecError

FORMATS = ("table", "json", "csv", "markdown")
CHIP_FORMATS = ("table", "json", "markdown")


def fail(message: str) -> None:
    """One message on stderr and exit status 2: what a bad spec or option gets. The message
    is escaped whole (render/escape.py), so a name quoted in it cannot start a line of its own."""
    from ..render.escape import display

    click.echo(display(message), err=True)
    sys.exit(2)


def examples(*lines: str) -> str:
    """A --help epilog of examples, kept as written (click's \\b stops its rewrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


# Shell completion (click's: eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)"): values a flag takes.
def complete_chips(context: click.Context, parameter: click.Parameter, incomplete: str) -> list[str]:
    from ..chips import load_chips

    try:
        chips = load_chips(context.params.get("chips_file"))
    except SpecError:
        return []
    return [chip for chip in chips if chip.startswith(incomplete)]


def complete_columns(context: click.Context, parameter: click.Parameter, incomplete: str) -> list[str]:
    """The next column of a comma-separated list: `name,ma<TAB>` -> `name,macs`."""
    from ..render.columns import ALL_COLUMNS

    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + key for key in ALL_COLUMNS if key.startswith(last)]


def complete_topics(context: click.Context, parameter: click.Parameter, incomplete: str) -> list[str]:
    from ..explain import KEY_TOPICS
    from ..layers import REGISTRY

    return [name for name in (*REGISTRY, *KEY_TOPICS) if name.startswith(incomplete)]


def warn(lines: list[str]) -> None:
    """Warnings on stderr, one a line: the output itself stays clean for pipes and files."""
    from ..render.escape import display

    for line in lines:
        click.echo(display(f"warning: {line}"), err=True)


def scalar(text: str) -> Any:
    """A command-line value read as YAML 1.2 (numbers, true/false, lists); '3x5' -> [3, 5]."""
    from ..yamlread import load

    parts = text.split("x")
    if len(parts) > 1 and all(part.isdigit() for part in parts):
        return [int(part) for part in parts]
    try:
        value = load(text, "<command line>")
    except SpecError:
        return text
    return text if value is None else value


def shape(text: str) -> tuple[int, ...]:
    from ..units import parse_shape

    try:
        return parse_shape(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def output_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every analysing command shares, defined once."""
    return _analysis_options(function, with_table_choices=True)


def layer_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """`layer`'s share of them: one layer has no columns to choose and no training to estimate."""
    return _analysis_options(function, with_table_choices=False)


def _analysis_options(function: Callable[..., Any], with_table_choices: bool) -> Callable[..., Any]:
    options = [
        click.option("--convention", type=click.Choice(["2mac", "mac", "full"]), default="2mac", show_default=True,
                     help="What a FLOP is: 2 per MAC, 1 per MAC, or every operation (see `cnncalc explain`)."),
        click.option("--batch", type=click.IntRange(min=1), help="Batch size (default: the spec's, else 1)."),
        click.option("--dtype", type=click.Choice(["float32", "float16", "bfloat16", "int8"]),
                     help="Element type for memory figures (default: the spec's, else float32)."),
        with_table_choices and click.option(
            "--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="adam",
            show_default=True, help="Optimizer state counted in the training estimate."),
        click.option("--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="table for people; json and csv with exact integers; markdown for pull requests."),
        with_table_choices and click.option("--columns", metavar="LIST", shell_complete=complete_columns,
                     help="Table columns, comma-separated: name, type, from, output, params, buffers, macs, flops, "
                          "memory, rf, jump; share (% of MACs, of FLOPs under full), params_share, memory_share; "
                          "with --chip intensity, bound, time."),
    ]
    for option in reversed(options):
        if option:
            function = option(function)
    return file_options(width_option(function))


PIPED_WIDTH = 80  # a pipe, a file or CI log: the width a reader's terminal is sure to have


def width_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--width, for every command whose text output is laid out to a width."""
    return click.option("--width", type=click.IntRange(min=40), metavar="N",
                        help=f"Lay the output out to N columns (default: the terminal's, "
                             f"{PIPED_WIDTH} when piped or written to a file).")(function)


def layout_width(options: dict[str, Any]) -> int:
    """--width, else the terminal's width on a terminal, else 80."""
    import shutil

    if options.get("width"):
        return int(options["width"])
    if options.get("output") is None and to_terminal():
        return shutil.get_terminal_size((PIPED_WIDTH, 24)).columns
    return PIPED_WIDTH


def to_terminal() -> bool:
    return sys.stdout.isatty()


def use_color(options: dict[str, Any]) -> bool:
    """Colours on a terminal only: never in a pipe or a file, never with NO_COLOR set (no-color.org)."""
    import os

    return options.get("output") is None and to_terminal() and not os.environ.get("NO_COLOR")


def file_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """-o FILE and --force, for every command that writes a report."""
    function = click.option("--force", is_flag=True, help="Overwrite an existing -o file.")(function)
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write to this file instead of standard output.")(function)


def pair(text: str, option: str, convert: Callable[[str], Any]) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        fail(f"{option} {text}: write NAME=VALUE")
    return name.strip(), convert(value.strip())


def input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    name, sep, text_shape = text.rpartition("=")
    try:
        sizes = shape(text_shape)
    except click.BadParameter as error:
        fail(f"--input {text}: {error.message}")
        raise
    if len(sizes) >= 3 and sizes[-1] in (1, 3, 4) and sizes[0] > 64:
        # 384x640x3: NumPy's and OpenCV's H x W x C. cnncalc would read 384 channels.
        guess = "x".join(map(str, (sizes[-1], *sizes[:-1])))
        warn([f"--input {text}: shapes are channels first (C x H x W): this is {sizes[0]} channels of "
              f"{'x'.join(map(str, sizes[1:]))}; for a {sizes[-1]}-channel image write --input {guess}"])
    return name.strip(), sizes


# click.ParamType is generic for type checkers from click 8.2; click>=8.0 is all cnncalc asks.
class PositiveNumber(click.ParamType):  # type: ignore[type-arg]
    """A finite number > 0 (at most `maximum`): FloatRange lets nan and inf through."""

    name = "number"

    def __init__(self, maximum: float | None = None) -> None:
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, context: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"'{value}' is not a number", param, context)
        if not math.isfinite(number) or number <= 0 or (self.maximum is not None and number > self.maximum):
            bound = f" and at most {self.maximum:g}" if self.maximum is not None else ""
            self.fail(f"'{value}' is not a finite number > 0{bound}", param, context)
        return number


def chip_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--chip, --precision, --sparse, --utilization, --chips: shared by `fps` and `analyze`."""
    options = [
        click.option("--chip", "chip_id", metavar="ID", shell_complete=complete_chips,
                     help="A chip of `cnncalc chips` (or of --chips FILE)."),
        click.option("--precision", type=click.Choice(["int8", "int4", "fp8", "fp16", "bf16", "tf32", "fp32",
                                                       "unspecified", "fp16_fp16acc"]),
                     help="Which peak of the chip (default: int8, else the chip's first)."),
        click.option("--sparse", is_flag=True, help="Use the 2:4 structured-sparsity peak (a pruned network only)."),
        click.option("--utilization", type=PositiveNumber(maximum=1), default=1.0,
                     show_default=True, help="Share of the peak reached; 1.0 is the ideal."),
        click.option("--chips", "chips_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="A YAML file of extra chips, same format as the built-in table (also CNNCALC_CHIPS)."),
        click.option("--bandwidth", metavar="RATE", help="Memory bandwidth, e.g. 68GB/s (overrides the chip's)."),
        click.option("--fps", "target_fps", type=PositiveNumber(),
                     help="Target frames per second: pass or fail, exit 1 on fail."),
        click.option("--no-fuse", "no_fuse", is_flag=True,
                     help="Roofline without layer fusion: every layer its own memory round trip."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def chip_calibration(options: dict[str, Any]) -> Any:
    """The calibrated estimate's parameters for --chip, or None (--tops, --tflops, or a
    --utilization, which asks for the ideal or roofline at that share of the peak)."""
    from ..chips import find_chip, load_chips
    from ..estimate import calibration

    if not options.get("chip_id") or options.get("utilization", 1.0) != 1.0:
        return None
    chip = find_chip(options["chip_id"], load_chips(options.get("chips_file")))
    return calibration(chip.id, chip.vendor)


def resolve_compute(options: dict[str, Any], bandwidth: float | None = None) -> Any:
    """The Compute a command line names: --chip ID, --tops N or --tflops N."""
    from ..chips import find_chip, load_chips
    from ..fps import Compute

    sources = [name for name in ("chip_id", "tops", "tflops") if options.get(name) is not None]
    if len(sources) > 1:
        raise SpecError("give one of --chip, --tops and --tflops")
    if options.get("chip_id"):
        chip = find_chip(options["chip_id"], load_chips(options.get("chips_file")))
        precision, peak = chip.peak(options.get("precision"), options.get("sparse", False))
        label = chip.id + (" (2:4 sparse)" if options.get("sparse") else "")
        return Compute(peak, precision, label, bandwidth or chip.bandwidth)
    if options.get("tops") is not None:
        precision = options.get("precision") or "int8"
        return Compute(options["tops"] * 1e12, precision, f"{options['tops']:g} TOPS", bandwidth)
    if options.get("tflops") is not None:
        precision = options.get("precision") or "fp16"
        return Compute(options["tflops"] * 1e12, precision, f"{options['tflops']:g} TFLOPS", bandwidth)
    return None


def bandwidth(text: str | None) -> float | None:
    from ..units import parse_bytes

    if text is None:
        return None
    try:
        rate = parse_bytes(text.removesuffix("/s").removesuffix("ps"))
    except ValueError as error:
        fail(f"--bandwidth {text}: {error}")
        raise
    if rate <= 0:  # 0 would quietly fall back to the chip's own bandwidth
        fail(f"--bandwidth {text}: a bandwidth must be more than 0")
    return rate
