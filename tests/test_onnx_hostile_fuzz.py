"""No .onnx file crashes cnncalc: a seeded, structure-aware mutation fuzzer over small valid models.

Each case takes a seed model (built with onnx.helper: conv/relu/add/concat/reshape/gather/constant/
shape chains; and LeNet-5 from specs/ exported by torch.onnx, when torch is installed) and applies one
to three edits to its protobuf fields: dims (negative, zero, huge), element types, raw data cut
short, attributes retyped or given hostile values (ints, floats, strings, tensors, graphs), node
inputs and outputs renamed or dropped, operators renamed, opset versions, tensors marked as external
data (naming a secret file beside the model), nodes duplicated, cycles (a node reading its own
output), subgraphs nested up to 30 deep, node names with newlines; or cuts or flips the file's bytes.

`cnncalc analyze --format json` (and, every other case, `cnncalc import`) must exit 0 with valid JSON
(or YAML) or exit 2 with exactly one line on stderr, print no traceback and never the secret, within
TIME_LIMIT seconds and without the process's peak memory growing by more than MEMORY_LIMIT.

CNNCALC_ONNX_FUZZ_CASES sets the number of random cases (default 1,500, about 15 s on two cores),
CNNCALC_ONNX_FUZZ_SEED the seed; a failure names both, and CNNCALC_ONNX_FUZZ_ONLY=<index> reruns one
case. Fixed cases cover the classic attacks on protobuf files.
"""

from __future__ import annotations

import json
import os
import random
import resource
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from fuzzing import TimeLimit, batch_indices, check_batch, time_limit
import yaml

onnx = pytest.importorskip("onnx")
from click.testing import CliRunner  # noqa: E402
from onnx import AttributeProto, TensorProto, helper, numpy_helper  # noqa: E402
from test_import_onnx import W, build, floats, ints, node  # noqa: E402

from cnncalc.cli import main  # noqa: E402

SEED = int(os.environ.get("CNNCALC_ONNX_FUZZ_SEED", "20261202"))
CASES = int(os.environ.get("CNNCALC_ONNX_FUZZ_CASES", "1500"))
ONLY = os.environ.get("CNNCALC_ONNX_FUZZ_ONLY")
BATCHES = 4
TIME_LIMIT = 10  # seconds per command
MEMORY_LIMIT = 1024  # MiB the peak resident memory may grow by in one case
SECRET = "SECRET-onnx-fuzz-9d2e"
RUN = {"cases": 0, "reports": 0, "errors": 0}





# -- seeds ------------------------------------------------------------------------------------------

