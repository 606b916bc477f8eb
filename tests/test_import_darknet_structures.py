"""Darknet structures past the common ones, against Darknet's own print.

Each table is AlexeyAB darknet's console print (`darknet partial CFG EMPTY OUT 100000`,
built from source, CPU), cut to each layer's number and output W x H x C; `floats` is
the number of weights Darknet saved for the cfg (the file's size less its 20-byte
header, over 4), which is cnncalc's params plus buffers; `total` Darknet's "Total
BFLOPS". The cfgs are in tests/data/darknet: small ones written to reproduce a real
structure, and real ones from AlexeyAB/darknet (public domain). Where AlexeyAB's darknet cannot
save a cfg's weights (recurrent layers), pjreddie's print and saved weights are the answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cnncalc
from cnncalc.importers import ImportOptions, import_spec

DATA = Path(__file__).resolve().parent / "data" / "darknet"

# shortcuts.cfg: [net] batch given twice; a shortcut from fewer channels (8 into 16), weighted shortcuts
# (per_channel: 2 x 16 weights; per_feature from two layers: 3), a dilated convolution.
SHORTCUTS = """
   0 conv     16       3 x 3/ 1     32 x  32 x   3 ->   32 x  32 x  16 0.001 BF
   1 conv      8       1 x 1/ 1     32 x  32 x  16 ->   32 x  32 x   8 0.000 BF
   2 conv     16       3 x 3/ 1     32 x  32 x   8 ->   32 x  32 x  16 0.002 BF
   3 Shortcut Layer: 1,  wt = 0, wn = 0, outputs:  32 x  32 x  16 0.000 BF
   4 Shortcut Layer: 0,  wt = 2, wn = 2, outputs:  32 x  32 x  16 0.000 BF
   5 conv     32       3 x 3/ 1(2)  32 x  32 x  16 ->   32 x  32 x  32 0.009 BF
   6 Shortcut Layer: 3, 2,  wt = 1, wn = 1, outputs:  32 x  32 x  32 0.000 BF
Total BFLOPS 0.013
"""

# reorg_crop_local.cfg: an xnor convolution, [reorg] of a route, [crop], two [local] layers, [connected].
REORG_CROP_LOCAL = """
   0 convX     8       3 x 3/ 1     64 x  64 x   3 ->   64 x  64 x   8 0.000 BF
   1 max                2x 2/ 2     64 x  64 x   8 ->   32 x  32 x   8 0.000 BF
   2 conv     16       3 x 3/ 1     32 x  32 x   8 ->   32 x  32 x  16 0.002 BF
   3 max                2x 2/ 2     32 x  32 x  16 ->   16 x  16 x  16 0.000 BF
   4 route  2 		                           ->   32 x  32 x  16
   5 reorg_old              / 2    32 x  32 x  16   ->    16 x  16 x  64
   6 route  5 3 	                           ->   16 x  16 x  80
   7 Crop Layer: 16 x 16 -> 12 x 10 x 80 image
   8 Local Layer: 12 x 10 x 80 image, 4 filters -> 12 x 10 x 4 image
   9 Local Layer: 12 x 10 x 4 image, 6 filters -> 5 x 4 x 6 image
  10 connected                             120  ->    10
Total BFLOPS 0.002
"""

# Real cfgs: the last layers of each print, the saved weights and the total.
YOLOV1_TAIL = """
  27 conv   1024       3 x 3/ 1      7 x   7 x1024 ->    7 x   7 x1024 0.925 BF
  28 Local Layer: 7 x 7 x 1024 image, 256 filters -> 7 x 7 x 256 image
  29 dropout    p = 0.500        12544  ->   12544
  30 connected                            12544  ->  1715
Total BFLOPS 40.155
"""
YOLOV2_VOC_TAIL = """
  24 conv   1024       3 x 3/ 1     13 x  13 x1024 ->   13 x  13 x1024 3.190 BF
  25 route  16 		                           ->   26 x  26 x 512
  26 conv     64       1 x 1/ 1     26 x  26 x 512 ->   26 x  26 x  64 0.044 BF
  27 reorg_old              / 2    26 x  26 x  64   ->    13 x  13 x 256
  28 route  27 24 	                           ->   13 x  13 x1280
  29 conv   1024       3 x 3/ 1     13 x  13 x1280 ->   13 x  13 x1024 3.987 BF
  30 conv    125       1 x 1/ 1     13 x  13 x1024 ->   13 x  13 x 125 0.043 BF
