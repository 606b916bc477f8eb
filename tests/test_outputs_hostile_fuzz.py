"""No chip file and no stored JSON report crashes cnncalc: a mutation fuzzer.

Chip cases take one to four chips of the built-in table (cnncalc/data/chips.yaml); report cases take the
JSON of `cnncalc analyze --format json` on bundled specs. Each case applies one to three
edits: values replaced by NaN, infinity, 1e400, huge or 5,000-digit integers, negatives,
zero, strings with control characters, null, lists, mappings or 2,000-deep nesting; keys
dropped, renamed or added; subtrees swapped; list items duplicated; the file truncated or
given bad bytes. The mutant goes through the CLI (`cnncalc chips --chips FILE`, `chips ID`,
`fps --chip ID --chips FILE`, and `cnncalc diff` with the mutant as base or head) in a
random format. cnncalc must exit 0 or 1 with output whose every line is printable and no
workflow command, or exit 2 with one line on stderr and nothing on stdout; never a traceback.

CNNCALC_OUTPUTS_FUZZ_CASES sets the number of cases (default 3,000, about 20 s on two
cores), CNNCALC_OUTPUTS_FUZZ_SEED the seed, CNNCALC_OUTPUTS_FUZZ_ONLY=<index> reruns one.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import random
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest
from fuzzing import batch_indices, check_batch
import yaml
from click.testing import CliRunner

from cnncalc.chips import BUILT_IN
from cnncalc.cli import main
from cnncalc.yamlread import load

SEED = int(os.environ.get("CNNCALC_OUTPUTS_FUZZ_SEED", "20261202"))
CASES = int(os.environ.get("CNNCALC_OUTPUTS_FUZZ_CASES", "3000"))
ONLY = os.environ.get("CNNCALC_OUTPUTS_FUZZ_ONLY")
BATCHES = 6
REPORT_SPECS = ["specs/lenet5.yaml", "specs/alexnet.yaml", "specs/mobilenet_v1.yaml", "specs/resnet18.yaml"]
KEEP = Path(tempfile.gettempdir()) / "cnncalc-outputs-fuzz"  # where failing mutants are saved
RUN = {"cases": 0, "exit 0": 0, "exit 1": 0, "exit 2": 0}

# Text the JSON and YAML writers cannot produce themselves, put in after dumping.
RAW = {"@HUGE@": "9" * 5000, "@DEEP@": "[" * 2000 + "]" * 2000, "@1E400@": "1e400", "@NAN@": "NaN",
       "@INF@": "-Infinity"}
HOSTILE_TEXTS = ["", "x", "\n::error file=README.md,line=1::pwned", "::warning::w", "##[error]e", "##vso[x]y",
                 "\x1b[31m", "\r\n", "\t", "\x00", "\x85", "\u2028", "\u202eevil", "é日本😀", "a" * 3000, "int8",
                 "2mac",
                 "|", "%0A", "'\"", "hailo-8"]


def hostile_value(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice([0, -1, 1, 2, -(10**12), 10**12, 10**20, 10**29, 10**30, 10**31, 10**400, 2**63])
    if kind == 1:
        return rng.choice([0.0, -0.5, 0.5, 1.5, 1e-300, 1e300, float("inf"), float("-inf"), float("nan")])
    if kind == 2:
        return rng.choice(HOSTILE_TEXTS)
    if kind == 3:
        return rng.choice([None, True, False])
    if kind == 4:
        return rng.choice([[], [1], [1, 2, 3], ["a"], [None], [[1]], [{}], [10**400]])
    if kind == 5:
        return rng.choice([{}, {"a": 1}, {"int8": 1e12}, {"name": "x"}, {"size": [1]}])
    if kind == 6:
        return rng.choice(list(RAW))
    return rng.choice([1e12, 4.0e12, 68.0e9, 3, "conv2d", "relu", [1, 3, 8, 8]])


def slots(tree: Any) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, item in items:
            found.append((node, key))
            stack.append(item)
    return found


def tree_edit(rng: random.Random, tree: Any) -> str:
    places = slots(tree)
    if not places:
        return "nothing to edit"
    totals = tree.get("totals") if isinstance(tree, dict) else None
    if isinstance(totals, dict) and totals and rng.random() < 0.2:  # a valid change: growth, exit 1 past a limit
        key = rng.choice(list(totals))
        totals[key] = rng.choice([0, 1, 10**6, 10**12, 10**29])
        return f"total {key!r} changed"
    container, key = rng.choice(places)
    kind = rng.randrange(7)
    if kind <= 2:
        container[key] = hostile_value(rng)
        return f"value at {key!r} replaced"
    if kind == 3 and isinstance(container, dict):
        del container[key]
        return f"key {key!r} dropped"
    if kind == 4 and isinstance(container, dict):
        container[rng.choice(HOSTILE_TEXTS + ["id", "peak", "name", "layers", "totals", "type"])] = container.pop(key)
        return f"key {key!r} renamed"
    if kind == 5:
        other, other_key = rng.choice(places)
        # Copies: swapping a subtree with one inside it would make the tree a cycle.
        container[key], other[other_key] = copy.deepcopy(other[other_key]), copy.deepcopy(container[key])
        return f"{key!r} and {other_key!r} swapped"
    if isinstance(container, list):
        container.insert(key, container[key])
        return "list item duplicated"
    container[rng.choice(HOSTILE_TEXTS)] = hostile_value(rng)
    return "key added"


def text_edit(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.randrange(3)
    at = rng.randrange(len(data) + 1)
    if kind == 0:
        return data[:at], f"truncated at byte {at}"
    chunk = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"{", b"]", b",", b":", b'"', b"\\", b"- ",
                        b"\n", b"&a ", b"*a", b"!!python/name:os.system ", b"\xef\xbb\xbf", b"NaN", b"1e400"])
    return data[:at] + chunk + data[at:], f"{chunk!r} inserted at byte {at}"


def with_raw(text: str) -> str:
    for marker, raw in RAW.items():
        text = text.replace(json.dumps(marker), raw).replace(marker, raw)
    return text


def dump(tree: Any, as_json: bool) -> str:
    if as_json:
        return with_raw(json.dumps(tree, default=str))  # on one line: C's encoder, not the indenting Python one
    try:
        return with_raw(yaml.dump(tree, Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=200))
    except ValueError:  # an integer past str()'s 4,300 digits
        return "chips: [{id: x, peak: {int8: " + "9" * 5000 + "}}]\n"


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _report(spec: str) -> str:
    result = CliRunner().invoke(main, ["analyze", spec, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
CHIPS = plain(load(BUILT_IN.read_text(encoding="utf-8"), "chips.yaml"))["chips"]
REPORTS = {spec: _report(spec) for spec in REPORT_SPECS}


def mutant(index: int) -> tuple[str, bytes, str, random.Random]:
    """Case `index`: its kind ("chips" or a spec's report), bytes, what was done, its generator."""
    rng = random.Random(f"{SEED}:{index}")
    kind = "chips" if index % 2 == 0 else rng.choice(REPORT_SPECS)
    # A few chips of the built-in table (the whole of it is parsed on every call anyway).
    tree = copy.deepcopy({"chips": rng.sample(CHIPS, rng.randint(1, 4))}) if kind == "chips" \
        else json.loads(REPORTS[kind])
    done = [tree_edit(rng, tree) for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0])]
    data = dump(tree, kind != "chips").encode("utf-8", errors="surrogateescape")
    if rng.random() < 0.2:
        data, edit = text_edit(rng, data)
        done.append(edit)
    return kind, data, "; ".join(done), rng


