"""The fuzzer's formats: cfg and prototxt read into editable structures, written back, mutated.

A cfg is a list of [name, [[key, value], ...]]; a prototxt a list of [name, value] fields
whose value is a scalar (str for "strings", Word for bare words, int, float, bool, a tuple
of str for adjacent "strings") or a list of fields (a block). Writing either back gives a file cnncalc reads as the original,
which the tests at the end check, so that every mutant differs from a valid network by
its edits alone. Seeds of both formats are also generated: small random valid networks.
"""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path
from typing import Any

import cnncalc
from cnncalc.importers.prototxt import Identifier, Message, parse

ROOT = Path(__file__).resolve().parent.parent

Cfg = list[list[Any]]
Tree = list[list[Any]]


class Word(str):
    """A bare word in a prototxt (MAX, TEST), written without quotes."""


# -- edge values ------------------------------------------------------------------------------------

NUMBERS = ["0", "-1", "1", "2", "3", "-0", "+3", "007", "2147483647", "2147483648", "-2147483649",
           "18446744073709551615", "18446744073709551616", "9" * 25, "9" * 5000, "1" + "0" * 4301, "1e30", "1e400",
           "-1e400", "1e-400", "0.5", "1.5", "nan", "inf", "-inf", "0x10", "0x" + "f" * 40, "1_000", "3x3", "1e3"]
TEXTS = ["", "a", "same", "data", "input", "relu", "conv_0", "$x", "${1}", "a b", "x" * 100_000, "é\u00e9",
         "MAX", "true", "-1", "1,2", "[1]", "{a: 1}", "# c", "\\", "'"]


def edge_value(rng: random.Random) -> str:
    return rng.choice(NUMBERS) if rng.random() < 0.6 else rng.choice(TEXTS)


# -- Darknet cfg --------------------------------------------------------------------------------

CFG_SECTIONS = ["net", "convolutional", "maxpool", "route", "shortcut", "upsample", "yolo", "avgpool", "connected",
                "dropout", "softmax", "batchnorm", "activation", "sam", "scale_channels", "empty", "region", "cost",
                "deconvolutional", "local_avgpool", "lrn", "reorg", "lstm", "network", "conv", "Convolutional", ""]
CFG_KEYS = ["filters", "size", "stride", "pad", "padding", "groups", "group_id", "layers", "from", "activation",
            "batch_normalize", "width", "height", "channels", "inputs", "batch", "mask", "classes", "num", "output",
            "stride_x", "stride_y", "dilation", "probability", "coords", "anchors", "alpha", "beta", "kappa", "x"]
ACTIVATIONS = ["leaky", "linear", "relu", "mish", "swish", "logistic", "tanh", "hard_mish", "LEAKY", ""]


def parse_cfg(text: str) -> Cfg:
    sections: Cfg = []
    for line in text.splitlines():
        line = line.split("#")[0].split(";")[0].strip()
        if line.startswith("[") and line.endswith("]"):
            sections.append([line[1:-1], []])
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1][1].append([key.strip(), value.strip()])
    return sections


def cfg_text(sections: Cfg, rng: random.Random | None = None) -> str:
    """The cfg written back; with `rng`, in varied layout (spaces, comments, blank lines, CRLF)."""
    lines = []
    for name, options in sections:
        lines.append(f"[{name}]")
        for key, value in options:
            if rng is not None and rng.random() < 0.1:
                lines.append(rng.choice(["", "# comment", "; note"]))
            layouts = [f"  {key} = {value}", f"{key}={value} # note", f"{key}={value};x", f"{key} ={value}"]
            lines.append(rng.choice(layouts) if rng is not None and rng.random() < 0.1 else f"{key}={value}")
    newline = "\r\n" if rng is not None and rng.random() < 0.1 else "\n"
    return newline.join(lines) + newline


