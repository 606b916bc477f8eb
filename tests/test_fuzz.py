"""No input crashes cnncalc: a mutation fuzzer over the bundled and generated specs.

Each case takes a seed spec (one of specs/*.yaml, or a random valid spec from
tests/strategies.py) and applies one to three random edits: numbers replaced by 0,
negatives, 10**12, 10**400, floats, strings, nulls, lists or mappings; keys dropped,
duplicated or misspelled; subtrees swapped (types confused); `repeat` set huge; values
replaced by hostile expressions; the file truncated at a random byte; YAML syntax
characters, random bytes and invalid UTF-8 inserted. The mutant is written to a file and
analysed; every tenth case also goes through the real CLI with random options.

The library must return a report or raise SpecError whose message starts with
`file:line:col: `, within TIME_LIMIT seconds; anything else is a failure. The CLI must
exit 0 or 2 (1 is for failed budgets), print no traceback, and on 2 name the spec's
location or the offending option. Fixed cases cover the classic attacks.

CNNCALC_FUZZ_CASES sets the number of random cases (default 8,000: with the fixed cases,
about a minute on two cores), CNNCALC_FUZZ_SEED the seed. A failure names the seed, the case index and
the file holding the mutant; CNNCALC_FUZZ_ONLY=<index> reruns that one case.
"""

from __future__ import annotations

import gc
import os
import random
import re
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fuzzing import TimeLimit, batch_indices, check_batch, time_limit
import yaml
from click.testing import CliRunner
from strategies import RandomChooser, build_spec

import cnncalc
from cnncalc.cli import main
from cnncalc.layers import REGISTRY
from cnncalc.render.columns import CELLS
from cnncalc.render.formats import render_csv, render_json
from cnncalc.render.table import render_table
from cnncalc.report import fold
from cnncalc.yamlread import load

SEED = int(os.environ.get("CNNCALC_FUZZ_SEED", "20240611"))
CASES = int(os.environ.get("CNNCALC_FUZZ_CASES", "8000"))
ONLY = os.environ.get("CNNCALC_FUZZ_ONLY")
BATCHES = 10
CLI_EVERY = 10  # one case in ten also runs the CLI
TIME_LIMIT = 5  # seconds per case, library and CLI each
GENERATED_SEEDS = 40
SPECS = Path(__file__).resolve().parent.parent / "specs"
KEEP = Path(tempfile.gettempdir()) / "cnncalc-fuzz"  # where failing mutants are saved

RUN = {"cases": 0, "errors": 0, "reports": 0, "slow": 0, "cli": 0}  # reported by test_cases_were_run
SLOWEST = [0.0, -1]  # seconds and index of the slowest case


# -- the per-case time limit --------------------------------------------------------------------


# A spec may expand to 1,000,000 layers (spec-format.md), and the walk does some 75,000 a
# second here: a mutant that validly repeats a layer half a million times outlasts the time
# limit without anything being wrong. A timeout is such a case, not a hang, when the walk it
# interrupted had already expanded this many layers (the benchmark's largest chain).
BIG_SPEC = 100_000


def layers_in_progress(trace: Any) -> int:
    """How many layers the interrupted analysis had reached: the walker's count, or the graph's."""
    from cnncalc.graph import Graph
    from cnncalc.walk import Walker

    reached = 0
    for frame, _ in traceback.walk_tb(trace):
        for value in frame.f_locals.values():
            if isinstance(value, Walker):
                reached = max(reached, value.expanded)
            elif isinstance(value, Graph):
                reached = max(reached, len(value.layers))
    return reached




# -- seeds --------------------------------------------------------------------------------------

def seed_texts() -> list[tuple[str, str]]:
    """(origin, YAML text) of every seed: the bundled specs, then generated ones."""
    seeds = [(path.name, path.read_text(encoding="utf-8")) for path in sorted(SPECS.glob("*.yaml"))]
    for index in range(GENERATED_SEEDS):
        seeds.append((f"generated {index}", build_spec(RandomChooser(random.Random(f"{SEED}:seed:{index}")))))
    return seeds


SEEDS = seed_texts()


# -- values and words the edits use ---------------------------------------------------------------

