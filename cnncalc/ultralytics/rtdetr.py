"""RT-DETR's decoder head (RTDETRDecoder) as it runs in eval mode, written for the file's
feature levels: input projections, the encoder's query selection (top-k of the anchors'
best class scores), and the deformable transformer decoder layers, each with self-attention,
multi-scale deformable cross-attention (grid_sample at computed points, per level) and a
feed-forward; the last layer's box and class heads; the top-k postprocess.

Ultralytics' query_pos_head (a 2-layer MLP) is one module called by every decoder layer:
its weights are parameter layers here, read by each layer's matmuls, so that they count
once. The elementwise steps (the valid-anchor mask, adding the anchors, inverse sigmoid,
scaling the sampling offsets) cost no MACs and are left out or folded into one add or mul.
"""

from __future__ import annotations

from typing import Any

from .rows import Built, Context, arg

Block = dict[str, Any]


def linear(name: str, out: Any, source: str | None = None) -> Block:
    entry: Block = {"type": "linear", "name": name, "out_features": out}
    if source:
        entry["from"] = source
    return entry


def mlp(name: str, source: str, hidden: int, out: int, layers: int) -> Block:
    """Ultralytics' MLP: Linear layers with ReLU between them, named layers.0 ..."""
    chain: list[Block] = []
    for i in range(layers):
        chain.append(linear(f"layers.{i}", out if i == layers - 1 else hidden))
        if i < layers - 1:
            chain.append({"type": "relu", "name": f"act{i}"})
    return {"name": name, "from": source, "layers": chain}


def decoder_layer(levels: int, points: int) -> tuple[str, Block]:
    """DeformableTransformerDecoderLayer for `levels` feature levels."""
    cross: list[Block] = [
        {"type": "add", "name": "query", "from": ["norm1", "query_pos"]},
        linear("value_proj", "$hd", "feats"),
        linear("sampling_offsets", f"${{heads * {levels * points * 2}}}", "query"),
        {"type": "reshape", "name": "offsets", "shape": [-1, "$heads", levels * points, 2]},
        linear("attention_weights", f"${{heads * {levels * points}}}", "query"),
        {"type": "reshape", "name": "weights", "shape": [-1, "$heads", levels * points]},
        {"type": "softmax", "name": "softmax", "dim": 2},
        # the points: reference box centre + offsets scaled by its width and height (elementwise)
        {"type": "slice", "name": "centre", "from": "refer", "dim": 1, "end": 2},
        {"type": "reshape", "name": "centre_view", "shape": [-1, 1, 1, 2]},
        {"type": "slice", "name": "size", "from": "refer", "dim": 1, "start": 2},
        {"type": "reshape", "name": "size_view", "shape": [-1, 1, 1, 2]},
        {"type": "mul", "name": "scaled", "from": ["offsets", "size_view"]},
        {"type": "add", "name": "locations", "from": ["centre_view", "scaled"]},
        {"type": "permute", "name": "grids", "dims": [1, 0, 2, 3]},
    ]
    rest = "value_proj"
    for i in range(levels):
        cross.append({"type": "slice", "name": f"grid{i}", "from": "grids", "dim": 2,
                      "start": i * points, "end": (i + 1) * points})
        cross.append({"type": "MSDeformLevel", "name": f"level{i}", "from": [f"map{i}", rest, f"grid{i}"],
                      "heads": "$heads"})
        if i < levels - 1:
            cross.append({"type": "MSDeformRest", "name": f"rest{i}", "from": [f"map{i}", rest]})
            rest = f"rest{i}"
    cross += [
        {"type": "stack", "name": "sampled", "from": [f"level{i}" for i in range(levels)], "dim": 3},
        {"type": "reshape", "name": "sampled_points", "shape": ["$heads", "${hd // heads}", -1, levels * points]},
        {"type": "permute", "name": "weights_per_head", "from": "softmax", "dims": [1, 0, 2]},
        {"type": "reshape", "name": "weights_view", "shape": ["$heads", 1, -1, levels * points]},
        {"type": "mul", "name": "weighted", "from": ["sampled_points", "weights_view"]},
        {"type": "sum", "name": "summed", "dim": 3},
        {"type": "reshape", "name": "heads_joined", "shape": ["$hd", -1]},
        {"type": "permute", "name": "tokens", "dims": [1, 0]},
        linear("output_proj", "$hd"),
    ]
    layers: list[Block] = [
        {"type": "add", "name": "with_pos", "from": ["embed", "query_pos"]},
        {"type": "multihead_attention", "name": "self_attn", "from": ["with_pos", "with_pos", "embed"],
         "num_heads": "$heads"},
        {"type": "add", "name": "add1", "from": ["embed", "self_attn"]},
        {"type": "layernorm", "name": "norm1", "normalized_shape": ["$hd"]},
        {"name": "cross_attn", "layers": cross},
        {"type": "add", "name": "add2", "from": ["norm1", "cross_attn"]},
        {"type": "layernorm", "name": "norm2", "normalized_shape": ["$hd"]},
        linear("linear1", "$ffn"),
        {"type": "relu", "name": "act"},
        linear("linear2", "$hd"),
        {"type": "add", "name": "add3", "from": ["norm2", "linear2"]},
        {"type": "layernorm", "name": "norm3", "normalized_shape": ["$hd"]},
    ]
    name = f"RTDETRDecoderLayer_{levels}levels"
    return name, {
        "description": f"RT-DETR decoder layer on {levels} levels: self-attention of the queries, multi-scale "
                       "deformable cross-attention (grid_sample per level), feed-forward; each added and layer-normed",
        "inputs": ["embed", "refer", "query_pos", "feats", *(f"map{i}" for i in range(levels))],
        "params": {"hd": 256, "heads": 8, "ffn": 1024},
        "layers": layers}


