"""The totals and the assumptions printed under every table, as (label, text) lines."""

from __future__ import annotations

from ..report import OPTIMIZER_COPIES, Report
from ..units import format_shape, human_bytes, human_count
from .columns import short
from .escape import display

PEAK_ASSUMPTION = ("each tensor lives from the layer that makes it until its last consumer has run; "
                   "inputs count from the start, outputs to the end; flatten, reshape, identity and "
                   "dropout are views and allocate nothing")
UNITS = "counts in decimal units (k, M, G, T = 10^3, 10^6, 10^9, 10^12); bytes in binary (KiB, MiB, GiB = 2^10, 2^20, 2^30)"


def totals_lines(report: Report) -> list[tuple[str, str]]:
    totals, assumptions = report.totals, report.assumptions
    optimizer_state = OPTIMIZER_COPIES[assumptions.optimizer] - 2
    return [
        ("Params", f"{human_count(totals.params)} ({totals.params:,}) trainable; "
                   f"buffers {human_count(totals.buffers)} ({totals.buffers:,})"),
        ("MACs", f"{human_count(totals.macs)} ({totals.macs:,})"),
        ("FLOPs", f"{human_count(totals.flops)} ({totals.flops:,}), convention {assumptions.convention}"),
        ("Weights", human_bytes(totals.weights_bytes)),
        ("Activations", f"{human_bytes(totals.activation_bytes)} (every layer's output, summed)"),
        ("Peak activations", f"{human_bytes(totals.peak_activation_bytes)} at {short(display(totals.peak_layer))}"),
        ("Training estimate", f"{human_bytes(totals.training_bytes)} ({assumptions.optimizer}: weights, "
                              f"gradients, {optimizer_state} state cop{'y' if optimizer_state == 1 else 'ies'}, "
                              "buffers, kept activations)"),
        ("Inputs", ", ".join(f"{short(display(name))} {format_shape(shape)}" for name, shape in report.inputs.items())),
        ("Outputs", ", ".join(f"{short(display(name))} {format_shape(shape)}"
                              for name, shape in report.outputs.items())),
    ]


def assumption_lines(report: Report) -> list[tuple[str, str]]:
    assumptions = report.assumptions
    return [
        ("Convention", f"{assumptions.convention}: {assumptions.convention_text}"),
        ("Data", f"{assumptions.dtype}, {assumptions.bytes_per_element} "
                 f"byte{'' if assumptions.bytes_per_element == 1 else 's'} per element; batch {assumptions.batch}; "
                 "shapes include the batch in JSON, CSV and the Inputs and Outputs lines, not in the table's rows"),
        ("Units", UNITS),
        ("Peak memory", PEAK_ASSUMPTION),
        ("RF", "receptive field size per spatial axis in input positions (after an upsampling, the "
               "largest over positions); '-' where undefined (no spatial axes)"),
        ("%", f"a row's share of the network's {'FLOPs' if assumptions.convention == 'full' else 'MACs'} "
              "(params_share and memory_share: of params and activations)"),
    ]


def render_single_layer(report: Report, width: int = 80) -> str:
    """The `cnncalc layer` answer: output shape and counts, exact and in human units; a line
    longer than `width` (many inputs) continues under itself."""
    row, totals = report.layers[0], report.totals
    inputs = " and ".join(format_shape(shape[1:]) for shape in report.inputs.values())
    field = row.receptive_field
    lines = [
        f"{display(row.type)}: {inputs} -> {format_shape(row.output_shape[1:])}"
        + (f"  (batch {report.assumptions.batch})" if report.assumptions.batch > 1 else ""),
        f"  params   {totals.params:,}" + (f"  buffers {totals.buffers:,}" if totals.buffers else ""),
        f"  MACs     {totals.macs:,} ({human_count(totals.macs)})",
        f"  FLOPs    {totals.flops:,} ({human_count(totals.flops)}, convention {report.assumptions.convention})",
        f"  output   {human_bytes(row.activation_bytes)} ({report.assumptions.dtype})",
    ]
    if field is not None:
        sizes = "x".join(str(axis[0]) for axis in field)
        jumps = "x".join(str(axis[1]) for axis in field)
        lines.append(f"  receptive field {sizes}, jump {jumps}")
    import textwrap

    fitted = [part for line in lines for part in textwrap.wrap(line, width, subsequent_indent="      ",
                                                               break_long_words=False) or [line]]
    return "\n".join(fitted) + "\n"
