"""cnncalc against PyTorch itself, layer by layer: every spec in specs/ and small specs with
unusual settings are built with cnncalc.torch and run, and each layer's output shape
(batch first), parameters, buffers and MACs must be what PyTorch's modules have and what
`torch.utils.flop_counter.FlopCounterMode` counts (2 FLOPs per MAC). Skipped without PyTorch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from cnncalc.errors import SpecError  # noqa: E402
from cnncalc.graph import Graph  # noqa: E402
from cnncalc.layers import REGISTRY  # noqa: E402
from cnncalc.sources import parse  # noqa: E402
from cnncalc.spec import Overrides  # noqa: E402
from cnncalc.torch import build_module  # noqa: E402
from cnncalc.torch.mapping import MAPPERS  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
# The types with MACs: convolutions, transposed convolutions, linear, and products of two tensors.
COUNTED = ("conv", "linear", "matmul", "attention", "multihead_attention", "einsum", "local2d")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")


def parity(graph: Graph, device: str = "meta") -> int:
    """Build and run `graph`; assert every layer's shape and counts; return how many were compared."""
    torch.manual_seed(0)
    with torch.device(device):
        network = build_module(graph).eval()
    modules = network.layers()
    qualified = {module: name for name, module in network.named_modules()}
    seen: dict[str, tuple[int, ...]] = {}
    hooks = [module.register_forward_hook(_recorder(seen, name)) for name, module in modules.items()]
    # Token ids for the inputs an embedding reads, random floats for the rest.
    vocabulary = {source: record.layer.num_embeddings for record in graph.layers if record.type == "embedding"
                  for source in record.inputs}
    inputs = [torch.randint(vocabulary[name], shape, device=device) if name in vocabulary
              else torch.randn(shape, device=device) for name, shape in network.input_shapes.items()]
    with torch.no_grad(), math_attention(), FlopCounterMode(display=False) as counter:
        network(*inputs)
    for hook in hooks:
        hook.remove()
    flops = {name: sum(counts.values()) for name, counts in counter.get_flop_counts().items()}
    compared = 0
    for record in graph.layers:
        module = modules[record.name]
        where = f"{record.name} ({record.type})"
        assert seen[record.name] == (graph.batch, *record.cost.shape), where
        assert sum(p.numel() for p in module.parameters()) == record.cost.params, where
        assert _buffers(module) == record.cost.buffers, where
        measured = flops.get(f"Network.{qualified[module]}", 0)
        assert measured == 2 * graph.batch * record.cost.macs, where
        assert record.cost.macs == 0 or record.type.startswith(COUNTED), where
        compared += 4
    assert sum(p.numel() for p in network.parameters()) == sum(r.cost.params for r in graph.layers)
    assert _buffers(network) == sum(r.cost.buffers for r in graph.layers)
    assert counter.get_total_flops() == 2 * graph.batch * sum(r.cost.macs for r in graph.layers)
    return compared + 3


@contextmanager
def math_attention() -> Iterator[None]:
    """Attention on PyTorch's math path, the only one FlopCounterMode counts: torch 2.13 counts 0
    for the fused CPU kernel of scaled_dot_product_attention and for nn.MultiheadAttention's
    fast path (docs/peers.md)."""
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)


def _recorder(seen: dict[str, tuple[int, ...]], name: str) -> Any:
    def record(module: Any, inputs: Any, output: Any) -> None:
        seen[name] = tuple(output.shape)
    return record


def _buffers(module: Any) -> int:
    """Running statistics: PyTorch's num_batches_tracked counter is not counted (counting.md)."""
    return sum(buffer.numel() for name, buffer in module.named_buffers() if not name.endswith("num_batches_tracked"))


# -- the example specs ------------------------------------------------------------------------

