"""Darknet cfg import against Darknet's own console print.

Darknet prints, for every layer it builds, the output size (W x H x C) and its BFLOPs:
2 x MACs / 1e9 for convolutions, and size*size*C*out_h*out_w / 1e9 for max pooling (a
count of comparisons that cnncalc keeps out of its MACs). The tables below are those
prints, copied from Darknet runs (layer, kind, output, BF); the tests read each row's
numbers back from cnncalc's report of the imported cfg.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.importers import ImportOptions, import_spec
from cnncalc.importers.emit import spec_text
from cnncalc.report import Report

ROOT = Path(__file__).resolve().parent.parent
YOLOV4_TINY = ROOT / "specs" / "yolov4-tiny.cfg"

# AlexeyAB/darknet, `darknet detector test cfg/coco.data cfg/yolov4-tiny.cfg` at 416x416.
YOLOV4_TINY_416 = """
   0 conv     32       3 x 3/ 2    416 x 416 x   3 ->  208 x 208 x  32 0.075 BF
   1 conv     64       3 x 3/ 2    208 x 208 x  32 ->  104 x 104 x  64 0.399 BF
   2 conv     64       3 x 3/ 1    104 x 104 x  64 ->  104 x 104 x  64 0.797 BF
   3 route  2                                  1/2 ->  104 x 104 x  32
   4 conv     32       3 x 3/ 1    104 x 104 x  32 ->  104 x 104 x  32 0.199 BF
   5 conv     32       3 x 3/ 1    104 x 104 x  32 ->  104 x 104 x  32 0.199 BF
   6 route  5 4                                    ->  104 x 104 x  64
   7 conv     64       1 x 1/ 1    104 x 104 x  64 ->  104 x 104 x  64 0.089 BF
   8 route  2 7                                    ->  104 x 104 x 128
   9 max                2x 2/ 2    104 x 104 x 128 ->   52 x  52 x 128 0.001 BF
  10 conv    128       3 x 3/ 1     52 x  52 x 128 ->   52 x  52 x 128 0.797 BF
  11 route  10                                 1/2 ->   52 x  52 x  64
  12 conv     64       3 x 3/ 1     52 x  52 x  64 ->   52 x  52 x  64 0.199 BF
  13 conv     64       3 x 3/ 1     52 x  52 x  64 ->   52 x  52 x  64 0.199 BF
  14 route  13 12                                  ->   52 x  52 x 128
  15 conv    128       1 x 1/ 1     52 x  52 x 128 ->   52 x  52 x 128 0.089 BF
  16 route  10 15                                  ->   52 x  52 x 256
  17 max                2x 2/ 2     52 x  52 x 256 ->   26 x  26 x 256 0.001 BF
  18 conv    256       3 x 3/ 1     26 x  26 x 256 ->   26 x  26 x 256 0.797 BF
  19 route  18                                 1/2 ->   26 x  26 x 128
  20 conv    128       3 x 3/ 1     26 x  26 x 128 ->   26 x  26 x 128 0.199 BF
  21 conv    128       3 x 3/ 1     26 x  26 x 128 ->   26 x  26 x 128 0.199 BF
  22 route  21 20                                  ->   26 x  26 x 256
  23 conv    256       1 x 1/ 1     26 x  26 x 256 ->   26 x  26 x 256 0.089 BF
  24 route  18 23                                  ->   26 x  26 x 512
  25 max                2x 2/ 2     26 x  26 x 512 ->   13 x  13 x 512 0.000 BF
  26 conv    512       3 x 3/ 1     13 x  13 x 512 ->   13 x  13 x 512 0.797 BF
  27 conv    256       1 x 1/ 1     13 x  13 x 512 ->   13 x  13 x 256 0.044 BF
  28 conv    512       3 x 3/ 1     13 x  13 x 256 ->   13 x  13 x 512 0.399 BF
  29 conv    255       1 x 1/ 1     13 x  13 x 512 ->   13 x  13 x 255 0.044 BF
  30 yolo
  31 route  27                                     ->   13 x  13 x 256
  32 conv    128       1 x 1/ 1     13 x  13 x 256 ->   13 x  13 x 128 0.011 BF
  33 upsample                 2x    13 x  13 x 128 ->   26 x  26 x 128
  34 route  33 23                                  ->   26 x  26 x 384
  35 conv    256       3 x 3/ 1     26 x  26 x 384 ->   26 x  26 x 256 1.196 BF
  36 conv    255       1 x 1/ 1     26 x  26 x 256 ->   26 x  26 x 255 0.088 BF
  37 yolo
