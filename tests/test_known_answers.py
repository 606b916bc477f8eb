"""Known answers from PyTorch's documentation and the CNN tutorials cnncalc's users learn
from, each number written out; never re-derived from the formula under test."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.calculator import analyze_layer


def layer(kind: str, shape: tuple[int, ...], batch: int = 1, convention: str = "2mac", **fields: object):
    return analyze_layer(kind, [shape], dict(fields), batch=batch, convention=convention)


SHAPES = [
    # PyTorch's Conv2d docs: input 20x16x50x100
    ("conv2d-3x3-stride2", "conv2d", (16, 50, 100), 20,
     dict(out_channels=33, kernel_size=3, stride=2), (20, 33, 24, 49)),
    ("conv2d-3x5-asymmetric", "conv2d", (16, 50, 100), 20,
     dict(out_channels=33, kernel_size=[3, 5], stride=[2, 1], padding=[4, 2]), (20, 33, 28, 100)),
    ("conv2d-dilated", "conv2d", (16, 50, 100), 20,
     dict(out_channels=33, kernel_size=[3, 5], stride=[2, 1], padding=[4, 2], dilation=[3, 1]), (20, 33, 26, 100)),
    # PyTorch's MaxPool2d docs and the classic 32x32 examples
    ("maxpool-3-s2-p1", "maxpool2d", (16, 50, 32), 20, dict(kernel_size=3, stride=2, padding=1), (20, 16, 25, 16)),
    ("maxpool-2", "maxpool2d", (3, 32, 32), 1, dict(kernel_size=2), (1, 3, 16, 16)),
    ("maxpool-3", "maxpool2d", (3, 32, 32), 1, dict(kernel_size=3), (1, 3, 10, 10)),
    # 7x7 input, 3x3 kernel, no padding
    ("7x7-stride1", "conv2d", (1, 7, 7), 1, dict(out_channels=1, kernel_size=3), (1, 1, 5, 5)),
    ("7x7-stride2", "conv2d", (1, 7, 7), 1, dict(out_channels=1, kernel_size=3, stride=2), (1, 1, 3, 3)),
    ("same-keeps-28", "conv2d", (1, 28, 28), 1, dict(out_channels=1, kernel_size=5, padding="same"), (1, 1, 28, 28)),
    # two 5x5 filters on 3x32x32; five 3x3x3 kernels on 8x8x3
    ("two-5x5-filters", "conv2d", (3, 32, 32), 1, dict(out_channels=2, kernel_size=5), (1, 2, 28, 28)),
    ("five-3x3x3-kernels", "conv2d", (3, 8, 8), 1, dict(out_channels=5, kernel_size=3), (1, 5, 6, 6)),
    # A global depthwise conv (kernel = H = W) gives C x 1 x 1
    ("global-depthwise", "conv2d", (64, 7, 7), 1, dict(out_channels=64, kernel_size=7, groups=64), (1, 64, 1, 1)),
    # PyTorch's ceil_mode: the last window may not start in the right padding
    ("ceil-mode-googlenet", "maxpool2d", (64, 112, 112), 1, dict(kernel_size=3, stride=2, ceil_mode=True),
     (1, 64, 56, 56)),
    ("ceil-mode-drops-window", "maxpool2d", (1, 5, 5), 1, dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
     (1, 1, 3, 3)),
    ("ceil-mode-keeps-window", "maxpool2d", (1, 6, 6), 1, dict(kernel_size=3, stride=2, ceil_mode=True),
     (1, 1, 3, 3)),
    # ConvTranspose2d docs: 16x12x12 down by 3x3 s2 p1 to 6x6, and back up with output_size 12x12
    ("transposed-upsample", "conv_transpose2d", (16, 6, 6), 1,
     dict(out_channels=16, kernel_size=3, stride=2, padding=1, output_padding=1), (1, 16, 12, 12)),
    ("transposed-unet", "conv_transpose2d", (128, 16, 16), 1, dict(out_channels=64, kernel_size=2, stride=2),
     (1, 64, 32, 32)),
    ("asymmetric-pad-pairs", "conv2d", (1, 10, 10), 1, dict(out_channels=1, kernel_size=3, padding=[[0, 2], [1, 1]]),
     (1, 1, 10, 10)),
    ("conv1d", "conv1d", (4, 100), 2, dict(out_channels=8, kernel_size=5, stride=3), (2, 8, 32)),
    ("conv3d", "conv3d", (1, 16, 112, 112), 1, dict(out_channels=64, kernel_size=7, stride=2, padding=3),
     (1, 64, 8, 56, 56)),
    ("adaptive-avgpool", "adaptive_avgpool2d", (256, 13, 13), 1, dict(output_size=6), (1, 256, 6, 6)),
    ("upsample-scale", "upsample", (8, 10, 10), 1, dict(scale_factor=2.5), (1, 8, 25, 25)),
    ("pixel-shuffle", "pixel_shuffle", (16, 4, 4), 1, dict(upscale_factor=2), (1, 4, 8, 8)),
]


@pytest.mark.parametrize("kind,shape,batch,fields,expected", [case[1:] for case in SHAPES],
                         ids=[case[0] for case in SHAPES])
def test_output_shapes(kind, shape, batch, fields, expected):
    report = layer(kind, shape, batch, **fields)
    assert report.layers[0].output_shape == expected


def test_same_padding_puts_the_odd_one_at_the_end():
    # 10 with k=4, s=1: total padding 3, 1 before and 2 after (TensorFlow's rule)
    report = layer("conv2d", (1, 10, 10), out_channels=1, kernel_size=4, padding="same")
    assert report.layers[0].output_shape == (1, 1, 10, 10)
    assert report.layers[0].receptive_field[0] == (4, 1, 0.5)  # centre 1.5 - 1 (pad_begin)


def test_five_by_five_conv_on_100x100x128():
    # 5x5 conv to 256 channels with padding 2: 819,456 parameters and 8.192e9 MACs
    report = layer("conv2d", (128, 100, 100), out_channels=256, kernel_size=5, padding=2)
    assert report.totals.params == 819_456
    assert report.totals.macs == 8_192_000_000


def test_bottleneck_1x1_first():
    # a 1x1 conv to 32 channels first costs 40.96e6 + 2.048e9 MACs
    spec = """