def random_cfg(rng: random.Random) -> str:
    """A small valid cfg: convolutions, pools, routes, shortcuts, upsamples, a yolo head."""
    size = rng.choice([16, 32, 64])
    sections: Cfg = [["net", [["width", str(size)], ["height", str(size)], ["channels", str(rng.choice([1, 3]))]]]]
    shapes: list[tuple[int, int]] = []  # (channels, size) of each layer
    for _ in range(rng.randint(1, 12)):
        kind = rng.choice(["convolutional"] * 4 + ["maxpool", "route", "shortcut", "upsample"])
        if kind == "convolutional" or not shapes:
            filters = rng.choice([4, 8, 16])
            options = [["filters", str(filters)], ["size", rng.choice(["1", "3"])], ["stride", "1"], ["pad", "1"],
                       ["activation", rng.choice(ACTIVATIONS[:7])]]
            if rng.random() < 0.5:
                options.insert(0, ["batch_normalize", "1"])
            sections.append(["convolutional", options])
            shapes.append((filters, shapes[-1][1] if shapes else size))
            continue
        channels, side = shapes[-1]
        if kind == "maxpool":
            sections.append(["maxpool", [["size", "2"], ["stride", "1"]]])
        elif kind == "route":
            back = rng.choice([k for k in range(1, len(shapes) + 1) if shapes[-k][1] == side])
            sections.append(["route", [["layers", f"-1,-{back}" if back > 1 else "-1"]]])
            channels += shapes[-back][0] if back > 1 else 0
        elif kind == "shortcut":
            same = [k for k in range(len(shapes) - 1) if shapes[k] == shapes[-1]]
            if not same:
                continue
            sections.append(["shortcut", [["from", str(rng.choice(same))], ["activation", "linear"]]])
        else:
            sections.append(["upsample", [["stride", "2"]]])
            side *= 2
        shapes.append((channels, side))
    if rng.random() < 0.4:
        sections.append(["convolutional", [["filters", "21"], ["size", "1"], ["activation", "linear"]]])
        sections.append(["yolo", [["mask", "0,1,2"], ["classes", "2"], ["num", "6"]]])
    return cfg_text(sections)


def _cfg_reference(rng: random.Random, index: int) -> str:
    reach = abs(index)
    return str(rng.choice([0, -1, -2, index, -index - 1, index + 1, -(10**6), 10**6, rng.randint(-reach, reach)]))


def mutate_cfg(rng: random.Random, sections: Cfg) -> str:
    """One structural edit in place; returns what it did."""
    kind = rng.randrange(10)
    at = rng.randrange(len(sections)) if sections else 0
    if not sections:
        sections.append(["net", []])
        return "a [net] added"
    name, options = sections[at]
    if kind == 0:
        del sections[at]
        return f"section {at} dropped"
    if kind == 1:
        sections.insert(at, [name, [list(item) for item in options]])
        return f"section {at} duplicated"
    if kind == 2:
        other = rng.randrange(len(sections))
        sections[at], sections[other] = sections[other], sections[at]
        return f"sections {at} and {other} swapped"
    if kind == 3:
        sections[at][0] = rng.choice(CFG_SECTIONS) if rng.random() < 0.8 else edge_value(rng)
        return f"section {at} made [{sections[at][0][:20]}]"
    if kind in (4, 5) and options:
        option = rng.choice(options)
        option[1] = edge_value(rng) if kind == 4 else rng.choice(ACTIVATIONS + ["1,2", "416,416", "-1"])
        return f"{option[0]} of section {at} set to {option[1][:20]!r}"
    if kind == 6 and options:
        option = rng.choice(options)
        choice = rng.randrange(3)
        if choice == 0:
            options.remove(option)
        elif choice == 1:
            options.append(list(option))
        else:
            option[0] = rng.choice(CFG_KEYS)
        return f"key {option[0]} of section {at} dropped, repeated or renamed"
    if kind == 7:
        key = rng.choice(["layers", "from", "layers", "mask"])
        count = rng.choice([1, 1, 2, 3, 1000])
        options.append([key, ",".join(_cfg_reference(rng, at - 1) for _ in range(count))])
        return f"section {at} rewired by {key}="
    options.append([rng.choice(CFG_KEYS), edge_value(rng)])
    return f"a key added to section {at}"


# -- Caffe prototxt -------------------------------------------------------------------------------