def _seeds() -> dict[str, Callable[[], Any]]:
    return {
        "convnet": lambda: build([
            node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]), node("Relu", ["c1"], ["r1"]),
            node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
            node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1], group=2),
            node("BatchNormalization", ["c2", "s", "b", "m", "v"], ["n2"]), node("Add", ["n2", "p1"], ["a"]),
            node("GlobalAveragePool", ["a"], ["g"]), node("Flatten", ["g"], ["f"]),
            node("Gemm", ["f", "wl", "bl"], ["y"], transB=1)], [1, 3, 8, 8],
            {"w1": W(4, 3, 3, 3), "b1": W(4), "w2": W(4, 2, 3, 3), "s": W(4), "b": W(4), "m": W(4), "v": W(4),
             "wl": W(10, 4), "bl": W(10)}),
        "shape-chain": lambda: build([
            node("Shape", ["x"], ["sh"]), node("Gather", ["sh", "zero"], ["n"], axis=0),
            node("Unsqueeze", ["n", "axes"], ["u"]), node("Concat", ["u", "minus"], ["t"], axis=0),
            node("Reshape", ["x", "t"], ["r"]), node("Relu", ["r"], ["y"])], [1, 4, 6, 6],
            {"zero": np.array(0, np.int64), "axes": ints(0), "minus": ints(-1)}),
        "split-concat-resize": lambda: build([
            node("Split", ["x", "sizes"], ["a", "b"], axis=1), node("Concat", ["b", "a"], ["c"], axis=1),
            node("Slice", ["c", "st", "en", "ax"], ["s"]), node("Pad", ["s", "pads"], ["p"]),
            node("Resize", ["p", "", "scales"], ["y"])], [1, 8, 6, 6],
            {"sizes": ints(4, 4), "st": ints(1), "en": ints(5), "ax": ints(2), "pads": ints(0, 0, 1, 1, 0, 0, 1, 1),
             "scales": floats(1, 1, 2, 2)}),
        "constants": lambda: build([
            node("Constant", [], ["k"], value=numpy_helper.from_array(ints(1, 4), "k")),
            node("ConstantOfShape", ["k"], ["ones"], value=numpy_helper.from_array(floats(1), "v")),
            node("Range", ["r0", "r1", "r2"], ["rng"]), node("Cast", ["rng"], ["rf"], to=TensorProto.FLOAT),
            node("Expand", ["rf", "k"], ["e"]), node("Tile", ["ones", "reps"], ["t"]),
            node("Mul", ["e", "t"], ["et"]), node("ReduceSum", ["et"], ["sum"], keepdims=0),
            node("Mul", ["x", "sum"], ["y"])], [1, 4],
            {"r0": np.array(0, np.int64), "r1": np.array(4, np.int64), "r2": np.array(1, np.int64),
             "reps": ints(1, 1)}),
        "activations": lambda: build([
            node("Sigmoid", ["x"], ["sg"]), node("Mul", ["x", "sg"], ["silu"]), node("Div", ["silu", "r2"], ["d"]),
            node("Erf", ["d"], ["e"]), node("Add", ["e", "one"], ["a"]), node("Mul", ["silu", "a"], ["m"]),
            node("Mul", ["m", "half"], ["g"]), node("LeakyRelu", ["g"], ["l"], alpha=0.1),
            node("Clip", ["l", "lo", "hi"], ["c"]), node("Transpose", ["c"], ["t"], perm=[0, 2, 1]),
            node("Softmax", ["t"], ["y"], axis=-1)], [1, 4, 5],
            {"r2": floats(1.4142135), "one": floats(1.0), "half": floats(0.5), "lo": floats(0), "hi": floats(6)}),
        "matmul-norm": lambda: build([
            node("MatMul", ["x", "w"], ["m"]), node("Add", ["m", "b"], ["a"]),
            node("LayerNormalization", ["a", "s", "bb"], ["n"], axis=-1),
            node("Gather", ["dims", "idx"], ["kept"], axis=0), node("Concat", ["one", "kept"], ["to"], axis=0),
            node("Reshape", ["n", "to"], ["y"])],
            [1, 5, 8], {"w": W(8, 6), "b": W(6), "s": W(6), "bb": W(6), "idx": ints(2, 1), "dims": ints(1, 5, 6),
                        "one": ints(1)}),
    }


SEEDS = _seeds()


def lenet() -> Any | None:
    """LeNet-5 from specs/, as torch.onnx exports it (without constant folding): None without torch."""
    try:
        from test_import_roundtrip import export  # skips (the module) without torch
    except (ImportError, pytest.skip.Exception):
        return None
    directory = Path(tempfile.mkdtemp(prefix="cnncalc-onnx-fuzz-"))
    path = export(Path(__file__).resolve().parent.parent / "specs" / "lenet5.yaml", directory / "lenet5.onnx",
                  do_constant_folding=False)
    return onnx.load_model_from_string(path.read_bytes())


_LENET: list[Any] = []


def seed_model(rng: random.Random) -> tuple[str, Any]:
    names = [*SEEDS, "lenet5"]
    name = rng.choice(names)
    if name == "lenet5":
        if not _LENET:
            _LENET.append(lenet())
        if _LENET[0] is not None:
            copy = onnx.ModelProto()
            copy.CopyFrom(_LENET[0])
            return name, copy
        name = names[0]
    return name, SEEDS[name]()


# -- edits --------------------------------------------------------------------------------------------

HUGE = [-1, -(2**62), 0, 1, 2**31, 2**40, 2**62, 30000, 10**6 + 1]
OPS = ["Conv", "Relu", "Add", "Concat", "Reshape", "Gather", "Constant", "ConstantOfShape", "Shape", "Expand",
       "Range", "Tile", "If", "Loop", "Nope", "", "Slice", "Split", "MatMul", "Gemm", "Resize", "Pad", "Cast",
       "Transpose", "Squeeze", "Unsqueeze", "Softmax", "BatchNormalization", "MaxPool", "Size", "Where", "Mul"]
HOSTILE_NAMES = ["", "a\nb", "x" * 5000, "\x00", "é\u2028", "../../etc/passwd", "y", "x"]


def tensors(model: Any) -> list[Any]:
    """Every tensor the graph holds: initializers and the tensors of attributes, subgraphs included."""
    found = list(model.graph.initializer)
    for item in model.graph.node:
        for attribute in item.attribute:
            found += ([attribute.t] if attribute.HasField("t") else []) + list(attribute.tensors)
    return found


