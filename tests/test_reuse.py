"""Block instances walked once: reusing the records of an instance seen before (same block,
parameters and input shapes) gives exactly what a full walk gives, reports, JSON, tables and
errors alike, on every bundled spec and on cases built to catch a wrong reuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.render.formats import render_json
from cnncalc.render.table import render_table
from cnncalc.render.columns import CELLS, DEFAULT_COLUMNS, share_cells
from cnncalc.walk import reuse
from strategies import random_spec

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(path for path in (ROOT / "specs").iterdir() if path.suffix in (".yaml", ".cfg"))


def outcome(source: Any, reusing: bool, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Any:
    """Everything a user can see of an analysis: records, JSON and table, or the error."""
    monkeypatch.setattr(reuse, "REUSE_BLOCKS", reusing)
    try:
        report = cnncalc.analyze(source, **options)
    except SpecError as error:
        return f"error: {error}"
    return (report.graph.layers, report.graph.outputs, render_json(report),
            render_table(report, report.layers, DEFAULT_COLUMNS, 120, False, {**CELLS, **share_cells(report)}))


def same_either_way(source: Any, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Any:
    reused = outcome(source, True, monkeypatch, **options)
    walked = outcome(source, False, monkeypatch, **options)
    assert reused == walked
    return reused


def count_replays(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    replayed: list[str] = []
    original = reuse.Reuse.replay

    def counting(self: reuse.Reuse, recording: Any, full_name: str, *rest: Any) -> Any:
        replayed.append(full_name)
        return original(self, recording, full_name, *rest)

    monkeypatch.setattr(reuse.Reuse, "replay", counting)
    return replayed


@pytest.mark.parametrize("path", BUNDLED, ids=[path.name for path in BUNDLED])
def test_every_bundled_spec_is_the_same_with_reuse(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not isinstance(same_either_way(path, monkeypatch), str)


@pytest.mark.parametrize("name", ["resnet50.yaml", "mobilenet_v2.yaml", "googlenet.yaml"])
def test_other_inputs_batches_and_conventions_are_the_same_with_reuse(name: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    same_either_way(ROOT / "specs" / name, monkeypatch, batch=4, convention="full", inputs={"": (3, 160, 160)})


def test_resnet50_reuses_the_bottlenecks_that_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first instance of each stage changes the shape (stride 2, projection); the rest repeat."""
    replayed = count_replays(monkeypatch)
    same_either_way(ROOT / "specs/resnet50.yaml", monkeypatch)
    assert replayed == ["layer1.2", "layer2.2", "layer2.3", "layer3.2", "layer3.3", "layer3.4", "layer3.5",
                        "layer4.2"]


STAGE = """
input: {shape: [16, 32, 32]}
blocks:
  stage:
    params: {c: 16}
    layers:
      - {type: conv2d, name: a, out_channels: "${c}", kernel_size: 3, padding: 1}
      - {type: batchnorm2d}
      - {type: relu, name: r}
      - {type: conv2d, out_channels: "${c}", kernel_size: 3, padding: 1, from: r}
      - {type: add, from: [-1, input]}
"""


def test_a_block_used_a_thousand_times_is_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    replayed = count_replays(monkeypatch)
    reused = same_either_way(STAGE + "layers:\n  - {type: stage, repeat: 1000}\n", monkeypatch)
    assert len(replayed) == 999
    names = [record.name for record in reused[0]]
    assert names[-5:] == ["stage_1.999.a", "stage_1.999.batchnorm2d_1", "stage_1.999.r",
                          "stage_1.999.conv2d_1", "stage_1.999.add_1"]
    assert reused[0][-1].inputs == ("stage_1.999.conv2d_1", "stage_1.998.add_1")
    # the receptive field grows along the chain: fields are the instance's own, not the first one's
    assert reused[0][-1].field != reused[0][4].field


