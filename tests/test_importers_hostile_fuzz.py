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

CNNCALC_IMPORT_FUZZ_CASES sets the number of cases (default 3,000: about 12 s, the fixed attacks 20 s more),
CNNCALC_IMPORT_FUZZ_SEED the seed; a failure names the case, whose mutant is kept in
KEEP, and CNNCALC_IMPORT_FUZZ_ONLY=<index> reruns it alone.
"""

from __future__ import annotations

import gc
import json
import os
import random
import tempfile
import time
import traceback
from pathlib import Path

import pytest
from fuzzing import TimeLimit, batch_indices, check_batch, time_limit
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
TIME_LIMIT = 10  # seconds per command: files at the limits take about 3 s on an idle machine, and two cores are shared
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




def run(command: str, path: Path) -> tuple[str | None, int]:
    """(None when cnncalc behaved, else what went wrong; the exit status)."""
    arguments = ["analyze", "--format", "json", str(path)] if command == "analyze" else ["import", str(path)]
    start = time.perf_counter()
    try:
        with time_limit(TIME_LIMIT):
            result = CliRunner().invoke(main, arguments)
    finally:
        gc.enable()  # the CLI turns the cyclic collector off for its short-lived process; this one lives on
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
            yaml.load(out, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # LibYAML where installed: fast
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



@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutants(tmp_path: Path, batch: int) -> None:
    check_batch(batch_indices(batch, CASES, BATCHES, ONLY), lambda index: check_case(tmp_path, index),
                "CNNCALC_IMPORT_FUZZ_ONLY")


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


# -- the classic attacks, fixed ---------------------------------------------------------------------

NET = "[net]\nwidth=8\nheight=8\nchannels=3\n"
CONV = "[convolutional]\nfilters=4\nsize=1\nactivation=leaky\n"
INPUT = 'input: "data"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n'
RELU = 'layer { name: "relu" type: "ReLU" bottom: "data" top: "data" }\n'


def _layer(name: str, bottom: str, top: str, kind: str = "ReLU") -> str:
    return f'layer {{ name: "{name}" type: "{kind}" bottom: "{bottom}" top: "{top}" }}\n'


CFG_ATTACKS: dict[str, str | bytes] = {
    "10MB-comment-line": "# " + "a" * 10_000_000 + "\n" + NET + CONV,
    "10MB-value": NET + CONV.replace("filters=4", "filters=" + "4" * 10_000_000),
    "10MB-key": NET + CONV + "a" * 10_000_000 + "=1\n",
    "10MB-section-name": NET + "[" + "a" * 10_000_000 + "]\n",
    "5000-digit-filters": NET + CONV.replace("filters=4", "filters=" + "9" * 5000),
    "5000-digit-route": NET + CONV + "[route]\nlayers=-" + "9" * 5000 + "\n",
    "2000001-lines": NET + CONV + "#\n" * 2_000_001,
    "100001-sections": NET + "[empty]\n" * 100_001,
    "5000-sections": NET + "[empty]\n" * 5000,
    "nul-byte": NET + CONV.replace("filters=4", "filters=4\x00"),
    "bom": "\ufeff" + NET + CONV,
    "crlf": (NET + CONV).replace("\n", "\r\n"),
    "lone-cr": (NET + CONV).replace("\n", "\r"),
    "utf16": (NET + CONV).encode("utf-16"),
    "latin1": ("# café\n" + NET + CONV).encode("latin-1"),
    "ansi-escape": NET + CONV.replace("leaky", "\x1b[31mleaky"),
    "bidi-override": NET + CONV.replace("leaky", "\u202eleaky"),
    "route-to-itself": NET + CONV + "[route]\nlayers=1\n",
    "route-forward": NET + CONV + "[route]\nlayers=5\n",
    "route-cycle": NET + "[route]\nlayers=1\n[route]\nlayers=0\n",
    "shortcut-far-back": NET + CONV + "[shortcut]\nfrom=-1000000\n",
    "shortcut-int-min": NET + CONV + "[shortcut]\nfrom=-2147483648\n",
    "net-list": "[net]\nwidth=8,8\nheight=8\nchannels=3\n" + CONV,
    "net-zero": "[net]\nwidth=0\nheight=8\nchannels=3\n" + CONV,
    "net-negative": "[net]\nwidth=-8\nheight=8\nchannels=3\n" + CONV,
    "net-huge": "[net]\nwidth=2147483647\nheight=2147483647\nchannels=2147483647\n" + CONV,
    "filters-1e30": NET + CONV.replace("filters=4", "filters=1e30"),
    "lrn-nan": NET + "[lrn]\nalpha=nan\n",
    "lrn-1e400": NET + "[lrn]\nbeta=1e400\n",
    "30k-route-inputs": NET + CONV + "[route]\nlayers=" + ",".join(["-1"] * 30_000) + "\n",
    "100k-mask": NET + CONV + "[yolo]\nmask=" + ",".join(["0"] * 100_000) + "\n",
    "upsample-huge": NET + "[upsample]\nstride=2147483647\n[upsample]\nstride=2147483647\n",
    "empty-file": "",
    "only-bom": "\ufeff",
    "only-net": NET,
}


PROTOTXT_ATTACKS: dict[str, str | bytes] = {
    "2000-nested-blocks": INPUT + "a { " * 2000 + "} " * 2000,
    "100000-nested-blocks": INPUT + "a { " * 100_000,
    "2000-nested-lists": INPUT + "a: [" * 2000 + "1" + "]" * 2000,
    "2000-nested-list-blocks": INPUT + "a: [{ " * 2000 + "} ]" * 2000,
    "200000-adjacent-strings": 'name: ' + '"aa" ' * 200_000 + "\n" + INPUT + RELU,
    "10MB-string": 'name: "' + "a" * 10_000_000 + '"\n' + INPUT + RELU,
    "10MB-unclosed-string": INPUT + 'name: "' + "a" * 10_000_000,
    "10MB-field-name": INPUT + "a" * 10_000_000 + ": 1\n",
    "10MB-number": INPUT + "layer { convolution_param { num_output: " + "9" * 10_000_000 + " } }",
    "10MB-digits-then-letter": INPUT + "x: " + "1" * 10_000_000 + "a",
    "5000-digit-integer": INPUT + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param '
                          '{ num_output: ' + "9" * 5000 + ' kernel_size: 1 } }\n',
    "2**64": INPUT + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param '
                     '{ num_output: 18446744073709551616 kernel_size: 1 } }\n',
    "2**64-1": INPUT + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param '
                       '{ num_output: 18446744073709551615 kernel_size: 1 } }\n',
    "hex-5000": INPUT + "x: 0x" + "f" * 5000 + "\n",
    "1e400-size": INPUT.replace("dim: 8 dim: 8", "dim: 1e400 dim: 8") + RELU,
    "nan-slope": INPUT + 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { negative_slope: nan } }',
    "huge-input": INPUT.replace("dim: 8 dim: 8", "dim: 4294967296 dim: 4294967296") + RELU,
    "huge-batch": INPUT.replace("dim: 1 ", "dim: 18446744073709551615 ") + RELU,
    "nul-byte": INPUT + RELU.replace("relu", "re\x00lu"),
    "nul-escape": INPUT + RELU.replace('"relu"', '"re\\0lu"'),
    "newline-escape": INPUT + RELU.replace('"relu"', '"re\\nlu"'),
    "bom": "\ufeff" + INPUT + RELU,
    "crlf": (INPUT + RELU).replace("\n", "\r\n"),
    "lone-cr": (INPUT + RELU).replace("\n", "\r"),
    "utf16": (INPUT + RELU).encode("utf-16"),
    "invalid-utf8": INPUT.encode() + b'layer { name: "\xff" }',
    "unclosed-string": INPUT + 'layer { name: "relu }',
    "unclosed-brace": INPUT + 'layer { name: "relu" type: "ReLU" bottom: "data"',
    "stray-brace": INPUT + RELU + "}",
    "mismatched-brace": INPUT + 'layer < name: "relu" }',
    "cycle": INPUT + _layer("a", "b", "a") + _layer("b", "a", "b"),
    "reads-itself": INPUT + _layer("a", "x", "x"),
    "500001-tokens": INPUT + "a\n:\n1\n" * 166_667,
    "5000-in-place-same-name": INPUT + RELU * 5_000,  # 20,000: test_importers_hostile.py, timed
    "30k-bottoms": INPUT + 'layer { name: "e" type: "Eltwise" ' + 'bottom: "data" ' * 30_000 + 'top: "e" }',
    "type-a-block": INPUT + 'layer { name: "r" type { } bottom: "data" top: "r" }',
    "name-a-number": INPUT + 'layer { name: 5 type: "ReLU" bottom: "data" top: "r" }',
    "bottom-a-block": INPUT + 'layer { name: "r" type: "ReLU" bottom { } top: "r" }',
    "param-a-number": INPUT + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param: 5 }',
    "net-name-a-block": "name { }\n" + INPUT + RELU,
    "input-a-number": 'input: 5\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n' + RELU,
    "dummy-data-no-top": 'layer { name: "d" type: "DummyData" dummy_data_param { shape { dim: 1 } } }\n',
    "training-only": INPUT + 'layer { name: "l" type: "SoftmaxWithLoss" bottom: "data" top: "l" }\n',
    "empty-file": "",
    "only-comments": "# nothing\n",
}


@pytest.mark.parametrize(("suffix", "name"), [(".cfg", name) for name in CFG_ATTACKS]
                         + [(".prototxt", name) for name in PROTOTXT_ATTACKS])
def test_classic_attack(tmp_path: Path, suffix: str, name: str) -> None:
    content = (CFG_ATTACKS if suffix == ".cfg" else PROTOTXT_ATTACKS)[name]
    path = tmp_path / f"net{suffix}"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for command in ("analyze", "import"):
        problem, _ = run(command, path)
        assert problem is None, f"{name}: {problem}"
