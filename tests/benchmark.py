"""Benchmark (not a test): `python tests/benchmark.py [--runs N] [--only WORD]`.

Prints each row of the speed table (README, "Benchmark") as measured here: fresh
processes, the median of N runs (3 by default) with the fastest and slowest, and the
largest peak memory (RSS) of a run. Bytecode is written and used, as a user's install
does. Nothing is asserted: the machines are shared and noisy, so the figures are for
reading, next to the targets printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLI = [PYTHON, "-m", "cnncalc", "analyze", "--format", "json"]
CHAIN = [
    "  - {type: conv2d, out_channels: 16, kernel_size: 3, padding: 1, bias: false}",
    "  - {type: batchnorm2d}",
    "  - {type: relu}",
]


class Measured(NamedTuple):
    median: float  # seconds
    fastest: float
    slowest: float
    peak_mb: float  # the largest peak RSS of one run

    def text(self) -> str:
        return f"{self.median:.2f} s (runs {self.fastest:.2f}-{self.slowest:.2f} s), peak {self.peak_mb:.0f} MB"


def measure(command: list[str], runs: int) -> Measured:
    """Wall time and peak memory of `command` in fresh processes, its output discarded."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, check=True)  # bytecode written
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        if status != 0:
            raise SystemExit(f"{' '.join(command)} failed with status {status}")
        peaks.append(usage.ru_maxrss / 1024)
    return Measured(statistics.median(times), min(times), max(times), max(peaks))


def chain_spec(layers: int) -> str:
    lines = ["name: chain", "input: {shape: [16, 32, 32]}", "layers:"]
    return "\n".join(lines + [CHAIN[index % len(CHAIN)] for index in range(layers)]) + "\n"


def block_spec(size: int, uses: int) -> str:
    layers = [line.replace("out_channels: 16", 'out_channels: "${c}"') for line in CHAIN]
    body = ["    " + layers[index % len(layers)] for index in range(size)]
    return "\n".join(["name: stages", "input: {shape: [16, 32, 32]}", "blocks:", "  stage:", "    params: {c: 16}",
                      "    layers:", *body, "layers:", f"  - {{type: stage, c: 16, repeat: {uses}}}"]) + "\n"


def darknet_cfg(layers: int) -> str:
    section = "[convolutional]\nfilters=16\nsize=1\nstride=1\npad=0\nactivation=linear\n"
    return "[net]\nwidth=32\nheight=32\nchannels=16\n\n" + "\n".join([section] * layers)


def caffe_prototxt(layers: int) -> str:
    """In-place ReLUs, unnamed: 12 tokens a layer keeps 40,000 of them under the reader's token limit."""
    head = 'name: "relus"\ninput: "data"\ninput_shape { dim: 1 dim: 16 dim: 32 dim: 32 }\n'
    return head + 'layer { type: "ReLU" bottom: "data" top: "data" }\n' * layers


def yaml_chain(line: str, layers: int) -> str:
    return "name: chain\ninput: {shape: [16, 32, 32]}\nlayers:\n" + f"  - {line}\n" * layers


