"""The random-spec generator's token moves (strategies.py's `_Builder` calls them):
a transformer encoder on the tokens of a feature map, and reductions and elementwise math.

`encoder` turns [C, spatial...] into tokens [N, C] (N = the spatial positions), runs a
pre-norm encoder layer (multihead_attention, scaled dot-product attention over heads, or
the same with matmul or einsum), optionally with a class token and a position embedding,
and hands back [C, N] (or [C, spatial...] when the sizes are fixed). Nothing written
depends on N unless the input's size cannot change it, so the specs stay valid when the
input grows, as strategies.py promises.
"""

from __future__ import annotations

from typing import Any

from strategies import Shape, Value, layer_output

MATH = ("sqrt", "rsqrt", "exp", "log", "abs", "neg", "square", "reciprocal", "sin", "cos", "erf")


class Tokens:
    def __init__(self, builder: Any) -> None:
        self.builder = builder
        self.choose = builder.choose

    def layer(self, layers: list[dict[str, Any]], shapes: dict[Any, Shape], entry: dict[str, Any],
              inputs: list[Any]) -> Shape:
        """Append `entry` to an inline chain, its shape from cnncalc's calculator; `inputs` are
        names in the chain, or -1 for the entry before."""
        values = {key: value for key, value in entry.items() if key not in ("type", "from", "name")}
        # A parameter reads nothing; the calculator still wants an input shape to show.
        shape = layer_output(entry["type"], [shapes[name] for name in inputs] or [shapes["input"]], values)
        layers.append(entry)
        if "name" in entry:
            shapes[entry["name"]] = shape
        shapes[-1] = shape
        return shape

    def encoder(self, current: Value) -> Value:
        builder, choose = self.builder, self.choose
        wanted = ("permute", "layernorm", "linear", "gelu", "add")
        channels = current.shape[0]
        if not all(map(builder.allowed, wanted)) or channels < 2:
            return builder.conv(current)
        heads = choose.choice([h for h in (1, 2, 3, 4) if channels % h == 0])
        layers: list[dict[str, Any]] = []
        shapes: dict[Any, Shape] = {"input": current.shape}
        if current.rank > 1:
            self.layer(layers, shapes, {"type": "reshape", "shape": [channels, -1]}, ["input"])
        self.layer(layers, shapes, {"type": "permute", "name": "tokens", "dims": [1, 0]},
                   [-1 if current.rank > 1 else "input"])
        stream = "tokens"
        with_class = builder.allowed("parameter") and builder.flip(40)
        if with_class:
            self.layer(layers, shapes, {"type": "parameter", "name": "cls", "shape": [1, channels]}, [])
            self.layer(layers, shapes, {"type": "concat", "name": "joined", "from": ["cls", "tokens"], "dim": 0},
                       ["cls", "tokens"])
            stream = "joined"
        if current.fixed_sizes and builder.allowed("parameter") and builder.flip(40):
            count = shapes[stream][0]
            self.layer(layers, shapes, {"type": "parameter", "name": "pos", "shape": [count, channels]}, [])
            self.layer(layers, shapes, {"type": "add", "name": "placed", "from": [stream, "pos"]}, [stream, "pos"])
            stream = "placed"
        norm = builder.pick(["layernorm", "rmsnorm"])
        self.layer(layers, shapes, {"type": norm, "name": "norm1", "from": stream, "normalized_shape": channels},
                   [stream])
        attended = self.attention(layers, shapes, channels, heads)
        drop = builder.pick(["drop_path", "stochastic_depth", "dropout", "identity"])
        self.layer(layers, shapes, {"type": drop, "from": attended}, [attended])
        self.layer(layers, shapes, {"type": "add", "name": "res1", "from": [-1, stream]}, [-1, stream])
        hidden = channels * choose.choice([1, 2, 4])
        self.layer(layers, shapes, {"type": norm, "normalized_shape": channels}, ["res1"])
        self.layer(layers, shapes, {"type": "linear", "out_features": hidden}, [-1])
        self.layer(layers, shapes, {"type": builder.pick(["gelu", "silu", "relu"])}, [-1])
        self.layer(layers, shapes, {"type": "linear", "out_features": channels}, [-1])
        self.layer(layers, shapes, {"type": "add", "from": [-1, "res1"]}, [-1, "res1"])
        if with_class:
            self.layer(layers, shapes, {"type": "slice", "start": 1}, [-1])
        shape = self.layer(layers, shapes, {"type": "permute", "dims": [1, 0]}, [-1])
        if current.rank > 1 and current.fixed_sizes and builder.flip(50):
            shape = self.layer(layers, shapes, {"type": "reshape", "shape": list(current.shape)}, [-1])
        entry: dict[str, Any] = {"name": builder.fresh_name(), "layers": layers}
        return builder.add(entry, Value(shape, None, current.fixed_sizes))

    def attention(self, layers: list[dict[str, Any]], shapes: dict[Any, Shape], channels: int, heads: int) -> str:
        """Attention of norm1's tokens; returns the name of its [N, C] output."""
        builder = self.builder
        how = builder.pick(["multihead_attention", "attention", "matmul", "einsum"])
        if how in ("multihead_attention", "identity"):
            entry: dict[str, Any] = {"type": builder.pick(["multihead_attention"]), "name": "attn", "from": "norm1"}
            if entry["type"] == "multihead_attention":
                entry["num_heads"] = heads
                if builder.flip(30):
                    entry["bias"] = builder.choose.choice([True, False])
            self.layer(layers, shapes, entry, ["norm1"])
            return "attn"
        width = channels // heads
        for part in ("q", "k", "v"):
            self.layer(layers, shapes, {"type": "linear", "name": part, "from": "norm1", "out_features": channels},
                       ["norm1"])
            self.layer(layers, shapes, {"type": "reshape", "shape": [-1, heads, width]}, [part])
            self.layer(layers, shapes, {"type": "permute", "name": f"{part}h", "dims": [1, 0, 2]}, [-1])
        if how == "attention":
            entry = {"type": "attention", "from": ["qh", "kh", "vh"]}
            if builder.flip(30):
                entry["is_causal"] = True
            self.layer(layers, shapes, entry, ["qh", "kh", "vh"])
        elif how == "matmul":
            self.layer(layers, shapes, {"type": "matmul", "from": ["qh", "kh"], "transpose_b": True}, ["qh", "kh"])
            self.layer(layers, shapes, {"type": "softmax", "name": "weights", "dim": -1}, [-1])
            self.layer(layers, shapes, {"type": "matmul", "from": ["weights", "vh"]}, ["weights", "vh"])
        else:
            self.layer(layers, shapes, {"type": "einsum", "from": ["qh", "kh"], "equation": "hqd,hkd->hqk"},
                       ["qh", "kh"])
            self.layer(layers, shapes, {"type": "softmax", "name": "weights", "dim": -1}, [-1])
            self.layer(layers, shapes, {"type": "einsum", "from": ["weights", "vh"], "equation": "hqk,hkd->hqd"},
                       ["weights", "vh"])
        self.layer(layers, shapes, {"type": "permute", "dims": [1, 0, 2]}, [-1])
        self.layer(layers, shapes, {"type": "reshape", "shape": [-1, channels]}, [-1])
        self.layer(layers, shapes, {"type": "linear", "name": "proj", "out_features": channels}, [-1])
        return "proj"

    def elementwise(self, current: Value) -> Value:
        """A reduction that keeps the rank, elementwise math, normalize, or a roll."""
        builder, choose = self.builder, self.choose
        kind = builder.pick(["mean", "sum", "max", "min", *MATH, "pow", "normalize", "roll"])
        entry: dict[str, Any] = {"type": kind}
        rank, fixed = current.rank, current.fixed_sizes
        if kind in ("mean", "sum", "max", "min"):
            axes = sorted({choose.integer(0, rank) for _ in range(choose.integer(1, rank + 1))})
            entry.update(dim=axes if len(axes) > 1 or builder.flip(50) else axes[0], keepdim=True)
            fixed = fixed or all(axis in axes for axis in range(1, rank + 1))
        elif kind == "pow":
            entry["exponent"] = choose.choice([2, 3, 0.5])
        elif kind == "normalize" and builder.flip(50):
            entry["dim"] = choose.integer(-rank - 1, rank)
        elif kind == "roll":
            dims = sorted({choose.integer(0, rank) for _ in range(choose.integer(1, rank + 1))})
            entry.update(shifts=[choose.integer(-3, 3) for _ in dims], dims=dims)
        values = {key: value for key, value in entry.items() if key != "type"}
        return builder.add(entry, Value(layer_output(kind, [current.shape], values), None, fixed))
