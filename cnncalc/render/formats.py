"""Machine formats (JSON, CSV) and markdown: exact integers, documented and stable."""

from __future__ import annotations

import csv
import functools
import io
import json
from typing import Any

from .. import __version__
from ..graph import Field
from ..report import LayerRow, Report
from .columns import CELLS, COLUMN_TITLES, Cells
from .escape import tidy_floats, display, json_text
from .summary import assumption_lines, totals_lines


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def field_json(field: Field) -> dict[str, list[int | float]] | None:
    if field is None:
        return None
    return {key: [_number(axis[index]) for axis in field] for index, key in enumerate(("size", "jump", "start"))}


def layer_json(row: LayerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": row.type,
        "from": list(row.inputs),
        "output_shape": list(row.output_shape),
        "params": row.params,
        "buffers": row.buffers,
        "macs": row.macs,
        "flops": row.flops,
        "activation_bytes": row.activation_bytes,
        "view": row.view,
        "receptive_field": field_json(row.receptive_field),
    }


def report_json(report: Report, with_layers: bool = True) -> dict[str, Any]:
    """The documented JSON (README, "JSON output"); `layers` always lists every primitive layer."""
    assumptions, totals = report.assumptions, report.totals
    data = {
        "cnncalc": __version__,
        "name": report.name,
        "convention": {
            "flops": assumptions.convention,
            "dtype": assumptions.dtype,
            "bytes_per_element": assumptions.bytes_per_element,
            "batch": assumptions.batch,
            "optimizer": assumptions.optimizer,
        },
        "inputs": {name: list(shape) for name, shape in report.inputs.items()},
        "layers": [layer_json(row) for row in report.layers] if with_layers else [],
        "totals": {
            "params": totals.params,
            "buffers": totals.buffers,
            "macs": totals.macs,
            "flops": totals.flops,
            "weights_bytes": totals.weights_bytes,
            "activation_bytes": totals.activation_bytes,
            "peak_activation_bytes": totals.peak_activation_bytes,
            "peak_layer": totals.peak_layer,
            "training_bytes": totals.training_bytes,
        },
        "outputs": {name: list(shape) for name, shape in report.outputs.items()},
    }
    if not with_layers:
        del data["layers"]
    return data


def render_json(report: Report, more: dict[str, Any] | None = None) -> str:
    """Indented at the top, one compact line per layer: readable, and fast for 100,000
    layers (json's indenting encoder is pure Python; each layer line here is one format)."""
    parts = []
    for key, value in {**report_json(report, with_layers=False), **(more or {})}.items():
        parts.append(f" {json.dumps(key)}: {json.dumps(tidy_floats(value))}")
        if key == "inputs":
            lines = ",\n  ".join(map(_layer_line, report.layers))
            parts.append(f' "layers": [\n  {lines}\n ]' if report.layers else ' "layers": []')
    return json_text("{\n" + ",\n".join(parts) + "\n}\n")


@functools.lru_cache(maxsize=4096)
def _field_text(field: Field) -> str:
    return json.dumps(field_json(field))


_string = json.encoder.encode_basestring_ascii  # the C function json.dumps uses for strings


def _layer_line(row: LayerRow) -> str:
    """json.dumps(layer_json(row)), written out (tests check they agree)."""
    sources = ", ".join(map(_string, row.inputs))
    shape = ", ".join(map(str, row.output_shape))
    field = _field_text(row.receptive_field)
    return (f'{{"name": {_string(row.name)}, "type": {_string(row.type)}, "from": [{sources}], '
            f'"output_shape": [{shape}], "params": {row.params}, "buffers": {row.buffers}, '
            f'"macs": {row.macs}, "flops": {row.flops}, "activation_bytes": {row.activation_bytes}, '
            f'"view": {"true" if row.view else "false"}, "receptive_field": {field}}}')


CSV_COLUMNS = ("name", "type", "from", "output_shape", "params", "buffers", "macs", "flops",
               "activation_bytes", "view", "rf_size", "rf_jump", "rf_start")


def render_csv(report: Report, rows: tuple[LayerRow, ...]) -> str:
    """One line per row; lists joined with 'x' (shapes, fields) or ' ' (from)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        field = field_json(row.receptive_field)
        parts = ["x".join(map(str, field[key])) if field else "" for key in ("size", "jump", "start")]
        writer.writerow([display(row.name), display(row.type), " ".join(map(display, row.inputs)), "x".join(map(str, row.output_shape)),
                         row.params, row.buffers, row.macs, row.flops, row.activation_bytes,
                         str(row.view).lower(), *parts])
    return buffer.getvalue()


def render_markdown(report: Report, rows: tuple[LayerRow, ...], columns: tuple[str, ...], cells: Cells = CELLS,
                    more: list[tuple[str, str]] | None = None) -> str:
    lines = [f"### {display(report.name)}", "", "| " + " | ".join(COLUMN_TITLES[key] for key in columns) + " |",
             "| " + " | ".join("---:" if key not in ("name", "type", "from", "output") else "---"
                               for key in columns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(cells[key](row).replace("|", "\\|") for key in columns) + " |")
    lines.append("")
    lines += [f"- **{label}**: {text}" for label, text in totals_lines(report) + (more or []) + assumption_lines(report)]
    return "\n".join(lines) + "\n"