SPEC_CASES = [(path.name, {}) for path in sorted(SPECS.glob("*.yaml"))] + [
    (f"resnet3d_{depth}.yaml", {"head": True}) for depth in (10, 18, 34, 50, 101, 152)] + [
    ("mobilenet_v1.yaml", {"width": 0.5}), ("mobilenet_v2.yaml", {"width": 0.75}),
    ("mobilenet_v2.yaml", {"width": 1.4}), ("unet_small.yaml", {"base": 8}),
]


@pytest.mark.parametrize(("spec", "overrides"), SPEC_CASES,
                         ids=[f"{spec}{overrides or ''}" for spec, overrides in SPEC_CASES])
def test_example_spec_matches_pytorch_layer_by_layer(spec: str, overrides: dict[str, Any]) -> None:
    graph = parse(SPECS / spec, Overrides(overrides))
    assert parity(graph, "meta") >= 4 * len(graph.layers)


# Real tensors too, where that is quick: the meta device checks shapes, CPU kernels check more.
SMALL_INPUTS = [("lenet5.yaml", None), ("alexnet.yaml", (3, 127, 127)), ("googlenet.yaml", (3, 96, 96)),
                ("mobilenet_v2.yaml", (3, 96, 96)), ("resnet50.yaml", (3, 64, 64)), ("unet_small.yaml", (3, 64, 64)),
                ("resnet3d_10.yaml", (1, 8, 32, 32))]


@pytest.mark.parametrize(("spec", "shape"), SMALL_INPUTS, ids=[spec for spec, _ in SMALL_INPUTS])
def test_example_spec_runs_on_cpu(spec: str, shape: tuple[int, ...] | None) -> None:
    graph = parse(SPECS / spec, Overrides(inputs={"": shape} if shape else {}))
    parity(graph, "cpu")


# -- one small spec per layer family, with unusual settings ---------------------------------------

def spec(shape: list[int], *layers: str, top: str = "") -> str:
    """A spec of `layers` on one input of `shape`, batch 2 (or the inputs and outputs in `top`)."""
    body = "\n".join(f"  - {layer}" for layer in layers)
    return f"{top or f'input: {{shape: {shape}, batch: 2}}'}\nlayers:\n{body}\n"


