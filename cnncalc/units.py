"""Units are data: decimal prefixes for counts, binary or decimal for bytes.

Tables print counts with decimal prefixes (11.69 M, 4.09 G) and bytes with
binary ones (97.7 MiB); machine formats print exact integers.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

COUNT_PREFIXES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_UNITS = {
    "B": 1,
    "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}
_NUMBER_WITH_UNIT = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*")


# What cnncalc prints after a count ("8.74 GFLOPs"), accepted back: "8.7GFLOPs", "600 MMACs".
_COUNT_WORD = re.compile(r"\s*(FLOPs|FLOPS|FLOP|flops|MACs|MACS|MAC|macs|OPs|OPS|ops)\s*$")


def parse_count(text: str | int | float) -> float:
    """`5M` -> 5e6, `1.2G` -> 1.2e9, `600k` -> 6e5, `8.7GFLOPs` -> 8.7e9; plain numbers pass through."""
    if isinstance(text, str) and _COUNT_WORD.search(text) and _COUNT_WORD.sub("", text).strip():
        text = _COUNT_WORD.sub("", text)
    number, unit = _split(text)
    if unit not in COUNT_PREFIXES:
        raise ValueError(f"unknown unit '{unit}' in '{text}'; counts take k, M, G, T")
    return _finite(number * COUNT_PREFIXES[unit], text)


def parse_bytes(text: str | int | float) -> float:
    """`20MB` -> 20e6, `64MiB` -> 67108864; a bare number is bytes."""
    number, unit = _split(text)
    unit = unit or "B"
    if unit not in BYTE_UNITS:
        raise ValueError(
            f"unknown unit '{unit}' in '{text}'; bytes take B, kB, MB, GB, TB, KiB, MiB, GiB, TiB"
        )
    return _finite(number * BYTE_UNITS[unit], text)


def _finite(number: Decimal, text: str | int | float) -> float:
    """1e400GB is a valid Decimal but no float: infinity would be a limit nothing exceeds."""
    value = float(number)
    if not math.isfinite(value):
        shown = str(text) if isinstance(text, str) else f"a {number.adjusted() + 1:,}-digit number"
        raise ValueError(f"'{shown[:40]}' is too large: not a finite number")
    return value


def _split(text: str | int | float) -> tuple[Decimal, str]:
    """Decimal, so that 2.05G is exactly 2,050,000,000 and doubles to exactly 4.1e9."""
    if isinstance(text, bool):
        raise ValueError(f"expected a number, got {text}")
    if isinstance(text, (int, float)):
        if text != text or text in (float("inf"), float("-inf")):
            raise ValueError(f"{text} is not a finite number")
        return Decimal(repr(text)), ""
    if not isinstance(text, str):
        kind = "null" if text is None else ("a list" if isinstance(text, list) else "a mapping")
        raise ValueError(f"expected a number with an optional unit, got {kind}")
    match = _NUMBER_WITH_UNIT.fullmatch(text)
    if match is None:
        raise ValueError(f"'{text}' is not a number with an optional unit")
    return Decimal(match.group(1)), match.group(2)


def human_count(value: float, unit: str = "") -> str:
    """4_089_184_256 -> '4.09 G'; below 1000 the exact integer."""
    magnitude = abs(value)
    for prefix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if magnitude >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    if float(value).is_integer():
        return f"{int(value)} {unit}".rstrip()
    return f"{value:.2f} {unit}".rstrip()


def human_bytes(value: float) -> str:
    """102_760_448 -> '98.0 MiB'; binary prefixes, one decimal."""
    magnitude = abs(value)
    for prefix, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if magnitude >= scale:
            return f"{value / scale:.1f} {prefix}"
    return f"{int(value)} B"


def parse_shape(text: str) -> tuple[int, ...]:
    """`3x224x224` (or `3,224,224`) -> (3, 224, 224); every size at least 1."""
    parts = re.split(r"[x×,]", text.strip())
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"'{text}' is not a shape; write sizes joined by x, e.g. 3x224x224") from None
    if any(size < 1 for size in sizes):
        raise ValueError(f"'{text}' has a size below 1")
    return sizes


def format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(size) for size in shape)
