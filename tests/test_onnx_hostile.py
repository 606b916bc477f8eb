"""Hostile .onnx files: external data that names other files, and constants that would fold into
billions of elements. Every case runs the real CLI (import and analyze) and asserts the exact
located message, or a report; a secret file beside the model, in the current directory and behind
a symlinked folder must never show in any output.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from click.testing import CliRunner  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from test_import_onnx import build, ints, node, write  # noqa: E402

from cnncalc.cli import main  # noqa: E402

SECRET = "SECRET-7f3a-do-not-print"
EXTERNAL_HINT = "cnncalc never opens the files a model names; keep the constants it needs in the model file"
BUDGET_HINT = ("cnncalc folds the small constant programs that compute shapes; a constant of more than 1,000,000 "
               "elements is kept as its shape only")


def external(tensor: Any, location: str) -> Any:
    """`tensor` with its numbers moved out of the file, as onnx's save_model(save_as_external_data) marks it."""
    for field in ("raw_data", "float_data", "int32_data", "int64_data", "double_data"):
        tensor.ClearField(field)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(len(SECRET)))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def scalar(name: str, value: Any, dtype: Any = np.float32) -> Any:
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def with_initializer(model: Any, tensor: Any) -> Any:
    model.graph.initializer.append(tensor)
    return model


def fill_model(location: str) -> Any:
    """ConstantOfShape filled with an external number, added to the input: the file's bytes would be the fill."""
    value = external(helper.make_tensor("value", TensorProto.UINT8, [1], [0]), location)
    return build([node("ConstantOfShape", ["shape"], ["c"], name="fill", value=value),
                  node("Add", ["x", "c"], ["y"], name="add")], [1, 4], {"shape": ints(1)})


def constant_model(location: str) -> Any:
    value = external(scalar("value", 2.0), location)
    return build([node("Constant", [], ["c"], name="const", value=value), node("Add", ["x", "c"], ["y"], name="add")],
                 [1, 4])


def reshape_model(location: str) -> Any:
    model = build([node("Reshape", ["x", "s"], ["y"], name="reshape")], [1, 4, 4])
    return with_initializer(model, external(numpy_helper.from_array(ints(1, 16), "s"), location))


def folded_shape_model(location: str) -> Any:
    """The external shape goes through a fold (Mul) first: the error is at the node needing the numbers."""
    model = build([node("Mul", ["s", "one"], ["t"], name="times"), node("Reshape", ["x", "t"], ["y"], name="reshape")],
                  [1, 4, 4], {"one": ints(1)})
    return with_initializer(model, external(numpy_helper.from_array(ints(1, 16), "s"), location))


def sparse_constant_model(location: str) -> Any:
    values = external(helper.make_tensor("values", TensorProto.FLOAT, [1], [3.0]), location)
    sparse = helper.make_sparse_tensor(values, helper.make_tensor("indices", TensorProto.INT64, [1], [0]), [1])
    return build([node("Constant", [], ["c"], name="const", sparse_value=sparse),
                  node("Add", ["x", "c"], ["y"], name="add")], [1, 4])


def unread_attribute_model(location: str) -> Any:
    """Tensors in attributes cnncalc never reads (TENSORS, SPARSE_TENSOR, a subgraph's initializer)."""
    tensor = external(helper.make_tensor("t", TensorProto.FLOAT, [1], [0.0]), location)
    sparse = helper.make_sparse_tensor(tensor, helper.make_tensor("i", TensorProto.INT64, [1], [0]), [1])
    relu = node("Relu", ["x"], ["y"], name="relu")
    relu.attribute.extend([helper.make_attribute("extra", [tensor]), helper.make_attribute("more", sparse)])
    return build([relu], [1, 4])


def weight_model(location: str) -> Any:
    """An external weight, its shape all that counts (through a Transpose fold too): a report, 4*3*3*3 params."""
    model = build([node("Transpose", ["w"], ["wt"], name="flip", perm=[1, 0, 2, 3]),
                   node("Conv", ["x", "wt"], ["y"], name="conv")], [1, 3, 8, 8])
    return with_initializer(model, external(numpy_helper.from_array(np.zeros((3, 4, 3, 3), np.float32), "w"),
                                            location))


def subgraph_model(location: str) -> Any:
    inner = helper.make_graph([node("Relu", ["c"], ["z"])], "branch", [],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                              [external(scalar("c", 1.0), location)])
    return build([node("If", ["cond"], ["y"], name="if", then_branch=inner, else_branch=inner)], [1, 4],
                 {"cond": np.array(True)})


def located(model: str, name: str, op_type: str, problem: str, hint: str = EXTERNAL_HINT) -> str:
    return f"{model}: node '{name}' ({op_type}): {problem}; {hint}"