HOSTILE_EXPRESSIONS = [
    "${__import__('os').system('echo pwned')}", "${().__class__}", "${().__class__.__bases__[0].__subclasses__()}",
    "${open('/etc/passwd')}", "${eval('1')}", "${exec('x=1')}", "${globals()}", "${in_shape.__len__()}",
    "${(lambda: 1)()}", "${[x for x in in_shape]}", "${9**9**9}", "${10**10**10}", "${2**1000}", "${'a' * 10**9}",
    "${[1] * 10**9}", "${1e308 * 10}", "${1 / 0}", "${1 // 0}", "${0 ** -1}", "${sqrt(-1)}", "${log(0)}",
    "${int('9' * 5000)}", "${float('nan')}", "${float('inf')}", "${max()}", "${min([])}", "${round(1e308, -400)}",
    "${make_divisible(1e308, 1e-308)}", "${in_shape[10**9]}", "${in_shape[-10**30]}", "${in_channels[0]}",
    "${'%s' % 1}", "${f'{1}'}", "${x := 1}", "${{1: 2}}", "${{1}}", "${a if b else c}",
    "${" + "(" * 300 + "1" + ")" * 300 + "}",
    "${" + "-" * 900 + "1}", "${" + "not " * 240 + "1}", "${1" + " + 1" * 240 + "}", "${'}'}", "${", "${}",
    "$", "$$", "$1", "${i}", "${in_shape}", "${true and 3}", "${1 < 'a'}", "${'a' < 'b' < 'c'}",
    "${abs(-10**30) * 10}", "${int(1e30) + 1}", "${ceil(1e300)}", "${floor(-1e300)}", "${log2(10**30)}",
]
TYPES = sorted(REGISTRY)
KEYS = ["type", "name", "from", "repeat", "when", "layers", "blocks", "params", "inputs", "input", "outputs",
        "shape", "batch", "dtype", "budgets", "cnncalc", "out_channels", "kernel_size", "stride", "padding",
        "dilation", "groups", "bias", "output_size", "dim", "<<", "", "null", "1", "$x", "${1}"]


def hostile_value(rng: random.Random) -> Any:
    """One replacement value of a random kind."""
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice([0, -1, -3, -(10**12), 1, 2, 7])
    if kind == 1:
        return rng.choice([10**6 + 1, 10**9, 10**12, 10**30, 10**31, 10**100, 10**400, 2**63, 2**64 + 1])
    if kind == 2:
        return rng.choice([0.0, -0.5, 0.5, 1.5, 2.0, 1e-300, 1e300, float("inf"), float("-inf"), float("nan")])
    if kind == 3:
        return rng.choice(["", "abc", "same", "valid", "input", "relu", "true", "yes", "null", "~", "0x10",
                           "1e400", "3x3", "-1", "a" * 5000, "é\u2028\u0085", "\t", "\\n"])
    if kind == 4:
        return rng.choice([None, True, False])
    if kind == 5:
        return rng.choice([[], [1], [1, 2], [3, 3, 3], [1, 2, 3, 4], [[1, 2]], [[1, 2], [3, 4]], [None], ["a"],
                           [10**400], [-1, -1], [[[]]]])
    if kind == 6:
        return rng.choice([{}, {"a": 1}, {"type": "relu"}, {"shape": [3]}, {"layers": []}, {"<<": {}}])
    if kind == 7:
        return rng.choice(HOSTILE_EXPRESSIONS)
    if kind == 8:
        return rng.choice(TYPES)
    if kind == 9:
        return rng.choice(["$channels", "$stride", "$width", "$nope", "$in_channels", "$i", "${in_channels * 2}",
                           "${in_shape[1]}", "${i}", "${stride}"])
    if kind == 10:
        return rng.choice([-1, -2, -10, "-1", "input", "layer2.0", "nope", ["input", "input"], [-1, -2], [-1]])
    return rng.choice([10**6 + 1, 10**9, 10**12, "${10**12}", "${10**6 + 1}", 1000, 0])


# -- edits of the parsed tree ---------------------------------------------------------------------