Total BFLOPS 29.371
"""
DARKNET53_XNOR_TAIL = """
  73 convX  1024       3 x 3/ 1     14 x  14 x 512 ->   14 x  14 x1024 0.058 BF
  74 Shortcut Layer: 71,  wt = 0, wn = 0, outputs:  14 x  14 x1024 0.000 BF
  75 conv    512       1 x 1/ 1     14 x  14 x1024 ->   14 x  14 x 512 0.206 BF
  76 avg                            14 x  14 x 512 ->    512
  77 conv   1000       1 x 1/ 1      1 x   1 x 512 ->    1 x   1 x1000 0.001 BF
Total BFLOPS 2.336
"""

# recurrent.cfg: [rnn] (batch norm), [gru], [lstm] (batch norm) on a flat input, as pjreddie's darknet prints
# and saves them (AlexeyAB's cannot save their weights from an empty file); crnn.cfg: two [crnn], AlexeyAB's.
RECURRENT = """
    0 RNN Layer: 32 inputs, 48 outputs
    1 GRU Layer: 48 inputs, 40 outputs
    2 LSTM Layer: 40 inputs, 24 outputs
    3 connected                              24  ->    10
"""
CRNN = """
   0 CRNN Layer: 12 x 12 x 3 image, 8 filters
   1 CRNN Layer: 12 x 12 x 8 image, 4 filters
Total BFLOPS 0.001
"""

CASES = {
    "shortcuts": ("shortcuts.cfg", SHORTCUTS, 6_451),
    "reorg, crop, local": ("reorg_crop_local.cfg", REORG_CROP_LOCAL, 353_146),
    "yolov1 (local, connected)": ("yolov1.cfg", YOLOV1_TAIL, 197_328_243),
    "yolov2-voc (reorg)": ("yolov2-voc.cfg", YOLOV2_VOC_TAIL, 50_676_061),
    "darknet53_448_xnor": ("darknet53_448_xnor.cfg", DARKNET53_XNOR_TAIL, 41_659_976),
    "rnn, gru, lstm": ("recurrent.cfg", RECURRENT, 24_682),
    "crnn": ("crnn.cfg", CRNN, 4_172),
}


def _printed(table: str) -> dict[int, tuple[int, ...]]:
    """Layer number -> output (C, H, W) or (n,) from Darknet's print."""
    shapes: dict[int, tuple[int, ...]] = {}
    for line in table.strip().splitlines():
        found = re.match(r"\s*(\d+) (.*)", line)
        if not found:
            continue
        tail = found.group(2).split("->")[-1] if "->" in found.group(2) else found.group(2).split("outputs:")[-1]
        whc = re.findall(r"(\d+) x\s*(\d+) x\s*(\d+)", tail)
        if " Layer: " in line and "inputs" in line:  # RNN, GRU, LSTM: "N inputs, M outputs"
            shapes[int(found.group(1))] = (int(re.findall(r"(\d+) outputs", line)[0]),)
        elif "CRNN Layer" in line:  # "H x W x C image, F filters": the output is H x W x F
            height, width = map(int, re.findall(r"(\d+) x (\d+) x", line)[0])
            shapes[int(found.group(1))] = (int(re.findall(r"(\d+) filters", line)[0]), height, width)
        elif "Crop Layer" in line or "Local Layer" in line:  # these print H x W x C
            height, width, channels = map(int, re.findall(r"(\d+) x (\d+) x (\d+)", tail)[-1])
            shapes[int(found.group(1))] = (channels, height, width)
        elif whc:
            width, height, channels = map(int, whc[-1])
            shapes[int(found.group(1))] = (channels, height, width)
        else:
            shapes[int(found.group(1))] = (int(re.findall(r"\d+", tail)[-1]),)
    return shapes


def _product(shape: tuple[int, ...]) -> int:
    result = 1
    for size in shape:
        result *= size
    return result


def _sections(spec: dict) -> dict[int, list[str]]:
    """Darknet layer number -> the names of the cnncalc layers it became (the comment starts each)."""
    sections: dict[int, list[str]] = {}
    current = -1
    for layer in spec["layers"]:
        head = re.match(r"(\d+): \[", layer.get("#", ""))
        current = int(head.group(1)) if head else current
        sections.setdefault(current, []).append(layer["name"])
    return sections