Total BFLOPS 6.910
"""

# The same cfg run at 1280x736 (ceccocats/tkDNN issue 133): a rectangular input given on the command line.
YOLOV4_TINY_1280x736 = """
   0 conv     32       3 x 3/ 2   1280 x 736 x   3 ->  640 x 368 x  32 0.407 BF
   1 conv     64       3 x 3/ 2    640 x 368 x  32 ->  320 x 184 x  64 2.171 BF
   2 conv     64       3 x 3/ 1    320 x 184 x  64 ->  320 x 184 x  64 4.341 BF
   3 route  2                                  1/2 ->  320 x 184 x  32
   4 conv     32       3 x 3/ 1    320 x 184 x  32 ->  320 x 184 x  32 1.085 BF
   5 conv     32       3 x 3/ 1    320 x 184 x  32 ->  320 x 184 x  32 1.085 BF
   6 route  5 4                                    ->  320 x 184 x  64
   7 conv     64       1 x 1/ 1    320 x 184 x  64 ->  320 x 184 x  64 0.482 BF
   8 route  2 7                                    ->  320 x 184 x 128
   9 max                2x 2/ 2    320 x 184 x 128 ->  160 x  92 x 128 0.008 BF
  10 conv    128       3 x 3/ 1    160 x  92 x 128 ->  160 x  92 x 128 4.341 BF
  11 route  10                                 1/2 ->  160 x  92 x  64
  12 conv     64       3 x 3/ 1    160 x  92 x  64 ->  160 x  92 x  64 1.085 BF
  13 conv     64       3 x 3/ 1    160 x  92 x  64 ->  160 x  92 x  64 1.085 BF
  14 route  13 12                                  ->  160 x  92 x 128
  15 conv    128       1 x 1/ 1    160 x  92 x 128 ->  160 x  92 x 128 0.482 BF
"""

# YOLOv3-tiny's backbone at 608x608 (a Darknet print quoted in junxnone/aiwiki issue 52): its
# maxpool 11 has size 2 stride 1, which Darknet pads on the right and bottom to keep 19x19.
YOLOV3_TINY_608 = """
   0 conv     16       3 x 3/ 1    608 x 608 x   3 ->  608 x 608 x  16 0.319 BF
   1 max                2x 2/ 2    608 x 608 x  16 ->  304 x 304 x  16 0.006 BF
   2 conv     32       3 x 3/ 1    304 x 304 x  16 ->  304 x 304 x  32 0.852 BF
   3 max                2x 2/ 2    304 x 304 x  32 ->  152 x 152 x  32 0.003 BF
   4 conv     64       3 x 3/ 1    152 x 152 x  32 ->  152 x 152 x  64 0.852 BF
   5 max                2x 2/ 2    152 x 152 x  64 ->   76 x  76 x  64 0.001 BF
   6 conv    128       3 x 3/ 1     76 x  76 x  64 ->   76 x  76 x 128 0.852 BF
   7 max                2x 2/ 2     76 x  76 x 128 ->   38 x  38 x 128 0.001 BF
   8 conv    256       3 x 3/ 1     38 x  38 x 128 ->   38 x  38 x 256 0.852 BF
   9 max                2x 2/ 2     38 x  38 x 256 ->   19 x  19 x 256 0.000 BF
  10 conv    512       3 x 3/ 1     19 x  19 x 256 ->   19 x  19 x 512 0.852 BF
  11 max                2x 2/ 1     19 x  19 x 512 ->   19 x  19 x 512 0.001 BF
  12 conv   1024       3 x 3/ 1     19 x  19 x 512 ->   19 x  19 x1024 3.407 BF
  13 conv    256       1 x 1/ 1     19 x  19 x1024 ->   19 x  19 x 256 0.189 BF