def plain(value: Any) -> Any:
    """cnncalc's Map and Seq as dict and list, for yaml.safe_dump."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def slots(tree: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in the tree."""
    found: list[tuple[Any, Any]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, item in items:
            found.append((node, key))
            stack.append(item)
    return found


def layer_entries(tree: Any) -> list[dict[str, Any]]:
    return [container[key] for container, key in slots(tree)
            if isinstance(container[key], dict) and ("type" in container[key] or "layers" in container[key])]


def misspell(rng: random.Random, word: str) -> str:
    if not word:
        return "x"
    index = rng.randrange(len(word))
    edit = rng.randrange(4)
    if edit == 0:
        return word[:index] + word[index + 1:]
    if edit == 1:
        return word[:index] + rng.choice("abcdefghijklmnopqrstuvwxyz_") + word[index:]
    if edit == 2 and len(word) > 1:
        index = min(index, len(word) - 2)
        return word[:index] + word[index + 1] + word[index] + word[index + 2:]
    return word.upper() if rng.random() < 0.5 else word + "s"


def tree_edit(rng: random.Random, tree: Any) -> str:
    """Apply one structural edit in place; returns its description."""
    places = slots(tree)
    if not places:
        return "nothing to edit"
    container, key = rng.choice(places)
    kind = rng.randrange(10)
    if kind <= 2:
        container[key] = hostile_value(rng)
        return f"value at {key!r} replaced"
    if kind == 3 and isinstance(container, dict):
        del container[key]
        return f"key {key!r} dropped"
    if kind == 4 and isinstance(container, dict):
        value = container.pop(key)
        container[misspell(rng, str(key)) if rng.random() < 0.7 else rng.choice(KEYS)] = value
        return f"key {key!r} renamed"
    if kind == 5 and isinstance(container, dict):
        container[rng.choice(KEYS)] = hostile_value(rng)
        return "key added"
    if kind == 6:  # swap two subtrees: types confused
        other, other_key = rng.choice(places)
        container[key], other[other_key] = other[other_key], container[key]
        return f"{key!r} and {other_key!r} swapped"
    if kind == 7:
        entries = layer_entries(tree)
        if entries:
            rng.choice(entries)["repeat"] = rng.choice([10**3, 10**6 + 1, 10**7, 10**12, 10**400, "${10**12}",
                                                        "${2**40}", 0, -1, 2.5])
            return "repeat set"
    if kind == 8 and isinstance(container, list):
        container.insert(key, container[key])  # duplicate a list item (names used twice, ...)
        return "list item duplicated"
    if kind == 9:
        entries = layer_entries(tree)
        if entries:
            entry = rng.choice(entries)
            if rng.random() < 0.5:
                entry["type"] = rng.choice(TYPES)
            else:
                entry[rng.choice(["out_channels", "kernel_size", "stride", "padding", "when", "from", "name",
                                  "dilation", "groups", "scale_factor", "shape", "dims", "dim"])] = hostile_value(rng)
            return "layer field changed"
    container[key] = rng.choice(HOSTILE_EXPRESSIONS)
    return f"value at {key!r} made a hostile expression"


def tree_mutant(rng: random.Random, text: str) -> tuple[str, list[str]]:
    """The seed parsed (by cnncalc's reader), edited, and written back."""
    tree = plain(load(text, "seed"))
    done = [tree_edit(rng, tree) for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0])]
    flow = rng.choice([None, False, True])
    return yaml.safe_dump(tree, sort_keys=False, default_flow_style=flow, allow_unicode=True, width=120), done


# -- edits of the text ------------------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.$])-?\d+(\.\d+)?(?![\w.])")
NUMBER_TEXTS = ["1", "2", "3", "5", "16", "0", "-1", "-0", "1000000000000", "1" + "0" * 400, "1.5", "-0.5", "1e400",
                "1e-400", ".nan", ".inf",
                "-.inf", "0x10", "0o17", "0b11", "1_000", "+3", "007", "9" * 5000, "1e3", "null", "true", "''",
                "[]", "{}", "[1, 2]", "abc", "$x", "'${10**12}'"]
