"""Hostile Darknet and Caffe files: each is one located error (file:line:col, layer, problem, hint),
and the paths that were superlinear (names used many times, adjacent strings) are linear.

The timing tests build the issue's cases and assert three times its targets; the times they
take on a developer's machine are in the branch's report.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import cnncalc
from cnncalc.cli import main
from cnncalc.importers import ImportOptions, import_spec
from cnncalc.importers.builder import SpecBuilder
from cnncalc.importers.prototxt import NESTING_LIMIT, parse

HEAD = 'name: "net"\ninput: "data"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n'  # layers start on line 4
CONV = 'layer {{ name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param {{ {} }} }}'
RELU = 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { negative_slope: %s } }'
NET = "[net]\nwidth=8\nheight=8\nchannels=3\n"  # layers start on line 5
CFG_CONV = "[convolutional]\nfilters=4\nsize=1\nactivation=leaky\n"
PLAIN_PROTOTXT = 'a prototxt is plain text: names, numbers, "strings" and { }'
PLAIN_CFG = "a cfg is plain text: [section] and key=value lines"
PROTOBUF_RANGE = "protobuf's integers run from -2**63 to 2**64 - 1; Caffe's sizes are far smaller"
C_INT = "Darknet reads whole numbers into a C int, -2**31 to 2**31 - 1"


def _invoke(*arguments: str) -> Result:
    try:
        return CliRunner().invoke(main, list(arguments))
    finally:
        gc.enable()  # the CLI turns the cyclic collector off for its short-lived process; pytest's lives on


def _message(tmp_path: Path, name: str, content: str) -> str:
    """What `cnncalc analyze` prints for the file, checked to be one line and exit status 2."""
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    result = _invoke("analyze", str(path))
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr.removeprefix(f"{tmp_path}/").rstrip("\n")


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(HEAD + "a { " * 2000,
                 f"net.prototxt:4:{4 * NESTING_LIMIT + 3}: blocks nest more than 100 deep here; Caffe's nets nest 3 "
                 "or 4 deep: a generated or corrupt file?", id="2000-nested-blocks"),
    pytest.param(HEAD + CONV.format("num_output: " + "9" * 5000 + " kernel_size: 1"),
                 "net.prototxt:4:95: layer 'c' (Convolution): integer 999999999999...9999 (5,000 characters) is out "
                 f"of range; {PROTOBUF_RANGE}", id="5000-digit-integer"),
    pytest.param(HEAD + CONV.format("num_output: 18446744073709551616 kernel_size: 1"),
                 f"net.prototxt:4:95: layer 'c' (Convolution): integer 18446744073709551616 is out of range; "
                 f"{PROTOBUF_RANGE}", id="2**64"),
    pytest.param(HEAD + CONV.format("num_output: -9223372036854775809 kernel_size: 1"),
                 f"net.prototxt:4:95: layer 'c' (Convolution): integer -9223372036854775809 is out of range; "
                 f"{PROTOBUF_RANGE}", id="below-minus-2**63"),
    pytest.param(HEAD + CONV.format("num_output: 1e400 kernel_size: 1"),
                 "net.prototxt:4:83: layer 'c' (Convolution): convolution_param.num_output is inf; it takes a whole "
                 "number", id="1e400-count"),
    pytest.param(HEAD + CONV.format("num_output: nan kernel_size: 1"),
                 "net.prototxt:4:83: layer 'c' (Convolution): convolution_param.num_output is nan; it takes a whole "
                 "number", id="nan-count"),
    pytest.param(HEAD + RELU % "nan", "net.prototxt:4:69: layer 'r' (ReLU): relu_param.negative_slope is nan; it "
                                      "takes a finite number", id="nan-slope"),
    pytest.param(HEAD + RELU % "1e400", "net.prototxt:4:69: layer 'r' (ReLU): relu_param.negative_slope is inf; it "
                                        "takes a finite number", id="1e400-slope"),
    pytest.param('input: "data"\ninput_shape { dim: 1 dim: 3 dim: 1e400 dim: 8 }\n',
                 "net.prototxt:2:1: input shape [1, 3, inf, 8] is not a list of sizes >= 1; input_shape { dim: 1 "
                 "dim: 3 ... }", id="1e400-size"),
    pytest.param('input: "data"\ninput_shape { dim: 1 dim { } dim: 8 dim: 8 }\n',
                 "net.prototxt:2:1: input shape [1, a { ... } block (line 2), 8, 8] is not a list of sizes >= 1; "
                 "input_shape { dim: 1 dim: 3 ... }", id="size-a-block"),
    pytest.param(HEAD + CONV.format("num_output: 4 kernel_size: 3x3"),
                 "net.prototxt:4:110: '3x3' is not a number; e.g. 3, -1, 0.5, 1e-3 or 0x1F", id="3x3"),
    pytest.param(HEAD + CONV.format("num_output: 4 kernel_size: 1 pad: 10000000000000000"),
                 "net.prototxt:4:1: layer 'c' (Convolution): as cnncalc conv2d: output elements per sample are about "
                 "10**33, past the limit of 10**30; check the sizes, channels, kernels, strides and scale factors "
                 "that lead here", id="output-past-the-count-limit"),
    pytest.param(HEAD + 'layer { name: "r\x00" }',
                 f"net.prototxt:4:17: control character U+0000 in the file; {PLAIN_PROTOTXT}", id="nul-byte"),
    pytest.param(HEAD + 'layer { name: "r" }\r layer { }',
                 f"net.prototxt:4:20: carriage return not followed by a newline in the file; {PLAIN_PROTOTXT}",
                 id="lone-carriage-return"),
    pytest.param(HEAD + 'layer { name: "\u202er" }',
                 f"net.prototxt:4:16: bidirectional control U+202E in the file; {PLAIN_PROTOTXT}", id="bidi-override"),
    pytest.param(HEAD + 'layer { name: "r\\nx" type: "ReLU" }',
                 "net.prototxt:4:15: an escape in this string makes a newline, carriage return or NUL; names and "
                 "types in a prototxt are plain text", id="newline-escape"),
    pytest.param((HEAD + CONV.format("num_output: 4 kernal_size: 1")).replace("\n", "\r\n"),
                 "net.prototxt:4:97: layer 'c' (Convolution): unknown field 'kernal_size' in convolution_param",
                 id="crlf-lines-counted"),
    pytest.param("\ufeff" + HEAD + CONV.format("num_output: 4 kernal_size: 1"),
                 "net.prototxt:4:97: layer 'c' (Convolution): unknown field 'kernal_size' in convolution_param",
                 id="bom-skipped"),
    pytest.param(HEAD + 'layer { name: "r" type { } bottom: "data" top: "r" }',
                 "net.prototxt:4:19: type: a { ... } block (line 4) is not a name; write type: \"Convolution\"",
                 id="type-a-block"),
    pytest.param(HEAD + 'layer { name: 5 type: "ReLU" bottom: "data" top: "r" }',
                 "net.prototxt:4:9: name: 5 is not a name; write name: \"conv1\"", id="name-a-number"),
    pytest.param(HEAD + 'layer { name: "r" type: "ReLU" bottom { } top: "r" }',
                 "net.prototxt:4:32: layer 'r' (ReLU): bottom: a { ... } block (line 4) is not a name; write bottom: "
                 "\"data\"", id="bottom-a-block"),
    pytest.param(HEAD + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param: 5 }',
                 "net.prototxt:4:63: layer 'c' (Convolution): convolution_param is 5, not a block; write "
                 "convolution_param { ... }", id="param-a-number"),
    pytest.param('name { }\n' + HEAD.split("\n", 1)[1] + RELU % "0",
                 "net.prototxt:1:1: name: a { ... } block (line 1) is not a name; write name: \"AlexNet\"",
                 id="net-name-a-block"),
    pytest.param('input: 5\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n',
                 "net.prototxt:1:1: input: 5 is not a name; write input: \"data\"", id="input-a-number"),
    pytest.param(HEAD + 'layer { name: "a" type: "ReLU" bottom: "b" top: "a" }\n'
                        'layer { name: "b" type: "ReLU" bottom: "a" top: "b" }',
                 "net.prototxt:4:32: layer 'a' (ReLU): bottom 'b' is not written by any layer before it; blobs so "
                 "far: data", id="cycle-of-bottoms-and-tops"),
    pytest.param(HEAD + 'layer { name: "a" type: "ReLU" bottom: "a" top: "a" }',
                 "net.prototxt:4:32: layer 'a' (ReLU): bottom 'a' is not written by any layer before it; blobs so "
                 "far: data", id="layer-reads-itself"),
    pytest.param('layer { name: "d" type: "DummyData" dummy_data_param { shape { dim: 1 dim: 3 } } }\n',
                 "net.prototxt:1:1: layer 'd' (DummyData): the DummyData layer has no top; name the blob it makes: "
                 "top: \"data\"", id="input-layer-without-top"),
    pytest.param(HEAD + 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "data" top: "loss" }',
                 "net.prototxt:4:1: the net has no layers cnncalc can count; its layers are inputs or training-only "
                 "ones (losses, Accuracy, Silence)", id="training-layers-only"),
    pytest.param(HEAD, "net.prototxt:1:1: the net has no layers cnncalc can count; add layer { name: ... type: ... "
                       "bottom: ... top: ... } blocks", id="no-layers"),
    pytest.param("a\n:\n1\n" * 166_667,
                 "net.prototxt:500001:1: the file has more than 500,000 tokens (names, values, braces); the largest "
                 "Caffe nets have some 50,000: a generated or corrupt file?", id="500001-tokens"),
])
def test_prototxt_errors(tmp_path: Path, content: str, message: str) -> None:
    assert _message(tmp_path, "net.prototxt", content).startswith(message)


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(NET + CFG_CONV.replace("filters=4", "filters=" + "9" * 5000),
                 f"net.cfg:6:9: layer 'conv_0' ([convolutional]): filters=999999999999...9999 (5,000 characters) is "
                 f"out of range; {C_INT}", id="5000-digit-filters"),
    pytest.param(NET + CFG_CONV.replace("filters=4", "filters=2147483648"),
                 f"net.cfg:6:9: layer 'conv_0' ([convolutional]): filters=2147483648 is out of range; {C_INT}",
                 id="filters-2**31"),
    pytest.param(NET + CFG_CONV + "[route]\nlayers=-" + "9" * 5000 + "\n",
                 "net.cfg:10:8: layer 'route_1' ([route]): layers=-99999999999...9999 (5,001 characters) is out of "
                 f"range; {C_INT}", id="5000-digit-route"),
    pytest.param(NET + CFG_CONV.replace("filters=4", "filters=1e30"),
                 "net.cfg:6:9: layer 'conv_0' ([convolutional]): filters=1e30 is not a whole number",
                 id="filters-1e30"),
    pytest.param("[net]\nwidth=8,8\nheight=8\nchannels=3\n" + CFG_CONV,
                 "net.cfg:2:7: layer 'net' ([net]): width=8,8 is not a whole number", id="net-width-a-list"),
    pytest.param("[net]\nbatch=64,2\nwidth=8\nheight=8\nchannels=3\n" + CFG_CONV,
                 "net.cfg:2:7: layer 'net' ([net]): batch=64,2 is not a whole number", id="net-batch-a-list"),
    pytest.param("[net]\nwidth=0\nheight=8\nchannels=3\n" + CFG_CONV,
                 "net.cfg:2:7: layer 'net' ([net]): width=0 is below 1", id="net-width-zero"),
    pytest.param("[net]\nwidth=8\nheight=-8\nchannels=3\n" + CFG_CONV,
                 "net.cfg:3:8: layer 'net' ([net]): height=-8 is below 1", id="net-height-negative"),
    pytest.param(NET + CFG_CONV.replace("size=1", "size=0"),
                 "net.cfg:7:6: layer 'conv_0' ([convolutional]): size=0 is below 1", id="size-zero"),
    pytest.param(NET + "[lrn]\nalpha=nan\n",
                 "net.cfg:6:7: layer 'lrn_0' ([lrn]): alpha=nan is not a finite number", id="nan"),
    pytest.param(NET + "[lrn]\nbeta=1e400\n",
                 "net.cfg:6:6: layer 'lrn_0' ([lrn]): beta=1e400 is not a finite number", id="1e400"),
    pytest.param(NET + CFG_CONV + "[route]\nlayers=1\n",
                 "net.cfg:10:8: layer 'route_1' ([route]): layers: 1 is layer 1 itself, but layer 1 can only read "
                 "layers 0 to 0; negative numbers count back from this layer", id="route-to-itself"),
    pytest.param(NET + CFG_CONV + "[route]\nlayers=-1,3\n",
                 "net.cfg:10:8: layer 'route_1' ([route]): layers: 3 is layer 3, but layer 1 can only read layers 0 "
                 "to 0", id="route-forward"),
    pytest.param(NET + "[route]\nlayers=0\n",
                 "net.cfg:6:8: layer 'route_0' ([route]): layers: 0 is layer 0 itself, but layer 0 is the first: no "
                 "layer comes before it", id="route-in-the-first-layer"),
    pytest.param(NET + CFG_CONV + "[shortcut]\nfrom=-5\n",
                 "net.cfg:10:6: layer 'shortcut_1' ([shortcut]): from: -5 is layer -4, but layer 1 can only read "
                 "layers 0 to 0", id="shortcut-before-the-first-layer"),
    pytest.param(NET + CFG_CONV.replace("leaky", "lea\x00ky"),
                 f"net.cfg:8:15: control character U+0000 in the file; {PLAIN_CFG}", id="nul-byte"),
    pytest.param(NET + CFG_CONV.replace("leaky", "\x1b[31mleaky"),
                 f"net.cfg:8:12: control character U+001B in the file; {PLAIN_CFG}", id="terminal-escape"),
    pytest.param((NET + CFG_CONV).replace("\n", "\r"),
                 f"net.cfg:1:6: carriage return not followed by a newline in the file; {PLAIN_CFG}", id="lone-cr"),
    pytest.param(NET + "# a\u2028b\n" + CFG_CONV,
                 f"net.cfg:5:4: line separator U+2028 in the file; {PLAIN_CFG}", id="line-separator"),
    pytest.param((NET + CFG_CONV.replace("size=1", "size=0")).replace("\n", "\r\n"),
                 "net.cfg:7:6: layer 'conv_0' ([convolutional]): size=0 is below 1", id="crlf-lines-counted"),
    pytest.param("\ufeff" + NET + CFG_CONV.replace("size=1", "size=0"),
                 "net.cfg:7:6: layer 'conv_0' ([convolutional]): size=0 is below 1", id="bom-skipped"),
    pytest.param(NET + CFG_CONV + "#\n" * 2_000_001,
                 "net.cfg:2000001:1: the file has more than 2,000,000 lines; the largest Darknet cfgs have some 3,000: "
                 "a generated or corrupt file?", id="2000001-lines"),
    pytest.param(NET + "[empty]\n" * 100_001,
                 "net.cfg:100005:1: the file has more than 100,000 layers; the largest Darknet cfgs have some 500: a "
                 "generated or corrupt file?", id="100001-layers"),
])
def test_cfg_errors(tmp_path: Path, content: str, message: str) -> None:
    assert _message(tmp_path, "net.cfg", content).startswith(message)


def test_non_utf8_files_name_the_byte(tmp_path: Path) -> None:
    for suffix, head in ((".cfg", NET.encode()), (".prototxt", HEAD.encode())):
        path = tmp_path / f"net{suffix}"
        path.write_bytes(head + b"# caf\xe9\n")
        with pytest.raises(cnncalc.SpecError) as raised:
            cnncalc.analyze(path)
        line = head.count(b"\n") + 1
        assert str(raised.value) == f"{path}:{line}:6: byte 0xe9 is not UTF-8; save the spec as UTF-8 text"


@pytest.mark.parametrize("depth", [NESTING_LIMIT, NESTING_LIMIT + 1])
def test_nesting_limit_is_exact(depth: int) -> None:
    text = "a { " * depth + "} " * depth
    if depth <= NESTING_LIMIT:
        assert parse(text, "x.prototxt").fields[0].name == "a"
    else:
        with pytest.raises(cnncalc.SpecError, match=r"^x\.prototxt:1:403: blocks nest more than 100 deep"):
            parse(text, "x.prototxt")


# -- names used many times: the same names as always, in linear time ------------------------------

@pytest.mark.parametrize(("wanted", "given"), [
    pytest.param(["a", "a", "a"], ["a", "a_2", "a_3"], id="repeats-numbered"),
    pytest.param(["a", "a", "a_2", "a"], ["a", "a_2", "a_2_2", "a_3"], id="a-source-name-taken-by-a-number"),
    pytest.param(["relu_3", "relu", "relu", "relu", "relu"], ["relu_3", "relu", "relu_2", "relu_4", "relu_5"],
                 id="a-number-the-source-used-earlier-is-skipped"),
    pytest.param(["input", "input"], ["input_2", "input_3"], id="input-is-reserved"),
    pytest.param(["$x", "_x", " "], ["_x", "_x_2", "layer"], id="dollar-and-blank"),
])
def test_unique_names(wanted: list[str], given: list[str]) -> None:
    builder = SpecBuilder()
    names = []
    for name in wanted:
        names.append(builder.unique(name))
        builder.shapes[names[-1]] = (1,)  # taken, as add() takes it
    assert names == given


def _in_place_prototxt(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "in_place.prototxt"
    path.write_text(HEAD + 'layer { name: "relu" type: "ReLU" bottom: "data" top: "data" }\n' * count)
    return path


def test_20000_in_place_layers_sharing_a_name(tmp_path: Path) -> None:
    path = _in_place_prototxt(tmp_path, 20_000)
    start = time.perf_counter()
    result = _invoke("analyze", "--format", "json", str(path))
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.stderr
    assert elapsed < 15, f"{elapsed:.1f} s (the target is 5 s)"
    names = [layer["name"] for layer in import_spec(path, ImportOptions())["layers"]]
    assert names[:3] == ["relu", "relu_2", "relu_3"] and names[-1] == "relu_20000"


def test_20000_onnx_nodes_named_alike(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    count = 20_000
    nodes = [helper.make_node("Relu", [f"t{k - 1}" if k else "x"], [f"t{k}"], name="relu") for k in range(count)]
    graph = helper.make_graph(nodes, "alike", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(f"t{count - 1}", TensorProto.FLOAT, [1, 3, 8, 8])])
    path = tmp_path / "alike.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    start = time.perf_counter()
    report = cnncalc.analyze(path)
    elapsed = time.perf_counter() - start
    assert elapsed < 15, f"{elapsed:.1f} s (the Caffe target, 5 s)"
    assert len(report.layers) == count


def test_200000_adjacent_strings() -> None:
    text = "name: " + '"aa" ' * 200_000 + "\n"
    start = time.perf_counter()
    message = parse(text, "x.prototxt")
    elapsed = time.perf_counter() - start
    assert message.fields[0].value == "aa" * 200_000
    assert elapsed < 9, f"{elapsed:.1f} s (the target is 3 s)"