def onnx_chain(path: Path, nodes: int) -> None:
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Relu", [f"t{index}"], [f"t{index + 1}"], name=f"relu{index}") for index in range(nodes)],
        "chain", [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 16, 32, 32])],
        [helper.make_tensor_value_info(f"t{nodes}", TensorProto.FLOAT, None)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def row(what: str, target: str, text: str) -> None:
    print(f"| {what} | {target} | {text} |", flush=True)


def startup(folder: Path, runs: int) -> None:
    bare = measure([PYTHON, "-c", "import click, yaml, rich"], max(runs, 7))
    resnet = measure([PYTHON, "-m", "cnncalc", "analyze", "specs/resnet50.yaml"], max(runs, 7))
    row("`analyze specs/resnet50.yaml` / bare `import click, yaml, rich`", "at most 1.3x",
        f"{resnet.median / bare.median:.2f}x ({resnet.median * 1000:.0f} ms against {bare.median * 1000:.0f} ms; "
        f"fastest runs {resnet.fastest / bare.fastest:.2f}x)")


def chain(folder: Path, runs: int) -> None:
    path = folder / "chain100k.yaml"
    path.write_text(chain_spec(100_000))
    row("`analyze` of a 100,000-layer chain (conv/bn/relu), JSON", "at most 2 s", measure(CLI + [str(path)], runs).text())


def million(folder: Path, runs: int) -> None:
    path = folder / "relu1m.yaml"
    path.write_text("name: relus\ninput: {shape: [16, 32, 32]}\nlayers:\n  - {type: relu, repeat: 1000000}\n")
    row("a valid 1,000,000-layer spec (`relu`, `repeat: 1000000`), JSON", "at most 15 s, at most 1 GB",
        measure(CLI + [str(path)], runs).text())


def blocks(folder: Path, runs: int) -> None:
    path = folder / "blocks.yaml"
    path.write_text(block_spec(100, 1000))
    row("a 100-layer block used 1,000 times (same parameters), JSON", "at most 1.5 s",
        measure(CLI + [str(path)], runs).text())


def importers(folder: Path, runs: int) -> None:
    cases = (("Darknet, 40,000 1x1 convolutions (.cfg)", "darknet.cfg", darknet_cfg(40_000),
              yaml_chain("{type: conv2d, out_channels: 16, kernel_size: 1}", 40_000)),
             ("Caffe, 40,000 ReLUs (.prototxt)", "relus.prototxt", caffe_prototxt(40_000),
              yaml_chain("{type: relu}", 40_000)))
    for what, name, text, same_in_yaml in cases:
        (folder / name).write_text(text)
        (folder / f"{name}.yaml").write_text(same_in_yaml)
        imported = measure(CLI + [str(folder / name)], runs)
        written = measure(CLI + [str(folder / f"{name}.yaml")], runs)
        row(f"{what} against the same layers in YAML", "within 1.5x of the YAML reader",
            f"{imported.median / written.median:.1f}x: {imported.text()}; YAML {written.median:.2f} s")


def onnx(folder: Path, runs: int) -> None:
    path = folder / "chain.onnx"
    try:
        onnx_chain(path, 100_000)
    except ImportError:
        row("100,000-node ONNX chain", "at most 4 s", "not measured: onnx is not installed")
        return
    row("100,000-node ONNX chain (Relu), JSON", "at most 4 s", measure(CLI + [str(path)], runs).text())


TORCH_MODELS = ("resnet18", "mobilenet_v2", "resnet50")
TORCH_RUN = """
import sys, torchvision
model = getattr(torchvision.models, sys.argv[1])()
if sys.argv[2] == "torchinfo":
    import torchinfo
    torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)
else:
    import cnncalc
    from cnncalc.importers.emit import spec_text
    cnncalc.analyze(spec_text(cnncalc.from_torch(model, (3, 224, 224))))
"""


def torch(folder: Path, runs: int) -> None:
    try:
        import torchinfo  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as error:
        row("`from_torch` + analyze against `torchinfo.summary`", "at least 1.5x faster on every model",
            f"not measured: {error.name} is not installed")
        return
    for model in TORCH_MODELS:
        ours = measure([PYTHON, "-c", TORCH_RUN, model, "cnncalc"], runs)
        theirs = measure([PYTHON, "-c", TORCH_RUN, model, "torchinfo"], runs)
        row(f"`from_torch` + analyze against `torchinfo.summary`, {model}", "at least 1.5x faster",
            f"{theirs.median / ours.median:.2f}x faster: {ours.median:.2f} s against {theirs.median:.2f} s")


ROWS: dict[str, Callable[[Path, int], None]] = {
    "startup": startup, "chain": chain, "million": million, "blocks": blocks, "importers": importers,
    "onnx": onnx, "torch": torch,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (start-up takes at least 7)")
    parser.add_argument("--only", choices=sorted(ROWS), action="append", help="one row (repeatable)")
    arguments = parser.parse_args()
    print(f"median of {arguments.runs} fresh runs, {os.cpu_count()} cores, load average "
          f"{', '.join(f'{load:.1f}' for load in os.getloadavg())} at the start\n")
    print("| what | target | measured |\n| --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name in arguments.only or ROWS:
            ROWS[name](Path(folder), arguments.runs)


if __name__ == "__main__":
    main()