STORED_OUTSIDE = "the numbers of {} are stored outside the file"
# (id, model, the message (None: a report), with {model} for the file)
CASES = [
    ("constant-of-shape-fill", fill_model,
     located("{model}", "fill", "ConstantOfShape", STORED_OUTSIDE.format("the attribute 'value'"))),
    ("constant-value", constant_model, located("{model}", "add", "Add", STORED_OUTSIDE.format("the constant 'c'"))),
    ("initializer-reshape-shape", reshape_model,
     located("{model}", "reshape", "Reshape", STORED_OUTSIDE.format("the constant 's'"))),
    ("initializer-through-a-fold", folded_shape_model,
     located("{model}", "reshape", "Reshape", STORED_OUTSIDE.format("the constant 's'"))),
    ("sparse-constant", sparse_constant_model,
     located("{model}", "const", "Constant", "a Constant without a value cnncalc reads",
             "value, value_float(s) or value_int(s)")),
    ("tensors-attributes-never-read", unread_attribute_model, None),
    ("weight-shape-only", weight_model, None),
    ("subgraph", subgraph_model, "{model}: 1 node with operators cnncalc cannot map: If: 'if'; "),
]
# Where the external location points: beside the model, the current directory, a symlinked folder,
# up and out of the model's folder, an absolute path (onnx's own checks refuse the last two).
LOCATIONS = ["secret.txt", "linked/secret.txt", "../cwd/secret.txt", "{absolute}"]


@pytest.fixture()
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The model's folder and the current directory, each with the secret, and a symlinked folder holding it."""
    models, cwd, hidden = tmp_path / "models", tmp_path / "cwd", tmp_path / "hidden"
    for folder in (models, cwd, hidden):
        folder.mkdir()
        (folder / "secret.txt").write_text(SECRET)
    for folder in (models, cwd):
        os.symlink(hidden, folder / "linked")
    monkeypatch.chdir(cwd)
    return {"models": models, "cwd": cwd, "hidden": hidden}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_external_data_is_never_read(places: dict[str, Path], case: tuple[str, Any, str | None],
                                     location: str) -> None:
    _, make, expected = case
    where = location.format(absolute=places["hidden"] / "secret.txt")
    path = write(make(where), places["models"])
    for command in (["import", str(path), "--batch", "1"], ["analyze", str(path), "--format", "json"]):
        result = CliRunner().invoke(main, command)
        everything = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert SECRET not in everything
        assert "Traceback" not in everything and result.exception is None or isinstance(result.exception,
                                                                                           SystemExit)
        if expected is None:
            assert result.exit_code == 0, everything
        else:
            assert result.exit_code == 2
            assert result.stderr.startswith(expected.format(model=path)), result.stderr
            assert result.stderr.count("\n") == 1


def sparse_weight(location: str, dims: tuple[int, ...] = (4, 3, 3, 3)) -> Any:
    values = external(helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0]), location)
    return helper.make_sparse_tensor(values, helper.make_tensor("i", TensorProto.INT64, [1], [0]), list(dims))


@pytest.mark.parametrize("nodes,sparse,expected", [
    ([node("Conv", ["x", "w"], ["y"], name="conv")], sparse_weight("secret.txt"), None),
    ([node("Reshape", ["x", "w"], ["y"], name="reshape")], sparse_weight("secret.txt"),
     "{model}: node 'reshape' (Reshape): the constant 'w' is a sparse tensor, whose numbers cnncalc does not read; "
     "cnncalc counts a sparse weight from its dims; give other constants densely"),
    ([node("Conv", ["x", "w"], ["y"], name="conv")], sparse_weight("secret.txt", (4, -3, 3, 3)),
     "{model}: the sparse constant 'w' has a negative size in its dims [4, -3, 3, 3]; "
     "the file is damaged, or was not written by an exporter"),
], ids=["weight-counted", "numbers-needed", "negative-dims"])
def test_sparse_initializers(places: dict[str, Path], nodes: list[Any], sparse: Any, expected: str | None) -> None:
    model = build(nodes, [1, 3, 8, 8])
    model.graph.sparse_initializer.append(sparse)
    path = write(model, places["models"])
    result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json"])
    assert SECRET not in result.output
    if expected is None:
        assert result.exit_code == 0, result.output
        assert '"params": 108' in result.output
    else:
        assert (result.exit_code, result.stderr) == (2, expected.format(model=path) + "\n")


def test_the_constant_of_shape_leak_is_closed(places: dict[str, Path]) -> None:
    """What the issue showed: the fill value read from ./secret.txt appeared as `Add by the constant 83`."""
    path = write(fill_model("secret.txt"), places["models"])
    result = CliRunner().invoke(main, ["import", str(path)])
    assert result.exit_code == 2
    assert "by the constant" not in result.output


# -- the folding budget --------------------------------------------------------------------------------

def needs(nodes: list[Any], constants: dict[str, np.ndarray], shape: list[int] | None = None) -> Any:
    """`nodes` make 'big'; a Reshape of the input needs its numbers."""
    return build([*nodes, node("Reshape", ["x", "big"], ["y"], name="reshape")], shape or [1, 4], constants)


def budget(name: str, op_type: str, count: int, sizes: str) -> str:
    return located("{model}", name, op_type, f"its result would have {count:,} elements ({sizes}), more than the "
                   "1,000,000 cnncalc computes, and node 'reshape' (Reshape) needs its numbers", BUDGET_HINT)