LAYER_CASES = {
    "conv2d asymmetric padding, stride, dilation, groups": spec(
        [4, 11, 13], "{type: conv2d, out_channels: 6, kernel_size: [3, 2], stride: [2, 3], dilation: [2, 1], "
        "groups: 2, bias: false, padding: [[1, 2], [0, 3]]}"),
    "conv2d same with stride 2, odd and even sizes": spec(
        [3, 10, 9], "{type: conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: same}",
        "{type: conv2d, out_channels: 4, kernel_size: [4, 5], stride: [2, 3], padding: same, dilation: [1, 2]}"),
    "conv2d same with stride 1 and an even kernel": spec(
        [2, 7, 8], "{type: conv2d, out_channels: 3, kernel_size: 4, padding: same, dilation: 2}",
        "{type: conv2d, out_channels: 3, kernel_size: [2, 3], padding: valid}"),
    "conv1d and conv3d": spec(
        [4, 6, 7, 8], "{type: conv3d, out_channels: 8, kernel_size: [1, 3, 3], stride: [1, 2, 2], padding: [0, 1, 1]}",
        "{type: reshape, shape: [8, -1]}",
        "{type: conv1d, out_channels: 4, kernel_size: 5, stride: 3, padding: [[2, 0]], groups: 4}",
        "{type: conv, out_channels: 2, kernel_size: 2, dilation: 3, padding: same}"),
    "transposed convolutions": spec(
        [4, 5, 6],
        "{type: conv_transpose2d, out_channels: 6, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}",
        "{type: conv_transpose2d, out_channels: 4, kernel_size: [3, 4], stride: [3, 2], dilation: 2, groups: 2, "
        "padding: [[0, 1], [2, 1]], output_padding: [1, 0], bias: false}",
        "{type: reshape, shape: [4, -1]}",
        "{type: conv_transpose1d, out_channels: 2, kernel_size: 5, stride: 4, padding: [[3, 0]], output_padding: 3}"),
    "transposed 3d": spec(
        [2, 3, 4, 5], "{type: conv_transpose, out_channels: 3, kernel_size: 2, stride: 2}",
        "{type: conv_transpose3d, out_channels: 2, kernel_size: [3, 1, 3], padding: [1, 0, [2, 0]]}"),
    "linear on the last axis": spec([3, 7], "{type: linear, out_features: 5}",
                                     "{type: linear, out_features: 2, bias: false}"),
    "max pooling: ceil_mode drops a window in the padding, dilation": spec(
        [3, 3, 9], "{type: maxpool2d, kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}",
        "{type: maxpool2d, kernel_size: 3, stride: [1, 2], dilation: [1, 2], padding: 1, ceil_mode: true}"),
    "max pooling: same and asymmetric padding": spec(
        [3, 8, 9], "{type: maxpool2d, kernel_size: 3, stride: 2, padding: same}",
        "{type: maxpool2d, kernel_size: 2, stride: 3, padding: [[0, 1], [1, 0]], ceil_mode: true}"),
    "max pooling: asymmetric padding where PyTorch's ceil_mode keeps one more window": spec(
        [2, 6], "{type: maxpool1d, kernel_size: 3, padding: [[0, 1]], ceil_mode: true}",
        "{type: avgpool1d, kernel_size: 2, padding: [[0, 1]], ceil_mode: true}"),
    "average pooling: ceil_mode, count_include_pad, same": spec(
        [3, 9, 10],
        "{type: avgpool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}",
        "{type: avgpool2d, kernel_size: 2, padding: same, stride: [2, 1]}",
        "{type: avgpool, kernel_size: [2, 3], stride: 2, padding: [[1, 0], [1, 1]], ceil_mode: true}",
        "{type: avgpool2d, kernel_size: 2, padding: [[0, 1], [0, 1]], ceil_mode: true}"),
    "pooling in 1d and 3d": spec(
        [2, 5, 6, 7], "{type: maxpool3d, kernel_size: 2, ceil_mode: true}",
        "{type: avgpool3d, kernel_size: [1, 2, 2], stride: 1, padding: [0, 1, 1], count_include_pad: false}",
        "{type: reshape, shape: [2, -1]}", "{type: avgpool1d, kernel_size: 4, stride: 3, ceil_mode: true}",
        "{type: maxpool, kernel_size: 3, padding: 1}"),
    "3d average pooling of an input smaller than the kernel, which PyTorch pads only after": spec(
        [2, 1, 2, 3], "{type: avgpool3d, kernel_size: [3, 2, 3], stride: 1, padding: 1}",
        "{type: avgpool3d, kernel_size: 2, stride: 1, padding: same, ceil_mode: true}"),
    "adaptive and global pooling, sizes that do not divide": spec(
        [4, 7, 10], "{type: adaptive_avgpool2d, output_size: [3, 4]}", "{type: adaptive_maxpool2d, output_size: 2}",
        "{type: global_maxpool}", "{type: reshape, shape: [4, 1]}", "{type: upsample, size: 9}",
        "{type: adaptive_maxpool1d, output_size: 4}", "{type: adaptive_avgpool1d, output_size: 3}",
        "{type: adaptive_avgpool, output_size: 2}", "{type: global_avgpool}", "{type: reshape, shape: [1, 2, 2, 1]}",
        "{type: adaptive_avgpool3d, output_size: [3, 1, 2]}", "{type: adaptive_maxpool3d, output_size: [2, 2, 1]}",
        "{type: adaptive_maxpool, output_size: 1}"),
    "normalizations": spec(
        [6, 5, 4], "{type: batchnorm2d}", "{type: batchnorm, affine: false}", "{type: layernorm}",
        "{type: layernorm, normalized_shape: [5, 4], affine: false}", "{type: groupnorm, num_groups: 3}",
        "{type: instancenorm2d, affine: true, track_running_stats: true}", "{type: instancenorm}",
        "{type: lrn, size: 3, alpha: 0.001, beta: 0.5, k: 2}", "{type: scale}", "{type: scale, bias: true}",
        "{type: batchnorm2d, track_running_stats: false}", "{type: reshape, shape: [6, 20]}", "{type: batchnorm1d}",
        "{type: instancenorm1d, affine: true}", "{type: flatten}", "{type: batchnorm1d}", "{type: layernorm}",
        "{type: scale, bias: true}", "{type: reshape, shape: [3, 2, 4, 5]}", "{type: batchnorm3d}",
        "{type: instancenorm3d}", "{type: layernorm}"),
    "activations": spec(
        [4, 3, 3], *[f"{{type: {kind}}}" for kind in ("relu", "relu6", "selu", "gelu", "sigmoid", "silu", "tanh",
                                                      "hardsigmoid", "hardswish", "mish", "elu", "prelu")],
        "{type: leaky_relu, negative_slope: 0.2}", "{type: elu, alpha: 0.5}",
        "{type: prelu, num_parameters: 4, init: 0.1}", "{type: softmax}", "{type: softmax, dim: -1}",
        "{type: log_softmax, dim: 1}"),
    "merges with broadcasting, concat along other axes": spec(
        [4, 3, 5], "{type: conv2d, name: a, out_channels: 4, kernel_size: 1}",
        "{type: global_avgpool, name: b, from: input}", "{type: slice, name: c, from: input, dim: 1, start: 0, end: 1}",
        "{type: add, from: [a, b, c]}", "{type: sub, from: [-1, b]}", "{type: mul, from: [-1, c, a]}",
        "{type: concat, from: [-1, a], dim: 1}", "{type: concat, from: [-1, -1], dim: -1}",
        "{type: slice, from: c, end: 1}", "{type: reshape, name: row, shape: [5]}", "{type: add, from: [a, row]}"),
    "reshaping": spec(
        [12, 4, 6], "{type: permute, dims: [1, 2, 0]}", "{type: permute, dims: [-1, 0, 1]}",
        "{type: slice, dim: -1, start: -5, end: -1}", "{type: slice, start: 3}",
        "{type: pad, padding: [[1, 2], 1], value: 0.5}", "{type: pad, padding: [2, [0, 3]], mode: reflect}",
        "{type: pad, padding: 2, mode: replicate}", "{type: pad, padding: [[1, 0], [0, 4]], mode: circular}",
        "{type: channel_shuffle, groups: 3}", "{type: pixel_shuffle, upscale_factor: 3}", "{type: identity}",
        "{type: dropout, p: 0.2}", "{type: flatten}", "{type: reshape, shape: [-1, 4]}",
        "{type: pad, padding: [[0, 3]], mode: reflect}"),
    "Darknet's shortcut of unequal shapes and weighted, reorg, locally connected": spec(
        [4, 6, 6], "{type: conv2d, name: a, out_channels: 2, kernel_size: 1}",
        "{type: conv2d, name: b, from: input, out_channels: 6, kernel_size: 1}", "{type: shortcut, from: [input, a, b]}",
        "{type: shortcut, from: [-1, input], weights: per_channel}", "{type: shortcut, from: [-1, a], weights: per_feature}",
        "{type: pixel_unshuffle, downscale_factor: 2}", "{type: local2d, out_channels: 3, kernel_size: 3, padding: 1}",
        "{type: local2d, out_channels: 2, kernel_size: 2, stride: 2}", "{type: global_avgpool, name: pooled}",
        "{type: maximum, from: [-2, pooled]}", "{type: maximum, from: [-1, -1, -3]}"),
    "upsample: scale, size, modes, to a reference": spec(
        [2, 5, 7], "{type: upsample, scale_factor: 2}", "{type: upsample, scale_factor: [1.5, 0.7], mode: bilinear}",
        "{type: upsample, size: [6, 11], mode: bicubic}", "{type: upsample, name: up, from: [-1, input]}",
        "{type: upsample, from: [input, up], mode: bilinear}", "{type: reshape, shape: [2, 1, 5, 7]}",
        "{type: upsample, scale_factor: [2, 1.5, 1], mode: trilinear}", "{type: reshape, shape: [2, -1]}",
        "{type: upsample, scale_factor: 1.3, mode: linear}"),
    "matmul: broadcasting leading axes, transpose_b": spec(
        [2, 5, 3], "{type: permute, name: t, dims: [0, 2, 1]}", "{type: matmul, name: gram, from: [input, t]}",
        "{type: slice, name: one, from: input, end: 1}", "{type: matmul, from: [one, t]}",
        "{type: matmul, from: [input, one], transpose_b: true}", "{type: reshape, shape: [10, 5]}",
        "{type: matmul, from: [-1, gram]}"),
    "attention: heads, a mask, causal, different value width": spec(
        [4, 6, 8], "{type: attention, from: [input, input, input]}", "{type: linear, name: v, out_features: 3}",
        "{type: attention, from: [input, input, v], is_causal: true, scale: 0.5}",
        "{type: constant, name: mask, shape: [6, 6]}", "{type: attention, from: [input, input, v, mask]}",
        "{type: reshape, shape: [24, 3]}", "{type: attention, from: [-1, -1, -1]}"),
    "multihead attention: self, cross with other widths, no bias": spec(
        [10, 12], "{type: multihead_attention, num_heads: 3}", "{type: slice, name: kv, start: 4}",
        "{type: linear, name: key, out_features: 5}", "{type: linear, name: value, out_features: 7}",
        "{type: multihead_attention, from: [input, key, value], num_heads: 4, bias: false, embed_dim: 12}",
        "{type: multihead_attention, from: [input, kv, kv], num_heads: 2}"),
    "learned and fixed tensors: class token, position embedding, a scalar": spec(
        [8, 5], "{type: parameter, name: cls, shape: [1, 5]}", "{type: concat, from: [cls, input], dim: 0}",
        "{type: parameter, name: pos, shape: [9, 5]}", "{type: add, from: [-2, pos]}",
        "{type: constant, name: half, shape: [1], value: 0.5}", "{type: mul, from: [-2, half]}",
        "{type: div, from: [-1, half]}", "{type: select, dim: 0, index: 0}", "{type: reshape, shape: [5, 1]}"),
    "reductions and elementwise functions": spec(
        [3, 4, 5], "{type: mean, dim: [1, 2]}", "{type: sum, from: input, dim: -1, keepdim: true}",
        "{type: max, dim: [0, 2]}", "{type: min, from: input, dim: 0}", "{type: abs}", "{type: sqrt}",
        *[f"{{type: {kind}}}" for kind in ("rsqrt", "exp", "log", "neg", "square", "reciprocal", "sin", "cos",
                                           "erf")],
        "{type: pow, exponent: 3}", "{type: normalize}", "{type: normalize, p: 1, dim: -1}",
        "{type: rmsnorm, normalized_shape: 5}", "{type: rmsnorm, normalized_shape: [4, 5], affine: false}"),
    "indexing: select, stack, expand, roll, drop path": spec(
        [3, 4, 5], "{type: select, dim: -1, index: -2}", "{type: stack, from: [-1, -1, -1], dim: 1}",
        "{type: stack, from: [input, input], dim: -1}", "{type: select, dim: 0, index: 1}",
        "{type: slice, end: 1}", "{type: expand, shape: [2, 6, -1, 5, 2]}", "{type: roll, shifts: 2, dims: 1}",
        "{type: roll, shifts: [-1, 3], dims: [-1, 0]}", "{type: drop_path}", "{type: stochastic_depth}"),
    "sampling: topk, index_select, grid_sample with leading axes": spec(
        [3, 4, 5], "{type: max, name: best, dim: [0, 2]}", "{type: topk, name: top, k: 2}",
        "{type: index_select, name: rows, from: [input, top], dim: 1}", "{type: topk, from: input, k: 3, dim: 0}",
        "{type: slice, name: grid, from: input, dim: 2, end: 2}", "{type: grid_sample, from: [input, grid]}",
        "{type: grid_sample, from: [rows, grid], mode: nearest, padding_mode: border, align_corners: true}",
        "{type: reshape, name: heads, from: input, shape: [3, 1, 4, 5]}",
        "{type: reshape, name: points, from: grid, shape: [3, 2, 2, 2]}",
        "{type: grid_sample, from: [heads, points]}"),
    "einsum: heads, an outer product, a letter summed first, one operand": spec(
        [2, 6, 4], "{type: einsum, name: scores, from: [input, input], equation: 'hqd,hkd->hqk'}",
        "{type: einsum, from: [scores, input], equation: 'hqk,hkd->hqd'}", "{type: select, name: row, index: 0}",
        "{type: einsum, from: [row, row], equation: 'ij,kl->ik'}", "{type: einsum, from: [-1], equation: 'ik->ki'}",
        "{type: einsum, from: [row, row], equation: 'ab, cb -> ac'}", "{type: einsum, equation: 'ac->c'}",
        "{type: reshape, name: column, shape: [6, 1]}",
        "{type: einsum, from: [column, column], equation: 'ik,jk->ij'}"),
    "several inputs and outputs": spec(
        [], "{type: conv2d, name: stem, from: image, out_channels: 4, kernel_size: 3, padding: 1}",
        "{type: concat, from: [stem, depth]}", "{type: conv2d, name: head1, out_channels: 2, kernel_size: 1}",
        "{type: global_avgpool, from: stem}", "{type: flatten}", "{type: linear, name: head2, out_features: 3}",
        top="inputs: {image: {shape: [3, 8, 8], batch: 2}, depth: {shape: [1, 8, 8], batch: 2}}\n"
            "outputs: [head2, head1, stem]"),
}