def attribute_value(rng: random.Random) -> Any:
    return rng.choice([rng.choice(HUGE), rng.random() * rng.choice([1, -1, 1e30]), float("nan"), b"SAME_UPPER",
                       b"\xff\xfe", rng.sample(HUGE, 3), [0.5, 2.0], [b"a"], numpy_helper.from_array(ints(3), "t"),
                       helper.make_graph([], "g", [], []), []])


def nested_if(depth: int) -> Any:
    inner = helper.make_graph([helper.make_node("Relu", ["x"], ["z"])], "g", [], [])
    for _ in range(depth):
        inner = helper.make_graph([helper.make_node("If", ["c"], ["z"], then_branch=inner)], "g", [], [])
    return helper.make_node("If", ["x"], ["nested"], then_branch=inner, name="if")


def mark_external(tensor: Any, rng: random.Random) -> None:
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", rng.choice(["secret.txt", "./secret.txt", "../secret.txt", "sub/../secret.txt",
                                                 str(Path.cwd() / "secret.txt")])),
                       ("offset", rng.choice(["0", "1", "-5", "99999999999"])), ("length", rng.choice(["4", "0"]))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    if rng.random() < 0.7:
        tensor.ClearField("raw_data")


def edit(model: Any, rng: random.Random) -> str:
    """One random edit of `model`, in place; returns what it did."""
    graph, nodes = model.graph, model.graph.node
    kind = rng.randrange(18)
    target = rng.choice(nodes) if nodes else None
    found = tensors(model)
    if kind == 0 and found:
        tensor = rng.choice(found)
        if tensor.dims and rng.random() < 0.7:
            tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice(HUGE)
        else:
            tensor.dims.append(rng.choice(HUGE))
        return f"dims of '{tensor.name}' -> {list(tensor.dims)}"
    if kind == 1 and found:
        tensor = rng.choice(found)
        tensor.data_type = rng.randrange(27)
        return f"data type of '{tensor.name}' -> {tensor.data_type}"
    if kind == 2 and found:
        tensor = rng.choice(found)
        data = tensor.raw_data or bytes(rng.randrange(64))
        tensor.raw_data = data[:rng.randrange(len(data) + 1)]
        return f"raw data of '{tensor.name}' cut to {len(tensor.raw_data)}"
    if kind == 3 and target is not None:
        name = rng.choice([item.name for item in target.attribute] + ["axis", "pads", "value", "to", "perm",
                                                                      "kernel_shape", "group", "alpha", "mode"])
        kept = [item for item in target.attribute if item.name != name]
        del target.attribute[:]
        target.attribute.extend(kept)
        value = attribute_value(rng)
        target.attribute.append(helper.make_attribute(name, value) if value != [] else
                                AttributeProto(name=name, type=rng.randrange(15)))
        return f"attribute {name} of '{target.name}' -> {str(value)[:40]}"
    if kind == 4 and target is not None and target.input:
        position = rng.randrange(len(target.input))
        other = rng.choice(nodes)
        target.input[position] = rng.choice([*HOSTILE_NAMES, *target.output[:1], *other.output[:1]])
        return f"input {position} of '{target.name}' -> {target.input[position][:20]!r}"
    if kind == 5 and target is not None and (target.input or target.output):
        field = target.input if target.input and (rng.random() < 0.5 or not target.output) else target.output
        del field[rng.randrange(len(field))]
        return f"dropped an input or output of '{target.name}'"
    if kind == 6 and target is not None:
        target.op_type = rng.choice(OPS)
        return f"op of '{target.name}' -> {target.op_type}"
    if kind == 7:
        model.opset_import[0].version = rng.choice([0, 1, 6, 9, 10, 11, 13, 18, 23, 2**62])
        return f"opset -> {model.opset_import[0].version}"
    if kind == 8 and found:
        tensor = rng.choice(found)
        mark_external(tensor, rng)
        return f"'{tensor.name}' marked external"
    if kind == 9 and target is not None:
        nodes.insert(rng.randrange(len(nodes) + 1), target)
        return f"duplicated '{target.name}'"
    if kind == 10 and target is not None and target.input and target.output:
        target.input[0] = target.output[0]
        return f"'{target.name}' reads its own output"
    if kind == 11:
        nodes.insert(rng.randrange(len(nodes) + 1), nested_if(rng.randrange(1, 30)))
        return "nested If subgraphs"
    if kind == 12 and target is not None:
        target.name = rng.choice(HOSTILE_NAMES)
        return f"name -> {target.name[:20]!r}"
    if kind == 13:
        dims = graph.input[0].type.tensor_type.shape.dim
        dim = dims[rng.randrange(len(dims))]
        if rng.random() < 0.2:
            dim.dim_param = rng.choice(HOSTILE_NAMES)
        else:
            dim.dim_value = rng.choice(HUGE)
        return "input dims changed"
    if kind in (14, 15) and graph.initializer:
        tensor = rng.choice(graph.initializer)
        shape = [max(0, min(int(size), 64)) for size in tensor.dims]
        pool = HUGE if tensor.data_type in (TensorProto.INT64, TensorProto.INT32) else \
            [0.0, -1.0, 1e30, float("nan"), float("inf"), 0.5, 3.0]
        values = np.array([rng.choice(pool) for _ in range(int(np.prod(shape)))]).reshape(shape)
        replacement = numpy_helper.from_array(values.astype(np.int64 if pool is HUGE else np.float32), tensor.name)
        tensor.CopyFrom(replacement)
        return f"values of '{tensor.name}' -> {values.reshape(-1)[:6].tolist()}"
    if nodes and rng.random() < 0.5:
        first, second = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        swapped = [onnx.NodeProto(), onnx.NodeProto()]
        swapped[0].CopyFrom(nodes[first])
        swapped[1].CopyFrom(nodes[second])
        nodes[first].CopyFrom(swapped[1])
        nodes[second].CopyFrom(swapped[0])
        return f"swapped nodes {first} and {second}"
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(rng.choice(HOSTILE_NAMES), TensorProto.FLOAT, None))
    return "graph output renamed"


