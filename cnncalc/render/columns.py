"""The table columns a user can choose with --columns, shared by table and markdown."""

from __future__ import annotations

from typing import Callable

from ..graph import Field
from ..report import LayerRow, Report
from ..units import format_shape, human_bytes, human_count
from .escape import display

COLUMN_TITLES = {
    "name": "Layer",
    "type": "Type",
    "from": "From",
    "output": "Output",
    "params": "Params",
    "buffers": "Buffers",
    "macs": "MACs",
    "flops": "FLOPs",
    "memory": "Act. mem",
    "rf": "RF",
    "jump": "Jump",
    "intensity": "Ops/B",
    "bound": "Bound",
    "time": "Time %",
    "share": "%",
    "params_share": "Params %",
    "memory_share": "Mem %",
}
# Shares of the network's total, made per report (they need its totals): share_cells().
SHARE_COLUMNS = ("share", "params_share", "memory_share")
ROOFLINE_COLUMNS = ("intensity", "bound", "time")  # with --chip
DEFAULT_COLUMNS = ("name", "type", "output", "params", "macs", "share", "memory", "rf")
# Under 2mac and mac FLOPs are MACs times a constant, so the default table shows them in the totals only.
FULL_CONVENTION_COLUMNS = ("name", "type", "output", "params", "flops", "share", "memory", "rf")
NUMERIC = {"params", "buffers", "macs", "flops", "memory", "rf", "jump", "intensity", "time", *SHARE_COLUMNS}


def format_field(field: Field, item: int) -> str:
    """One part of a receptive field per axis, '224' when all axes agree, '-' when none."""
    if field is None:
        return "-"
    values = [axis[item] for axis in field]
    # repr: the shortest text that reads back as the same float, so the table agrees with the JSON
    # (a jump of 1/3 after a 3x upsampling prints in full; 0.5 and 0.25 stay short).
    text = [str(int(value)) if float(value).is_integer() else repr(float(value)) for value in values]
    return text[0] if len(set(text)) == 1 else "x".join(text)


Cells = dict[str, Callable[[LayerRow], str]]
NAME_LIMIT = 120  # characters of a name in a table; JSON and CSV keep names whole


def short(text: str) -> str:
    return text if len(text) <= NAME_LIMIT else text[:NAME_LIMIT] + "..."


CELLS: Cells = {
    "name": lambda row: short(display(row.name)),
    "type": lambda row: display(row.type),
    "from": lambda row: short(", ".join(map(display, row.inputs))),
    "output": lambda row: format_shape(row.output_shape[1:]),
    "params": lambda row: human_count(row.params) if row.params else "-",
    "buffers": lambda row: human_count(row.buffers) if row.buffers else "-",
    "macs": lambda row: human_count(row.macs) if row.macs else "-",
    "flops": lambda row: human_count(row.flops) if row.flops else "-",
    "memory": lambda row: "view" if row.view else human_bytes(row.activation_bytes),
    "rf": lambda row: format_field(row.receptive_field, 0),
    "jump": lambda row: format_field(row.receptive_field, 1),
}


def share_cells(report: Report) -> Cells:
    """% of the network's MACs (FLOPs under `full`: what the table counts), params and activation memory."""
    totals = report.totals
    counted = "flops" if report.assumptions.convention == "full" else "macs"
    whole = {"share": getattr(totals, counted), "params_share": totals.params,
             "memory_share": totals.activation_bytes}

    def percent(part: int, key: str) -> str:
        return f"{part / whole[key] * 100:.1f}" if part and whole[key] else "-"

    return {
        "share": lambda row: percent(getattr(row, counted), "share"),
        "params_share": lambda row: percent(row.params, "params_share"),
        "memory_share": lambda row: "view" if row.view else percent(row.activation_bytes, "memory_share"),
    }


ALL_COLUMNS = (*CELLS, *SHARE_COLUMNS, *ROOFLINE_COLUMNS)


def parse_columns(text: str) -> tuple[str, ...]:
    """`name,output,macs` -> the column keys; an unknown key raises ValueError."""
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    unknown = [key for key in keys if key not in ALL_COLUMNS]
    if unknown or not keys:
        raise ValueError(f"unknown column '{unknown[0] if unknown else text}'; columns: {', '.join(ALL_COLUMNS)}")
    return keys