SYNTAX = [":", ": ", "-", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "*b ", "&b [1] ", "!", "!!str ", "!!int ",
          "!!python/object:os.system ", "!!python/object/apply:os.system ['id'] ", "!!binary ", "!!set ",
          "!custom ", "|", "|-\n", ">", "#", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "? ", "'",
          '"', "\t", "\n", "\n  ", "<<: ", "<<: *a\n", "@", "`", "\\", "$", "${", "}", "\r", "\r\n", "\ufeff",
          "\u2028", "\u0085", "\x00", "\x07", "\x1b[31m", "é", "\U0001F600"]
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
             b"\xe2\x82", b"\x80", b"\x00", b"\x85", b"\xef\xbb\xbf"]


def text_edit(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """One textual edit of the file's bytes."""
    kind = rng.randrange(9)
    text = data.decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    if kind == 0:
        cut = rng.randrange(len(data) + 1)
        return data[:cut], f"truncated at byte {cut}"
    if kind == 1:
        at = rng.randrange(len(text) + 1)
        token = rng.choice(SYNTAX)
        return _encode(text[:at] + token + text[at:]), f"{token!r} inserted at {at}"
    if kind == 2:
        at = rng.randrange(len(data) + 1)
        chunk = rng.choice(BAD_BYTES) if rng.random() < 0.6 else rng.randbytes(rng.randint(1, 8))
        return data[:at] + chunk + data[at:], f"bytes {chunk!r} inserted at byte {at}"
    if kind == 3:
        numbers = list(NUMBER.finditer(text))
        if numbers:
            match = rng.choice(numbers)
            new = rng.choice(NUMBER_TEXTS)
            return _encode(text[:match.start()] + new + text[match.end():]), f"number at {match.start()} -> {new[:20]}"
    if kind == 4:
        index = rng.randrange(len(lines))
        lines.insert(index, lines[index])  # a duplicated key, or a duplicated list item
        return _encode("\n".join(lines)), f"line {index + 1} duplicated"
    if kind == 5:
        index = rng.randrange(len(lines))
        del lines[index]
        return _encode("\n".join(lines)), f"line {index + 1} deleted"
    if kind == 6:
        index = rng.randrange(len(lines))
        indent = rng.choice(["", " ", "  ", "\t", "    "])
        lines[index] = indent + lines[index] if rng.random() < 0.5 else lines[index].lstrip()
        return _encode("\n".join(lines)), f"line {index + 1} re-indented"
    if kind == 7:
        words = list(re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", text))
        if words:
            match = rng.choice(words)
            new = misspell(rng, match[0]) if rng.random() < 0.5 else rng.choice(TYPES + KEYS)
            return _encode(text[:match.start()] + new + text[match.end():]), f"word {match[0]!r} -> {new!r}"
    first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[first], lines[second] = lines[second], lines[first]
    return _encode("\n".join(lines)), f"lines {first + 1} and {second + 1} swapped"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def mutant(index: int) -> tuple[bytes, str, random.Random]:
    """Case `index`: its bytes, what was done, and its random generator (for the CLI options)."""
    rng = random.Random(f"{SEED}:{index}")
    origin, text = rng.choice(SEEDS)
    done = [origin]
    if rng.random() < 0.5:
        text, edits = tree_mutant(rng, text)
        done += edits
    data = text.encode("utf-8")
    if rng.random() < 0.35 or len(done) == 1:
        for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0]):
            data, edit = text_edit(rng, data)
            done.append(edit)
    return data, "; ".join(done), rng


# -- running one case -------------------------------------------------------------------------------

def located(message: str, path: Path) -> bool:
    return re.match(rf"{re.escape(str(path))}:\d+:\d+: ", message) is not None


