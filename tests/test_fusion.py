"""Layer fusion in the cost model: which layers are folded into the kernel before them, and
the elements each kernel reads, keeps as weights and writes, counted by hand on small specs.

Each count is inputs read + parameters + output written, one element per int8 byte:
a 4-channel 8x8 map is 256 elements, a 3-channel one 192.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.fps import Compute, roofline
from cnncalc.fusion import fuse

CONV_BN_RELU = """input: {shape: [3, 8, 8]}
layers:
  - {type: conv2d, name: conv, out_channels: 4, kernel_size: 3, padding: 1, bias: false}
  - {type: batchnorm2d, name: bn}
  - {type: relu, name: act}
"""
# conv 192 + 108 weights + 256 = 556; bn 256 + 8 + 256 = 520; relu 256 + 256 = 512.
# Fused: one kernel, the batchnorm folded into the weights: 192 + 108 + 256.

RESIDUAL = """input: {shape: [4, 8, 8]}
layers:
  - {type: conv2d, name: conv1, out_channels: 4, kernel_size: 1, bias: false}
  - {type: relu, name: relu1}
  - {type: conv2d, name: conv2, out_channels: 4, kernel_size: 1, bias: false}
  - {type: add, name: add, from: [conv2, input]}
  - {type: relu, name: relu2}
"""
# Per layer: conv1 256 + 16 + 256 = 528; relu1 512; conv2 528; add 256 + 256 + 256 = 768; relu2 512.
# Fused: conv1+relu1 528; conv2+add+relu2 reads relu1 (256) and the input (256), 16 weights,
# writes 256: 784.

CONCAT = """input: {shape: [4, 8, 8]}
layers:
  - {type: conv2d, name: left, out_channels: 2, kernel_size: 1, bias: false, from: input}
  - {type: conv2d, name: right, out_channels: 2, kernel_size: 1, bias: false, from: input}
  - {type: concat, name: cat, from: [left, right]}
  - {type: conv2d, name: mix, out_channels: 4, kernel_size: 1, bias: false}
"""
# left and right: 256 + 8 + 128 = 392 each; concat 128 + 128 + 256 = 512 per layer, nothing
# in place; mix 256 + 16 + 256 = 528.

SHARED = """input: {shape: [4, 8, 8]}
layers:
  - {type: conv2d, name: conv, out_channels: 4, kernel_size: 1, bias: false}
  - {type: relu, name: act}
  - {type: add, name: add, from: [act, conv]}
"""
# The conv's output is read twice, so it is written: conv 528. The relu is a kernel of its own
# (its input feeds the add too), and the add its epilogue: reads the conv's output once (256),
# writes 256. Per layer: 528 + 512 + 768.


@pytest.mark.parametrize("spec,fused,unfused,kernels", [
    (CONV_BN_RELU, 556, 556 + 520 + 512, [("conv", ("bn", "act"))]),
    (RESIDUAL, 528 + 784, 528 + 512 + 528 + 768 + 512, [("conv1", ("relu1",)), ("conv2", ("add", "relu2"))]),
    (CONCAT, 392 + 392 + 528, 392 + 392 + 512 + 528, [("left", ()), ("right", ()), ("mix", ())]),
    (SHARED, 528 + 512, 528 + 512 + 768, [("conv", ()), ("act", ("add",))]),
], ids=["conv-bn-relu", "residual-add", "concat-in-place", "shared-output"])
def test_fused_kernels_and_their_elements(spec, fused, unfused, kernels):
    report = cnncalc.analyze(spec)
    fusion = fuse(report)
    assert [(kernel.name, kernel.members) for kernel in fusion.kernels] == kernels
    assert fusion.elements == fused
    assert fuse(report, enabled=False).elements == unfused


def test_folded_batchnorm_weights_are_not_read_but_a_later_one_is():
    # A batchnorm after a ReLU (pre-activation style) is a per-channel scale and bias: 8 parameters read.
    spec = CONV_BN_RELU.replace("  - {type: batchnorm2d, name: bn}\n  - {type: relu, name: act}\n",
                                "  - {type: relu, name: act}\n  - {type: batchnorm2d, name: bn}\n")
    kernel, = fuse(cnncalc.analyze(spec)).kernels
    assert (kernel.members, kernel.weights) == (("act", "bn"), 108 + 8)


def test_roofline_times_fused_kernels_at_the_precision_bytes():
    report = cnncalc.analyze(RESIDUAL)
    lines = roofline(report, Compute(1e12, "fp16", "x", 1e9), fusion=fuse(report))
    assert [layer.name for layer in lines.layers] == ["conv1", "conv2"]
    assert [layer.bytes_moved for layer in lines.layers] == [2 * 528, 2 * 784]
    assert lines.fused == {"relu1": "conv1", "add": "conv2", "relu2": "conv2"}
    assert lines.batch_seconds == pytest.approx((2 * 528 + 2 * 784) / 1e9)  # memory-bound at 1 GB/s


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_table_marks_fused_layers_and_no_fuse_keeps_the_per_layer_model(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(CONV_BN_RELU)
    common = ("analyze", str(path), "--chip", "jetson-orin-nano-8gb", "--width", "120")
    code, out, _ = run(*common)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["conv"], ["bn"], ["act"])}
    assert code == 0 and rows["bn"][-2:] == ["fused", "-"] and rows["act"][-2:] == ["fused", "-"]
    assert rows["conv"][-1] == "100.0"
    code, out, _ = run(*common, "--no-fuse")
    assert code == 0 and "fused" not in out.split("Chip")[0] and "no fusion" in out
    data = json.loads(run(*common, "--no-fuse", "--format", "json")[1])
    assert data["roofline"]["fused"] is False
    assert [layer["bytes_moved"] for layer in data["roofline"]["layers"]] == [556, 520, 512]
    data = json.loads(run(*common, "--format", "json")[1])
    assert data["roofline"]["layers"] == [{"name": "conv", "ops": 2 * 4 * 64 * 27, "bytes_moved": 556,
                                           "seconds": pytest.approx(556 / 68e9), "bound": "memory",
                                           "share": 1.0, "fused": ["bn", "act"]}]


def test_no_fuse_needs_a_chip():
    code, _, err = run("analyze", "specs/resnet18.yaml", "--no-fuse")
    assert code == 2 and "--no-fuse needs --chip" in err