# Layers whose input is token ids, not the random floats test_torch_export feeds every LAYER_CASES spec.
TOKEN_ID_CASES = {
    "embedding of token ids, with a learned position embedding": spec(
        [7], "{type: embedding, num_embeddings: 4, embedding_dim: 3}", "{type: parameter, name: pos, shape: [7, 3]}",
        "{type: add, from: [embedding_1, pos]}"),
}


@pytest.mark.parametrize("text", [*LAYER_CASES.values(), *TOKEN_ID_CASES.values()],
                         ids=[*LAYER_CASES, *TOKEN_ID_CASES])
def test_layer_family_matches_pytorch(text: str) -> None:
    graph = parse(text)
    parity(graph, "cpu")
    parity(graph, "meta")


def test_every_layer_type_has_a_module_and_a_parity_test() -> None:
    assert set(REGISTRY.values()) <= set(MAPPERS)
    tested = {record.type for text in [*LAYER_CASES.values(), *TOKEN_ID_CASES.values()]
              for record in parse(text).layers}
    assert tested == set(REGISTRY)


# -- values where cnncalc maps a spec feature onto more than one PyTorch module --------------------

@pytest.mark.parametrize(("layer", "expected"), [
    ("{type: maxpool1d, kernel_size: 2, padding: [[0, 1]]}", [2.0, 4.0, 5.0]),
    ("{type: avgpool1d, kernel_size: 2, padding: [[0, 1]]}", [1.5, 3.5, 2.5]),
    ("{type: avgpool1d, kernel_size: 4, stride: 2, padding: same}", [1.5, 3.5, 2.25]),  # padding (1, 2), counted
    ("{type: maxpool1d, kernel_size: 4, stride: 3, padding: [[1, 2]], ceil_mode: true}", [3.0, 5.0]),
    ("{type: conv1d, out_channels: 1, kernel_size: 2, padding: [[0, 1]], bias: false}", [3.0, 5.0, 7.0, 9.0, 5.0]),
    ("{type: conv_transpose1d, out_channels: 1, kernel_size: 2, padding: [[1, 0]], bias: false}",
     [3.0, 5.0, 7.0, 9.0, 5.0]),
], ids=["maxpool pad end", "avgpool pad end", "avgpool same", "maxpool ceil crop", "conv pad end", "tconv crop"])
def test_uneven_padding_values(layer: str, expected: list[float]) -> None:
    """Hand-computed on the input 1, 2, 3, 4, 5 with all weights 1."""
    network = build_module(spec([1, 5], layer)).eval()
    for parameter in network.parameters():
        torch.nn.init.ones_(parameter)
    output = network(torch.arange(1.0, 6.0).reshape(1, 1, 5).repeat(2, 1, 1))
    assert output[0, 0].tolist() == expected