def mutant(index: int) -> tuple[bytes, str]:
    rng = random.Random(f"{SEED}:{index}")
    name, model = seed_model(rng)
    done = [name]
    for _ in range(rng.randint(1, 3)):
        done.append(edit(model, rng))
    data = model.SerializeToString()
    if rng.random() < 0.08:
        data = data[:rng.randrange(len(data) + 1)]
        done.append(f"cut to {len(data)} bytes")
    elif rng.random() < 0.08:
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        data = bytes(flipped)
        done.append("bytes flipped")
    return data, "; ".join(done)


# -- running a case -----------------------------------------------------------------------------------

def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(path: Path, command: list[str]) -> str | None:
    """None when cnncalc behaved: a report (0, parseable) or one located line on stderr (2)."""
    before = peak_mib()
    try:
        with time_limit(TIME_LIMIT):
            result = CliRunner().invoke(main, command)
    except TimeLimit:
        return f"{command[0]}: still running after {TIME_LIMIT} s"
    if peak_mib() - before > MEMORY_LIMIT:
        return f"{command[0]}: peak memory grew by {peak_mib() - before:.0f} MiB"
    output = result.stdout + result.stderr
    if SECRET in output:
        return f"{command[0]}: printed the secret file"
    if result.exception is not None and not isinstance(result.exception, SystemExit) or "Traceback" in output:
        where = "".join(traceback.format_exception(*result.exc_info)[-3:]) if result.exc_info else ""
        return f"{command[0]}: {type(result.exception).__name__}: {result.exception}\n{where}"
    if result.exit_code == 0:
        try:
            json.loads(result.stdout) if command[0] == "analyze" else yaml.safe_load(result.stdout)
        except ValueError as error:
            return f"{command[0]}: exit 0 with unreadable output ({error})"
        RUN["reports"] += 1
        return None
    if result.exit_code != 2 or result.stderr.count("\n") != 1 or not result.stderr.startswith(str(path)):
        return f"{command[0]}: exit {result.exit_code}, stderr {result.stderr[:300]!r}"
    RUN["errors"] += 1
    return None


def check(directory: Path, data: bytes, index: int, every_command: bool = False) -> str | None:
    path = directory / f"case{index}.onnx"
    path.write_bytes(data)
    RUN["cases"] += 1
    commands = [["analyze", str(path), "--format", "json"], ["import", str(path)]]
    for command in commands if every_command or index % 2 == 0 else commands[:1]:
        problem = run(path, command)
        if problem is not None:
            return f"{problem}\nmutant kept in {path}"
    path.unlink()
    return None


