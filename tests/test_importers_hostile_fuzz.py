"""No Darknet .cfg or Caffe .prototxt crashes cnncalc: a structure-aware mutation fuzzer.

Each case takes a seed (specs/yolov4-tiny.cfg, tests/data/*.prototxt, or a small random
valid network of either format), reads it into sections and keys (cfg) or a tree of
fields (prototxt), and applies one to three edits of the structure: sections, layers and
fields dropped, duplicated, swapped or moved; keys renamed or misspelt; values set to
edge values (0, -1, past 2**31 and 2**64, 5,000 digits, 1e400, nan, empty, lists,
strings, 100,000 characters); layer types changed; routes, `from`, bottoms and tops
rewired (to the layer itself, to later layers, to nothing); blocks nested up to 150 deep.
A third of the cases then get byte edits (truncation, NUL, CR, BOM, bad UTF-8, syntax
characters, lines duplicated, deleted or swapped).

Every case runs `cnncalc analyze --format json FILE` through click's CliRunner, and one in
IMPORT_EVERY also `cnncalc import FILE`: each must exit 0 with valid output (JSON, or a spec
that reads back), or exit 2 with one line on stderr that starts with the file's path, no
traceback, within TIME_LIMIT seconds.

CNNCALC_IMPORT_FUZZ_CASES sets the number of cases (default 3,000: about half a minute),
CNNCALC_IMPORT_FUZZ_SEED the seed; a failure names the case, whose mutant is kept in
KEEP, and CNNCALC_IMPORT_FUZZ_ONLY=<index> reruns it alone.
"""

from __future__ import annotations

import json
import os
import random
import signal
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from test_importers_hostile_mutations import (cfg_text, mutate_bytes, mutate_cfg, mutate_prototxt, parse_cfg,
                                              parse_prototxt, prototxt_text, random_cfg, random_prototxt)

from cnncalc.cli import main

SEED = int(os.environ.get("CNNCALC_IMPORT_FUZZ_SEED", "20261202"))
CASES = int(os.environ.get("CNNCALC_IMPORT_FUZZ_CASES", "3000"))
ONLY = os.environ.get("CNNCALC_IMPORT_FUZZ_ONLY")
BATCHES = 6
IMPORT_EVERY = 5  # one case in five also runs `cnncalc import`
TIME_LIMIT = 5  # seconds per command
GENERATED_SEEDS = 30  # of each format
ROOT = Path(__file__).resolve().parent.parent
KEEP = Path(tempfile.gettempdir()) / "cnncalc-import-fuzz"
RUN = {"cases": 0, "reports": 0, "errors": 0, "imports": 0, "cfg": 0, "prototxt": 0}
SLOWEST = [0.0, -1]


# -- seeds and mutants ------------------------------------------------------------------------------

def seed_texts() -> list[tuple[str, str, str]]:
    """(origin, suffix, text) of every seed: the bundled files, then generated ones."""
    seeds = [(path.name, path.suffix, path.read_text(encoding="utf-8"))
             for path in [ROOT / "specs" / "yolov4-tiny.cfg", *sorted((ROOT / "tests" / "data").glob("*.prototxt"))]]
    for index in range(GENERATED_SEEDS):
        seeds.append((f"generated cfg {index}", ".cfg", random_cfg(random.Random(f"{SEED}:cfg:{index}"))))
        seeds.append((f"generated prototxt {index}", ".prototxt",
                      random_prototxt(random.Random(f"{SEED}:prototxt:{index}"))))
    return seeds


SEEDS = seed_texts()


def mutant(index: int) -> tuple[bytes, str, str]:
    """Case `index`: its bytes, its suffix, and what was done."""
    rng = random.Random(f"{SEED}:{index}")
    origin, suffix, text = rng.choice(SEEDS)
    done = [origin]
    edits = rng.choices([0, 1, 2, 3], [1, 6, 3, 1])[0]
    if suffix == ".cfg":
        sections = parse_cfg(text)
        done += [mutate_cfg(rng, sections) for _ in range(edits)]
        text = cfg_text(sections, rng)
    else:
        tree = parse_prototxt(text)
        done += [mutate_prototxt(rng, tree) for _ in range(edits)]
        text = prototxt_text(tree)
    data = text.encode("utf-8", errors="surrogateescape")
    if rng.random() < 0.33 or edits == 0:
        for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0]):
            data, edit = mutate_bytes(rng, data)
            done.append(edit)
    return data, suffix, "; ".join(done)


