"""The effective receptive field through upsampling and merges (cnncalc/field.py), against
PyTorch: with every weight 1 and every input 1 no contribution cancels, so the input rows
whose gradient is nonzero are exactly the region one output position can be influenced
by. Every interior output row is compared, phase by phase, with what cnncalc computes."""

from __future__ import annotations

from fractions import Fraction

import pytest

import cnncalc

torch = pytest.importorskip("torch")

FPN = """
input: {shape: [2, 128, 16]}
layers:
  - {type: conv2d, name: c2, out_channels: 2, kernel_size: 3, stride: 2, padding: 1}
  - {type: avgpool2d, name: c3, kernel_size: 2}
  - {type: conv2d, name: c4, out_channels: 2, kernel_size: 3, stride: 2, padding: 1}
  - {type: conv2d, name: c5, out_channels: 2, kernel_size: 3, stride: 2, padding: 1}
  - {type: upsample, name: up5, scale_factor: 2, mode: MODE}
  - {type: add, name: p4, from: [up5, c4]}
  - {type: upsample, name: up4, scale_factor: 2, mode: MODE}
  - {type: add, name: p3, from: [up4, c3]}
  - {type: conv2d, name: head_p3, out_channels: 2, kernel_size: 3, padding: 1}
"""
UNET = """
input: {shape: [2, 128, 16]}
layers:
  - {type: conv2d, name: e1, out_channels: 2, kernel_size: 3, padding: 1}
  - {type: avgpool2d, kernel_size: 2}
  - {type: conv2d, name: e2, out_channels: 2, kernel_size: 3, padding: 1}
  - {type: avgpool2d, kernel_size: 2}
  - {type: conv2d, name: e3, out_channels: 2, kernel_size: 3, padding: 1}
  - {type: conv_transpose2d, out_channels: 2, kernel_size: K, stride: 2, padding: P, output_padding: OP}
  - {type: concat, from: [-1, e2]}
  - {type: conv2d, out_channels: 2, kernel_size: 3, padding: 1}
  - {type: conv_transpose2d, out_channels: 2, kernel_size: K, stride: 2, padding: P, output_padding: OP}
  - {type: concat, from: [-1, e1]}
  - {type: conv2d, name: head, out_channels: 2, kernel_size: 3, padding: 1}
"""
SHUFFLE = """
input: {shape: [2, 64, 16]}
layers:
  - {type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  - {type: pixel_shuffle, upscale_factor: 2}
  - {type: conv2d, out_channels: 2, kernel_size: 3, padding: 1}
"""
CASES = {
    "fpn nearest": FPN.replace("MODE", "nearest"),
    "fpn bilinear": FPN.replace("MODE", "bilinear"),
    "unet k2 s2": UNET.replace("K,", "2,").replace("P,", "0,").replace("OP}", "0}"),
    "unet k3 s2": UNET.replace("K,", "3,").replace("P,", "1,").replace("OP}", "1}"),
    "unet k4 s2": UNET.replace("K,", "4,").replace("P,", "1,").replace("OP}", "0}"),
    "unet k5 s2": UNET.replace("K,", "5,").replace("P,", "2,").replace("OP}", "1}"),
    "pixel shuffle": SHUFFLE,
}


def predicted(axis: tuple, position: int) -> tuple[Fraction, Fraction]:
    """The region cnncalc gives output `position` on one axis."""
    if len(axis) == 4:
        period, step, regions = axis[3]
        low, high = regions[position % period]
        return low + position // period * step, high + position // period * step
    size, jump, start = (Fraction(value) for value in axis)
    centre = start + position * jump
    return centre - (size - 1) / 2, centre + (size - 1) / 2


def measured(spec: str, rows: range) -> list[tuple[int, int]]:
    """Per output row (at the centre column), the first and last input rows with a nonzero gradient."""
    from cnncalc.torch import build_module

    model = build_module(spec).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(1.0 if parameter.dim() > 1 else 0.0)
    image = torch.ones(1, *model.input_shapes["input"][1:], requires_grad=True)
    output = model(image)
    result = []
    for row in rows:
        (gradient,) = torch.autograd.grad(output[0, 0, row, output.shape[-1] // 2], image, retain_graph=True)
        touched = (gradient[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten().tolist()
        result.append((touched[0], touched[-1]))
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_every_interior_output_sees_exactly_the_predicted_rows(name):
    spec = CASES[name]
    report = cnncalc.analyze(spec)
    field = report.layers[-1].receptive_field
    height = report.inputs["input"][2]
    rows = report.outputs[report.layers[-1].name][2]
    middle = range(rows // 2 - 12, rows // 2 + 12)  # three periods and more, away from the borders
    compared = 0
    for row, (first, last) in zip(middle, measured(spec, middle)):
        low, high = predicted(field[0], row)
        if low < 0 or high > height - 1:
            continue  # the border clips what PyTorch reads; the field counts past it, like padding
        assert (first, last) == (low, high), (name, row)
        compared += 1
    assert compared >= 16
    assert field[0][0] == max(high - low + 1 for low, high in (predicted(field[0], row) for row in range(rows)))


def test_an_fpn_head_at_stride_8_has_a_field():
    """The stride-8 head of a (small) FPN: 45 input rows at most, 29 for half the positions."""
    field = cnncalc.analyze(CASES["fpn nearest"]).layers[-1].receptive_field
    assert field[0][:3] == (45, 4, -7.0)
    sizes = [predicted(field[0], row) for row in range(4)]
    assert sorted(high - low + 1 for low, high in sizes) == [29, 29, 45, 45]
