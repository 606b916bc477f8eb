"""The terminal table, laid out here and styled by rich on a colour terminal.

The layout is computed directly (rich's own table measures every cell several times
and takes 0.1 s for ResNet-50's 170 rows): figures and shapes never shrink or wrap, a
cropped "524.29 k" would lie; only layer names fold when the table is too wide.
"""

from __future__ import annotations

import textwrap

from ..report import LayerRow, Report
from .colour import YELLOW, paint, verdicts
from .columns import CELLS, COLUMN_TITLES, NUMERIC, Cells
from .escape import display
from .summary import assumption_lines, totals_lines

GAP = "  "
MIN_NAME_WIDTH = 6


def render_table(report: Report, rows: tuple[LayerRow, ...], columns: tuple[str, ...], width: int,
                 color: bool, cells: Cells = CELLS, more: list[tuple[str, str]] | None = None,
                 droppable: tuple[str, ...] = ()) -> str:
    """The per-layer table, then totals, `more` lines (a chip's) and assumptions, fitted to `width`;
    the `droppable` columns (a default's extras, never one the user chose) go first when it cannot fit."""
    table = [[cells[key](row) for key in columns] for row in rows]
    for key in droppable:
        if key in columns and _narrowest(columns, table) > width:
            index = columns.index(key)
            columns = columns[:index] + columns[index + 1:]
            table = [line[:index] + line[index + 1:] for line in table]
    lines = layout(columns, table, width)
    lines.append("")
    lines += summary_lines(totals_lines(report) + (more or []) + assumption_lines(report), width)
    title = display(report.name)
    if not color:
        return "\n".join([title, *lines]) + "\n"
    peak = display(report.totals.peak_layer)
    for index, line in enumerate(lines):  # the row where the peak is reached, and the totals' line
        if (index > 1 and "name" in columns and line.startswith(peak + " ")) or line.startswith("Peak activations"):
            lines[index] = paint(line, YELLOW)
    lines[2:] = [verdicts(line, True) for line in lines[2:]]
    return _styled(title, lines)


def _narrowest(columns: tuple[str, ...], cells: list[list[str]]) -> int:
    """The table's width with names folded as far as they go."""
    widths = [max([len(COLUMN_TITLES[key])] + [len(line[index]) for line in cells]) for index, key in enumerate(columns)]
    if "name" in columns:
        widths[columns.index("name")] = min(widths[columns.index("name")], MIN_NAME_WIDTH)
    return sum(widths) + len(GAP) * (len(widths) - 1)


def layout(columns: tuple[str, ...], cells: list[list[str]], width: int) -> list[str]:
    widths = [max([len(COLUMN_TITLES[key])] + [len(line[index]) for line in cells])
              for index, key in enumerate(columns)]
    if "name" in columns:
        index = columns.index("name")
        spare = width - (sum(widths) + len(GAP) * (len(widths) - 1))
        if spare < 0:
            widths[index] = max(MIN_NAME_WIDTH, widths[index] + spare)
    header = _line([COLUMN_TITLES[key] for key in columns], columns, widths)
    result = [header, "─" * len(header)]
    for line in cells:
        folded = [_fold(text, widths[index]) for index, text in enumerate(line)]
        for part in range(max(len(pieces) for pieces in folded)):
            result.append(_line([pieces[part] if part < len(pieces) else "" for pieces in folded], columns, widths))
    return result


def _fold(text: str, width: int) -> list[str]:
    """Pieces of at most `width`, broken after a dot where one falls in the piece."""
    pieces, start = [], 0
    while len(text) - start > width:
        cut = text.rfind(".", start, start + width) + 1 or start + width
        pieces.append(text[start:cut])
        start = cut
    return pieces + [text[start:]]


def _line(texts: list[str], columns: tuple[str, ...], widths: list[int]) -> str:
    parts = [text.rjust(size) if key in NUMERIC else text.ljust(size)
             for text, key, size in zip(texts, columns, widths)]
    return GAP.join(parts).rstrip()


def summary_lines(items: list[tuple[str, str]], width: int) -> list[str]:
    """Label, then text wrapped under itself."""
    label_width = max(len(label) for label, _ in items) + 1
    lines = []
    for label, text in items:
        wrapped = textwrap.wrap(text, max(20, width - label_width)) or [""]
        lines.append(label.ljust(label_width) + wrapped[0])
        lines += [" " * label_width + rest for rest in wrapped[1:]]
    return lines


def _styled(title: str, lines: list[str]) -> str:
    """Bold title and header through rich, only when writing to a colour terminal."""
    import io

    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, highlight=False, soft_wrap=True)
    console.print(Text(title, style="bold"))
    console.print(Text(lines[0], style="bold"))
    for line in lines[1:]:
        console.print(Text.from_ansi(line) if "\x1b[" in line else Text(line))
    return buffer.getvalue()