"""

_ROW = re.compile(r"^\s*(\d+) (\w+)")
_OUTPUT = re.compile(r"->\s*(\d+) x\s*(\d+) x\s*(\d+)")
_BF = re.compile(r"([\d.]+) BF")


def darknet_rows(printed: str) -> list[tuple[int, str, tuple[int, int, int] | None, str | None]]:
    """(layer, kind, (W, H, C) or None, BF as printed or None) per line of a Darknet print."""
    rows = []
    for line in printed.strip().splitlines():
        row = _ROW.match(line)
        if row is None:
            continue
        output, flops = _OUTPUT.search(line), _BF.search(line)
        shape = (int(output[1]), int(output[2]), int(output[3])) if output else None
        rows.append((int(row[1]), row[2], shape, flops[1] if flops else None))
    return rows


def darknet_layers(report: Report) -> dict[int, tuple[tuple[int, ...], float]]:
    """Darknet layer number -> (its output as W, H, C; its BFLOPs by Darknet's rules), from cnncalc's rows.

    A Darknet layer is the cnncalc layers named `<kind>_<number>` (conv_5, bn_5, leaky_5); its
    output is the last one's. Darknet's BFLOPs: 2 x MACs, plus size*size per output of a max pool.
    """
    result: dict[int, tuple[tuple[int, ...], float]] = {}
    for row, record in zip(report.layers, report.graph.layers):
        found = re.search(r"_(\d+)(?:_part\d+)?$", row.name)
        assert found and record.name == row.name, row.name
        number = int(found[1])
        _, flops = result.get(number, ((), 0.0))
        flops += 2 * row.macs / 1e9
        if row.type == "maxpool2d":
            kernel = getattr(record.layer, "kernel_size")
            flops += kernel * kernel * math.prod(row.output_shape) / 1e9
        channels, height, width = row.output_shape[1:]
        result[number] = ((width, height, channels), flops)
    return result


def check_against_print(report: Report, printed: str) -> None:
    layers = darknet_layers(report)
    for number, kind, shape, flops in darknet_rows(printed):
        cnncalc_shape, cnncalc_flops = layers[number]
        if shape is not None:
            assert cnncalc_shape == shape, (number, kind)
        if flops is not None:
            assert f"{cnncalc_flops:.3f}" == flops, (number, kind)


def test_yolov4_tiny_every_layer_as_darknet_prints_it() -> None:
    report = cnncalc.analyze(YOLOV4_TINY)
    check_against_print(report, YOLOV4_TINY_416)
    assert len(darknet_layers(report)) == 38


def test_yolov4_tiny_total_bflops() -> None:
    report = cnncalc.analyze(YOLOV4_TINY)
    darknet_total = sum(flops for _, flops in darknet_layers(report).values())
    assert f"{darknet_total:5.3f}" == "6.910"  # Darknet's "Total BFLOPS 6.910"
    # cnncalc's 2mac FLOPs leave the max pools' comparisons out: 6.908 G of the 6.910.
    assert report.totals.flops == 6_907_876_352 and report.totals.macs * 2 == report.totals.flops


def test_yolov4_tiny_heads_are_free_outputs() -> None:
    report = cnncalc.analyze(YOLOV4_TINY)
    assert report.outputs == {"yolo_30": (1, 255, 13, 13), "yolo_37": (1, 255, 26, 26)}
    heads = [row for row in report.layers if row.name.startswith("yolo_")]
    assert [(row.type, row.params, row.macs) for row in heads] == [("identity", 0, 0)] * 2


def test_yolov4_tiny_rectangular_input_from_the_command_line() -> None:
    check_against_print(cnncalc.analyze(YOLOV4_TINY, inputs={"": (3, 736, 1280)}), YOLOV4_TINY_1280x736)


def test_training_batch_is_not_the_spec_batch() -> None:
    spec = import_spec(YOLOV4_TINY, ImportOptions())
    assert spec["inputs"]["input"] == {"shape": [3, 416, 416], "batch": 1}
    assert "batch=64" in spec["description"]
    assert cnncalc.analyze(YOLOV4_TINY, batch=8).totals.flops == 8 * 6_907_876_352


YOLOV3_TINY_BACKBONE = "\n".join(
    ["[net]", "width=608", "height=608", "channels=3"]
    + [line for filters, pool_stride in ((16, 2), (32, 2), (64, 2), (128, 2), (256, 2), (512, 1))
       for line in ("[convolutional]", "batch_normalize=1", f"filters={filters}", "size=3", "stride=1", "pad=1",
                    "activation=leaky", "[maxpool]", "size=2", f"stride={pool_stride}")]
    + ["[convolutional]", "batch_normalize=1", "filters=1024", "size=3", "stride=1", "pad=1", "activation=leaky",
       "[convolutional]", "batch_normalize=1", "filters=256", "size=1", "stride=1", "pad=1", "activation=leaky"])


def test_maxpool_size_2_stride_1_keeps_the_size(tmp_path: Path) -> None:
    cfg = tmp_path / "yolov3-tiny-backbone.cfg"
    cfg.write_text(YOLOV3_TINY_BACKBONE)
    check_against_print(cnncalc.analyze(cfg), YOLOV3_TINY_608)
    layers = {layer["name"]: layer for layer in import_spec(cfg, ImportOptions())["layers"]}
    assert layers["max_11"]["padding"] == [[0, 1], [0, 1]] and layers["max_11"]["stride"] == 1


# YOLOv4's SPP block at 544x544 (a Darknet print quoted in AlexeyAB/darknet issue 5672): max pools of
# size 5, 9 and 13 at stride 1, padded by size-1 to keep 17x17, concatenated with their input.
YOLOV4_SPP_544 = """
 109 route  107                                    ->   17 x  17 x 512
 110 max                9x 9/ 1     17 x  17 x 512 ->   17 x  17 x 512 0.012 BF
 111 route  107                                    ->   17 x  17 x 512
 112 max               13x13/ 1     17 x  17 x 512 ->   17 x  17 x 512 0.025 BF
 113 route  112 110 108 107                        ->   17 x  17 x2048
"""


def test_yolov4_spp_block(tmp_path: Path) -> None:
    """Layers 0-107 stand in for the backbone (layer 107 gives 17x17x512); 108-113 are YOLOv4's SPP."""
    cfg = _cfg(tmp_path, *["[dropout]"] * 108, "[maxpool]", "size=5", "stride=1", "[route]", "layers=-2",
               "[maxpool]", "size=9", "stride=1", "[route]", "layers=-4", "[maxpool]", "size=13", "stride=1",
               "[route]", "layers=-1,-3,-5,-6", width=17, channels=512)
    check_against_print(cnncalc.analyze(cfg), YOLOV4_SPP_544)
    layers = {layer["name"]: layer for layer in import_spec(cfg, ImportOptions())["layers"]}
    assert layers["max_112"]["padding"] == 6


def test_spec_text_reads_back_the_same(tmp_path: Path) -> None:
    text = spec_text(import_spec(YOLOV4_TINY, ImportOptions()), "yolov4-tiny")
    written = tmp_path / "yolov4-tiny.yaml"
    written.write_text(text)
    direct, again = cnncalc.analyze(YOLOV4_TINY), cnncalc.analyze(written)
    assert [(row.name, row.output_shape, row.params, row.macs) for row in direct.layers] == \
        [(row.name, row.output_shape, row.params, row.macs) for row in again.layers]
    assert direct.outputs == again.outputs


def test_spec_text_says_from_only_where_the_graph_branches() -> None:
    lines = spec_text(import_spec(YOLOV4_TINY, ImportOptions()), "yolov4-tiny").splitlines()
    assert "  - {type: conv2d, name: conv_0, out_channels: 32, kernel_size: 3, stride: 2, padding: 1, " \
           "bias: false}" in lines
    assert "  - {type: slice, name: route_3, start: 32, end: 64}" in lines
    assert "  - {type: concat, name: route_8, from: [leaky_2, leaky_7]}" in lines
    assert "  - {type: identity, name: route_31, from: leaky_27}" in lines
    assert "  - {type: maxpool2d, name: max_9, kernel_size: 2, stride: 2, padding: [[0, 1], [0, 1]]}" in lines
    assert "  # 34: [route] layers=-1,23 (line 259)" in lines
    assert lines[-1] == "outputs: [yolo_30, yolo_37]"
    assert sum("from:" in line for line in lines) == 8  # the 7 concatenating routes and route 31, nothing else


# -- every other section type, on small networks ------------------------------------------

def _cfg(tmp_path: Path, *lines: str, width: int = 32, channels: int = 3) -> Path:
    path = tmp_path / "net.cfg"
    path.write_text("\n".join(["[net]", f"width={width}", f"height={width}", f"channels={channels}", *lines]) + "\n")
    return path


@pytest.mark.parametrize(("lines", "expected"), [
    pytest.param(("[convolutional]", "filters=8", "size=3", "stride=2", "pad=1", "activation=mish"),
                 [("conv_0", "conv2d", (8, 16, 16), 8 * 27 + 8), ("mish_0", "mish", (8, 16, 16), 0)],
                 id="conv-with-bias-and-mish"),
    pytest.param(("[convolutional]", "filters=6", "size=3", "groups=3", "padding=2", "activation=linear"),
                 [("conv_0", "conv2d", (6, 34, 34), 6 * 9 + 6)], id="grouped-conv-explicit-padding"),
    pytest.param(("[convolutional]", "filters=4", "size=1", "stride_x=2", "stride_y=1", "activation=swish"),
                 [("conv_0", "conv2d", (4, 32, 16), 16), ("swish_0", "silu", (4, 32, 16), 0)], id="stride-x-y"),
    pytest.param(("[avgpool]", "[connected]", "output=10", "activation=relu6", "[softmax]"),
                 [("avg_0", "global_avgpool", (3, 1, 1), 0), ("flatten_1", "flatten", (3,), 0),
                  ("connected_1", "linear", (10,), 40), ("relu6_1", "relu6", (10,), 0),
                  ("softmax_2", "softmax", (10,), 0)], id="classifier-head"),
    pytest.param(("[connected]", "output=5", "batch_normalize=1", "activation=linear", "[dropout]",
                  "probability=.5", "[cost]"),
                 [("flatten_0", "flatten", (3072,), 0), ("connected_0", "linear", (5,), 3072 * 5),
                  ("bn_0", "batchnorm1d", (5,), 10), ("dropout_1", "dropout", (5,), 0),
                  ("cost_2", "identity", (5,), 0)], id="connected-batchnorm"),
    pytest.param(("[convolutional]", "filters=3", "size=1", "activation=linear", "[convolutional]", "filters=3",
                  "size=1", "activation=linear", "[shortcut]", "from=-2", "activation=leaky"),
                 [("conv_0", "conv2d", (3, 32, 32), 12), ("conv_1", "conv2d", (3, 32, 32), 12),
                  ("shortcut_2", "add", (3, 32, 32), 0), ("leaky_2", "leaky_relu", (3, 32, 32), 0)], id="shortcut"),
    pytest.param(("[upsample]", "stride=4", "[local_avgpool]", "size=3", "stride=2"),
                 [("upsample_0", "upsample", (3, 128, 128), 0), ("local_avg_1", "avgpool2d", (3, 64, 64), 0)],
                 id="upsample-local-avgpool"),
    pytest.param(("[maxpool]", "size=3", "stride=2"), [("max_0", "maxpool2d", (3, 16, 16), 0)],
                 id="maxpool-3-stride-2-pads-one-each-side"),
    pytest.param(("[convolutional]", "filters=8", "size=1", "activation=logistic", "[avgpool]",
                  "[scale_channels]", "from=-2", "[sam]", "from=-3"),
                 [("conv_0", "conv2d", (8, 32, 32), 32), ("logistic_0", "sigmoid", (8, 32, 32), 0),
                  ("avg_1", "global_avgpool", (8, 1, 1), 0), ("scale_channels_2", "mul", (8, 32, 32), 0),
                  ("sam_3", "mul", (8, 32, 32), 0)], id="scale-channels-and-sam"),
    pytest.param(("[batchnorm]", "[activation]", "activation=tanh", "[lrn]", "size=3", "[empty]"),
                 [("bn_0", "batchnorm2d", (3, 32, 32), 6), ("tanh_1", "tanh", (3, 32, 32), 0),
                  ("lrn_2", "lrn", (3, 32, 32), 0), ("empty_3", "identity", (3, 32, 32), 0)],
                 id="batchnorm-activation-lrn-empty"),
    pytest.param(("[deconvolutional]", "filters=2", "size=4", "stride=2", "padding=1", "activation=relu"),
                 [("deconv_0", "conv_transpose2d", (2, 64, 64), 3 * 2 * 16 + 2), ("relu_0", "relu", (2, 64, 64), 0)],
                 id="deconvolution"),
    pytest.param(("[convolutional]", "filters=8", "size=1", "activation=linear", "[route]", "layers=0,-1",
                  "groups=2", "group_id=0"),
                 [("conv_0", "conv2d", (8, 32, 32), 32), ("route_1_part0", "slice", (4, 32, 32), 0),
                  ("route_1_part1", "slice", (4, 32, 32), 0), ("route_1", "concat", (8, 32, 32), 0)],
                 id="route-groups-of-two-layers"),
])
def test_sections(tmp_path: Path, lines: tuple[str, ...],
                  expected: list[tuple[str, str, tuple[int, ...], int]]) -> None:
    report = cnncalc.analyze(_cfg(tmp_path, *lines))
    assert [(row.name, row.type, row.output_shape[1:], row.params) for row in report.layers] == expected


def test_region_head_and_network_section_alias(tmp_path: Path) -> None:
    path = tmp_path / "tiny-yolo-v2.cfg"
    path.write_text("[network]\nwidth=64\nheight=64\nchannels=3\n[conv]\nfilters=125\nsize=1\nactivation=linear\n"
                    "[region]\nanchors=1,1\nclasses=20\ncoords=4\nnum=5\n")
    report = cnncalc.analyze(path)
    assert report.outputs == {"region_1": (1, 125, 64, 64)}


# -- errors: file:line:col, the section, what is wrong; every unsupported item at once -----

@pytest.mark.parametrize(("text", "message"), [
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolu\nfilters=8\n",
                 "net.cfg:5:1: malformed section header '[convolu'", id="truncated-header"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilt\n",
                 "net.cfg:6:1: [convolutional]: expected key=value, found 'filt'", id="truncated-line"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=\n",
                 "net.cfg:6:9: layer 'conv_0' ([convolutional]): filters= is not a whole number", id="empty-value"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nsize=3\n",
                 "net.cfg:5:1: layer 'conv_0' ([convolutional]): [convolutional] needs filters=", id="missing-filters"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilter=8\n",
                 "net.cfg:6:1: layer 'conv_0' ([convolutional]): unknown key 'filter' in [convolutional]; "
                 "did you mean 'filters'?", id="typo"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[maxpool]\n[route]\nlayers=-3\n",
                 "net.cfg:7:8: layer 'route_1' ([route]): layers: -3 is layer -2, but layer 1 can only read "
                 "layers 0 to 0", id="route-before-the-first-layer"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[route]\nlayers=-1\ngroups=3\n",
                 "net.cfg:6:8: layer 'route_0' ([route]): layers: -1 is layer -1", id="route-of-nothing"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=4\n[maxpool]\n[route]\nlayers=-1\ngroups=3\n",
                 "net.cfg:8:8: layer 'route_1' ([route]): groups=3 does not split the 4 channels of 'max_0' "
                 "evenly", id="route-groups"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=8\nsize=1\n[yolo]\nmask=0,1,2\n"
                 "classes=80\n",
                 "net.cfg:8:1: layer 'yolo_1' ([yolo]): the layer before [yolo] has 8 channels, but 3 anchors of "
                 "classes + 5 = 85 need 255", id="yolo-filters"),
    pytest.param("[net]\nwidth=4\nheight=4\nchannels=3\n[convolutional]\nfilters=8\nsize=7\n",
                 "net.cfg:5:1: layer 'conv_0' ([convolutional]): as cnncalc conv2d: kernel 7x7 (dilation 1) is "
                 "larger than the padded input 4x4", id="kernel-too-large"),
    pytest.param("[convolutional]\nfilters=8\n", "net.cfg:1:1: the first section is [convolutional], not [net]",
                 id="no-net"),
    pytest.param("width=8\n[net]\n", "net.cfg:1:1: 'width=8' comes before the first [section]", id="no-section"),
    pytest.param("# nothing\n", "net.cfg:1:1: the file has no [sections]", id="empty"),
    pytest.param("[net]\nchannels=3\n[maxpool]\n", "net.cfg:1:1: layer 'net' ([net]): [net] gives no input size",
                 id="no-input-size"),
    pytest.param("[net]\nwidth=8\nheight=8\nchannels=3\n[upsample]\nstride=-2\n",
                 "net.cfg:6:8: layer 'upsample_0' ([upsample]): stride=-2: a negative stride", id="downsample"),
])
def test_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "net.cfg"
    path.write_text(text)
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value).startswith(f"{tmp_path}/{message}")