BIG = 30000
BUDGET_CASES = [
    ("constant-of-shape-30000x30000", needs([node("ConstantOfShape", ["s"], ["big"], name="fill")], {"s": ints(BIG, BIG)}),
     budget("fill", "ConstantOfShape", BIG * BIG, "30000x30000")),
    ("expand", needs([node("Expand", ["one", "s"], ["big"], name="expand")], {"one": ints(1), "s": ints(BIG, BIG)}),
     budget("expand", "Expand", BIG * BIG, "30000x30000")),
    ("tile", needs([node("Tile", ["v", "r"], ["big"], name="tile")], {"v": ints(1, 2), "r": ints(10**6)}),
     budget("tile", "Tile", 2 * 10**6, "2000000")),
    ("range", needs([node("Range", ["a", "b", "c"], ["big"], name="range")],
                    {"a": np.array(0), "b": np.array(10**9), "c": np.array(1)}),
     budget("range", "Range", 10**9, "1000000000")),
    ("concat", needs([node("Concat", ["v", "v"], ["big"], name="concat", axis=0)],
                     {"v": np.zeros(600_000, np.int64)}), budget("concat", "Concat", 1_200_000, "1200000")),
    ("broadcast-mul", needs([node("Mul", ["col", "row"], ["big"], name="outer")],
                            {"col": np.zeros((2000, 1), np.int64), "row": np.zeros((1, 2000), np.int64)}),
     budget("outer", "Mul", 4_000_000, "2000x2000")),
    ("gather", needs([node("Gather", ["v", "i"], ["big"], name="gather", axis=0)],
                     {"v": np.zeros((1000, 1000), np.int64), "i": np.zeros(2000, np.int64)}),
     budget("gather", "Gather", 2_000_000, "2000x1000")),
]


@pytest.mark.parametrize("model,expected", [case[1:] for case in BUDGET_CASES], ids=[case[0] for case in BUDGET_CASES])
def test_folding_stops_at_the_budget(tmp_path: Path, model: Any, expected: str) -> None:
    path = write(model, tmp_path)
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json"])
    seconds = time.perf_counter() - start
    assert result.exit_code == 2
    assert result.stderr == expected.format(model=path) + "\n"
    assert seconds < 3, f"{seconds:.1f} s: the constant was computed"  # before: 37 s and 3.5 GB for 30000x30000


def test_tile_with_a_zero_repeat_allocates_nothing(tmp_path: Path) -> None:
    """Found by the fuzzer: np.tile repeats 2**31 times before the 0 empties the result (32 GiB)."""
    model = needs([node("Tile", ["v", "r"], ["big"], name="tile")], {"v": ints(1, 2).reshape(1, 2),
                                                                     "r": ints(2**31, 0)})
    path = write(model, tmp_path)
    result = CliRunner().invoke(main, ["analyze", str(path)])
    assert (result.exit_code, result.stderr) == (2, f"{path}: node 'reshape' (Reshape): the new shape [] does not keep "
                                                    "the batch (1) first; cnncalc's layers reshape each sample\n")


def test_a_large_initializer_whose_numbers_are_needed(tmp_path: Path) -> None:
    model = build([node("Pad", ["x", "p"], ["y"], name="pad")], [1, 4, 5, 5], {"p": np.zeros(1_000_001, np.int64)})
    path = write(model, tmp_path)
    result = CliRunner().invoke(main, ["analyze", str(path)])
    assert (result.exit_code, result.stderr) == (2, f"{path}: node 'pad' (Pad): the constant 'p' has 1,000,001 "
                                                    f"elements, more than the 1,000,000 cnncalc reads; {BUDGET_HINT}\n")


def test_the_126_byte_model(tmp_path: Path) -> None:
    """ConstantOfShape 30000x30000 added to the input: only its shape is used, so nothing is computed."""
    model = build([node("ConstantOfShape", ["s"], ["c"], name="fill"), node("Add", ["x", "c"], ["y"], name="add")],
                  [1, 4], {"s": ints(BIG, BIG)})
    path = write(model, tmp_path)
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["import", str(path)])
    assert time.perf_counter() - start < 3
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}: node 'add' (Add): the constant 'c' of shape [30000, 30000] varies "
                                    "along the batch axis of [1, 4]; ")


def test_a_large_folded_weight_keeps_its_shape(tmp_path: Path) -> None:
    """Weight arithmetic past the budget (a 2000x1000 weight times a scalar, 2,000,000 elements) is counted
    from the shape the fold would make: a linear layer of 2,000,000 parameters."""
    model = build([node("Mul", ["w", "half"], ["scaled"], name="scale"), node("MatMul", ["x", "scaled"], ["y"])],
                  [1, 2000], {"w": np.zeros((2000, 1000), np.float32), "half": np.array(0.5, np.float32)})
    result = CliRunner().invoke(main, ["analyze", str(write(model, tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"params": 2000000' in result.output