RESTRICTIONS = [  # (layers after a [2, 4, 4] input, PyTorch's module on such a batch, cnncalc's message)
    (["{type: flatten}", "{type: lrn, size: 2}"], lambda: torch.nn.LocalResponseNorm(2)(torch.randn(2, 32)),
     "lrn expects"),
    (["{type: flatten}", "{type: channel_shuffle, groups: 2}"],
     lambda: torch.nn.ChannelShuffle(2)(torch.randn(2, 32)), "channel_shuffle expects"),
    (["{type: pad, padding: 4, mode: reflect}"], lambda: torch.nn.ReflectionPad2d(4)(torch.randn(2, 2, 4, 4)),
     "reflect padding 4 on an axis of 4"),
    (["{type: pad, padding: [[0, 5], 1], mode: circular}"],
     lambda: torch.nn.CircularPad2d((1, 1, 0, 5))(torch.randn(2, 2, 4, 4)), "circular padding 5 on an axis of 4"),
]


@pytest.mark.parametrize(("layers", "pytorch", "message"), RESTRICTIONS, ids=[case[2] for case in RESTRICTIONS])
def test_what_pytorch_refuses_cnncalc_refuses(layers: list[str], pytorch: Any, message: str) -> None:
    with pytest.raises((RuntimeError, ValueError)):
        pytorch()
    with pytest.raises(SpecError, match=message):
        parse(spec([2, 4, 4], *layers))