# -- running one case -------------------------------------------------------------------------------

class TimeLimit(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimeLimit(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(command: str, path: Path) -> tuple[str | None, int]:
    """(None when cnncalc behaved, else what went wrong; the exit status)."""
    arguments = ["analyze", "--format", "json", str(path)] if command == "analyze" else ["import", str(path)]
    start = time.perf_counter()
    with time_limit(TIME_LIMIT):
        result = CliRunner().invoke(main, arguments)
    elapsed = time.perf_counter() - start
    if isinstance(result.exception, TimeLimit) or elapsed > TIME_LIMIT:
        return f"{command}: no answer within {TIME_LIMIT} s", -1
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{command}: exception\n" + "".join(traceback.format_exception(result.exception)), -1
    if result.exit_code == 0:
        return _output_problem(command, result.stdout), 0
    lines = result.stderr.split("\n")
    if result.exit_code != 2:
        return f"{command}: exit status {result.exit_code}: {result.stderr[:500]!r}", result.exit_code
    if "Traceback" in result.stderr or len(lines) != 2 or lines[1] != "" or result.stdout:
        return f"{command}: not one line on stderr: {result.stderr[:2000]!r}", 2
    if not result.stderr.startswith(f"{path}:"):
        return f"{command}: the message does not start with the file's path: {result.stderr[:500]!r}", 2
    return None, 2


def _output_problem(command: str, out: str) -> str | None:
    try:
        if command == "analyze":
            json.loads(out)
        else:
            yaml.safe_load(out)
    except (ValueError, yaml.YAMLError) as error:
        return f"{command}: exit 0 but its output does not parse: {error}"
    return None


def check_case(directory: Path, index: int) -> str | None:
    data, suffix, done = mutant(index)
    path = directory / f"case-{index}{suffix}"
    path.write_bytes(data)
    RUN["cases"] += 1
    RUN[suffix.lstrip(".")] += 1
    start = time.perf_counter()
    problem, status = run("analyze", path)
    RUN["reports" if status == 0 else "errors"] += 1
    if problem is None and index % IMPORT_EVERY == 0:
        RUN["imports"] += 1
        problem, _ = run("import", path)
    SLOWEST[:] = max(SLOWEST, [time.perf_counter() - start, index])
    path.unlink()
    if problem is None:
        return None
    KEEP.mkdir(exist_ok=True)
    kept = KEEP / f"seed{SEED}-case{index}{suffix}"
    kept.write_bytes(data)
    return (f"CNNCALC_IMPORT_FUZZ_SEED={SEED} CNNCALC_IMPORT_FUZZ_ONLY={index} (case {index}: {done[:500]})\n"
            f"mutant kept in {kept}\n{problem}")


def batch_indices(batch: int) -> range:
    if ONLY is not None:
        return range(int(ONLY), int(ONLY) + 1) if batch == 0 else range(0)
    return range(batch, CASES, BATCHES)


@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutants(tmp_path: Path, batch: int) -> None:
    failures = {}
    for index in batch_indices(batch):
        problem = check_case(tmp_path, index)
        if problem is not None:
            failures[index] = problem
    assert not failures, (f"{len(failures)} failing case(s), CNNCALC_IMPORT_FUZZ_ONLY={', '.join(map(str, failures))}; "
                          f"the first:\n{next(iter(failures.values()))}")


def test_cases_were_run() -> None:
    """Reports how many cases ran (after the batches above, which pytest runs first)."""
    if RUN["cases"] == 0:
        pytest.skip("the mutant batches did not run in this session")
    expected = 1 if ONLY is not None else CASES
    summary = (f"{RUN['cases']} import fuzz cases (seed {SEED}; {RUN['cfg']} cfg, {RUN['prototxt']} prototxt): "
               f"{RUN['reports']} reports, {RUN['errors']} located errors, {RUN['imports']} import runs; "
               f"the slowest, case {SLOWEST[1]}, took {SLOWEST[0]:.2f} s")
    assert RUN["cases"] == expected, f"expected {expected}, ran {summary}"
    print(f"\nran {summary}")
