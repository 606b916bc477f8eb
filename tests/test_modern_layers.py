"""Token-network layer types against known answers from PyTorch itself: each row is a PyTorch
call written with plain torch and torch.nn (not through cnncalc.torch), its FlopCounterMode
total on the math attention path (FLOPs = 2 x MACs), its parameter count and its output shape,
recorded from torch 2.13 and re-measured when PyTorch is installed."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from cnncalc.sources import parse

# (id, per-sample input shapes, the layer, 2 x MACs, params, buffers, per-sample output, the PyTorch call)
Reference = Callable[[Any, Any, Any], tuple[Callable[..., Any], Any]]  # (torch, F, nn) -> (call, module or None)
KNOWN: list[tuple[str, dict[str, list[int]], str, int, int, int, tuple[int, ...], Reference]] = [
    ("sdpa 4 heads 16 tokens d=8 (the math path)", {"q": [4, 16, 8], "k": [4, 16, 8], "v": [4, 16, 8]},
     "{type: attention, from: [q, k, v]}", 32_768, 0, 0, (4, 16, 8),
     lambda torch, F, nn: (F.scaled_dot_product_attention, None)),
    ("multihead attention of ViT-Ti (192, 3 heads, 197 tokens)", {"x": [197, 192]},
     "{type: multihead_attention, from: x, num_heads: 3}", 87_902_976, 148_224, 0, (197, 192),
     lambda torch, F, nn: _mha(nn.MultiheadAttention(192, 3, batch_first=True), 1)),
    ("multihead attention across widths, no bias", {"q": [10, 12], "k": [6, 5], "v": [6, 7]},
     "{type: multihead_attention, from: [q, k, v], num_heads: 4, bias: false}", 10_368, 432, 0, (10, 12),
     lambda torch, F, nn: _mha(nn.MultiheadAttention(12, 4, bias=False, kdim=5, vdim=7, batch_first=True), 3)),
    ("matmul broadcasting leading axes", {"a": [3, 1, 5, 8], "b": [1, 4, 8, 6]},
     "{type: matmul, from: [a, b]}", 5_760, 0, 0, (3, 4, 5, 6),
     lambda torch, F, nn: (torch.matmul, None)),
    ("matmul q @ k^T of ViT-Ti's heads", {"q": [3, 197, 64], "k": [3, 197, 64]},
     "{type: matmul, from: [q, k], transpose_b: true}", 14_902_656, 0, 0, (3, 197, 197),
     lambda torch, F, nn: (lambda a, b: a @ b.transpose(-2, -1), None)),
    ("einsum attention scores", {"q": [3, 16, 8], "k": [3, 16, 8]},
     "{type: einsum, from: [q, k], equation: 'hqd,hkd->hqk'}", 12_288, 0, 0, (3, 16, 16),
     lambda torch, F, nn: (lambda a, b: torch.einsum("bhqd,bhkd->bhqk", a, b), None)),
    ("einsum outer product: PyTorch multiplies, no MACs", {"a": [5], "b": [7]},
     "{type: einsum, from: [a, b], equation: 'i,j->ij'}", 0, 0, 0, (5, 7),
     lambda torch, F, nn: (lambda a, b: torch.einsum("bi,bj->bij", a, b), None)),
    ("einsum contracting an axis of 1: PyTorch multiplies, no MACs", {"a": [5, 1], "b": [7, 1]},
     "{type: einsum, from: [a, b], equation: 'ik,jk->ij'}", 0, 0, 0, (5, 7),
     lambda torch, F, nn: (lambda a, b: torch.einsum("bik,bjk->bij", a, b), None)),
    ("einsum with a letter summed first", {"a": [4, 5], "b": [5, 6]},
     "{type: einsum, from: [a, b], equation: 'ij,jk->i'}", 40, 0, 0, (4,),
     lambda torch, F, nn: (lambda a, b: torch.einsum("bij,bjk->bi", a, b), None)),
    ("rmsnorm over 192 features", {"x": [197, 192]},
     "{type: rmsnorm, from: x, normalized_shape: 192}", 0, 192, 0, (197, 192),
     lambda torch, F, nn: _module(nn.RMSNorm(192))),
    ("mean over the spatial axes", {"x": [8, 7, 7]}, "{type: mean, from: x, dim: [1, 2]}", 0, 0, 0, (8,),
     lambda torch, F, nn: (lambda x: x.mean(dim=(2, 3)), None)),
    ("max over channels, keepdim", {"x": [8, 7, 7]}, "{type: max, from: x, dim: 0, keepdim: true}", 0, 0, 0,
     (1, 7, 7), lambda torch, F, nn: (lambda x: x.amax(dim=1, keepdim=True), None)),
    ("select the class token", {"x": [197, 192]}, "{type: select, from: x, index: 0}", 0, 0, 0, (192,),
     lambda torch, F, nn: (lambda x: x[:, 0], None)),
    ("stack along a new axis 1", {"a": [4, 5], "b": [4, 5]}, "{type: stack, from: [a, b], dim: 1}", 0, 0, 0,
     (4, 2, 5), lambda torch, F, nn: (lambda a, b: torch.stack([a, b], 2), None)),
    ("expand with a new leading axis", {"x": [4, 1]}, "{type: expand, from: x, shape: [3, -1, 5]}", 0, 0, 0,
     (3, 4, 5), lambda torch, F, nn: (lambda x: x[:, None].expand(-1, 3, 4, 5), None)),
    ("roll Swin's shifted windows", {"x": [8, 14, 14]}, "{type: roll, from: x, shifts: [-3, -3], dims: [1, 2]}",
     0, 0, 0, (8, 14, 14), lambda torch, F, nn: (lambda x: torch.roll(x, (-3, -3), (2, 3)), None)),
    ("topk: RT-DETR's 300 queries of 8,400 anchors", {"x": [8400]}, "{type: topk, from: x, k: 300}", 0, 0, 0,
     (300,), lambda torch, F, nn: (lambda x: torch.topk(x, 300, dim=1).indices, None)),
    ("index_select of the selected rows", {"x": [8400, 256], "i": [300]},
     "{type: index_select, from: [x, i]}", 0, 0, 0, (300, 256),
     lambda torch, F, nn: (lambda x, i: x[:, i[0].long()], None)),
    ("grid_sample of 8 heads at 300 x 4 points", {"x": [8, 32, 20, 20], "g": [8, 300, 4, 2]},
     "{type: grid_sample, from: [x, g]}", 0, 0, 0, (8, 32, 300, 4),
     lambda torch, F, nn: (lambda x, g: F.grid_sample(x[0], g[0], align_corners=False)[None], None)),
    ("normalize along features", {"x": [16, 64]}, "{type: normalize, from: x, dim: -1}", 0, 0, 0, (16, 64),
     lambda torch, F, nn: (lambda x: F.normalize(x, dim=-1), None)),
    ("embedding table", {"ids": [16]}, "{type: embedding, from: ids, num_embeddings: 1000, embedding_dim: 64}",
     0, 64_000, 0, (16, 64), lambda torch, F, nn: _module(nn.Embedding(1000, 64))),
    ("class token parameter", {"x": [4]}, "{type: parameter, shape: [1, 192]}", 0, 192, 0, (1, 192),
     lambda torch, F, nn: _holder(nn, torch.zeros(1, 1, 192), learned=True)),
    ("constant buffer", {"x": [4]}, "{type: constant, shape: [2, 3], value: 0.5}", 0, 0, 6, (2, 3),
     lambda torch, F, nn: _holder(nn, torch.full((1, 2, 3), 0.5), learned=False)),
]


def _module(module: Any) -> tuple[Any, Any]:
    return module.eval(), module


def _mha(module: Any, inputs: int) -> tuple[Any, Any]:
    module.eval()
    if inputs == 1:
        return (lambda x: module(x, x, x, need_weights=False)[0]), module
    return (lambda q, k, v: module(q, k, v, need_weights=False)[0]), module


def _holder(nn: Any, tensor: Any, learned: bool) -> tuple[Any, Any]:
    """A module holding a learned (parameter) or fixed (buffer) tensor, read as timm reads a
    class token: expanded over the batch."""
    holder = nn.Module()
    if learned:
        holder.weight = nn.Parameter(tensor)
    else:
        holder.register_buffer("weight", tensor)
    return (lambda *_: holder.weight.expand(1, *tensor.shape[1:])), holder


def layer_cost(inputs: dict[str, list[int]], layer: str) -> Any:
    declared = ", ".join(f"{name}: {{shape: {shape}}}" for name, shape in inputs.items())
    graph = parse(f"inputs: {{{declared}}}\nlayers:\n  - {layer}\n")
    return graph.layers[-1].cost


@pytest.mark.parametrize(("inputs", "layer", "flops", "params", "buffers", "shape"),
                         [case[1:7] for case in KNOWN], ids=[case[0] for case in KNOWN])
def test_layer_counts_equal_pytorchs(inputs: dict[str, list[int]], layer: str, flops: int, params: int,
                                     buffers: int, shape: tuple[int, ...]) -> None:
    cost = layer_cost(inputs, layer)
    assert (2 * cost.macs, cost.params, cost.buffers, cost.shape) == (flops, params, buffers, shape)


@pytest.mark.parametrize(("inputs", "flops", "params", "buffers", "shape", "reference"),
                         [(case[1], *case[3:]) for case in KNOWN], ids=[case[0] for case in KNOWN])
def test_known_answers_are_what_pytorch_measures(inputs: dict[str, list[int]], flops: int, params: int,
                                                 buffers: int, shape: tuple[int, ...], reference: Reference) -> None:
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    function, module = reference(torch, torch.nn.functional, torch.nn)
    tensors = [torch.randint(1000, (1, *size)) if name == "ids" else torch.randn(1, *size)
               for name, size in inputs.items()]
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            output = function(*tensors)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    held = (sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers())) if module else (0, 0)
    assert (counter.get_total_flops(), *held, tuple(output.shape)) == (flops, params, buffers, (1, *shape))


def test_fused_attention_counts_nothing_in_flopcountermode() -> None:
    """Why the parity tests count on the math path (docs/peers.md): the fused CPU kernel is counted as 0."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    q = torch.randn(1, 4, 16, 8)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        torch.nn.functional.scaled_dot_product_attention(q, q, q)
    assert counter.get_total_flops() == 0
    assert 2 * layer_cost({"q": [4, 16, 8]}, "{type: attention, from: [q, q, q]}").macs == 32_768
