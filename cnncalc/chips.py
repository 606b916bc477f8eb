"""The chip table: published peak ops per second per precision, memory bandwidth and
their sources. Built in from cnncalc/data/chips.yaml (a copy of the project's sourced
table); users add or override chips with `--chips FILE` or CNNCALC_CHIPS, in the same
format, validated with the same quality of errors as specs."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Mark, SpecError
from .files import read_bounded
from .yamlread import Map, Seq, decode, load, position

BUILT_IN = Path(__file__).parent / "data" / "chips.yaml"
CHIP_FILE_HINT = "--chips and CNNCALC_CHIPS name a YAML chip file: chips: [{id: my-npu, peak: {int8: 4.0e+12}}]"
# Dense precisions, in the order a default is chosen: chips are most often rated int8.
PRECISIONS = ("int8", "unspecified", "fp16", "bf16", "fp8", "int4", "tf32", "fp32", "fp16_fp16acc")
CHIP_KEYS = ("id", "name", "vendor", "peak", "bandwidth", "memory", "power_w", "source", "notes")
# Bytes of one element at each precision, for the roofline's bytes moved. A vendor "TOPS"
# of unstated precision is taken as int8, the usual meaning.
PRECISION_BYTES = {"int4": 0.5, "int8": 1, "fp8": 1, "unspecified": 1, "fp16": 2, "bf16": 2, "fp16_fp16acc": 2,
                   "tf32": 4, "fp32": 4}

@dataclass(frozen=True)
class Chip:
    """One chip's published figures. Peaks are ops per second, 1 MAC = 2 ops."""

    id: str
    name: str
    vendor: str
    peaks: dict[str, float]  # dense
    sparse_peaks: dict[str, float]  # 2:4 structured-sparsity headlines
    bandwidth: float | None  # bytes per second
    memory: float | None
    power_w: float | None
    sources: tuple[str, ...]
    notes: str
    origin: str  # the file the chip comes from

    def peak(self, precision: str | None, sparse: bool = False) -> tuple[str, float]:
        """(precision, ops/s): the one asked for, or the chip's default (int8 first)."""
        table = self.sparse_peaks if sparse else self.peaks
        kind = "sparse" if sparse else "dense"
        if precision is None:
            for candidate in PRECISIONS:
                if candidate in table:
                    return candidate, table[candidate]
            raise SpecError(f"chip '{self.id}' has no {kind} peak", hint=f"{self.id} lists {self.listing()}")
        if precision == "int8" and "int8" not in table and "unspecified" in table:
            return "unspecified", table["unspecified"]  # a "TOPS" of unstated precision counts as int8
        if precision not in table:
            raise SpecError(f"chip '{self.id}' has no {kind} {precision} peak",
                            hint=f"{self.id} has {self.listing()}")
        return precision, table[precision]

    def listing(self) -> str:
        dense = ", ".join(self.peaks) or "no dense peak"
        sparse = f"; sparse (--sparse): {', '.join(self.sparse_peaks)}" if self.sparse_peaks else ""
        return dense + sparse


def load_chips(extra: str | os.PathLike[str] | None = None) -> dict[str, Chip]:
    """The built-in chips, then CNNCALC_CHIPS's, then `extra`'s; a later file overrides by id."""
    chips = _read(BUILT_IN)
    for path in (os.environ.get("CNNCALC_CHIPS"), extra):
        if path:
            chips.update(_read(Path(path)))
    return chips