def chip_command(rng: random.Random, path: Path, data: bytes) -> list[str]:
    ids = [text for text in (line.strip().removeprefix("- id: ") for line in data.decode("utf-8", "replace")
                             .splitlines() if line.strip().startswith("- id: "))] or ["x"]
    chip = rng.choice(ids)
    form = rng.choice(["table", "json", "markdown"])
    choice = rng.randrange(10)
    if choice < 5:
        return ["chips", "--chips", str(path), "--format", form]
    if choice < 7:
        return ["chips", "--chips", str(path), "--format", form, "--", chip]  # an id may start with '-'
    if choice < 9:
        return ["fps", "--flops", "4G", "--chip", chip, "--chips", str(path), "--fps", rng.choice(["30", "1e9"]),
                "--format", form]
    return ["analyze", "specs/lenet5.yaml", "--chip", chip, "--chips", str(path), "--format", form]


def diff_command(rng: random.Random, kind: str, path: Path, directory: Path) -> list[str]:
    other = directory / f"original-{Path(kind).stem}.json"
    if not other.exists():
        other.write_text(REPORTS[kind])
    other_side = str(other) if rng.random() < 0.9 else kind
    pair = [str(path), other_side] if rng.random() < 0.5 else [other_side, str(path)]
    options = ["--format", rng.choice(["table", "json", "markdown", "github", "junit"])]
    if rng.random() < 0.4:
        options += ["--fail-above", rng.choice(["0%", "5%", "flops=1%", "100%"])]
    if rng.random() < 0.3:
        options.append("--allow-convention-change")
    return ["diff", *pair, *options]


