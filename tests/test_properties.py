"""Properties every valid spec has, on random specs (tests/strategies.py).

None of these re-derives a formula: each states a relation between cnncalc's own
answers (to two input sizes, three conventions, three output formats, folded and
unfolded tables) that must hold whatever the formulas are.

CNNCALC_PROPERTY_EXAMPLES sets the examples per test (default 40; a few hundred in all).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_spec

import cnncalc
from cnncalc.cli import main
from cnncalc.report import Report, fold

EXAMPLES = int(os.environ.get("CNNCALC_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
COUNTS = ("params", "buffers", "macs", "flops", "activation_bytes")


def shapes_by_name(report: Report) -> dict[str, tuple[int, ...]]:
    """Every tensor's batch-first shape: the inputs' and each layer's output."""
    shapes = dict(report.inputs)
    shapes.update((row.name, row.output_shape) for row in report.layers)
    return shapes


def elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


# -- (a) valid specs are analysed ---------------------------------------------------------------

@SETTINGS
@given(random_spec())
def test_valid_specs_are_analysed(text: str) -> None:
    report = cnncalc.analyze(text)  # may have no layers: a lone entry whose `when` is false
    assert all(size >= 1 for row in report.layers for size in row.output_shape)


# -- (b) output sizes never shrink when the input grows ------------------------------------------

@SETTINGS
@given(random_spec(), st.lists(st.integers(0, 24), min_size=3, max_size=3))
def test_output_sizes_grow_with_the_input(text: str, growth: list[int]) -> None:
    """Every layer type's output size is monotone in its input size (floor and ceil of a
    growing numerator, a fixed output size, a product, a sum), so a bigger input keeps a
    valid spec valid and no axis of any layer gets smaller; nor do params, MACs or memory."""
    base = cnncalc.analyze(text)
    channels, *sizes = base.inputs["input"][1:]
    grown_input = (channels, *(size + extra for size, extra in zip(sizes, growth)))
    grown = cnncalc.analyze(text, inputs={"": grown_input})
    assert [row.name for row in grown.layers] == [row.name for row in base.layers]
    for small, big in zip(base.layers, grown.layers):
        assert len(big.output_shape) == len(small.output_shape), small.name
        assert all(b >= s for s, b in zip(small.output_shape, big.output_shape)), \
            (small.name, small.type, small.output_shape, big.output_shape)
        for count in ("params", "macs", "activation_bytes"):
            assert getattr(big, count) >= getattr(small, count), (small.name, count)


# -- (c) `same` padding with stride 1 keeps the size -------------------------------------------

def _all_ones(value: Any) -> bool:
    return value == 1 or (isinstance(value, tuple) and all(item == 1 for item in value))


@SETTINGS
@given(random_spec())
def test_same_padding_with_stride_1_keeps_the_size_in_random_specs(text: str) -> None:
    report = cnncalc.analyze(text)
    shapes = shapes_by_name(report)
    for record in report.graph.layers:
        layer = record.layer
        if getattr(layer, "padding", None) != "same":
            continue
        stride = layer.stride if layer.stride is not None else layer.kernel_size  # pools: stride = kernel
        if _all_ones(stride):
            source = shapes[record.inputs[0]]
            assert shapes[record.name][2:] == source[2:], (record.name, source, shapes[record.name])


