"""`cnncalc check` output: a table per spec, JSON, markdown for pull requests, GitHub
workflow annotations, and JUnit XML for CI dashboards."""

from __future__ import annotations

import textwrap
from typing import Any
from xml.sax.saxutils import quoteattr

from .. import __version__
from ..budgets import Outcome
from .colour import verdicts
from .escape import display, github_message, github_property, json_document

Checked = list[tuple[str, str, list[Outcome]]]  # (spec path, network name, outcomes)


def _row(outcome: Outcome) -> tuple[str, str, str, str, str]:
    margin = f"{outcome.describe(outcome.margin)} ({outcome.margin_percent:+.1f} %)"
    key = f"{outcome.budget.key} ({outcome.model})" if outcome.model else outcome.budget.key
    return (key, outcome.describe(outcome.limit), outcome.describe(outcome.actual), margin,
            "PASS" if outcome.passed else "FAIL")


HEADER = ("Budget", "Limit", "Actual", "Margin", "Result")


def render_check(checked: Checked, form: str, convention: str, width: int = 80, color: bool = False) -> str:
    """`width` lays out the table form (its summary wraps), `color` paints its verdicts; the other
    forms are for machines or GitHub."""
    if form == "table":
        return _table(checked, convention, width, color)
    return {"json": _json, "markdown": _markdown, "github": _github, "junit": _junit}[form](checked, convention)


NO_BUDGETS = "no budgets (skipped)"


def _table(checked: Checked, convention: str, width: int, color: bool) -> str:
    blocks, skipped = [], []
    for path, name, outcomes in checked:
        if not outcomes:
            skipped.append(f"  {display(path)} ({display(name)})")
            continue
        rows = [HEADER, *map(_row, outcomes)]
        widths = [max(len(row[index]) for row in rows) for index in range(len(HEADER))]
        lines = [f"{display(path)} ({display(name)})"]
        lines += ["  " + "  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip() for row in rows]
        lines[2:] = [verdicts(line, color) for line in lines[2:]]
        blocks.append("\n".join(lines))
    if skipped:
        blocks.append("\n".join([f"{NO_BUDGETS}:", *skipped]))
    return "\n\n".join(blocks) + "\n\n" + "\n".join(textwrap.wrap(_verdict(checked, convention), width)) + "\n"


def _verdict(checked: Checked, convention: str) -> str:
    failed = sum(not outcome.passed for _, _, outcomes in checked for outcome in outcomes)
    total = sum(len(outcomes) for _, _, outcomes in checked)
    state = f"{failed} of {total} budgets exceeded" if failed else f"all {total} budgets hold" if total else \
        "no budgets checked"
    skipped = sum(not outcomes for _, _, outcomes in checked)
    if skipped:
        state += f"; {skipped} spec{'s' if skipped > 1 else ''} without budgets skipped"
    return (f"{state}. FLOPs in the {convention} convention; the margin is what is left (negative: over); "
            "fps is the calibrated estimate unless the budget names a model or a utilization.")


def _json(checked: Checked, convention: str) -> str:
    data: dict[str, Any] = {
        "cnncalc": __version__,
        "convention": convention,
        "pass": all(outcome.passed for _, _, outcomes in checked for outcome in outcomes),
        "specs": [{"spec": path, "name": name, "budgets": [_outcome_json(outcome) for outcome in outcomes],
                   "skipped": None if outcomes else "no budgets"}
                  for path, name, outcomes in checked],
    }
    return json_document(data)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    mark = outcome.budget.mark
    finite = outcome.actual != float("inf")  # JSON has no infinity: an unbounded fps is null
    return {"budget": outcome.budget.key, "limit": outcome.limit, "actual": outcome.actual if finite else None,
            "margin": outcome.margin if finite else None, "margin_percent": outcome.margin_percent if finite else None, "pass": outcome.passed,
            "unit": outcome.unit, "model": outcome.model or None, "line": mark.line if mark else None}


def _markdown(checked: Checked, convention: str) -> str:
    lines = []
    for path, name, outcomes in checked:
        if not outcomes:
            lines += [f"#### `{display(path)}` ({display(name)}): {NO_BUDGETS}", ""]
            continue
        lines += [f"#### `{display(path)}` ({display(name)})", "", "| " + " | ".join(HEADER) + " |", "| --- | ---: | ---: | ---: | --- |"]
        for outcome in outcomes:
            cells = list(_row(outcome))
            cells[-1] = "✅ PASS" if outcome.passed else "❌ FAIL"
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    # The blank line ends the table: GitHub would read the summary as one more row.
    return "\n".join(lines) + "\n" + _verdict(checked, convention) + "\n"


def _github(checked: Checked, convention: str) -> str:
    """Workflow commands: an error annotation on the budget's line for each one exceeded."""
    lines = []
    for path, _, outcomes in checked:
        for outcome in outcomes:
            if outcome.passed:
                continue
            mark = outcome.budget.mark
            file = github_property(display(path))
            where = f" file={file},line={mark.line},col={mark.column}" if mark else f" file={file}"
            verb = "is below the minimum" if outcome.unit == "fps" else "exceeds budget"
            actual, limit = outcome.describe(outcome.actual), outcome.describe(outcome.limit)
            message = f"{outcome.budget.key} {actual} {verb} {limit}"
            lines.append(f"::error{where},title=cnncalc budget::{github_message(message)}")
    lines.append(_verdict(checked, convention))
    return "\n".join(lines) + "\n"


def _junit(checked: Checked, convention: str) -> str:
    """One test case per budget, one suite per spec."""
    total = sum(len(outcomes) or 1 for _, _, outcomes in checked)  # a skipped spec is one skipped case
    failures = sum(not outcome.passed for _, _, outcomes in checked for outcome in outcomes)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name="cnncalc check" tests="{total}" failures="{failures}">']
    for path, name, outcomes in checked:
        failed = sum(not outcome.passed for outcome in outcomes)
        if not outcomes:
            lines += [f'  <testsuite name={quoteattr(display(path))} tests="1" failures="0" skipped="1">',
                      f'    <testcase classname={quoteattr(display(name))} name="budgets"><skipped message="no budgets"/>'
                      '</testcase>', "  </testsuite>"]
            continue
        lines.append(f'  <testsuite name={quoteattr(display(path))} tests="{len(outcomes)}" failures="{failed}">')
        for outcome in outcomes:
            key, limit, actual, margin, result = _row(outcome)
            case = f'    <testcase classname={quoteattr(display(name))} name={quoteattr(outcome.budget.key)}'
            if outcome.passed:
                lines.append(case + "/>")
            else:
                message = quoteattr(f"{key} {actual} over the budget {limit} (margin {margin})")
                lines += [case + ">", f"      <failure message={message}/>", "    </testcase>"]
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"
