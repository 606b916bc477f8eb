"""Caffe files as people have them: detection and segmentation layers, the forks' fields, solvers,
phase and stage rules. Known answers come from Caffe's own formulas (the layer files named on
each case) worked by hand, and from published counts for the real files in tests/data/caffe."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc
from cnncalc.importers import ImportOptions, import_spec

DATA = Path(__file__).resolve().parent / "data" / "caffe"
INPUT = 'input: "data"\ninput_shape { dim: 1 dim: %s }\n'


def _net(tmp_path: Path, shape: str, body: str, name: str = "net.prototxt") -> Path:
    path = tmp_path / name
    path.write_text(INPUT % shape.replace("x", " dim: ") + body)
    return path


def _shapes(path: Path, **options: object) -> dict[str, tuple[int, ...]]:
    return {row.name: row.output_shape[1:] for row in cnncalc.analyze(path, **options).layers}  # type: ignore[arg-type]


CONV = 'layer {{ name: "{0}" type: "Convolution" bottom: "{1}" top: "{0}" convolution_param {{ {2} }} }}\n'


@pytest.mark.parametrize(("pooling", "expected"), [
    ("kernel_size: 3 stride: 2 pad: 1", (8, 29, 29)),  # ceil((56 + 2 - 3) / 2) + 1 = 29
    ("kernel_size: 3 stride: 2 pad: 1 ceil_mode: false", (8, 28, 28)),  # the fork's field: floor, 28
    ("kernel_size: 3 stride: 2 pad: 1 ceil_mode: true", (8, 29, 29)),
    ("kernel_size: 3 stride: 2 pad: 1 round_mode: FLOOR", (8, 28, 28)),
    ("kernel_size: 57 stride: 2", (8, 1, 1)),  # ceil((56 - 57) / 2) + 1 = 1: the window clipped to the input
], ids=["caffe-ceil", "ceil_mode-false", "ceil_mode-true", "round_mode", "window-past-input"])
def test_pooling_size(tmp_path: Path, pooling: str, expected: tuple[int, ...]) -> None:
    path = _net(tmp_path, "8x56x56", f'layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool" '
                                      f'pooling_param {{ pool: MAX {pooling} }} }}\n')
    assert _shapes(path)["pool"] == expected


def test_pooling_window_that_fits_nothing_is_an_error(tmp_path: Path) -> None:
    path = _net(tmp_path, "8x6x6", 'layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" '
                                   'pooling_param { pool: MAX kernel_size: 8 stride: 1 } }\n')
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value).startswith(f"{path}:3:1: layer 'pool' (Pooling): Caffe's pooling makes -1x-1 here: "
                                        "the window 8x8 does not fit the input 6x6")


def test_segmentation_layers(tmp_path: Path) -> None:
    """FCN's Crop (crop_layer.cpp: axis 2, offset 19), PSPNet's Interp (interp_layer.cpp), Slice (slice_layer.cpp)."""
    body = (CONV.format("score", "data", "num_output: 21 kernel_size: 1")
            + 'layer { name: "up" type: "Deconvolution" bottom: "score" top: "up" convolution_param { num_output: 21 '
              'kernel_size: 64 stride: 32 bias_term: false } }\n'
            + 'layer { name: "crop" type: "Crop" bottom: "up" bottom: "data" top: "crop" crop_param { axis: 2 offset: 19 } }\n'
            + 'layer { name: "zoom" type: "Interp" bottom: "score" top: "zoom" interp_param { zoom_factor: 8 } }\n'
            + 'layer { name: "shrink" type: "Interp" bottom: "score" top: "shrink" interp_param { shrink_factor: 8 } }\n'
            + 'layer { name: "both" type: "Interp" bottom: "score" top: "both" interp_param { shrink_factor: 4 zoom_factor: 3 } }\n'
            + 'layer { name: "sized" type: "Interp" bottom: "score" top: "sized" interp_param { height: 17 width: 9 } }\n'
            + 'layer { name: "slice" type: "Slice" bottom: "score" top: "a" top: "b" top: "c" '
              'slice_param { axis: 1 slice_point: 5 slice_point: 12 } }\n'
            + 'layer { name: "halves" type: "Slice" bottom: "data" top: "h1" top: "h2" slice_param { axis: 2 } }\n')
    shapes = _shapes(_net(tmp_path, "21x60x60", body))
    assert shapes["up"] == (21, 1952, 1952)  # (60 - 1) * 32 + 64
    assert shapes["crop"] == (21, 60, 60)
    assert shapes["zoom"] == (21, 473, 473)  # 60 + 59 * 7
    assert shapes["shrink"] == (21, 8, 8)  # 59 // 8 + 1
    assert shapes["both"] == (21, 43, 43)  # 59 // 4 + 1 = 15, then 15 + 14 * 2
    assert shapes["sized"] == (21, 17, 9)
    assert (shapes["a"], shapes["b"], shapes["c"]) == ((5, 60, 60), (7, 60, 60), (9, 60, 60))
    assert (shapes["h1"], shapes["h2"]) == ((21, 30, 60), (21, 30, 60))


def test_ssd_layers(tmp_path: Path) -> None:
    """SSD's Permute, Flatten, Normalize (normalize_layer.cpp: one scale per channel unless channel_shared);
    PriorBox and DetectionOutput are not counted, and their readers are listed with them."""
    body = (CONV.format("loc", "data", "num_output: 12 kernel_size: 3 pad: 1")
            + 'layer { name: "perm" type: "Permute" bottom: "loc" top: "perm" permute_param { order: 0 order: 2 '
              'order: 3 order: 1 } }\n'
            + 'layer { name: "flat" type: "Flatten" bottom: "perm" top: "flat" }\n'
            + 'layer { name: "norm" type: "Normalize" bottom: "data" top: "norm" norm_param { across_spatial: false '
              'channel_shared: false } }\n'
            + 'layer { name: "norm1" type: "Normalize" bottom: "data" top: "norm1" norm_param { across_spatial: false } }\n'
            + 'layer { name: "priors" type: "PriorBox" bottom: "loc" bottom: "data" top: "priors" }\n'
            + 'layer { name: "cat" type: "Concat" bottom: "priors" top: "cat" concat_param { axis: 2 } }\n'
            + 'layer { name: "out" type: "DetectionOutput" bottom: "flat" bottom: "cat" top: "out" }\n')
    path = _net(tmp_path, "16x10x10", body)
    rows = {row.name: row for row in cnncalc.analyze(path).layers}
    assert rows["perm"].output_shape[1:] == (10, 10, 12) and rows["flat"].output_shape[1:] == (1200,)
    assert rows["norm"].params == 16 and rows["norm1/scale"].params == 1
    spec = import_spec(path, ImportOptions())
    assert "Not counted (they decode or propose boxes, or read what such a layer makes): priors (PriorBox, " \
           "line 8), cat (Concat, line 9), out (DetectionOutput, line 10)." in spec["description"]
    assert {"priors", "cat", "out"}.isdisjoint(rows)


def test_se_layers(tmp_path: Path) -> None:
    """Scale by a second bottom of C (scale_layer.cpp, axis 0 as SENet's files write it), Axpy (axpy_layer.cpp:
    a * x + y), Eltwise MAX, BN (scale, shift, mean, variance: 2C params, 2C buffers), Scale of num_axes 0 (one
    learned number), SeLuDropout (the identity at inference)."""
    body = ('layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { pool: AVE '
            'global_pooling: true } }\n'
            + 'layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 8 } }\n'
            + 'layer { name: "se" type: "Scale" bottom: "data" bottom: "fc" top: "se" scale_param { axis: 0 } }\n'
            + 'layer { name: "axpy" type: "Axpy" bottom: "pool" bottom: "data" bottom: "se" top: "axpy" }\n'
            + 'layer { name: "max" type: "Eltwise" bottom: "axpy" bottom: "se" top: "max" eltwise_param { operation: MAX } }\n'
            + 'layer { name: "bn" type: "BN" bottom: "max" top: "bn" bn_param { frozen: true } }\n'
            + 'layer { name: "s0" type: "Scale" bottom: "bn" top: "s0" scale_param { num_axes: 0 bias_term: true } }\n'
            + 'layer { name: "drop" type: "SeLuDropout" bottom: "s0" top: "s0" }\n')
    rows = {row.name: row for row in cnncalc.analyze(_net(tmp_path, "8x5x5", body)).layers}
    assert rows["se"].output_shape[1:] == (8, 5, 5) and rows["se/expand"].output_shape[1:] == (8, 1, 1)
    assert rows["axpy"].output_shape[1:] == (8, 5, 5) and rows["axpy/mul"].type == "mul"
    assert rows["max"].type == "maximum" and rows["max"].flops == 0
    assert (rows["bn"].params, rows["bn"].buffers) == (16, 16)
    assert (rows["s0/scale"].params, rows["s0/bias"].params, rows["s0"].type) == (1, 1, "add")  # num_axes 0: one number
    assert rows["drop"].type == "dropout"


def test_arithmetic_layers(tmp_path: Path) -> None:
    """LRN WITHIN_CHANNEL as Caffe builds it (lrn_layer.cpp), SPP (spp_layer.cpp: 1 + 4 + 16 bins per channel),
    Power, Log, BNLL, Bias (C params), stochastic pooling at inference."""
    body = ('layer { name: "lrn" type: "LRN" bottom: "data" top: "lrn" lrn_param { local_size: 3 alpha: 5e-05 '
            'beta: 0.75 norm_region: WITHIN_CHANNEL } }\n'
            + 'layer { name: "spp" type: "SPP" bottom: "lrn" top: "spp" spp_param { pyramid_height: 3 } }\n'
            + 'layer { name: "power" type: "Power" bottom: "data" top: "power" power_param { power: 2 scale: 3 } }\n'
            + 'layer { name: "log" type: "Log" bottom: "power" top: "log" }\n'
            + 'layer { name: "bnll" type: "BNLL" bottom: "log" top: "bnll" }\n'
            + 'layer { name: "bias" type: "Bias" bottom: "bnll" top: "bias" }\n'
            + 'layer { name: "sto" type: "Pooling" bottom: "bias" top: "sto" pooling_param { pool: STOCHASTIC '
              'kernel_size: 3 stride: 2 } }\n')
    rows = {row.name: row for row in cnncalc.analyze(_net(tmp_path, "4x13x13", body)).layers}
    assert rows["lrn"].output_shape[1:] == (4, 13, 13) and rows["lrn/pool"].output_shape[1:] == (4, 13, 13)
    assert rows["spp"].output_shape[1:] == (4 * 21,)
    assert [rows[f"spp/level{level}"].output_shape[1:] for level in range(3)] == [(4, 1, 1), (4, 2, 2), (4, 4, 4)]
    assert rows["bias"].params == 0 and rows["bias/bias"].params == 4
    assert rows["sto"].output_shape[1:] == (4, 6, 6)  # ceil((13 - 3) / 2) + 1


SOLVER = """net_param {
  name: "lenet"
  layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TRAIN } }
  layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TEST stage: "test-on-test" } }
  layer { name: "mnist" type: "Input" top: "data" include { phase: TEST not_stage: "test-on-test" }
          input_param { shape { dim: 1 dim: 1 dim: 28 dim: 28 } } }
  layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 5 } }
  layer { name: "wide" type: "Convolution" bottom: "conv" top: "out" include { stage: "wide" }
          convolution_param { num_output: 8 kernel_size: 3 } }
  layer { name: "narrow" type: "Convolution" bottom: "conv" top: "out" exclude { stage: "wide" }
          convolution_param { num_output: 2 kernel_size: 3 } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "out" bottom: "label" include { phase: TRAIN } }
}
base_lr: 0.01
test_iter: 100
%s
"""


@pytest.mark.parametrize(("state", "options", "expected"), [
    ("", {}, {"conv": (4, 24, 24), "narrow": (2, 22, 22)}),  # TEST, no stage: the Input layer, the narrow head
    ('test_state: { stage: "wide" }', {}, {"conv": (4, 24, 24), "wide": (8, 22, 22)}),  # the solver's first state
    ("", {"stages": ("wide",)}, {"conv": (4, 24, 24), "wide": (8, 22, 22)}),
], ids=["test-phase", "solver-test-state", "stage-option"])
def test_solver_with_its_net_and_state_rules(tmp_path: Path, state: str, options: dict, expected: dict) -> None:
    path = tmp_path / "solver.prototxt"
    path.write_text(SOLVER % state)
    spec = import_spec(path, ImportOptions(**options))
    assert {layer["name"] for layer in spec["layers"]} == set(expected)
    if not options:  # analyze reads the file's own state
        assert _shapes(path) == expected


def test_solver_naming_its_net_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "solver.prototxt"
    path.write_text('net: "train_val.prototxt"\nbase_lr: 0.01\n')
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value).startswith(f"{path}:1:1: this is a Caffe solver: it names its net in 'train_val.prototxt'")


def test_python_layers(tmp_path: Path) -> None:
    """A Python data layer asks for --input (its first top: the others, im_info here, feed only what is not
    counted); one that reads blobs (proposals) is not counted, nor what reads it."""
    body = ('layer { name: "input" type: "Python" top: "data" top: "im_info" python_param { module: "m" '
            'layer: "L" param_str: "a: 1\\nb: 2" } }\n'
            + CONV.format("conv", "data", "num_output: 4 kernel_size: 3")
            + 'layer { name: "proposal" type: "Python" bottom: "conv" bottom: "im_info" top: "rois" }\n'
            + 'layer { name: "roi" type: "ROIPooling" bottom: "conv" bottom: "rois" top: "roi" }\n'
            + 'layer { name: "fc" type: "InnerProduct" bottom: "roi" top: "fc" inner_product_param { num_output: 2 } }\n')
    path = tmp_path / "net.prototxt"
    path.write_text(body)
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value).startswith(f"{path}:1:1: layer 'input' (Python): the data layer 'input' reads its "
                                        "sizes from a dataset; give them: --input data=CxHxW")
    spec = import_spec(path, ImportOptions(inputs={"data": (3, 8, 8)}))
    assert [layer["name"] for layer in spec["layers"]] == ["conv"]
    assert "proposal (Python, line 3), roi (ROIPooling, line 4), fc (InnerProduct, line 5)" in spec["description"]


def test_legacy_input_without_dims_is_dropped(tmp_path: Path) -> None:
    """upgrade_proto.cpp's UpgradeNetInput drops `input:` when no dims come with it."""
    path = tmp_path / "net.prototxt"
    path.write_text('input: "data"\nlayer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 '
                    'dim: 3 dim: 8 dim: 8 } } }\n' + CONV.format("conv", "data", "num_output: 4 kernel_size: 3"))
    assert _shapes(path) == {"conv": (4, 6, 6)}


def test_se_resnet_50_matches_the_paper() -> None:
    """shicai's SE-ResNet-50: 28.1 M parameters (Hu et al., Squeeze-and-Excitation Networks, Table 2)."""
    report = cnncalc.analyze(DATA / "se_resnet_50.prototxt")
    assert round(report.totals.params / 1e6, 1) == 28.1


def test_mobilenet_ssd_has_its_1917_boxes() -> None:
    """chuanqi305's MobileNet-SSD at 300x300: 1,917 default boxes (19x19x3 + 10x10x6 + 5x5x6 + 3x3x6 + 2x2x6 +
    1x1x6), each with 4 box offsets and 21 class scores; the PriorBox and DetectionOutput stage not counted."""
    report = cnncalc.analyze(DATA / "mobilenet_ssd.prototxt")
    assert report.outputs == {"mbox_loc": (1, 1917 * 4), "mbox_conf_flatten": (1, 1917 * 21)}
