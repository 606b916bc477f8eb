"""The spec format's features, each with a small spec and its exact expected result."""

from __future__ import annotations

import pytest

import cnncalc


def names(spec: str, **options: object) -> list[str]:
    return [row.name for row in cnncalc.analyze(spec, **options).layers]


def test_default_names_count_each_type_from_one():
    spec = """
input: {shape: [3, 8, 8]}
layers:
  - {type: conv2d, out_channels: 4, kernel_size: 3}
  - {type: relu}
  - {type: conv2d, out_channels: 4, kernel_size: 3}
  - {type: relu, name: last}
"""
    assert names(spec) == ["conv2d_1", "relu_1", "conv2d_2", "last"]


REPEATED_BLOCK = """
params: {width: 1.0}
input: {shape: [8, 16, 16]}
blocks:
  unit:
    params: {channels: 8, stride: 1}
    layers:
      - {type: conv2d, name: conv, out_channels: $channels, kernel_size: 3, stride: $stride, padding: 1}
      - name: shortcut
        from: input
        when: "${stride != 1 or in_channels != channels}"
        layers:
          - {type: conv2d, name: proj, out_channels: $channels, kernel_size: 1, stride: $stride}
      - {type: add, from: [conv, shortcut]}
layers:
  - {type: unit, name: stage, repeat: 3, channels: "${int(16 * width)}", stride: "${2 if i == 0 else 1}"}
  - {type: global_avgpool, from: stage.1}
"""


def test_repeat_blocks_when_and_inline_chains():
    report = cnncalc.analyze(REPEATED_BLOCK)
    assert [row.name for row in report.layers] == [
        "stage.0.conv", "stage.0.shortcut.proj", "stage.0.add_1",
        "stage.1.conv", "stage.1.add_1",
        "stage.2.conv", "stage.2.add_1",
        "global_avgpool_1",
    ]
    by_name = {row.name: row for row in report.layers}
    assert by_name["stage.0.conv"].output_shape == (1, 16, 8, 8)
    assert by_name["stage.1.add_1"].inputs == ("stage.1.conv", "stage.0.add_1")  # `when` false: the input
    assert by_name["global_avgpool_1"].inputs == ("stage.1.add_1",)  # a full dotted name
    assert by_name["stage.0.shortcut.proj"].path == ("stage.0", "stage.0.shortcut")


def test_set_overrides_a_global_parameter():
    report = cnncalc.analyze(REPEATED_BLOCK, overrides={"width": 2.0})
    assert report.layers[0].output_shape == (1, 32, 8, 8)


def test_type_from_a_parameter_and_interpolated_names():
    spec = """
params: {act: relu6}
input: {shape: [4]}
blocks:
  dense:
    params: {act: relu, n: 8}
    layers:
      - {type: linear, out_features: $n, name: "fc${n}"}
      - {type: $act}
layers:
  - {type: dense, name: d, act: $act, n: 5}
"""
    report = cnncalc.analyze(spec)
    assert [(row.name, row.type) for row in report.layers] == [("d.fc5", "linear"), ("d.relu6_1", "relu6")]


def test_parameter_defaults_see_the_block_input_and_earlier_parameters():
    spec = """
input: {shape: [12, 8, 8]}
blocks:
  expand:
    params: {cin: "${in_channels}", cout: "${cin * 2}"}
    layers:
      - {type: conv2d, out_channels: $cout, kernel_size: 1}
layers:
  - {type: expand}
"""
    assert cnncalc.analyze(spec).outputs == {"expand_1": (1, 24, 8, 8)}


def test_several_inputs_and_outputs():
    spec = """
inputs:
  image: {shape: [3, 32, 32], batch: 2}
  depth: {shape: [1, 32, 32], batch: 2}
layers:
  - {type: conv2d, name: rgb, from: image, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: conv2d, name: d, from: depth, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: concat, name: fused, from: [rgb, d]}
  - {type: conv2d, name: head_a, out_channels: 2, kernel_size: 1}
  - {type: conv2d, name: head_b, from: fused, out_channels: 3, kernel_size: 1}
outputs: [head_a, head_b]
"""
    report = cnncalc.analyze(spec, inputs={"depth": (1, 16, 16), "image": (3, 16, 16)})
    assert report.inputs == {"image": (2, 3, 16, 16), "depth": (2, 1, 16, 16)}
    assert report.outputs == {"head_a": (2, 2, 16, 16), "head_b": (2, 3, 16, 16)}


def test_block_with_named_inputs_and_upsample_to_a_reference():
    spec = """
input: {shape: [4, 16, 16]}
blocks:
  merge:
    inputs: [low, high]
    layers:
      - {type: upsample, from: [low, high]}
      - {type: add, from: [-1, high]}
layers:
  - {type: conv2d, name: high, out_channels: 4, kernel_size: 3, padding: 1}
  - {type: maxpool2d, name: low, kernel_size: 2}
  - {type: merge, from: [low, high]}
"""
    report = cnncalc.analyze(spec)
    assert report.layers[-2].output_shape == (1, 4, 16, 16)
    assert report.layers[-1].inputs == ("merge_1.upsample_1", "high")