CAFFE_TYPES = ["Convolution", "Pooling", "ReLU", "InnerProduct", "Softmax", "Concat", "Eltwise", "BatchNorm", "Scale",
               "Dropout", "LRN", "Split", "Flatten", "Reshape", "PReLU", "Deconvolution", "Input", "Data", "DummyData",
               "MemoryData", "Sigmoid", "TanH", "ELU", "Power", "SoftmaxWithLoss", "Accuracy", "CONVOLUTION", ""]
CAFFE_KEYS = ["name", "type", "bottom", "top", "num_output", "kernel_size", "stride", "pad", "group", "pool",
              "dim", "axis", "operation", "coeff", "negative_slope", "global_pooling", "bias_term", "phase",
              "include", "input", "input_dim", "input_shape", "layer", "layers", "convolution_param", "shape", "x"]


def _tree(message: Message) -> Tree:
    fields: Tree = []
    for item in message.fields:
        value = item.value
        if isinstance(value, Message):
            fields.append([item.name, _tree(value)])
        else:
            fields.append([item.name, Word(value) if isinstance(value, Identifier) else value])
    return fields


def parse_prototxt(text: str) -> Tree:
    return _tree(parse(text, "seed"))


def _scalar(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(map(_scalar, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Word):
        return str(value) or '""'
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value) if isinstance(value, float) else str(value)


def prototxt_text(fields: Tree, indent: int = 0) -> str:
    pad = "  " * min(indent, 8)
    lines = []
    for name, value in fields:
        if isinstance(value, list):
            lines.append(f"{pad}{name} {{\n{prototxt_text(value, indent + 1)}{pad}}}\n")
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}\n")
    return "".join(lines)


def random_prototxt(rng: random.Random) -> str:
    """A small valid deploy prototxt: convolutions, pools, in-place activations, eltwise and concat."""
    size = rng.choice([16, 32])
    head: Tree = [["name", "random"], ["input", "data"],
                  ["input_shape", [["dim", 1], ["dim", rng.choice([1, 3])], ["dim", size], ["dim", size]]]]
    blobs, last = ["data"], "data"
    for index in range(rng.randint(1, 10)):
        kind = rng.choice(["Convolution", "Convolution", "ReLU", "BatchNorm", "Eltwise", "Concat", "Pooling"])
        name = f"l{index}"
        layer: Tree = [["name", name], ["type", kind], ["bottom", last]]
        if kind == "Convolution":
            layer += [["top", name], ["convolution_param", [["num_output", rng.choice([4, 8])],
                                                            ["kernel_size", 3], ["pad", 1]]]]
        elif kind in ("ReLU", "BatchNorm"):
            layer += [["top", last]]  # in place, as Caffe writes them
        elif kind in ("Eltwise", "Concat"):
            layer += [["bottom", last], ["top", name]]
        else:
            layer += [["top", name], ["pooling_param", [["pool", Word("MAX")], ["kernel_size", 3], ["stride", 1],
                                                        ["pad", 1]]]]
        head.append(["layer", layer])
        last = layer[-1][1] if layer[-1][0] == "top" else name
        blobs.append(last)
    return prototxt_text(head)


def _blocks(fields: Tree) -> list[Tree]:
    found, stack = [fields], [fields]
    while stack:
        for _, value in stack.pop():
            if isinstance(value, list):
                found.append(value)
                stack.append(value)
    return found


