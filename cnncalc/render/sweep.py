"""One row per swept value, with the totals (and the fps on a chip)."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..fps import FpsAnswer, Roofline
from ..report import Report
from ..units import human_bytes, human_count
from .escape import display, json_document

Row = tuple[str, Report, "tuple[FpsAnswer, Roofline | None] | None"]
COLUMNS = ("params", "macs", "flops", "weights_bytes", "activation_bytes", "peak_activation_bytes")


def _record(value: str, report: Report, chip: Any) -> dict[str, Any]:
    totals = report.totals
    record: dict[str, Any] = {"value": value, **{key: getattr(totals, key) for key in COLUMNS},
                              "outputs": {name: list(shape) for name, shape in report.outputs.items()}}
    if chip is not None:
        answer, roofline = chip
        record["fps"] = answer.fps
        record["roofline_fps"] = roofline.fps if roofline else None
        record["estimate_fps"] = answer.estimate.fps if answer.estimate else None
    return record


def render_sweep(name: str, rows: list[Row], form: str) -> str:
    records = [_record(value, report, chip) for value, report, chip in rows]
    if form == "json":
        return json_document({"sweep": name, "convention": rows[0][1].assumptions.convention, "rows": records})
    keys = [key for key in records[0] if key != "outputs"]
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([display(name) if key == "value" else key for key in keys])
        writer.writerows([[display(record[key]) if key == "value" else record[key] for key in keys]
                          for record in records])
        return buffer.getvalue()
    titles = [display(name), "Params", "MACs", "FLOPs", "Weights", "Activations", "Peak act.", "Ideal fps", "Roofline fps",
              "Estimate fps"]
    table = [titles[:len(keys)]] + [[_cell(key, record[key]) for key in keys] for record in records]
    note = f"FLOPs in the {rows[0][1].assumptions.convention} convention; {rows[0][1].assumptions.dtype}."
    if form == "markdown":
        lines = ["| " + " | ".join(cell.replace("|", "\\|") for cell in table[0]) + " |", "|" + " ---: |" * len(keys)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table[1:]]
        return "\n".join(lines) + "\n\n" + note + "\n"
    widths = [max(len(row[index]) for row in table) for index in range(len(keys))]
    lines = ["  ".join(text.rjust(width) if index else text.ljust(width)
                       for index, (text, width) in enumerate(zip(row, widths))) for row in table]
    return "\n".join(lines) + "\n\n" + note + "\n"


def _cell(key: str, value: Any) -> str:
    if key == "value":
        return display(str(value))
    if value is None:
        return "-"
    if key.endswith("_bytes"):
        return human_bytes(value)
    if key.endswith("fps"):
        return f"{value:,.1f}"
    return human_count(value)