def problem_with(result: Any, command: list[str]) -> str | None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "exception:\n" + "".join(traceback.format_exception(result.exception))
    if "Traceback" in result.stderr:
        return f"a traceback on stderr: {result.stderr[:2000]}"
    if result.exit_code == 2:
        if result.stdout or result.stderr.count("\n") != 1 or not result.stderr.endswith("\n"):
            return f"exit 2 without exactly one line: {result.stdout[:300]!r} {result.stderr[:500]!r}"
        return None
    if result.exit_code not in (0, 1):
        return f"exit status {result.exit_code}: {result.stderr[:500]!r}"
    if not result.stdout:
        return "exit 0/1 with no output"
    github = "github" in command
    for line in result.stdout.split("\n"):
        if not line.isprintable() or "##vso[" in line:
            return f"an unsafe line: {line[:300]!r}"
        if line.lstrip().startswith(("::", "##[")) and not (github and line.startswith("::error title=cnncalc")):
            return f"a workflow command: {line[:300]!r}"
    return None


def check_case(directory: Path, index: int) -> str | None:
    kind, data, done, rng = mutant(index)
    path = directory / ("chips.yaml" if kind == "chips" else "report.json")
    path.write_bytes(data)
    command = chip_command(rng, path, data) if kind == "chips" else diff_command(rng, kind, path, directory)
    result = CliRunner().invoke(main, command)
    gc.enable()  # the CLI turns the cyclic collector off for its short-lived process; this one lives on
    RUN["cases"] += 1
    RUN[f"exit {result.exit_code}"] = RUN.get(f"exit {result.exit_code}", 0) + 1
    problem = problem_with(result, command)
    if problem is None:
        return None
    KEEP.mkdir(exist_ok=True)
    kept = KEEP / f"seed{SEED}-case{index}{path.suffix}"
    kept.write_bytes(data)
    return (f"CNNCALC_OUTPUTS_FUZZ_SEED={SEED} CNNCALC_OUTPUTS_FUZZ_ONLY={index} ({kind}: {done})\n"
            f"command {command}; mutant kept in {kept}\n{problem}")



@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutants(tmp_path: Path, batch: int) -> None:
    check_batch(batch_indices(batch, CASES, BATCHES, ONLY), lambda index: check_case(tmp_path, index),
                "CNNCALC_OUTPUTS_FUZZ_ONLY")


def test_cases_were_run() -> None:
    """Reports how many cases ran and how they ended (after the batches above)."""
    if RUN["cases"] == 0:
        pytest.skip("the mutant batches did not run in this session")
    expected = 1 if ONLY is not None else CASES
    summary = ", ".join(f"{count} {name}" for name, count in RUN.items())
    assert RUN["cases"] == expected, f"expected {expected}, ran {summary}"
    assert ONLY is not None or min(RUN["exit 0"], RUN["exit 2"]) > CASES // 20, f"too one-sided a run: {summary}"
    print(f"\nran {summary} (seed {SEED})")