CASES = {
    "outputs_inside_reused_instances": STAGE + """
layers:
  - {type: stage, name: s, repeat: 4}
  - {type: stage, name: t}
outputs: [s.2.a, s.3, t.r, s.1.add_1, t]
""",
    "named_inputs_and_the_same_tensor_twice": """
input: {shape: [8, 16, 16]}
blocks:
  merge:
    inputs: [x, skip]
    layers:
      - {type: conv2d, out_channels: 8, kernel_size: 1, from: x}
      - {type: add, from: [-1, skip]}
layers:
  - {type: relu, name: a}
  - {type: relu, name: b}
  - {type: merge, from: [a, b]}
  - {type: merge, from: [a, b]}
  - {type: merge, from: [b, b]}
  - {type: merge, from: [b, a]}
  - {type: merge, from: [a, a]}
""",
    "nested_blocks_repeats_chains_and_when": """
input: {shape: [8, 16, 16]}
blocks:
  inner:
    params: {c: 8, skip: false}
    layers:
      - {type: conv2d, out_channels: "${c}", kernel_size: 3, padding: 1, repeat: 2}
      - {name: side, from: input, when: "${not skip}", layers: [{type: relu}, {type: identity}]}
      - {type: concat, from: [conv2d_1, side]}
  outer:
    params: {c: 8}
    layers:
      - {type: inner, c: "${c}", repeat: 3}
      - {type: inner, c: "${c}", skip: true}
      - {type: conv2d, out_channels: 8, kernel_size: 1}
layers:
  - {type: outer, repeat: 3}
  - {type: outer, c: 4}
  - {type: outer}
outputs: [outer_1.1.inner_1.2.side, outer_3.inner_2.side, outer_2]
""",
    "a_block_reading_i": """
input: {shape: [4, 32, 32]}
blocks:
  grow:
    layers:
      - {type: conv2d, name: "conv${i}", out_channels: "${4 * (i % 3 + 1)}", kernel_size: 1}
  wrap:
    layers: [{type: grow}]
layers:
  - {type: grow, repeat: 7}
  - {type: wrap, repeat: 7}
""",
    "a_block_naming_a_layer_outside_itself": """
input: {shape: [4, 8, 8]}
blocks:
  b:
    layers:
      - {type: add, from: [input, stem]}
      - {type: relu}
layers:
  - {type: relu, name: stem}
  - {type: b, repeat: 4}
""",
    "a_skipped_instance_passes_its_input_on": """
input: {shape: [4, 8, 8]}
blocks:
  maybe:
    params: {on: true}
    layers:
      - {name: body, when: "$on", layers: [{type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}]}
layers:
  - {type: maybe, on: false, repeat: 3}
  - {type: maybe, repeat: 3}
  - {type: maybe, on: false, name: last}
outputs: [maybe_1.2.body, maybe_2.2.body, last]
""",
    "parameters_that_differ_only_in_type_or_sign": """
input: {shape: [4, 8, 8]}
blocks:
  b:
    params: {p: 0}
    layers: [{type: relu, name: "r${p}"}, {type: relu, name: "s${p * 2}"}]
layers:
  - {type: b, p: 0.0}
  - {type: b, p: -0.0}
  - {type: b, p: 0}
  - {type: b, p: false}
  - {type: b, p: 0.0}
""",
    "defaults_that_follow_from_the_input_and_i": """
input: {shape: [4, 8, 8]}
blocks:
  b:
    params: {w: "${in_channels * 2}", s: 1}
    layers: [{type: conv2d, out_channels: "$w", kernel_size: 1, stride: "$s"}]
  c:
    params: {k: "${i % 2 + 1}"}
    layers: [{type: maxpool2d, kernel_size: "$k", stride: 1, padding: 0}]
layers:
  - {type: b, repeat: 3}
  - {type: b, s: 1}
  - {type: c, repeat: 4}
""",
    "parameters_and_shapes_that_differ": STAGE + """
layers:
  - {type: stage, repeat: 2}
  - {type: stage, c: 16}
  - {type: maxpool2d, kernel_size: 2}
  - {type: stage, repeat: 2}
  - {type: stage, c: 16.0}
""",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_constructed_cases_are_the_same_with_reuse(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = same_either_way(text, monkeypatch)
    assert not isinstance(result, str), result  # each case is valid


def test_a_reused_instance_skips_its_defaults_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults follow from what is passed, `i` and the input: a block of thousands of
    parameters used again and again resolves them once (it took a minute for 100,000 x 1,000)."""
    replayed = count_replays(monkeypatch)
    defaults = ", ".join(f"p{index}: '${{in_channels + {index}}}'" for index in range(2_000))
    text = ("input: {shape: [3, 8, 8]}\nblocks:\n  b:\n    params: {" + defaults + "}\n"
            "    layers: [{type: conv2d, out_channels: $p3, kernel_size: 1}, {type: relu, name: \"r${p1999}\"}]\n"
            "layers:\n  - {type: b, p3: 4, repeat: 100}\n")
    reused = same_either_way(text, monkeypatch)
    assert len(replayed) == 98  # the first two instances see 3 and then 4 input channels
    assert [record.name for record in reused[0][-2:]] == ["b_1.99.conv2d_1", "b_1.99.r2003"]


def test_a_block_naming_a_layer_outside_itself_is_never_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    replayed = count_replays(monkeypatch)
    same_either_way(CASES["a_block_naming_a_layer_outside_itself"], monkeypatch)
    assert replayed == []


def test_a_block_reading_i_is_reused_per_value_of_i_only(monkeypatch: pytest.MonkeyPatch) -> None:
    replayed = count_replays(monkeypatch)
    same_either_way(CASES["a_block_reading_i"], monkeypatch)
    assert replayed == []  # conv${i}: every instance has its own names


ERRORS = {
    # the third instance has other parameters: it is walked, and its error is its own
    "an_error_in_a_later_instance": (STAGE + """
layers:
  - {type: stage, repeat: 2}
  - {type: stage, c: 0}
""", "<spec>:7:47: layer 'stage_2.a' (conv2d): out_channels is 0"),
    "an_error_after_reused_instances": (STAGE + """
layers:
  - {type: stage, repeat: 3}
  - {type: conv2d, out_channels: 8, kernel_size: 64}
""", "<spec>:15:5: layer 'conv2d_1' (conv2d): kernel 64x64"),
}


@pytest.mark.parametrize(("text", "expected"), ERRORS.values(), ids=ERRORS.keys())
def test_errors_after_reuse_point_where_a_full_walk_points(text: str, expected: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    result = same_either_way(text, monkeypatch)
    assert result.startswith(f"error: {expected}")


def test_the_layer_limit_stops_a_reused_instance_where_a_full_walk_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reused instances count their layers and their checks: the limit falls in the middle
    of an instance, which is then walked, so the error names the layer a full walk names."""
    from cnncalc.walk import expansion

    monkeypatch.setattr(expansion, "LAYER_LIMIT", 2_000)
    monkeypatch.setattr(reuse, "LAYER_LIMIT", 2_000)
    text = STAGE.replace("- {type: add, from: [-1, input]}",
                         "- {type: relu, repeat: \"${c}\"}\n      - {type: add, from: [-1, input]}")
    replayed = count_replays(monkeypatch)
    result = same_either_way(text + "layers:\n  - {type: stage, repeat: \"${90 + 10}\"}\n", monkeypatch)
    assert result.startswith("error: <spec>:11:30: layer 'stage_1.66.relu_1' (relu): the spec expands to more "
                             "than 2,000 layers here")
    assert len(replayed) == 65  # instances 1 to 65; the 66th would pass the limit, and is walked


def test_the_expression_limit_stops_a_reused_instance_where_a_full_walk_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cnncalc import interpolate

    monkeypatch.setattr(interpolate, "MAX_WORK", 500)
    text = STAGE.replace("${c}", "${c + 0}")  # too cheap to keep: evaluated, and charged, in every instance
    replayed = count_replays(monkeypatch)
    result = same_either_way(text + "layers:\n  - {type: stage, repeat: 100}\n", monkeypatch)
    assert result.startswith("error: <spec>:10:38: layer 'stage_1.41.conv2d_1' (conv2d): the spec's expressions take "
                             "more than 500 steps")
    assert len(replayed) == 40


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(random_spec(max_layers=12))
def test_random_specs_are_the_same_with_reuse(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        same_either_way(text, monkeypatch)
