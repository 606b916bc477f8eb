"""Every malformed spec gets one clear error and exit status 2 (spec-format.md, "Errors").

The form is `file:line:col: layer 'name' (type): what is wrong; what is accepted`, on one
line, with no traceback and nothing on stdout. One row per mistake: the spec (written
line by line, so that line numbers can be read off the row), the line and column the
message must point at, the layer it must name when the mistake belongs to one, and the
words it must contain. Each spec is written into pytest's tmp_path as `net.yaml`, so the
message must also start with that file's path. Hostile specs (alias bombs, huge repeats,
deep nesting) must fail fast, not after a hang.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main

FAST = 2.0  # seconds: every case takes milliseconds; a hang or a walk of a million layers does not


def spec(*rows: str) -> str:
    """A spec whose line n is rows[n - 1]."""
    return "\n".join(rows) + "\n"


# The usual top: the layers of a row start on line 3.
HEAD = ("input: {shape: [3, 32, 32]}", "layers:")


@dataclass(frozen=True)
class Bad:
    id: str
    text: str | bytes
    line: int
    column: int
    words: tuple[str, ...]
    layer: tuple[str, str] | None = None  # (name, type) the message names
    overrides: Mapping[str, object] = field(default_factory=dict)  # --set


BILLION_LAUGHS = spec(
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]",
    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]",
    "input: {shape: [3]}",
    "layers: [{type: relu}]",
)

# 5,000 blocks, each using the next: the walk must stop at its nesting limit, not overflow the stack.
BLOCK_TOWER = spec(
    "input: {shape: [3, 8, 8]}",
    "blocks:",
    *(f"  b{k}: {{layers: [{{type: b{k + 1}}}]}}" for k in range(5000)),
    "  b5000: {layers: [{type: relu}]}",
    "layers:",
    "  - type: b0",
)

BAD = [
    # -- the file itself -------------------------------------------------------------
    Bad("yaml-syntax-unclosed-brace",
        spec("input: {shape: [3, 32, 32]", "layers: [{type: relu}]"),
        2, 1, ("YAML syntax error", "expected ',' or '}'", "flow mapping", "line 1, column 8")),
    Bad("yaml-syntax-bad-indent",
        spec("input:", "  shape: [3, 32, 32]", " layers:", "  - type: relu"),
        3, 2, ("YAML syntax error", "expected key", "block mapping")),
    Bad("yaml-syntax-tab",
        spec("input:", "\tshape: [3, 32, 32]"),
        2, 1, ("YAML syntax error", "cannot start any token", "not tabs")),
    Bad("empty-file", "", 1, 1, ("the spec is empty", "'input' and 'layers'")),
    Bad("only-comments", spec("# resnet18, to be written"), 1, 1, ("the spec is empty",)),
    Bad("second-document", spec("input: {shape: [3]}", "layers: [{type: relu}]", "---", "name: two"),
        3, 1, ("a second YAML document starts here", "remove the '---'")),
    Bad("top-is-a-list", spec("# layers only", "- type: conv2d", "- type: relu"),
        2, 1, ("a spec is a mapping", "'input' and 'layers'", "input: {shape:")),
    Bad("top-is-a-scalar", spec("resnet18"), 1, 1, ("a spec is a mapping", "'input' and 'layers'")),
    Bad("non-utf8-byte",
        b"input: {shape: [3]}\nlayers:\n  - type: re\xfflu\n",
        3, 13, ("byte 0xff is not UTF-8", "save the spec as UTF-8")),
    Bad("unknown-top-level-key",
        spec("input: {shape: [3, 32, 32]}", "layer:", "  - type: relu"),
        2, 1, ("unknown key 'layer' in the spec", "did you mean 'layers'?")),
    Bad("duplicate-key",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    out_channels: 16", "    kernel_size: 3"),
        5, 5, ("key 'out_channels' appears twice", "keep one")),
    # -- layer types and fields ----------------------------------------------------------
    Bad("unknown-layer-type",
        spec(*HEAD, "  - type: conv2dd", "    out_channels: 8", "    kernel_size: 3"),
        3, 11, ("unknown layer type 'conv2dd'", "did you mean 'conv2d'?"), ("conv2dd_1", "conv2dd")),
    Bad("unknown-type-keeps-its-name",
        spec(*HEAD, "  - {name: act, type: reul}"),
        3, 23, ("unknown layer type 'reul'", "did you mean 'relu'?"), ("act", "reul")),
    Bad("type-is-a-number",
        spec(*HEAD, "  - type: 2"),
        3, 11, ("type is 2, not a name", "relu"), ("layers[0]", "2")),
    Bad("no-type",
        spec(*HEAD, "  - name: stem", "    out_channels: 8"),
        3, 5, ("layer has no 'type'", "add type"), ("stem", "?")),
    Bad("layer-is-not-a-mapping",
        spec(*HEAD, "  - type: relu", "  - relu"),
        4, 5, ("a layer must be a mapping", "{type: relu}"), ("layers[1]", "?")),
    Bad("misspelled-field",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_sise: 3"),
        5, 5, ("unknown field 'kernel_sise'", "did you mean 'kernel_size'?", "fields: "), ("conv2d_1", "conv2d")),
    Bad("unknown-field-no-match",
        spec(*HEAD, "  - type: relu", "    colour: red"),
        4, 5, ("unknown field 'colour'", "none besides name, from, repeat, when"), ("relu_1", "relu")),
    Bad("field-key-is-a-number",
        spec(*HEAD, "  - type: relu", "    1: 2"),
        4, 5, ("unknown field 1",), ("relu_1", "relu")),
    Bad("missing-required-field",
        spec(*HEAD, "  - type: conv2d", "    kernel_size: 3"),
        3, 5, ("missing required field 'out_channels'", "conv2d needs out_channels, kernel_size"),
        ("conv2d_1", "conv2d")),
    Bad("kernel-size-string",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: three"),
        5, 18, ("kernel_size is 'three'", "whole number >= 1"), ("conv2d_1", "conv2d")),
    Bad("kernel-size-quoted-number",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: '3'"),
        5, 18, ("kernel_size is '3'", "whole number >= 1"), ("conv2d_1", "conv2d")),
    Bad("float-channels",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8.5", "    kernel_size: 3"),
        4, 19, ("out_channels is 8.5", "out_channels takes a whole number >= 1"), ("conv2d_1", "conv2d")),
    Bad("bias-list",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: 3", "    bias: [true]"),
        6, 11, ("bias is a list", "bias takes true or false"), ("conv2d_1", "conv2d")),
    Bad("bias-yes-is-a-string",
        spec(*HEAD, "  - type: linear", "    out_features: 8", "    bias: yes"),
        5, 11, ("bias is 'yes'", "true or false"), ("linear_1", "linear")),
    Bad("kernel-size-too-many-entries",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: [3, 3, 3]"),
        3, 5, ("kernel_size has 3 entries for 2 spatial axes", "input 3x32x32"), ("conv2d_1", "conv2d")),
    # -- sizes --------------------------------------------------------------------------
    Bad("out-channels-zero",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 0", "    kernel_size: 3"),
        4, 19, ("out_channels is 0", "whole number >= 1"), ("conv2d_1", "conv2d")),
    Bad("kernel-size-negative",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: -1"),
        5, 18, ("kernel_size is -1", "whole number >= 1"), ("conv2d_1", "conv2d")),
    Bad("padding-negative",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: 3", "    padding: -2"),
        6, 14, ("padding is -2", "whole number >= 0"), ("conv2d_1", "conv2d")),
    Bad("input-shape-zero",
        spec("input:", "  shape: [3, 0, 32]", "layers:", "  - type: relu"),
        2, 10, ("input 'input' shape [3, 0, 32]", "sizes >= 1", "channels first")),
    Bad("input-shape-not-a-list",
        spec("input:", "  shape: 224", "layers:", "  - type: relu"),
        2, 10, ("input 'input' shape 224 is not a list", "[C, H, W]")),
    Bad("input-shape-five-axes",
        spec("input:", "  shape: [1, 3, 8, 8, 8]", "layers:", "  - type: relu"),
        2, 10, ("is not a list of 1 to 4 sizes",)),
    Bad("repeat-zero",
        spec(*HEAD, "  - type: relu", "    repeat: 0"),
        4, 13, ("repeat is 0", "whole number >= 1"), ("relu_1", "relu")),
    # -- shapes -------------------------------------------------------------------------
    Bad("kernel-larger-than-input",  # the spec format's own example
        spec("input: {shape: [3, 5, 5]}", "layers:", "  - name: conv3", "    type: conv2d",
             "    out_channels: 8", "    kernel_size: 7"),
        3, 5, ("kernel 7x7 (dilation 1) is larger than the padded input 5x5", "fit"), ("conv3", "conv2d")),
    Bad("dilated-kernel-larger-than-padded-input",
        spec("input: {shape: [3, 5, 5]}", "layers:", "  - type: conv2d", "    out_channels: 8",
             "    kernel_size: 3", "    padding: 1", "    dilation: 4"),
        3, 5, ("kernel 3x3 (dilation 4) is larger than the padded input 7x7",), ("conv2d_1", "conv2d")),
    Bad("pool-window-larger-than-input",
        spec("input: {shape: [8, 2, 2]}", "layers:", "  - {type: maxpool2d, kernel_size: 3}"),
        3, 5, ("kernel 3x3 (dilation 1) is larger than the padded input 2x2",), ("maxpool2d_1", "maxpool2d")),
    Bad("groups-do-not-divide",
        spec(*HEAD, "  - type: conv2d", "    out_channels: 8", "    kernel_size: 3", "    groups: 2"),
        3, 5, ("groups 2 does not divide in_channels 3 and out_channels 8", "must divide both"),
        ("conv2d_1", "conv2d")),
    Bad("conv2d-after-flatten",
        spec(*HEAD, "  - type: flatten", "  - {type: conv2d, out_channels: 8, kernel_size: 1}"),
        4, 5, ("convolution expects input [C, H, W], got [3072]",), ("conv2d_1", "conv2d")),
    Bad("add-mismatched-shapes",
        spec(*HEAD, "  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3}",
             "  - {name: b, type: conv2d, out_channels: 16, kernel_size: 3, from: input}",
             "  - {name: sum, type: add, from: [a, b]}"),
        5, 5, ("shapes 8x30x30 and 16x30x30 do not broadcast", "equal or 1"), ("sum", "add")),
    Bad("concat-mismatched-shapes",
        spec(*HEAD, "  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3}",
             "  - {name: b, type: conv2d, out_channels: 16, kernel_size: 1, from: input}",
             "  - {name: cat, type: concat, from: [a, b]}"),
        5, 5, ("concat along dim 0 of 8x30x30 and 16x32x32", "every axis except dim must agree"), ("cat", "concat")),
    Bad("relu-given-two-inputs",
        spec(*HEAD, "  - {name: a, type: relu}", "  - {type: relu, from: [a, input]}"),
        4, 24, ("from names 2 inputs, but relu takes one", "give from one name"), ("relu_1", "relu")),
    # -- names and `from` -------------------------------------------------------------------
    Bad("from-names-nothing",
        spec(*HEAD, "  - {name: stem, type: relu}", "  - {type: relu, from: stme}"),
        4, 24, ("from 'stme' names nothing before this layer", "did you mean 'stem'?", "names so far: input, stem"),
        ("relu_1", "relu")),
    Bad("from-names-a-later-layer",
        spec(*HEAD, "  - {type: relu, from: head}", "  - {name: head, type: relu}"),
        3, 24, ("from 'head' names nothing before this layer",), ("relu_1", "relu")),
    Bad("from-positive-offset",
        spec(*HEAD, "  - type: relu", "  - type: relu", "    from: 1"),
        5, 11, ("from 1 is not a negative offset", "-1 is the previous entry"), ("relu_2", "relu")),
    Bad("from-zero-offset",
        spec(*HEAD, "  - type: relu", "  - type: relu", "    from: 0"),
        5, 11, ("from 0 is not a negative offset",), ("relu_2", "relu")),
    Bad("from-offset-before-first",
        spec(*HEAD, "  - type: relu", "    from: -3"),
        4, 11, ("from -3 reaches before the first entry", "negative offset"), ("relu_1", "relu")),
    Bad("duplicate-names",
        spec(*HEAD, "  - {name: stem, type: relu}", "  - {name: stem, type: sigmoid}"),
        4, 12, ("name 'stem' is used twice", "unique"), ("stem", "sigmoid")),
    Bad("name-is-a-number",
        spec(*HEAD, "  - {name: 7, type: relu}"),
        3, 12, ("name 7 is not a plain name",), ("7", "relu")),
    Bad("output-names-nothing",
        spec("input: {shape: [3]}", "layers: [{name: head, type: relu}]", "outputs: [haed]"),
        3, 11, ("output 'haed' names no layer", "did you mean 'head'?")),
    # -- blocks and limits ----------------------------------------------------------------------
    Bad("block-uses-itself",
        spec("input: {shape: [3, 8, 8]}", "blocks:", "  loop:", "    layers:", "      - type: relu",
             "      - type: loop", "layers:", "  - type: loop"),
        6, 15, ("block 'loop' uses itself (loop -> loop)", "cannot contain itself"), ("loop_1.loop_1", "loop")),
    Bad("blocks-use-each-other",
        spec("input: {shape: [3, 8, 8]}", "blocks:", "  ping:", "    layers:", "      - type: pong",
             "  pong:", "    layers:", "      - type: ping", "layers:", "  - type: ping"),
        8, 15, ("block 'ping' uses itself (ping -> pong -> ping)",), ("ping_1.pong_1.ping_1", "ping")),
    Bad("block-unknown-parameter",
        spec("input: {shape: [3, 8, 8]}", "blocks:", "  basic:", "    params: {channels: 64}",
             "    layers: [{type: conv2d, out_channels: $channels, kernel_size: 1}]",
             "layers:", "  - type: basic", "    chanels: 32"),
        8, 5, ("block 'basic' has no parameter 'chanels'", "did you mean 'channels'?"), ("basic_1", "basic")),
    Bad("block-named-like-a-type",
        spec("input: {shape: [3, 8, 8]}", "blocks:", "  relu: {layers: [{type: sigmoid}]}", "layers:", "  - type: relu"),
        3, 3, ("block 'relu' has the name of a built-in layer type", "rename")),
    Bad("block-named-chain",
        spec("input: {shape: [3, 8, 8]}", "blocks:", "  chain: {layers: [{type: relu}]}", "layers:", "  - type: chain"),
        3, 3, ("block 'chain' has the name of a built-in",)),
    Bad("repeat-a-trillion",
        spec(*HEAD, "  - type: relu", "    repeat: 1000000000000"),
        4, 13, ("expands to more than 1,000,000 layers", "1,000,000,000,000 x 1 layers"), ("relu_1", "relu")),
    Bad("nested-blocks-1000-cubed",
        spec("input: {shape: [3, 8, 8]}", "blocks:",
             "  thousand: {layers: [{type: relu, repeat: 1000}]}",
             "  million: {layers: [{type: thousand, repeat: 1000}]}",
             "  billion: {layers: [{type: million, repeat: 1000}]}",
             "layers:", "  - type: billion"),
        7, 5, ("expands to more than 1,000,000 layers", "over 1,000,000 layers"), ("billion_1", "billion")),
    Bad("nested-blocks-1000-cubed-by-parameter",  # repeats that only the walk can know
        spec("params: {n: 1000}", "input: {shape: [3, 8, 8]}", "blocks:",
             "  thousand: {layers: [{type: relu, repeat: $n}]}",
             "  million: {layers: [{type: thousand, repeat: $n}]}",
             "  billion: {layers: [{type: million, repeat: $n}]}",
             "layers:", "  - type: billion"),
        5, 47, ("expands to more than 1,000,000 layers", "1,000 times over by the repeats around it"),
        ("billion_1.million_1.0.thousand_1", "thousand")),
    Bad("5000-nested-blocks", BLOCK_TOWER,
        52, 25, ("nest deeper than 50 levels",), (".".join(f"b{k}_1" for k in range(51)), "b50")),
    # -- parameters and expressions -------------------------------------------------------
    Bad("expression-import",
        spec(*HEAD, "  - type: conv2d", "    out_channels: \"${__import__('os')}\"", "    kernel_size: 3"),
        4, 19, ("'__import__' is not available", "functions: int"), ("conv2d_1", "conv2d")),
    Bad("expression-attribute",
        spec(*HEAD, "  - type: conv2d", "    out_channels: \"${in_shape.__len__()}\"", "    kernel_size: 3"),
        4, 19, ("attribute access ('.__len__') is not allowed", "an expression takes"), ("conv2d_1", "conv2d")),
    Bad("expression-dunder-name",
        spec(*HEAD, "  - type: relu", "    when: \"${__builtins__}\""),
        4, 11, ("name '__builtins__' is not allowed",), ("relu_1", "relu")),
    Bad("expression-lambda",
        spec(*HEAD, "  - type: conv2d", "    out_channels: \"${(lambda: 8)()}\"", "    kernel_size: 3"),
        4, 19, ("only these functions can be called",), ("conv2d_1", "conv2d")),
    Bad("expression-unknown-name",
        spec("params: {width: 1.0}", *HEAD, "  - type: conv2d", "    out_channels: ${int(64 * widht)}",
             "    kernel_size: 3"),
        5, 19, ("unknown name 'widht'", "did you mean 'width'?"), ("conv2d_1", "conv2d")),
    Bad("expression-huge-power",
        spec(*HEAD, "  - type: conv2d", "    out_channels: ${10 ** 999}", "    kernel_size: 3"),
        4, 19, ("number too large",), ("conv2d_1", "conv2d")),
    Bad("type-parameter-unknown",
        spec("params: {act: relu}", *HEAD, "  - type: $actt"),
        4, 11, ("unknown name 'actt'", "did you mean 'act'?"), ("layers[0]", "$actt")),
    Bad("parameter-default-attribute",
        spec("params: {width: \"${(1).real}\"}", "input: {shape: [3]}", "layers: [{type: relu}]"),
        1, 17, ("parameter 'width'", "attribute access", "an expression takes")),
    Bad("set-unknown-parameter",
        spec("params: {width: 1.0}", "input: {shape: [3]}", "layers: [{type: relu}]"),
        1, 9, ("--set widht: the spec has no parameter 'widht'", "did you mean 'width'?"),
        overrides={"widht": 0.5}),
    Bad("set-without-params",
        spec("input: {shape: [3]}", "layers: [{type: relu}]"),
        1, 1, ("--set width: the spec has no parameter 'width'", "declare it first: params: {width: ...}"),
        overrides={"width": 0.5}),
    Bad("when-yes-is-a-string",
        spec(*HEAD, "  - type: relu", "    when: yes"),
        4, 11, ("when is 'yes'", "true or false"), ("relu_1", "relu")),
    Bad("when-a-number",
        spec(*HEAD, "  - type: relu", "    when: 1"),
        4, 11, ("when is 1", "true or false"), ("relu_1", "relu")),
    Bad("when-expression-not-boolean",
        spec(*HEAD, "  - type: relu", "    when: ${in_channels}"),
        4, 11, ("when is 3", "true or false"), ("relu_1", "relu")),
    # -- hostile YAML ----------------------------------------------------------------------
    Bad("billion-laughs", BILLION_LAUGHS,
        7, 8, ("aliases expand to more than 1,000,000 nodes", "blocks and 'repeat'")),
    Bad("python-object-apply-tag",
        spec("input: !!python/object/apply:os.system ['echo pwned']", "layers: [{type: relu}]"),
        1, 8, ("YAML tag '!!python/object/apply:os.system' is not allowed", "plain data")),
    Bad("python-name-tag",
        spec("input: {shape: [3]}", "layers:", "  - type: !!python/name:os.system ''"),
        3, 11, ("YAML tag '!!python/name:os.system' is not allowed",)),
    Bad("local-tag",
        spec("input: !shape [3]", "layers: [{type: relu}]"),
        1, 8, ("YAML tag '!shape' is not allowed",)),
    Bad("5000-deep-lists",
        spec("input: {shape: [3]}", "layers: " + "[" * 5000 + "]" * 5000),
        2, 108, ("nesting deeper than 100 levels", "blocks and repeat")),
    Bad("5000-deep-mappings",
        spec("input: {shape: [3]}", "layers:", "  - " + "{a: " * 5000 + "1" + "}" * 5000),
        3, 397, ("nesting deeper than 100 levels",)),  # the 99th '{', at depth 101
    # "${b}${b}" over "${a}${a}": each level multiplies the length (a 769-byte spec asked for 4e12 bytes)
    Bad("interpolation-bomb-in-params",
        spec("params:", "  a: " + "x" * 100, "  b: '" + "${a}" * 20 + "'", "  c: '" + "${b}" * 20 + "'",
             *HEAD, "  - {type: relu, name: '${c}'}"),
        3, 6, ("parameter 'b': string too long (over 1,000 characters once its ${...} are filled in)",
               "keep them short")),
    Bad("interpolation-bomb-in-a-name",
        spec("params: {a: " + "x" * 100 + "}", *HEAD, "  - {type: relu, name: '" + "${a}" * 11 + "'}"),
        4, 24, ("string too long (over 1,000 characters",), ("${a}" * 11, "relu")),
    Bad("interpolation-bomb-in-a-block-parameter",
        spec("params: {a: " + "x" * 100 + "}", "blocks:", "  b:", "    params: {tag: '" + "${a}" * 11 + "'}",
             "    layers: [{type: relu}]", *HEAD, "  - {type: b}"),
        4, 19, ("string too long (over 1,000 characters",), ("b_1", "b")),
    Bad("nul-in-a-quoted-name",
        spec(*HEAD, '  - {type: relu, name: "ab\x00cd"}'),
        3, 27, ("character U+0000 is not allowed in YAML", "no control characters but tab")),
    Bad("control-character-after-utf-8",
        spec(*HEAD, "  - {type: relu, name: \u00e9\u00e9\x01}"),
        3, 26, ("character U+0001 is not allowed in YAML",)),
    Bad("alias-to-nothing",
        spec("input: {shape: [3]}", "layers: [*stem]"),
        2, 10, ("alias *stem refers to no anchor", "&stem")),
]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "net.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def check_message(message: str, path: Path, case: Bad) -> None:
    """The message has the promised form, location, layer and words."""
    assert "\n" not in message and "Traceback" not in message, message
    prefix = f"{path}:{case.line}:{case.column}: "
    assert message.startswith(prefix), f"expected {prefix!r}, got {message!r}"
    rest = message[len(prefix):]
    if case.layer is not None:
        name, type_name = case.layer
        assert rest.startswith(f"layer '{name}' ({type_name}): "), rest
    problem, separator, hint = rest.partition("; ")
    assert separator and problem and hint, f"no '; what is accepted' in {message!r}"
    assert "; " not in hint, f"more than one '; ' in {message!r}"
    for word in case.words:
        assert word in message, f"{word!r} not in {message!r}"


@pytest.mark.parametrize("case", BAD, ids=[case.id for case in BAD])
def test_library_error(tmp_path: Path, case: Bad) -> None:
    path = write(tmp_path, case.text)
    start = time.perf_counter()
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze(path, overrides=case.overrides)
    assert time.perf_counter() - start < FAST
    check_message(str(caught.value), path, case)


# Spec text given directly is named <spec> in messages.
def test_text_source_is_named_spec() -> None:
    with pytest.raises(cnncalc.SpecError, match=r"^<spec>:3:11: layer 'conv2dd_1' \(conv2dd\): unknown layer type"):
        cnncalc.analyze(spec(*HEAD, "  - type: conv2dd"))


# -- the command line: exit 2, the message on stderr, nothing on stdout ---------------------

SUBPROCESS_CASES = ["yaml-syntax-unclosed-brace", "empty-file", "non-utf8-byte", "kernel-larger-than-input",
                    "add-mismatched-shapes", "set-unknown-parameter"]
CLI_CASES = [*SUBPROCESS_CASES, "billion-laughs", "python-object-apply-tag", "5000-deep-lists",
             "repeat-a-trillion", "blocks-use-each-other", "expression-import"]
BY_ID = {case.id: case for case in BAD}


def cli_arguments(case: Bad, path: Path) -> list[str]:
    arguments = ["analyze", str(path)]
    for key, value in case.overrides.items():
        arguments += ["--set", f"{key}={value}"]
    return arguments


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_subprocess(tmp_path: Path, case_id: str) -> None:
    case = BY_ID[case_id]
    path = write(tmp_path, case.text)
    result = subprocess.run([sys.executable, "-m", "cnncalc", *cli_arguments(case, path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    check_message(result.stderr.rstrip("\n"), path, case)


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into output unless told not to
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_click_runner(tmp_path: Path, case_id: str) -> None:
    case = BY_ID[case_id]
    path = write(tmp_path, case.text)
    result = _runner().invoke(main, cli_arguments(case, path))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    check_message(result.stderr.rstrip("\n"), path, case)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_no_half_printed_output(tmp_path: Path, fmt: str) -> None:
    """A spec whose error sits after many good layers prints nothing at all, in any format."""
    rows = [f"  - {{type: conv2d, out_channels: 8, kernel_size: 3, padding: 1, name: c{k}}}" for k in range(50)]
    path = write(tmp_path, spec(*HEAD, *rows, "  - {type: conv2d, out_channels: 8, kernel_size: 99}"))
    result = _runner().invoke(main, ["analyze", str(path), "--format", fmt])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:53:5: layer 'conv2d_1' (conv2d): kernel 99x99"), result.stderr


def test_output_file_is_not_written(tmp_path: Path) -> None:
    path = write(tmp_path, spec(*HEAD, "  - type: conv2dd"))
    target = tmp_path / "out.json"
    result = _runner().invoke(main, ["analyze", str(path), "--format", "json", "-o", str(target)])
    assert result.exit_code == 2
    assert not target.exists()


# -- hostile but valid: sizes that would make a loop of their length ----------------------

def test_huge_adaptive_output_is_instant(tmp_path: Path) -> None:
    path = write(tmp_path, spec(*HEAD, "  - {type: adaptive_avgpool2d, output_size: 1000000000000}"))
    start = time.perf_counter()
    report = cnncalc.analyze(path)
    assert time.perf_counter() - start < FAST
    assert report.layers[-1].output_shape == (1, 3, 10**12, 10**12)


@pytest.mark.parametrize("arguments,message", [
    (["layer", "conv2d", "--input", "3x8x8", "--out-channels", "1" + "0" * 40, "--kernel-size", "1"],
     "past the limit of 10**30"),
    (["layer", "relu", "--input", "x".join(["1000000"] * 6)], "--input has more than 10**30 elements"),
], ids=["huge-channels", "huge-input"])
def test_layer_calculator_limits(arguments: list[str], message: str) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import main

    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_messages_quote_at_most_500_characters_of_input(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: {shape: [3, 8, 8]}\nlayers:\n  - {type: " + "x" * 100_000 + "}\n")
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze(path)
    assert len(str(caught.value)) < 2_000 and "more characters" in str(caught.value)  # name, type, problem