def run_library(path: Path) -> tuple[str | None, str]:
    """(None when cnncalc behaved, else what went wrong; "reports" or "errors").

    A report is also rendered in every format, folded at depth 1: figures that parse
    must print."""
    start = time.perf_counter()
    outcome = "reports"
    try:
        with time_limit(TIME_LIMIT):
            report = cnncalc.analyze(path)
            rows = fold(report.layers, 1)
            render_json(report)
            render_csv(report, rows)
            render_table(report, rows, tuple(CELLS), 100, color=False)
    except cnncalc.SpecError as error:
        outcome = "errors"
        message = str(error)
        if not located(message, path):
            return f"SpecError without file:line:col: {message[:500]!r}", outcome
    except TimeLimit as expired:
        if layers_in_progress(expired.__traceback__) >= BIG_SPEC:
            return None, "slow"
        return f"no answer within {TIME_LIMIT} s", outcome
    except Exception:  # noqa: BLE001 - any other exception is the bug being hunted
        return "exception:\n" + traceback.format_exc(), outcome
    elapsed = time.perf_counter() - start
    return (f"took {elapsed:.1f} s" if elapsed > TIME_LIMIT else None), outcome


def cli_options(rng: random.Random, data: bytes) -> list[str]:
    """Random `analyze` options, mostly valid, some not."""
    options: list[str] = []
    if rng.random() < 0.7:
        options += ["--format", rng.choice(["table", "json", "csv", "markdown"])]
    if rng.random() < 0.3:
        options += ["--depth", rng.choice(["1", "2", "3", "0", "-1", "x", "10000000000000000000000"])]
    if rng.random() < 0.3:
        options += ["--convention", rng.choice(["2mac", "mac", "full", "flops"])]
    if rng.random() < 0.2:
        options += ["--dtype", rng.choice(["float16", "int8", "float64"])]
    if rng.random() < 0.2:
        options += ["--batch", rng.choice(["1", "8", "0", "-2", "1e3", "1" + "0" * 40])]
    if rng.random() < 0.2:
        options += ["--columns", rng.choice(["name,output,flops", "rf,jump", "name,nope", ",", ""])]
    if rng.random() < 0.2:
        options += ["--width", rng.choice(["40", "39", "200", "100000"])]
    if rng.random() < 0.2:
        names = re.findall(rb"\b([a-z_]+): ", data) or [b"width"]
        name = rng.choice(names).decode("ascii", errors="replace")
        options += ["--set", f"{name}={rng.choice(['0.5', '2', '0', '-1', 'abc', '1e400', '[1, 2]', '{a: 1}', ''])}"]
    if rng.random() < 0.1:
        options += ["--set", rng.choice(["width", "=1", "width==1", " = "])]
    if rng.random() < 0.2:
        options += ["--input", rng.choice(["3x32x32", "3x1x1", "1", "0x8x8", "x", "input=3x16x16", "nope=3x8",
                                           "3x" + "9" * 40, "16x8x8x8"])]
    if rng.random() < 0.1:
        options += ["--optimizer", rng.choice(["sgd", "adam", "lion"])]
    return options


def run_cli(path: Path, options: list[str]) -> str | None:
    was_enabled = gc.isenabled()
    try:
        with time_limit(TIME_LIMIT):
            result = CliRunner().invoke(main, ["analyze", str(path), *options])
    finally:
        if was_enabled:
            gc.enable()  # the CLI turns the cyclic collector off for its short-lived process
    if isinstance(result.exception, TimeLimit):  # the runner catches it
        if layers_in_progress(result.exception.__traceback__) >= BIG_SPEC:
            return None
        return f"CLI {options}: no answer within {TIME_LIMIT} s"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        return f"CLI {options}: exception (exit {result.exit_code}):\n{trace}"
    if result.exit_code not in (0, 2):
        return f"CLI {options}: exit status {result.exit_code}: {result.stderr[:500]!r}"
    if "Traceback" in result.stderr:
        return f"CLI {options}: a traceback on stderr: {result.stderr[:2000]}"
    if result.exit_code == 2:
        message = result.stderr
        named_option = re.search(r"--[a-z]+|'-o'", message) is not None
        if not (located(message, path) or named_option):
            return f"CLI {options}: exit 2 without a location or an option: {message[:500]!r}"
    return None


