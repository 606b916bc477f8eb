"""`cnncalc diff` output: totals side by side, then the layers that changed."""

from __future__ import annotations

import textwrap
from typing import Any
from xml.sax.saxutils import quoteattr

from ..diff import BYTE_TOTALS, Diff, FpsChange, LayerChange, OnChip, TotalChange
from ..units import format_shape, human_bytes, human_count
from .escape import display, github_message, json_document

Failures = list[tuple[TotalChange, float]]


def _value(key: str, value: float) -> str:
    return human_bytes(value) if key in BYTE_TOTALS else human_count(value)


def _total_row(change: TotalChange) -> tuple[str, str, str, str, str]:
    percent = "new" if change.percent is None else f"{change.percent:+.1f} %"
    sign = "+" if change.delta > 0 else ("-" if change.delta < 0 else "")
    return (change.key, _value(change.key, change.base), _value(change.key, change.head),
            sign + _value(change.key, abs(change.delta)), percent)


def _fps_figure(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _fps_row(change: FpsChange) -> tuple[str, str, str, str, str]:
    delta = "-" if change.delta is None else f"{change.delta:+,.1f}"
    percent = "-" if change.percent is None else f"{change.percent:+.1f} %"
    return change.key, _fps_figure(change.base), _fps_figure(change.head), delta, percent


def _chip_line(chip: OnChip) -> str:
    """Under the table: on what the fps rows were counted, and the verdict on --fps."""
    text = f"fps on {chip.chip} at {chip.precision}, utilization {chip.utilization:g}."
    if chip.target_fps is not None:
        verdicts = {True: "PASS", False: "FAIL", None: "-"}
        text += (f" Target {chip.target_fps:g} fps: base {verdicts[chip.base_passed]}, "
                 f"head {verdicts[chip.head_passed]}.")
    return text


def _wrapped_layer(change: LayerChange, width: int) -> list[str]:
    """A change's line, continued under itself at the commas between fields: never inside a
    name or a figure (a name may hold spaces)."""
    head, *fields = _layer_text(change).split(_FIELD_SEPARATOR)
    lines = ["  " + head]
    for part in fields:
        if len(lines[-1]) + len(", ") + len(part) <= width:
            lines[-1] += ", " + part
        else:
            lines[-1] += ","
            lines.append("      " + part)
    return lines


_FIELD_SEPARATOR = ", \0"  # between the fields of a changed layer; no displayed name holds a NUL


def _layer_text(change: LayerChange) -> str:
    if change.change == "added" and change.head:
        return f"+ {display(change.name)} ({display(change.head['type'])}) {format_shape(tuple(change.head['output_shape'][1:]))}"
    if change.change == "removed" and change.base:
        return f"- {display(change.name)} ({display(change.base['type'])})"
    assert change.base is not None and change.head is not None
    parts = []
    for key in change.fields:
        before: Any = change.base.get(key)
        after: Any = change.head.get(key)
        if key == "output_shape":
            before, after = format_shape(tuple(before[1:])), format_shape(tuple(after[1:]))
        elif key == "type":
            before, after = display(before), display(after)
        else:
            before, after = human_count(before), human_count(after)
        parts.append(f"{key} {before} -> {after}")
    return f"~ {display(change.name)}: " + _FIELD_SEPARATOR.join(parts)


def render_diff(diff: Diff, failures: Failures, form: str, width: int = 80) -> str:
    """`width` lays out the table form: layer lines and the summary wrap under themselves."""
    if form == "table":
        return _table(diff, failures, width)
    return {"json": _json, "markdown": _markdown, "github": _github, "junit": _junit}[form](diff, failures)


def _verdict(diff: Diff, failures: Failures) -> str:
    counts = {kind: sum(change.change == kind for change in diff.layers) for kind in ("added", "removed", "changed")}
    layers = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    grown = "; ".join(f"{change.key} grew {change.percent:+.1f} % (limit {limit:g} %)" if change.percent is not None
                      else f"{change.key} grew from 0" for change, limit in failures)
    verdict = f"Layers: {layers}. FLOPs in the {diff.convention} convention." + (f" FAIL: {grown}." if failures else "")
    return verdict + (" " + _chip_line(diff.on_chip) if diff.on_chip else "")


def _table(diff: Diff, failures: Failures, width: int) -> str:
    base, head = display(diff.base_label), display(diff.head_label)
    figures = list(map(_total_row, diff.totals))
    figures += [_fps_row(change) for change in diff.on_chip.fps] if diff.on_chip else []
    rows = [("Total", base, head, "Delta", "%"), *figures]
    widths = [max(len(row[index]) for row in rows) for index in range(5)]
    named_above = sum(widths) + 8 > width  # long paths: named on lines of their own, Base and Head in the table
    if named_above:
        rows = [("Total", "Base", "Head", "Delta", "%"), *figures]
        widths = [max(len(row[index]) for row in rows) for index in range(5)]
    lines = ["  ".join(text.rjust(size) if index else text.ljust(size)
                       for index, (text, size) in enumerate(zip(row, widths))).rstrip() for row in rows]
    if named_above:
        lines = [f"Base  {base}", f"Head  {head}", "", *lines]
    if diff.layers:
        lines += ["", "Layers:"]
        for change in diff.layers:
            lines += _wrapped_layer(change, width)
    return "\n".join(lines) + "\n\n" + "\n".join(textwrap.wrap(_verdict(diff, failures), width)) + "\n"


def _json(diff: Diff, failures: Failures) -> str:
    data: dict[str, Any] = {
        "base": diff.base_label, "head": diff.head_label, "convention": diff.convention,
        "totals": {change.key: {"base": change.base, "head": change.head, "delta": change.delta,
                                "percent": change.percent} for change in diff.totals},
        "layers": [{"name": change.name, "change": change.change, "fields": list(change.fields),
                    "base": change.base, "head": change.head} for change in diff.layers],
        "fail": [change.key for change, _ in failures],
    }
    if diff.on_chip is not None:
        chip = diff.on_chip
        data["on_chip"] = {
            "chip": chip.chip, "precision": chip.precision, "utilization": chip.utilization,
            "target_fps": chip.target_fps, "base_passed": chip.base_passed, "head_passed": chip.head_passed,
            **{change.key.replace(" (roofline)", "_roofline"): {
                "base": change.base, "head": change.head, "delta": change.delta, "percent": change.percent}
               for change in chip.fps}}
    return json_document(data)


def _markdown(diff: Diff, failures: Failures) -> str:
    lines = [f"#### cnncalc diff: `{display(diff.base_label)}` → `{display(diff.head_label)}`", "",
             "| Total | Base | Head | Delta | % |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += ["| " + " | ".join(row) + " |" for row in map(_total_row, diff.totals)]
    lines += ["| " + " | ".join(_fps_row(change)) + " |" for change in (diff.on_chip.fps if diff.on_chip else ())]
    if diff.layers:
        lines += ["", "<details><summary>Layers that changed</summary>", "", "```diff"]
        lines += [_layer_text(change).replace(_FIELD_SEPARATOR, ", ").replace("~ ", "! ", 1) for change in diff.layers]
        lines += ["```", "</details>"]
    return "\n".join(lines) + "\n\n" + _verdict(diff, failures) + "\n"


def _github(diff: Diff, failures: Failures) -> str:
    lines = ["::error title=cnncalc diff::" + github_message(
        f"{change.key} grew {change.percent:+.1f} % ({_value(change.key, change.base)} -> "
        f"{_value(change.key, change.head)}), over {limit:g} %" if change.percent is not None
        else f"{change.key} grew from 0") for change, limit in failures]
    return "\n".join([*lines, _verdict(diff, failures)]) + "\n"


def _junit(diff: Diff, failures: Failures) -> str:
    failed = {change.key: limit for change, limit in failures}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuite name="cnncalc diff" tests="{len(diff.totals)}" failures="{len(failed)}">']
    for change in diff.totals:
        case = f'  <testcase classname={quoteattr(display(diff.head_label))} name={quoteattr(change.key)}'
        if change.key in failed:
            key, base, head, delta, percent = _total_row(change)
            message = quoteattr(f"{key} grew {percent} ({base} -> {head}), over {failed[key]:g} %")
            lines += [case + ">", f"    <failure message={message}/>", "  </testcase>"]
        else:
            lines.append(case + "/>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"
