"""A report rendered in the chosen format and written whole: shared by analyze and layer."""

from __future__ import annotations

from typing import Any

from .common import (
    fail,
    layout_width,
    use_color,
)
from .output import write


BY_COLUMNS = ("name", "type", "params", "macs", "share", "memory")  # --by: what a sum of layers has


def emit_report(report: Any, depth: int | None, options: dict[str, Any], chip: Any = None, by: str | None = None) -> None:
    """Render in the chosen format, then print or write it whole (never half a table)."""
    from ..render.columns import (
        CELLS,
        DEFAULT_COLUMNS,
        FULL_CONVENTION_COLUMNS,
        ROOFLINE_COLUMNS,
        parse_columns,
        share_cells,
    )
    from ..report import fold

    cells, more, extra = {**CELLS, **share_cells(report)}, None, None
    default: tuple[str, ...] = FULL_CONVENTION_COLUMNS if options["convention"] == "full" else DEFAULT_COLUMNS
    if chip is not None:
        from ..render.fps import chip_lines, roofline_cells, roofline_json

        answer, roofline = chip
        more, extra = chip_lines(answer, roofline), roofline_json(answer, roofline)
        if roofline is not None:
            cells = {**cells, **roofline_cells(roofline)}
            default = tuple(key for key in default if key not in ("rf", "memory", "share")) + ROOFLINE_COLUMNS
    try:
        columns = parse_columns(options["columns"]) if options["columns"] else default
        if any(key in ROOFLINE_COLUMNS for key in columns) and "time" not in cells:
            raise ValueError("intensity, bound and time need --chip with a known bandwidth")
    except ValueError as error:
        fail(f"--columns: {error}")
    rows = fold(report.layers, depth)
    if by is not None:
        from ..groups import group_rows

        rows = group_rows(report, by)
        summable = (*BY_COLUMNS, "buffers", "flops", "params_share", "memory_share")
        if not options["columns"]:
            columns = BY_COLUMNS
        elif any(key not in summable for key in columns):
            fail(f"--columns with --by {by}: a row sums layers, so only {', '.join(summable)}")
    form = options["output_format"]
    if form == "json":
        from ..render.formats import render_json
        text = render_json(report, extra)
    elif form == "csv":
        from ..render.formats import render_csv
        text = render_csv(report, rows)
    elif form == "markdown":
        from ..render.formats import render_markdown
        text = render_markdown(report, rows, columns, cells, more)
    else:
        from ..render.table import render_table

        text = render_table(report, rows, columns, layout_width(options), use_color(options), cells, more,
                            droppable=() if options["columns"] else ("share",))
    write(text, options)