def test_every_unsupported_item_is_listed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "net.cfg"
    path.write_text("[net]\nwidth=64\nheight=64\nchannels=3\n"
                    "[convolutional]\nfilters=8\nsize=3\npad=1\nactivation=hard_mish\n"
                    "[conv_lstm]\noutput=4\n"
                    "[route_lhalf]\noutput=4\n"
                    "[maxpool]\nsize=2\nstride=2\nantialiasing=1\n")
    code, out, err = _run("analyze", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"{path}:9:12: cannot import activation=hard_mish ([convolutional] layer 0, line 9); "
                          "[conv_lstm] (layer 1, line 10); [route_lhalf] (layer 2, line 12); [maxpool] antialiasing=1 "
                          "(layer 3, line 17: adds a fixed blur convolution after the layer); cnncalc has no layer "
                          "type for these")


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_import_command_writes_the_spec(tmp_path: Path) -> None:
    target = tmp_path / "yolo.yaml"
    code, out, err = _run("import", str(YOLOV4_TINY), "--input", "3x608x608", "-o", str(target))
    assert (code, out, err) == (0, "", f"wrote {target}\n")
    text = target.read_text()
    assert text.startswith(f"# Imported from {YOLOV4_TINY} (Darknet) by cnncalc ")
    assert "input: {shape: [3, 608, 608], batch: 1}" in text
    assert cnncalc.analyze(target).outputs == {"yolo_30": (1, 255, 19, 19), "yolo_37": (1, 255, 38, 38)}
    code, _, err = _run("import", str(YOLOV4_TINY), "-o", str(target))
    assert code == 2 and err == f"{target} exists; add --force to overwrite it\n"
    assert _run("import", str(YOLOV4_TINY), "-o", str(target), "--force")[0] == 0
    assert "input: {shape: [3, 416, 416], batch: 1}" in target.read_text()


def test_import_command_prints_without_output_file() -> None:
    code, out, _ = _run("import", str(YOLOV4_TINY), "--batch", "4")
    assert code == 0 and "input: {shape: [3, 416, 416], batch: 4}" in out and "training batch" not in out


def test_analyze_names_the_cfg() -> None:
    assert cnncalc.analyze(YOLOV4_TINY).source == str(YOLOV4_TINY)
    assert cnncalc.analyze(str(YOLOV4_TINY)).name == "yolov4-tiny"