def check_case(directory: Path, index: int) -> str | None:
    data, done, rng = mutant(index)
    path = directory / f"case-{index}.yaml"
    path.write_bytes(data)
    RUN["cases"] += 1
    start = time.perf_counter()
    problem, outcome = run_library(path)
    RUN[outcome] += 1
    if problem is None and outcome != "slow" and index % CLI_EVERY == 0:
        RUN["cli"] += 1
        problem = run_cli(path, cli_options(rng, data))
    SLOWEST[:] = max(SLOWEST, [time.perf_counter() - start, index])
    path.unlink()
    if problem is None:
        return None
    KEEP.mkdir(exist_ok=True)  # outside pytest's temporary directories, which later sessions remove
    kept = KEEP / f"seed{SEED}-case{index}.yaml"
    kept.write_bytes(data)
    return (f"CNNCALC_FUZZ_SEED={SEED} CNNCALC_FUZZ_ONLY={index} (case {index}: {done})\n"
            f"mutant kept in {kept} (messages name it {path.name})\n{problem}")



@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutants(tmp_path_factory: pytest.TempPathFactory, batch: int) -> None:
    directory = tmp_path_factory.mktemp(f"fuzz-{batch}")
    check_batch(batch_indices(batch, CASES, BATCHES, ONLY), lambda index: check_case(directory, index),
                "CNNCALC_FUZZ_ONLY")


def test_cases_were_run() -> None:
    """Reports how many cases ran (after the batches above, which pytest runs first)."""
    if RUN["cases"] == 0:
        pytest.skip("the mutant batches did not run in this session")
    expected = 1 if ONLY is not None else CASES
    summary = (f"{RUN['cases']} fuzz cases (seed {SEED}): {RUN['reports']} reports, {RUN['errors']} located errors, "
               f"{RUN['slow']} stopped by the time limit past {BIG_SPEC:,} layers, {RUN['cli']} CLI runs; "
               f"the slowest, case {SLOWEST[1]}, took {SLOWEST[0]:.2f} s")
    assert RUN["cases"] == expected, f"expected {expected}, ran {summary}"
    print(f"\nran {summary}")


# -- the classic attacks, fixed ---------------------------------------------------------------------

HEAD = "input: {shape: [3, 8, 8]}\nlayers:\n"
KEYS_100K = ", ".join(f"p{k}: {k}" for k in range(100_000))