input: {shape: [128, 100, 100]}
layers:
  - {type: conv2d, out_channels: 32, kernel_size: 1}
  - {type: conv2d, out_channels: 256, kernel_size: 5, padding: 2}
"""
    report = cnncalc.analyze(spec)
    assert [row.macs for row in report.layers] == [40_960_000, 2_048_000_000]


@pytest.mark.parametrize("fields,weights", [
    (dict(out_channels=4, kernel_size=3, bias=False), 108),
    (dict(out_channels=3, kernel_size=3, groups=3, bias=False), 27),
], ids=["standard-3x3", "depthwise-3x3"])
def test_depthwise_separable_weights(fields, weights):
    # 64x64x3 to 4 maps: standard 108 weights; depthwise 27 + pointwise 12 = 39
    assert layer("conv2d", (3, 64, 64), **fields).totals.params == weights


def test_pointwise_after_depthwise_is_39_in_all():
    spec = """
input: {shape: [3, 64, 64]}
layers:
  - {type: conv2d, out_channels: 3, kernel_size: 3, groups: 3, bias: false}
  - {type: conv2d, out_channels: 4, kernel_size: 1, bias: false}
"""
    assert cnncalc.analyze(spec).totals.params == 39


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_group_conv_weights(groups):
    # N·(C/G)·K·K weights: 16 outputs, 8 inputs, 3x3
    expected = {1: 1152, 2: 576, 4: 288, 8: 144}[groups]
    assert layer("conv2d", (8, 10, 10), out_channels=16, kernel_size=3, groups=groups, bias=False).totals.params \
        == expected


def test_full_convention_is_the_textbook_count():
    # Nin·(K·K + K·K − 1) + (Nin − 1) per output, plus 1 with bias: Nin=3, K=3 -> 3·17 + 2 = 53, 54 with bias
    for bias, per_output in ((False, 53), (True, 54)):
        report = layer("conv2d", (3, 5, 5), convention="full", out_channels=2, kernel_size=3, bias=bias)
        assert report.totals.flops == 2 * 3 * 3 * per_output


def test_vgg16_after_last_pool_is_7x7x512():
    report = cnncalc.analyze("specs/vgg16.yaml")
    last_pool = [row for row in report.layers if row.type == "maxpool2d"][-1]
    assert last_pool.output_shape == (1, 512, 7, 7)


@pytest.mark.parametrize("spec,receptive_field", [
    # Araujo, Norris and Sim, "Computing Receptive Fields of CNNs", Distill 2019, table 1: the
    # field of the last feature map (after the last max pool). Their ResNet-50 (483) is v1, stride
    # in the first 1x1 conv, so it cannot check torchvision's v1.5 in specs/.
    ("specs/alexnet.yaml", 195),
    ("specs/vgg16.yaml", 212),
], ids=["alexnet", "vgg16"])
def test_published_receptive_fields(spec, receptive_field):
    report = cnncalc.analyze(spec)
    last_pool = [row for row in report.layers if row.type == "maxpool2d"][-1]
    assert last_pool.receptive_field[0][0] == receptive_field


@pytest.mark.parametrize("kind,params,buffers", [
    ("batchnorm2d", 128, 128), ("groupnorm", 128, 0), ("instancenorm2d", 0, 0), ("layernorm", 128, 0),
    ("scale", 64, 0), ("prelu", 1, 0),
], ids=lambda value: str(value))
def test_norm_and_scale_parameters(kind, params, buffers):
    fields = {"num_groups": 8} if kind == "groupnorm" else {}
    report = layer(kind, (64, 8, 8), **fields)
    assert (report.totals.params, report.totals.buffers) == (params, buffers)


def test_linear_acts_on_the_last_axis():
    report = layer("linear", (10, 20), out_features=30)
    assert report.layers[0].output_shape == (1, 10, 30)
    assert report.totals.macs == 10 * 20 * 30
    assert report.totals.params == 20 * 30 + 30


def test_transposed_conv_macs_count_every_input_tap():
    # ConvTranspose2d(4, 2, kernel 3, stride 2) on 4x5x5: every input element meets every tap
    report = layer("conv_transpose2d", (4, 5, 5), out_channels=2, kernel_size=3, stride=2)
    assert report.totals.macs == 4 * 25 * 2 * 9
    assert report.totals.params == 4 * 2 * 9 + 2