@pytest.fixture()
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the secret, which is also the current directory (external data is looked up here)."""
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutants(directory: Path, batch: int) -> None:
    def check_mutant(index: int) -> str | None:
        data, done = mutant(index)
        problem = check(directory, data, index)
        return None if problem is None else f"CNNCALC_ONNX_FUZZ_SEED={SEED}: {done}\n{problem}"

    check_batch(batch_indices(batch, CASES, BATCHES, ONLY), check_mutant, "CNNCALC_ONNX_FUZZ_ONLY")


def test_cases_were_run() -> None:
    if RUN["cases"] == 0:
        pytest.skip("the mutant batches did not run in this session")
    print(f"\nran {RUN['cases']} ONNX fuzz cases (seed {SEED}): {RUN['reports']} reports, {RUN['errors']} errors")
    assert RUN["cases"] == (1 if ONLY is not None else CASES)


# -- the classic attacks on protobuf files, fixed -------------------------------------------------------

def varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (a message, a string, bytes)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def nested_subgraphs(depth: int, attribute_name: bytes = b"then_branch", op_type: bytes = b"If") -> bytes:
    """A ModelProto whose If (or Loop) nodes nest `depth` subgraphs, written by hand: onnx.helper's
    copies refuse to build what protobuf refuses to read."""
    graph = field(1, field(1, b"x") + field(2, b"y") + field(4, b"Relu"))  # GraphProto.node: a NodeProto
    for _ in range(depth):
        attribute = field(1, attribute_name) + field(6, graph) + varint(20 << 3) + varint(AttributeProto.GRAPH)
        graph = field(1, field(1, b"c") + field(2, b"y") + field(4, op_type) + field(5, attribute))
    dim = field(1, varint(1 << 3) + varint(4))  # TensorShapeProto.dim: dim_value 4
    shape = field(2, field(1, varint(1 << 3) + varint(TensorProto.FLOAT) + field(2, dim * 2)))
    graph += field(11, field(1, b"x") + shape)  # GraphProto.input: x, FLOAT [4, 4]
    return varint(1 << 3) + varint(8) + field(7, graph)  # ModelProto.ir_version, ModelProto.graph


def valid() -> bytes:
    data: bytes = SEEDS["convnet"]().SerializeToString()
    return data


NOT_ONNX = "not an ONNX model, or a truncated one ("
TOO_DEEP = "subgraphs (If, Loop, Scan) nested deeper than protobuf reads (100 messages); cnncalc maps no subgraph operator"
# (id, the file's bytes, the start of the message after '{path}: ')
CLASSIC: list[tuple[str, Callable[[], bytes], str]] = [
    ("zero-byte-file", lambda: b"", NOT_ONNX + "no graph nodes)"),
    ("huge-declared-length", lambda: varint(7 << 3 | 2) + varint(2**62) + b"\x0a\x00", NOT_ONNX + "Error parsing"),
    ("huge-length-of-a-node", lambda: varint(1 << 3) + varint(8) + field(7, varint(1 << 3 | 2) + varint(2**31)),
     NOT_ONNX + "Error parsing"),
    ("a-tensor-not-a-model", lambda: numpy_helper.from_array(W(4, 3), "w").SerializeToString(), NOT_ONNX),
    ("a-graph-not-a-model", lambda: SEEDS["convnet"]().graph.SerializeToString(), NOT_ONNX),
    ("a-node-not-a-model", lambda: node("Relu", ["x"], ["y"]).SerializeToString(), NOT_ONNX),
    ("text-format-model", lambda: str(SEEDS["convnet"]()).encode(), NOT_ONNX),
    ("if-1000-deep", lambda: nested_subgraphs(1000), TOO_DEEP),
    ("loop-1000-deep", lambda: nested_subgraphs(1000, b"body", b"Loop"), TOO_DEEP),
    ("if-30-deep", lambda: nested_subgraphs(30), "1 node with operators cnncalc cannot map: If: 'If_0'; "),
    ("20000-nodes-no-inputs", lambda: varint(1 << 3) + varint(8) + field(7, field(1, field(4, b"Relu")) * 20_000),
     "the graph has no inputs; cnncalc needs the network's input tensor"),
    ("1MB-node-name", lambda: build([node("Relu", ["x"], ["y"], name="n" * 1_000_000)], [1, 4]).SerializeToString(),
     ""),
]


@pytest.mark.parametrize("content,message", [case[1:] for case in CLASSIC], ids=[case[0] for case in CLASSIC])
def test_classic_attack(directory: Path, content: Callable[[], bytes], message: str) -> None:
    path = directory / "model.onnx"
    path.write_bytes(content())
    for command in (["analyze", str(path), "--format", "json"], ["import", str(path)]):
        assert run(path, command) is None
        result = CliRunner().invoke(main, command)
        assert result.stderr.startswith(f"{path}: {message}") if message else result.exit_code == 0


def test_every_cut_of_a_model(directory: Path) -> None:
    data = valid()
    for length in range(0, len(data), max(len(data) // 200, 1)):
        assert check(directory, data[:length], length, every_command=True) is None
