"""The terminal table: the only module that knows rich."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from ..report import LayerRow, Report
from .columns import CELLS, COLUMN_TITLES, NO_WRAP, NUMERIC
from .summary import assumption_lines, totals_lines


def render_table(report: Report, rows: tuple[LayerRow, ...], columns: tuple[str, ...], width: int | None,
                 color: bool) -> str:
    """The per-layer table, then totals and assumptions, at `width` columns (None: the terminal's)."""
    table = Table(title=f"{report.name}", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                  collapse_padding=True, title_justify="left",
                  show_footer=False)
    cells = [[CELLS[key](row) for key in columns] for row in rows]
    for index, key in enumerate(columns):
        # Figures and shapes never shrink or wrap (a cropped "524.29 k" would lie); names fold.
        widest = max([len(COLUMN_TITLES[key])] + [len(line[index]) for line in cells])
        table.add_column(COLUMN_TITLES[key], justify="right" if key in NUMERIC else "left",
                         overflow="fold", no_wrap=key in NO_WRAP, min_width=widest if key in NO_WRAP else 6)
    for line in cells:
        table.add_row(*line)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color,
                      highlight=False, soft_wrap=False)
    console.print(table)
    summary = Table.grid(padding=(0, 1))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column(overflow="fold")
    for label, text in totals_lines(report) + assumption_lines(report):
        summary.add_row(label, text)
    console.print(summary)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