def find_chip(chip_id: str, chips: dict[str, Chip]) -> Chip:
    if chip_id not in chips:
        close = difflib.get_close_matches(chip_id, list(chips), n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise SpecError(f"unknown chip '{chip_id}'", hint=f"{guess}`cnncalc chips` lists them")
    return chips[chip_id]


def _read(path: Path) -> dict[str, Chip]:
    filename = str(path)
    try:
        root = load(decode(read_bounded(path, hint=CHIP_FILE_HINT), filename), filename)
    except SpecError as error:
        raise _about_chips(error) from None
    if not isinstance(root, Map) or not isinstance(root.get("chips"), Seq):
        raise SpecError("a chip file is a mapping with a 'chips' list", mark=Mark(filename, 1, 1),
                        hint="write chips: [{id: my-npu, name: My NPU, peak: {int8: 4.0e+12}}]")
    chips: dict[str, Chip] = {}
    for entry, at in zip(root["chips"], root["chips"].item_marks):
        chip = _chip(entry, at, filename)
        chips[chip.id] = chip
    return chips


def _about_chips(error: SpecError) -> SpecError:
    """The YAML reader speaks of specs ("the spec is empty", "save the spec as UTF-8"): here it is a chip file."""
    if error.problem == "the spec is empty":
        return SpecError("the chip file is empty", mark=error.mark, hint=CHIP_FILE_HINT)
    hint = error.hint.replace("a spec", "a chip file").replace("the spec", "the chip file") if error.hint else None
    return SpecError(error.problem, mark=error.mark, layer=error.layer, hint=hint)


def _chip(entry: Any, at: Any, filename: str) -> Chip:
    def fail(problem: str, where: Any, hint: str) -> SpecError:
        return SpecError(problem, mark=Mark(filename, *position(where)), hint=hint)

    if not isinstance(entry, Map) or not isinstance(entry.get("id"), str):
        raise fail("a chip is a mapping with an 'id'", at, "write {id: my-npu, name: My NPU, peak: {int8: 4.0e+12}}")
    for key in entry:
        if key not in CHIP_KEYS:
            close = difflib.get_close_matches(str(key), CHIP_KEYS, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise fail(f"chip '{entry['id']}': unknown key '{key}'", entry.key_marks[key], f"{guess}keys: "
                       + ", ".join(CHIP_KEYS))
    peaks = entry.get("peak")
    if not isinstance(peaks, Map) or not peaks:
        raise fail(f"chip '{entry['id']}' needs peak: {{precision: ops per second}}", entry.mark,
                   "write peak: {int8: 20.0e+12}")
    dense: dict[str, float] = {}
    sparse: dict[str, float] = {}
    for key, value in peaks.items():
        name = str(key).removesuffix("_sparse")
        if name not in PRECISIONS:
            raise fail(f"chip '{entry['id']}': unknown precision '{key}'", peaks.key_marks[key],
                       f"precisions: {', '.join(PRECISIONS)}, each also with _sparse")
        (sparse if str(key).endswith("_sparse") else dense)[name] = _positive(
            value, peaks.value_marks[key], fail, f"chip '{entry['id']}': peak {key}")
    numbers = {key: None if entry.get(key) is None else _positive(entry[key], entry.value_marks[key], fail,
                                                                  f"chip '{entry['id']}': {key}")
               for key in ("bandwidth", "memory", "power_w")}
    sources = entry.get("source") or []
    sources = list(sources) if isinstance(sources, Seq) else [sources]
    return Chip(id=entry["id"], name=str(entry.get("name", entry["id"])), vendor=str(entry.get("vendor") or ""),
                peaks=dense, sparse_peaks=sparse, bandwidth=numbers["bandwidth"], memory=numbers["memory"],
                power_w=numbers["power_w"], sources=tuple(map(str, sources)),
                notes=" ".join(str(entry.get("notes") or "").split()), origin=filename)


def _positive(value: Any, at: Any, fail: Any, what: str) -> float:
    """A finite number > 0 (a 400-digit integer overflows a float: refused, not an OverflowError)."""
    number = float("nan")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if isinstance(value, float) or abs(value) < 10**300 else float("inf")
    if not 0 < number < float("inf"):
        raise fail(f"{what} is {_shown(value)}, not a positive finite number", at,
                   "write ops or bytes per second like 20.0e+12")
    return number


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**20:
        try:
            return f"a {len(str(abs(value))):,}-digit number"
        except ValueError:  # past Python's 4,300-digit conversion limit
            return "a number of over 4,300 digits"
    text = "null" if value is None else repr(value)
    return text if len(text) <= 40 else text[:40] + "..."