def test_a_feature_without_an_exact_equivalent_is_an_error_naming_the_layer() -> None:
    text = spec([3, 8, 8], "{type: avgpool2d, name: pool, kernel_size: 3, stride: 2, padding: same, "
                           "count_include_pad: false}")
    with pytest.raises(SpecError, match=r"<spec>:3:5: layer 'pool' \(avgpool2d\): average pooling with "
                                        r"\(begin, end\) padding \[\(0, 1\), \(0, 1\)\] \(padding: same\) and "
                                        r"count_include_pad: false has no exact PyTorch equivalent; PyTorch's "
                                        r"pools pad both sides alike"):
        build_module(text)
    with pytest.raises(SpecError, match=r"layer 'conv_1' \(conv\): convolution over 4 spatial axes"):
        build_module(spec([16], "{type: reshape, shape: [1, 2, 2, 2, 2]}", "{type: conv, out_channels: 1, "
                                                                           "kernel_size: 1}"))


def test_module_names_follow_cnncalcs_names() -> None:
    graph = parse(SPECS / "resnet18.yaml")
    network = build_module(graph)
    names = {name for name, _ in network.named_modules()}
    assert {record.name for record in graph.layers} <= names
    assert "layer2.0.downsample.0" in names and "layer2.0" in names
    clash = spec([2, 4, 4], "{type: relu, name: a}", "{type: relu, name: a.b}", "{type: relu, name: training}",
                 "{type: relu, name: c..d}")
    assert list(build_module(clash).layers()) == ["a", "a.b", "training", "c..d"]
    assert [name for name, _ in build_module(clash).named_children()] == ["a", "a__b", "training_", "c____d"]