def rtdetr_decoder(ctx: Context) -> Built:
    a, levels = ctx.row.args, len(ctx.inputs)
    nc, hd, nq, points, heads, depth, ffn = (arg(a, 0, 80), arg(a, 1, 256), arg(a, 2, 300), arg(a, 3, 4),
                                             arg(a, 4, 8), arg(a, 5, 6), arg(a, 6, 1024))
    if arg(a, 8, None) is not None or arg(a, 9, -1) not in (-1, depth - 1) or arg(a, 13, False):
        raise ValueError("RTDETRDecoder with act, eval_idx or learnt_init_query: cnncalc reads its defaults only")
    if hd % heads:
        raise ValueError(f"RTDETRDecoder's hidden size {hd} must divide into {heads} heads")
    layer_name, layer_block = decoder_layer(levels, points)
    layers: list[Block] = []
    for i in range(levels):
        layers.append({"name": f"input_proj.{i}", "from": f"x{i}", "layers": [
            {"type": "conv2d", "name": "0", "out_channels": hd, "kernel_size": 1, "bias": False},
            {"type": "batchnorm2d", "name": "1"}]})
        layers.append({"type": "reshape", "name": f"flat{i}", "shape": [hd, -1]})
        layers.append({"type": "permute", "name": f"tokens{i}", "dims": [1, 0]})
    layers += [
        {"type": "concat", "name": "feats", "from": [f"tokens{i}" for i in range(levels)], "dim": 0},
        {"name": "enc_output", "layers": [linear("0", hd), {"type": "layernorm", "name": "1",
                                                             "normalized_shape": [hd]}]},
        linear("enc_score_head", nc),
        {"type": "max", "name": "best_score", "dim": 1},
        {"type": "topk", "name": "query_selection", "k": nq},
        {"type": "index_select", "name": "top_k_features", "from": ["enc_output", "query_selection"]},
        mlp("enc_bbox_head", "top_k_features", hd, 4, 3),
        {"type": "sigmoid", "name": "refer0"},
        # query_pos_head, one MLP every decoder layer calls: its weights, read by the matmuls below
        {"type": "parameter", "name": "query_pos_head.layers.0.weight", "shape": [2 * hd, 4]},
        {"type": "parameter", "name": "query_pos_head.layers.0.bias", "shape": [2 * hd]},
        {"type": "parameter", "name": "query_pos_head.layers.1.weight", "shape": [hd, 2 * hd]},
        {"type": "parameter", "name": "query_pos_head.layers.1.bias", "shape": [hd]},
        # trained only: the denoising class embedding and the score heads of the layers before the last
        {"type": "parameter", "name": "denoising_class_embed", "shape": [nc, hd]},
        *({"type": "parameter", "name": f"dec_score_head.{j}", "shape": [nc, hd + 1]} for j in range(depth - 1)),
    ]
    embed, refer = "top_k_features", "refer0"
    for j in range(depth):
        layers += [
            {"name": f"query_pos{j}", "from": refer, "layers": [
                {"type": "matmul", "name": "fc0", "from": [refer, "query_pos_head.layers.0.weight"], "transpose_b": True},
                {"type": "add", "name": "bias0", "from": ["fc0", "query_pos_head.layers.0.bias"]},
                {"type": "relu", "name": "act"},
                {"type": "matmul", "name": "fc1", "from": ["act", "query_pos_head.layers.1.weight"], "transpose_b": True},
                {"type": "add", "name": "bias1", "from": ["fc1", "query_pos_head.layers.1.bias"]}]},
            {"type": layer_name, "name": f"decoder.layers.{j}", "hd": hd, "heads": heads, "ffn": ffn,
             "from": [embed, refer, f"query_pos{j}", "feats", *(f"input_proj.{i}" for i in range(levels))]},
            mlp(f"dec_bbox_head.{j}", f"decoder.layers.{j}", hd, 4, 3),
            {"type": "add", "name": f"refine{j}", "from": [f"dec_bbox_head.{j}", refer]},
            {"type": "sigmoid", "name": f"refer{j + 1}"},
        ]
        embed, refer = f"decoder.layers.{j}", f"refer{j + 1}"
    layers += [
        linear(f"dec_score_head.{depth - 1}", nc, embed),
        {"type": "sigmoid", "name": "scores"},
        {"type": "reshape", "name": "scores_flat", "shape": [-1]},
        {"type": "topk", "name": "detections", "k": min(nq, nq * nc)},
        # Ultralytics picks each detection's box by its index // nc (an elementwise step cnncalc has no
        # layer for); here by the queries' best scores: the same shapes, nothing counted either way, and
        # the exported PyTorch module indexes within the queries.
        {"type": "max", "name": "query_scores", "from": "scores", "dim": 1},
        {"type": "topk", "name": "detection_queries", "k": min(nq, nq * nc)},
        {"type": "index_select", "name": "boxes", "from": [refer, "detection_queries"]},
        {"type": "index_select", "name": "detection_scores", "from": ["scores_flat", "detections"]},
        {"type": "reshape", "name": "scores_column", "shape": [-1, 1]},
        {"type": "reshape", "name": "labels", "from": "detections", "shape": [-1, 1]},
        {"type": "concat", "name": "y", "from": ["boxes", "scores_column", "labels"], "dim": 1},
    ]
    name = f"RTDETRDecoder_{levels}levels"
    block = {"description": f"RT-DETR's decoder on {levels} levels as it runs in eval mode: input projections, "
                            f"top-{nq} query selection, {depth} deformable decoder layers, the last layer's heads, "
                            "top-k detections [queries, 4 box + score + label]",
             "inputs": [f"x{i}" for i in range(levels)], "layers": layers}
    return Built({"type": name}, 0, {name: block, layer_name: layer_block})
