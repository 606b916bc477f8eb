"""Benchmark (not a test): `python tests/benchmark_onnx.py [nodes]`.

Times `cnncalc analyze --format json` end to end on a generated ONNX chain of 100,000 nodes
(Conv 1x1, BatchNormalization, Relu repeated, the weights shared so that the file stays small),
median of 3 fresh processes, and a 10,000-node chain for the growth. Target (issue 16): at most
4 s for 100,000 nodes on a 2-core machine. Prints the figures; nothing here asserts.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chain_model(nodes: int) -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    channels = 8
    initializers = [numpy_helper.from_array(np.ones((channels, channels, 1, 1), np.float32), "w")]
    for name in ("scale", "bias", "mean", "var"):
        initializers.append(numpy_helper.from_array(np.ones(channels, np.float32), name))
    graph_nodes = []
    previous = "x"
    for index in range(nodes):
        output = f"t{index}"
        kind = index % 3
        if kind == 0:
            graph_nodes.append(helper.make_node("Conv", [previous, "w"], [output], name=f"/block{index}/conv/Conv"))
        elif kind == 1:
            graph_nodes.append(helper.make_node("BatchNormalization", [previous, "scale", "bias", "mean", "var"],
                                                [output], name=f"/block{index}/bn/BatchNormalization"))
        else:
            graph_nodes.append(helper.make_node("Relu", [previous], [output], name=f"/block{index}/relu/Relu"))
        previous = output
    graph = helper.make_graph(graph_nodes, "chain",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 16, 16])],
                              [helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


def timed(command: list[str], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    sizes = [int(argument) for argument in sys.argv[1:]] or [10_000, 100_000]
    cli = [sys.executable, "-m", "cnncalc", "analyze", "--format", "json"]
    with tempfile.TemporaryDirectory() as folder:
        for nodes in sizes:
            path = Path(folder) / f"chain{nodes}.onnx"
            path.write_bytes(chain_model(nodes))
            median, runs = timed(cli + [str(path)], repeats=3)
            print(f"ONNX chain of {nodes:>7,} nodes: {median:.2f} s (runs {', '.join(f'{run:.2f}' for run in runs)})")


if __name__ == "__main__":
    main()
