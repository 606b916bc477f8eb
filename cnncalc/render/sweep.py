"""One row per swept value, with the totals (and the fps on a chip)."""

from __future__ import annotations

import csv
import io
import textwrap
from typing import Any

from ..fps import FpsAnswer, Roofline
from ..report import Report
from ..units import human_bytes, human_count
from .colour import verdicts
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
        if answer.target_fps is not None:
            record["pass"] = answer.passed
    return record


# Left out, in this order, when the table is wider than the terminal (csv and json keep all).
DROPPED_FIRST = ("activation_bytes", "weights_bytes", "macs", "params")


def render_sweep(name: str, rows: list[Row], form: str, width: int = 80, color: bool = False) -> str:
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
              "Estimate fps", _verdict_title(rows)]
    table = [titles[:len(keys)]] + [[_cell(key, record[key]) for key in keys] for record in records]
    note = f"FLOPs in the {rows[0][1].assumptions.convention} convention; {rows[0][1].assumptions.dtype}."
    if _verdict_title(rows):
        note += f" PASS or FAIL by the {rows[0][2][0].model}'s fps."
    if form == "markdown":
        lines = ["| " + " | ".join(cell.replace("|", "\\|") for cell in table[0]) + " |", "|" + " ---: |" * len(keys)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table[1:]]
        return "\n".join(lines) + "\n\n" + note + "\n"
    shown, left_out = _fitting(table, keys, width)
    table = [[row[index] for index in shown] for row in table]
    widths = [max(len(row[index]) for row in table) for index in range(len(shown))]
    lines = ["  ".join(text.rjust(size) if index else text.ljust(size)
                       for index, (text, size) in enumerate(zip(row, widths))) for row in table]
    lines[1:] = [verdicts(line, color) for line in lines[1:]]
    if left_out:
        note += f" Left out to fit {width} columns: {', '.join(left_out)} (--width, or --format csv for all)."
    return "\n".join(lines) + "\n\n" + "\n".join(textwrap.wrap(note, width)) + "\n"


def _verdict_title(rows: list[Row]) -> str:
    """The verdict column: the target (the note says which model the verdict comes from)."""
    chip = rows[0][2]
    if chip is None or chip[0].target_fps is None:
        return ""
    return f"{chip[0].target_fps:g} fps"


def _fitting(table: list[list[str]], keys: list[str], width: int) -> tuple[list[int], list[str]]:
    """The column indexes that fit `width`, dropping DROPPED_FIRST in order; the titles left out."""
    shown = list(range(len(keys)))
    left_out = []
    for key in DROPPED_FIRST:
        if sum(max(len(row[index]) for row in table) + 2 for index in shown) - 2 <= width:
            break
        if key in keys:
            shown.remove(keys.index(key))
            left_out.append(table[0][keys.index(key)])
    return shown, left_out


def _cell(key: str, value: Any) -> str:
    if key == "value":
        return display(str(value))
    if value is None:
        return "-"
    if key.endswith("_bytes"):
        return human_bytes(value)
    if key == "pass":
        return "PASS" if value else "FAIL"
    if key.endswith("fps"):
        return f"{value:,.1f}"
    return human_count(value)