def _alias_bomb() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for letter, previous in zip("bcdefghi", "abcdefgh"):
        lines.append(f"{letter}: &{letter} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n" + HEAD + "  - {type: relu}\n"


def _merge_key_bomb() -> str:
    lines = ["params: &p0 {" + ", ".join(f"k{k}: {k}" for k in range(100)) + "}"]
    for level in range(1, 12):
        lines.append(f"x{level}: &p{level} [" + ", ".join([f"*p{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n" + HEAD + "  - {type: relu}\n"


CLASSIC: dict[str, Callable[[], str | bytes]] = {
    "alias-bomb": _alias_bomb,
    "alias-bomb-in-merge-keys": lambda: ("base: &b {type: relu}\n" + "".join(
        f"m{k}: &m{k} {{<<: [" + ", ".join([f"*m{k - 1}" if k else "*b"] * 10) + "]}\n" for k in range(8))
        + HEAD + "  - *m7\n"),
    "alias-bomb-many-lists": _merge_key_bomb,
    "python-object-apply": lambda: HEAD + "  - !!python/object/apply:os.system ['echo pwned']\n",
    "python-name": lambda: HEAD + "  - {type: !!python/name:os.system relu}\n",
    "python-object-new": lambda: "input: !!python/object/new:collections.OrderedDict [[[shape, [3]]]]\nlayers: []\n",
    "binary-tag": lambda: HEAD + "  - {type: !!binary cmVsdQ==}\n",
    "set-tag": lambda: HEAD + "  - !!set {relu}\n",
    "timestamp": lambda: HEAD + "  - {type: relu, name: 2001-12-14t21:59:43.10-05:00}\n",
    "expression-import": lambda: HEAD + "  - {type: conv2d, out_channels: \"${__import__('os')}\", kernel_size: 1}\n",
    "expression-class": lambda: HEAD + "  - {type: conv2d, out_channels: \"${().__class__}\", kernel_size: 1}\n",
    "expression-subclasses": lambda: HEAD + (
        "  - {type: relu, when: \"${().__class__.__bases__[0].__subclasses__()}\"}\n"),
    "expression-huge-power": lambda: HEAD + "  - {type: relu, repeat: \"${9**9**9}\"}\n",
    "expression-huge-string": lambda: HEAD + "  - {type: relu, name: \"${'a' * 10**9}\"}\n",
    "expression-deep-parentheses": lambda: (HEAD + "  - {type: relu, repeat: \"${" + "(" * 490 + "1" + ")" * 490
                                            + "}\"}\n"),
    "repeat-10**12": lambda: HEAD + "  - {type: relu, repeat: 1000000000000}\n",
    "repeat-10**400": lambda: HEAD + "  - {type: relu, repeat: 1" + "0" * 400 + "}\n",
    "repeat-expression-10**12": lambda: HEAD + "  - {type: relu, repeat: \"${10**12}\"}\n",
    "nested-repeats": lambda: ("input: {shape: [3, 8, 8]}\nblocks:\n  a: {layers: [{type: relu, repeat: 1000}]}\n"
                               "  b: {layers: [{type: a, repeat: 1000}]}\nlayers:\n  - {type: b, repeat: 1000}\n"),
    "5000-deep-flow-lists": lambda: HEAD + "  - " + "[" * 5000 + "]" * 5000 + "\n",
    "5000-deep-flow-mappings": lambda: HEAD + "  - " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "5000-deep-block-sequences": lambda: HEAD + "  " + "- " * 5000 + "relu\n",
    "1000-deep-block-mappings": lambda: HEAD + "".join(" " * (2 * k + 2) + f"k{k}:\n" for k in range(1000)),
    "5000-deep-blocks": lambda: ("input: {shape: [3, 8, 8]}\nblocks:\n" + "".join(
        f"  b{k}: {{layers: [{{type: b{k + 1}}}]}}\n" for k in range(5000))
        + "  b5000: {layers: [{type: relu}]}\nlayers: [{type: b0}]\n"),
    "1000-deep-block-chain": lambda: ("input: {shape: [3, 8, 8]}\nblocks:\n" + "".join(
        f"  b{k}: {{layers: [{{type: relu}}, {{type: b{k + 1}}}]}}\n" for k in range(1000))
        + "  b1000: {layers: [{type: relu}]}\nlayers: [{type: b0}]\n"),
    "1000-deep-inline-chains": lambda: HEAD + "  - " + "{layers: [" * 1000 + "{type: relu}" + "]}" * 1000 + "\n",
    "non-utf8-byte": lambda: (HEAD + "  - {type: re\xfflu}\n").encode("latin-1"),
    "utf16-file": lambda: (HEAD + "  - {type: relu}\n").encode("utf-16"),
    "latin1-comment": lambda: ("# café\n" + HEAD + "  - {type: relu}\n").encode("latin-1"),
    "lone-surrogate-bytes": lambda: HEAD.encode() + b"  - {type: relu, name: \xed\xa0\x80}\n",
    "nul-byte": lambda: HEAD + "  - {type: relu\x00}\n",
    "10MB-comment-line": lambda: "# " + "a" * 10_000_000 + "\n" + HEAD + "  - {type: relu}\n",
    "10MB-name": lambda: HEAD + "  - {type: relu, name: " + "a" * 10_000_000 + "}\n",
    "10MB-type": lambda: HEAD + "  - {type: '" + "a" * 10_000_000 + "'}\n",
    "10MB-from": lambda: HEAD + "  - {type: relu, from: " + "a" * 10_000_000 + "}\n",
    "10MB-key": lambda: HEAD + "  - {type: relu, " + "a" * 10_000_000 + ": 1}\n",
    "10MB-number": lambda: HEAD + "  - {type: conv2d, out_channels: " + "9" * 10_000_000 + ", kernel_size: 1}\n",
    "1MB-expression": lambda: HEAD + "  - {type: relu, when: '${" + "1+" * 500_000 + "1}'}\n",
    "1MB-flow-list": lambda: "input: {shape: [" + "1, " * 300_000 + "1]}\nlayers: [{type: relu}]\n",
    "100k-keys-top-level": lambda: "{" + KEYS_100K + "}\n",
    "100k-keys-in-a-layer": lambda: HEAD + "  - {type: relu, " + KEYS_100K + "}\n",
    "100k-params-used-by-1000-layers": lambda: (
        "params: {" + KEYS_100K + "}\n" + HEAD
        + "  - {type: conv2d, out_channels: $p8, kernel_size: 1, repeat: 1000}\n"),
    "100k-params-unknown-name": lambda: "params: {" + KEYS_100K + "}\n" + HEAD + "  - {type: relu, repeat: $q1}\n",
    "100k-block-params": lambda: ("blocks: {b: {params: {" + KEYS_100K + "}, layers: [{type: relu}]}}\n" + HEAD
                                  + "  - {type: b, p3: 4}\n"),
    "30k-inputs": lambda: "inputs: {" + ", ".join(f"x{k}: {{shape: [3]}}" for k in range(30_000)) + "}\n"
                          "layers: [{type: relu, from: x7}]\n",
    "100k-item-from": lambda: (HEAD + "  - {type: relu, name: a}\n  - {type: add, from: ["
                               + ", ".join(["a"] * 100_000) + "]}\n"),
    "huge-sizes": lambda: "input: {shape: [3, 1" + "0" * 400 + ", 1" + "0" * 400 + "]}\nlayers: [{type: relu}]\n",
    "huge-batch": lambda: "input: {shape: [3, 8, 8], batch: 1" + "0" * 400 + "}\nlayers: [{type: relu}]\n",
    "huge-channels": lambda: HEAD + "  - {type: conv2d, out_channels: 1" + "0" * 400 + ", kernel_size: 1}\n",
    "huge-slope": lambda: HEAD + "  - {type: leaky_relu, negative_slope: 1" + "0" * 400 + "}\n",
    "huge-scale-factor": lambda: HEAD + "  - {type: adaptive_avgpool2d, output_size: 1000000000000}\n"
                                        "  - {type: upsample, scale_factor: 1e300}\n",
    "huge-strides-chained": lambda: HEAD + "  - {type: conv2d, out_channels: 3, kernel_size: 1, stride: 1000000000000, "
                                           "repeat: 40}\n",
    "huge-dilation-and-padding": lambda: (HEAD + "  - {type: conv2d, out_channels: 1, kernel_size: 2, dilation: 1"
                                          + "0" * 400 + ", padding: 1" + "0" * 400 + ", stride: 1" + "0" * 400
                                          + "}\n"),
    "dtype-a-list": lambda: "dtype: [float32]\n" + HEAD + "  - {type: relu}\n",
    "empty-file": lambda: "",
    "only-a-bom": lambda: b"\xef\xbb\xbf",
    "directives-only": lambda: "%YAML 1.2\n---\n",
}


# Defects outside the files this suite may fix, kept visible: strict xfail turns green into a failure.
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN[name]))
                                  if name in KNOWN else name for name in CLASSIC])
