"""Colours where they carry meaning (PASS green, FAIL red, the peak-memory row), as ANSI
SGR codes on finished lines, so that layout never counts them. The commands ask for
colour only on a terminal, never in a pipe or a file, never with NO_COLOR set."""

from __future__ import annotations

import re

GREEN, RED, YELLOW, BOLD = "32", "31", "33", "1"
_VERDICT = re.compile(r"\b(PASS|FAIL)\b")


def paint(text: str, code: str, on: bool = True) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on and text else text


def verdicts(line: str, on: bool) -> str:
    """Every PASS green and every FAIL red in a finished line."""
    if not on:
        return line
    return _VERDICT.sub(lambda match: paint(match.group(1), GREEN if match.group(1) == "PASS" else RED), line)