def test_negative_offsets():
    spec = """
input: {shape: [4, 8, 8]}
layers:
  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {type: relu}
  - {type: add, from: [-1, -2]}
"""
    assert cnncalc.analyze(spec).layers[-1].inputs == ("relu_1", "conv2d_1")


def test_yaml_12_numbers_and_merge_keys():
    spec = """
input: {shape: [4, 8, 8]}
defaults: &conv {type: conv2d, kernel_size: 3, padding: 1}
layers:
  - {<<: *conv, out_channels: 6}
  - {type: batchnorm2d, eps: 1e-5}
"""
    with pytest.raises(cnncalc.SpecError, match="unknown key 'defaults'"):
        cnncalc.analyze(spec)
    spec = spec.replace("defaults: &conv {type: conv2d, kernel_size: 3, padding: 1}\n", "").replace(
        "  - {<<: *conv, out_channels: 6}", "  - &conv {type: conv2d, kernel_size: 3, padding: 1, out_channels: 6}\n"
        "  - {<<: *conv, out_channels: 5}")
    report = cnncalc.analyze(spec)
    assert [row.output_shape for row in report.layers] == [(1, 6, 8, 8), (1, 5, 8, 8), (1, 5, 8, 8)]


def test_yes_and_no_are_strings_not_booleans():
    spec = """
input: {shape: [4, 8, 8]}
layers:
  - {type: conv2d, out_channels: 4, kernel_size: 3, bias: no}
"""
    with pytest.raises(cnncalc.SpecError, match="bias is 'no'.*true or false"):
        cnncalc.analyze(spec)


def test_batch_and_dtype_from_the_spec_and_overridden():
    spec = """
input: {shape: [3, 8, 8], batch: 4}
dtype: float16
layers:
  - {type: conv2d, out_channels: 2, kernel_size: 1}
"""
    report = cnncalc.analyze(spec)
    assert (report.assumptions.batch, report.assumptions.bytes_per_element) == (4, 2)
    assert report.layers[0].activation_bytes == 4 * 2 * 8 * 8 * 2
    report = cnncalc.analyze(spec, batch=1, dtype="int8")
    assert report.layers[0].activation_bytes == 2 * 8 * 8
    assert report.totals.weights_bytes == 8


def test_peak_activations_follow_liveness():
    # float32, batch 1. input 1x4x4 = 64 B; a 8x4x4 = 512 B; b (view of a) 0 B; c 8x4x4 = 512 B;
    # d = add(a, c) 512 B. Running: a: 64+512 = 576, input freed; c: 512+512 = 1024 (a still
    # needed by d); d: 512+512+512 = 1536, then a and c are freed. Peak 1536 at d.
    spec = """
input: {shape: [1, 4, 4]}
layers:
  - {type: conv2d, name: a, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: identity, name: b}
  - {type: relu, name: c}
  - {type: add, name: d, from: [a, c]}
"""
    totals = cnncalc.analyze(spec).totals
    assert (totals.peak_activation_bytes, totals.peak_layer) == (1536, "d")
    assert totals.activation_bytes == 4 * 512


def test_training_estimate():
    # 8*1*3*3 + 8 = 80 params; adam keeps weights, gradients and two moments: 4 copies.
    # Kept activations: input 64 B + a 512 B (identity b is a view) + c 512 B.
    spec = """
input: {shape: [1, 4, 4]}
layers:
  - {type: conv2d, name: a, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: identity, name: b}
  - {type: relu, name: c}
"""
    for optimizer, copies in (("sgd", 2), ("momentum", 3), ("adam", 4)):
        totals = cnncalc.analyze(spec, optimizer=optimizer).totals
        assert totals.training_bytes == 80 * copies * 4 + 64 + 512 + 512


def test_the_pure_python_yaml_parser_gives_the_same_values_and_marks(monkeypatch):
    # cnncalc uses LibYAML's parser when PyYAML has it; without it, PyYAML's own must agree.
    import yaml

    from cnncalc import yamlread

    text = "a: 1e-6\nb: [yes, ~, 0x1F, '5']\nc: &x {q: 1}\nd: {<<: *x, r: 2}\n"
    with_libyaml = yamlread.load(text, "t.yaml")
    totals_with_libyaml = cnncalc.analyze(REPEATED_BLOCK).totals
    monkeypatch.setattr(yamlread, "_Parser", yaml.SafeLoader)
    pure = yamlread.load(text, "t.yaml")
    assert pure == with_libyaml == {"a": 1e-6, "b": ["yes", None, 31, "5"], "c": {"q": 1}, "d": {"q": 1, "r": 2}}
    assert [yamlread.position(mark) for mark in pure["b"].item_marks] == [(2, 5), (2, 10), (2, 13), (2, 19)]
    assert cnncalc.analyze(REPEATED_BLOCK).totals == totals_with_libyaml
    with pytest.raises(cnncalc.SpecError, match="t.yaml:2:1: YAML syntax error"):
        yamlread.load("a: [1,\n", "t.yaml")