@st.composite
def same_padded_layer(draw: Any) -> tuple[str, tuple[int, ...], str]:
    """One convolution or pool with padding same and stride 1, any kernel and dilation."""
    rank = draw(st.integers(1, 3))
    sizes = tuple(draw(st.lists(st.integers(1, 40), min_size=rank, max_size=rank)))
    per_axis = st.integers(1, 9) | st.lists(st.integers(1, 9), min_size=rank, max_size=rank)
    kind = draw(st.sampled_from(["conv", "maxpool", "avgpool"]))
    fields = {"kernel_size": draw(per_axis), "padding": "same",
              "stride": draw(st.sampled_from([1, [1] * rank]))}
    if kind == "conv":
        fields["out_channels"] = draw(st.integers(1, 8))
        if draw(st.booleans()):
            del fields["stride"]  # a convolution's default stride is 1
    if kind != "avgpool":
        fields["dilation"] = draw(st.integers(1, 4) | st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    layer = json.dumps({"type": f"{kind}{rank}d", **fields})  # JSON is YAML
    spec = f"input: {{shape: {json.dumps([3, *sizes])}}}\nlayers:\n  - {layer}\n"
    return spec, sizes, kind


@SETTINGS
@given(same_padded_layer())
def test_same_padding_with_stride_1_keeps_the_size(case: tuple[str, tuple[int, ...], str]) -> None:
    text, sizes, _ = case
    assert cnncalc.analyze(text).layers[0].output_shape[2:] == sizes


# -- (d) per-layer figures sum to the totals -------------------------------------------------------

@SETTINGS
@given(random_spec(), st.sampled_from(["2mac", "mac", "full"]))
def test_layers_sum_to_the_totals(text: str, convention: str) -> None:
    report = cnncalc.analyze(text, convention=convention)
    for count in COUNTS:
        assert sum(getattr(row, count) for row in report.layers) == getattr(report.totals, count), count
    assert report.totals.weights_bytes == report.totals.params * report.assumptions.bytes_per_element


# -- (e) folding keeps the totals at every depth ----------------------------------------------------

@SETTINGS
@given(random_spec())
def test_folding_keeps_the_totals_at_every_depth(text: str) -> None:
    report = cnncalc.analyze(text)
    deepest = max((len(row.path) for row in report.layers), default=0)
    assert fold(report.layers, None) == report.layers
    previous = 0
    for depth in range(1, deepest + 2):
        rows = fold(report.layers, depth)
        for count in COUNTS:
            assert sum(getattr(row, count) for row in rows) == getattr(report.totals, count), (depth, count)
        assert previous <= len(rows) <= len(report.layers)  # deeper shows at least as many rows
        assert len({row.name for row in rows}) == len(rows)  # a folded row is named after its instance
        previous = len(rows)
    assert fold(report.layers, deepest + 1) == report.layers


# -- (f) JSON, CSV and the table agree --------------------------------------------------------------

ALL_COLUMNS = "name,type,from,output,params,buffers,macs,flops,memory,rf,jump"
COUNT_PREFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
SUMMARY_LABELS = ("Params", "MACs", "FLOPs", "Weights", "Activations", "Peak activations", "Training estimate",
                  "Inputs", "Outputs", "Convention", "Data", "Units", "Peak memory", "RF")
BYTE_PREFIX = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def run_cli(*arguments: str) -> str:
    result = CliRunner().invoke(main, list(arguments))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def agrees_with_count(printed: str, exact: int) -> bool:
    """'1.23 M' or '512' (or '-' for 0) is `exact` at its printed precision."""
    if printed == "-":
        return exact == 0
    number, _, prefix = printed.partition(" ")
    if "." not in number:
        return int(number) == exact and not prefix
    return abs(exact - float(number) * COUNT_PREFIX[prefix]) <= 0.005 * COUNT_PREFIX[prefix] * (1 + 1e-9)


def agrees_with_bytes(printed: str, exact: int) -> bool:
    number, unit = printed.split(" ")
    if unit == "B":
        return int(number) == exact
    return abs(exact - float(number) * BYTE_PREFIX[unit]) <= 0.05 * BYTE_PREFIX[unit] * (1 + 1e-9)


def agrees_with_field(printed: str, values: list[float] | None) -> bool:
    """'7', '7x3' or '-' against the JSON receptive field's per-axis values."""
    if values is None:
        return printed == "-"
    parts = [float(part) for part in printed.split("x")]
    return parts == [float(value) for value in values] or (len(parts) == 1 and {float(v) for v in values} == set(parts))


def table_rows(table: str) -> tuple[list[list[str]], dict[str, str]]:
    """The per-layer cells and the summary lines (label -> text) of a rendered table."""
    lines = table.splitlines()
    assert lines[1].split() == ["Layer", "Type", "From", "Output", "Params", "Buffers", "MACs", "FLOPs", "Act.",
                                "mem", "RF", "Jump"]
    blank = lines.index("")
    cells = [re.split(r" {2,}", line) for line in lines[3:blank]]
    summary = {}
    for line in lines[blank + 1:]:  # label, then text; other lines are wrapped text or lines this test ignores
        label = next((label for label in SUMMARY_LABELS if line.startswith(label + " ")), None)
        if label is not None:
            summary[label] = line[len(label):].strip()
    return cells, summary


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))
@given(random_spec())
def test_json_csv_and_table_agree(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "net.yaml"
        path.write_text(text, encoding="utf-8")
        data = json.loads(run_cli("analyze", str(path), "--format", "json"))
        rows = list(csv.DictReader(io.StringIO(run_cli("analyze", str(path), "--format", "csv"))))
        table = run_cli("analyze", str(path), "--columns", ALL_COLUMNS, "--width", "100000")
    layers = data["layers"]
    assert len(rows) == len(layers)
    for row, layer in zip(rows, layers):
        assert row["name"] == layer["name"] and row["type"] == layer["type"]
        assert row["from"].split(" ") == layer["from"]
        assert [int(size) for size in row["output_shape"].split("x")] == layer["output_shape"]
        for count in COUNTS:
            assert int(row[count]) == layer[count], (layer["name"], count)
        assert row["view"] == str(layer["view"]).lower()
        field = layer["receptive_field"]
        for key in ("size", "jump", "start"):
            expected = "x".join(map(str, field[key])) if field else ""
            assert row[f"rf_{key}"] == expected, (layer["name"], key)
    cells, summary = table_rows(table)
    assert len(cells) == len(layers)
    for cell, layer in zip(cells, layers):
        name, kind, sources, output, params, buffers, macs, flops, memory, rf, jump = cell
        assert (name, kind, sources) == (layer["name"], layer["type"], ", ".join(layer["from"]))
        assert output == "x".join(map(str, layer["output_shape"][1:]))  # the table leaves out the batch
        for printed, count in ((params, "params"), (buffers, "buffers"), (macs, "macs"), (flops, "flops")):
            assert agrees_with_count(printed, layer[count]), (layer["name"], count, printed, layer[count])
        if layer["view"]:
            assert memory == "view"
        else:
            assert agrees_with_bytes(memory, layer["activation_bytes"]), (layer["name"], memory)
        field = layer["receptive_field"]
        assert agrees_with_field(rf, field and field["size"]), (layer["name"], rf, field)
        assert agrees_with_field(jump, field and field["jump"]), (layer["name"], jump, field)
    totals = data["totals"]
    exact = [int(number.replace(",", "")) for number in re.findall(r"\(([\d,]+)\)", summary["Params"])]
    assert exact == [totals["params"], totals["buffers"]]
    assert summary["MACs"].endswith(f"({totals['macs']:,})")
    assert summary["FLOPs"].endswith(f"({totals['flops']:,}), convention {data['convention']['flops']}")
    for label, key in (("Weights", "weights_bytes"), ("Activations", "activation_bytes"),
                       ("Peak activations", "peak_activation_bytes"), ("Training estimate", "training_bytes")):
        printed = " ".join(summary[label].split(" ")[:2])
        assert agrees_with_bytes(printed, totals[key]), (label, printed, totals[key])
    assert summary["Peak activations"].endswith(f" at {totals['peak_layer']}")
    assert summary["Outputs"] == ", ".join(f"{name} {'x'.join(map(str, shape))}"
                                           for name, shape in data["outputs"].items())


# -- (g) FLOP conventions -------------------------------------------------------------------------

@SETTINGS
@given(random_spec())
def test_flop_conventions(text: str) -> None:
    """`2mac` is exactly twice `mac`, and `mac` is the MACs. `full` counts every multiply
    and add: an output of a convolution, transposed convolution or linear layer with fan-in
    n costs n multiplies and n - 1 adds (+1 with bias), so such a layer's `full` FLOPs are
    at least 2*MACs - outputs, hence at least MACs - outputs (a transposed convolution
    whose padding crops products away: at least its MACs, the multiplies); every other layer
    has no MACs and a count >= 0. Summed: full >= mac - (output elements of all layers)."""
    reports = {convention: cnncalc.analyze(text, convention=convention) for convention in ("2mac", "mac", "full")}
    double, single, full = reports["2mac"], reports["mac"], reports["full"]
    outputs = 0
    for twice, once, every in zip(double.layers, single.layers, full.layers):
        assert twice._replace(flops=0) == once._replace(flops=0) == every._replace(flops=0)
        assert twice.flops == 2 * once.flops
        assert once.flops == once.macs
        produced = elements(every.output_shape)
        assert every.flops >= 0
        # A transposed convolution's products that padding crops away are multiplies without an add.
        products = every.macs if every.type.startswith("conv_transpose") else 2 * every.macs - produced
        assert every.flops >= products, (every.name, every.type)
        assert every.flops >= once.flops - produced
        outputs += produced
    assert double.totals.flops == 2 * single.totals.flops
    assert single.totals.flops == single.totals.macs
    assert full.totals.flops >= single.totals.flops - outputs


# -- (h) receptive fields grow along every path ---------------------------------------------------

@SETTINGS
@given(random_spec())
def test_receptive_fields_grow_along_every_path(text: str) -> None:
    """A layer sees at least what each of its inputs sees: along any path of windowed (or
    pointwise) layers the field's size never shrinks, and a single-input layer's jump (the
    product of strides) never shrinks either."""
    report = cnncalc.analyze(text)
    fields: dict[str, Any] = {name: ((1, 1, 0.0),) * (len(shape) - 2) or None
                              for name, shape in report.inputs.items()}
    for row in report.layers:
        fields[row.name] = row.receptive_field
        field = row.receptive_field
        if field is None:
            continue
        for source in row.inputs:
            before = fields[source]
            if before is None or len(before) != len(field):
                continue
            for axis, (after_axis, before_axis) in enumerate(zip(field, before)):
                if len(before_axis) > 3:
                    # After an upsampling the field differs by position and its size is the largest
                    # over positions; a strided layer may read only positions that see less.
                    continue
                assert after_axis[0] >= before_axis[0], (row.name, row.type, source, axis, before, field)
                if len(row.inputs) == 1 and not row.type.startswith(("upsample", "pixel_shuffle", "conv_transpose")):
                    # An upsampling divides the jump (the effective field, cnncalc/field.py).
                    assert after_axis[1] >= before_axis[1], (row.name, row.type, axis, before, field)