def test_classic_attack(tmp_path: Path, name: str) -> None:
    content = CLASSIC[name]()
    path = tmp_path / "net.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", errors="surrogateescape"))
    problem, _ = run_library(path)
    assert problem is None, f"{name}: {problem}"
    problem = run_cli(path, ["--format", "table"])
    assert problem is None, f"{name}: {problem}"


FIELDS_FOR_EXPRESSIONS = ["out_channels", "repeat", "when", "name", "type", "kernel_size", "from"]


@pytest.mark.parametrize("expression", HOSTILE_EXPRESSIONS)
def test_hostile_expression(tmp_path: Path, expression: str) -> None:
    """Each hostile expression in every kind of field: a located error or a report, fast."""
    quoted = yaml.safe_dump(expression, default_style='"', width=10**6).strip()
    for key in FIELDS_FOR_EXPRESSIONS:
        fields = {"type": "conv2d", "out_channels": 4, "kernel_size": 1, key: "@"}
        body = ", ".join(f"{name}: {quoted if value == '@' else value}" for name, value in fields.items())
        path = tmp_path / f"{key}.yaml"
        path.write_text(f"params: {{width: 1.0}}\n{HEAD}  - {{type: relu, name: first}}\n  - {{{body}}}\n",
                        encoding="utf-8")
        problem, _ = run_library(path)
        assert problem is None, f"{expression!r} in {key}: {problem}"