@pytest.mark.parametrize(("filename", "table", "floats"), CASES.values(), ids=CASES)
def test_layers_weights_and_total_match_darknet(filename: str, table: str, floats: int) -> None:
    path = DATA / filename
    spec = import_spec(path, ImportOptions())
    report = cnncalc.analyze(path)
    rows = {row.name: row for row in report.layers}
    sections = _sections(spec)
    for index, shape in _printed(table).items():
        last = rows[sections[index][-1]]
        ours = last.output_shape[1:]
        # Darknet prints a count where the output is not an image ([dropout] after [local], [avg])
        assert ours == shape or (len(shape) == 1 and _product(ours) == shape[0]), (index, ours, shape)
    assert report.totals.params + report.totals.buffers == floats
    total = re.search(r"Total BFLOPS ([\d.]+)", table)
    assert total is None or f"Total BFLOPS {total.group(1)}," in spec["description"]


@pytest.mark.parametrize(("filename", "layer", "printed"), [
    ("shortcuts.cfg", 5, 0.009), ("yolov2-voc.cfg", 29, 3.987), ("yolov2-voc.cfg", 26, 0.044),
    ("darknet53_448_xnor.cfg", 75, 0.206), ("yolov1.cfg", 27, 0.925),
], ids=["dilated", "after-reorg-route", "1x1", "float-in-xnor-net", "yolov1"])
def test_convolution_bflops_match_darknet(filename: str, layer: int, printed: float) -> None:
    report = cnncalc.analyze(DATA / filename)
    row = next(row for row in report.layers if row.name == f"conv_{layer}")
    assert round(2 * row.macs / 1e9, 3) == printed


def test_xnor_layers_say_darknet_counts_them_at_a_32nd() -> None:
    spec = import_spec(DATA / "darknet53_448_xnor.cfg", ImportOptions())
    conv1 = next(layer for layer in spec["layers"] if layer["name"] == "conv_1")
    assert "xnor=1" in conv1["#"] and "1/32" in conv1["#"]
    # cnncalc's own count stays the float one: 64 x 32 x 3 x 3 x 224 x 224 MACs
    row = next(row for row in cnncalc.analyze(DATA / "darknet53_448_xnor.cfg").layers if row.name == "conv_1")
    assert row.macs == 64 * 32 * 9 * 224 * 224


def test_net_batch_given_twice_reads_the_first_as_darknet() -> None:
    spec = import_spec(DATA / "shortcuts.cfg", ImportOptions())
    assert "[net] batch=64 (subdivisions=1)" in spec["description"]
    assert "[net] gives batch (lines 2 and 3) more than once: Darknet reads the first" in spec["description"]


def test_shortcut_types() -> None:
    """Equal shapes stay an add; unequal or weighted ones are Darknet's shortcut with its weights."""
    spec = import_spec(DATA / "shortcuts.cfg", ImportOptions())
    kinds = {layer["name"]: (layer["type"], layer.get("weights")) for layer in spec["layers"]}
    assert kinds["shortcut_3"] == ("shortcut", None)
    assert kinds["shortcut_4"] == ("shortcut", "per_channel")
    assert kinds["shortcut_6"] == ("shortcut", "per_feature")
    rows = {row.name: row for row in cnncalc.analyze(DATA / "shortcuts.cfg").layers}
    assert (rows["shortcut_4"].params, rows["shortcut_6"].params) == (2 * 16, 3)  # Darknet's l.nweights


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("[net]\nwidth=9\nheight=9\nchannels=4\n[reorg]\nstride=2\n",
                 "net.cfg:6:8: layer 'reorg_0' ([reorg]): [reorg] stride=2 of a 9x9 input: Darknet drops the last "
                 "rows and columns, which cnncalc does not import", id="reorg-odd"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=4\n[crop]\ncrop_height=9\ncrop_width=4\n",
                 "net.cfg:6:13: layer 'crop_0' ([crop]): [crop] of 4x9 from a 8x8 input", id="crop-too-large"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=4\nsize=3\ndilation=2\n",
                 "net.cfg:8:10: layer 'conv_0' ([convolutional]): dilation=2: Darknet sizes this output 6x6 (as "
                 "without dilation) but computes 4x4", id="dilation-unpadded"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=4\n[shortcut]\nfrom=-1\n"
                 "weights_type=each\n",
                 "net.cfg:9:14: layer 'shortcut_1' ([shortcut]): weights_type=each is not one of none, per_feature, "
                 "per_channel", id="shortcut-weights"),
])
def test_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "net.cfg"
    path.write_text(text)
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value).startswith(f"{tmp_path}/{message}"), str(raised.value)