def mutate_prototxt(rng: random.Random, fields: Tree) -> str:
    """One structural edit in place; returns what it did."""
    block = rng.choice(_blocks(fields))
    if not block:
        block.append([rng.choice(CAFFE_KEYS), edge_value(rng)])
        return "a field added to an empty block"
    at = rng.randrange(len(block))
    name, value = block[at]
    kind = rng.randrange(11)
    if kind == 0:
        del block[at]
        return f"field {name} dropped"
    if kind == 1:
        block.insert(at, [name, copy.deepcopy(value)])
        return f"field {name} duplicated"
    if kind == 2:
        other = rng.choice(_blocks(fields))
        if other:
            index = rng.randrange(len(other))
            # copies: a field swapped into its own block would make the tree hold itself
            block[at], other[index] = copy.deepcopy(other[index]), copy.deepcopy(block[at])
            return f"fields {name} and {other[index][0]} swapped"
    if kind in (3, 4):
        raw = edge_value(rng)
        block[at][1] = rng.choice([raw, Word(raw) if re.fullmatch(r"[A-Za-z_]\w*", raw) else raw, 0, -1, 2**31,
                                   2**64, 10**30, 1e400, float("nan"), True, [], [["dim", 0]]])
        return f"{name} set to {str(block[at][1])[:20]!r}"
    if kind == 5:
        block[at][0] = rng.choice(CAFFE_KEYS)
        return f"{name} renamed {block[at][0]}"
    if kind == 6:
        block.append(["type", rng.choice(CAFFE_TYPES)])
        return "type changed"
    if kind == 7:
        names = [value for key, value in _walk(fields) if key in ("top", "bottom", "name")] or ["data"]
        block.append([rng.choice(["bottom", "top"]), rng.choice(names + ["nowhere", ""])])
        return "bottom or top rewired"
    if kind == 8:
        depth = rng.choice([1, 3, 50, 99, 100, 101, 150])
        nested: Any = value
        for _ in range(depth):
            nested = [[rng.choice(["x", name]), nested]]
        block[at][1] = nested
        return f"{name} nested {depth} deep"
    if kind == 9 and isinstance(value, str) and not isinstance(value, Word):
        cut = rng.randint(0, len(value))
        block[at][1] = (value[:cut], value[cut:]) + ("",) * rng.choice([0, 1, 1000])  # "a" "b": one string
        return f"{name} written as adjacent strings"
    block.append([rng.choice(CAFFE_KEYS), edge_value(rng)])
    return "a field added"


def _walk(fields: Tree) -> list[tuple[str, Any]]:
    return [(key, value) for block in _blocks(fields) for key, value in block if isinstance(value, str)]


# -- bytes ------------------------------------------------------------------------------------------

SYNTAX = ["[", "]", "=", "#", ";", ",", "{", "}", "<", ">", ":", '"', "'", "\\", "\n", "\r", "\r\n", "\t", " ",
          "\x00", "\x07", "\x1b[31m", "\x85", "\u2028", "\u202e", "\ufeff", "é", "\U0001F600", "-", ".", "1e400"]
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"\x00",
             b"\xef\xbb\xbf"]


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.randrange(7)
    lines = data.split(b"\n")
    if kind == 0:
        cut = rng.randrange(len(data) + 1)
        return data[:cut], f"truncated at byte {cut}"
    if kind in (1, 2):
        at = rng.randrange(len(data) + 1)
        chunk = rng.choice(SYNTAX).encode() if kind == 1 else rng.choice(BAD_BYTES)
        return data[:at] + chunk + data[at:], f"{chunk!r} inserted at byte {at}"
    index = rng.randrange(len(lines))
    if kind == 3:
        lines.insert(index, lines[index])
    elif kind == 4:
        del lines[index]
    elif kind == 5:
        other = rng.randrange(len(lines))
        lines[index], lines[other] = lines[other], lines[index]
    else:
        lines[index] = lines[index] * rng.choice([2, 1000])
    return b"\n".join(lines), f"line {index + 1} edited ({kind})"


# -- the formats round-trip, and the generated seeds are valid networks --------------------------------

def test_cfg_written_back_reads_the_same(tmp_path: Path) -> None:
    original = ROOT / "specs" / "yolov4-tiny.cfg"
    copy = tmp_path / "copy.cfg"
    copy.write_text(cfg_text(parse_cfg(original.read_text()), random.Random(1)))
    assert cnncalc.analyze(copy).totals == cnncalc.analyze(original).totals


def test_prototxt_written_back_reads_the_same(tmp_path: Path) -> None:
    for original in sorted((ROOT / "tests" / "data").glob("*.prototxt")):
        copy = tmp_path / original.name
        copy.write_text(prototxt_text(parse_prototxt(original.read_text())))
        assert cnncalc.analyze(copy).totals == cnncalc.analyze(original).totals, original.name


def test_generated_seeds_are_valid_networks(tmp_path: Path) -> None:
    for index in range(30):
        for suffix, make in ((".cfg", random_cfg), (".prototxt", random_prototxt)):
            path = tmp_path / f"seed{index}{suffix}"
            path.write_text(make(random.Random(index)))
            assert cnncalc.analyze(path).layers, path.read_text()
