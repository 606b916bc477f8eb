"""Benchmark (not a test): `python tests/benchmark.py`.

Times `cnncalc analyze --format json` end to end on generated chains of 10,000 and
100,000 layers and on specs/resnet50.yaml, and the bare import of click, yaml and
rich for comparison. Targets on a 2-core machine: 100,000 layers in at most 3 s,
100k/10k time ratio at most 12, peak memory at most 500 MB, resnet50 in at most
2x the import baseline. Prints the figures; the machines are shared and noisy, so
nothing here asserts.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERN = [
    "  - {type: conv2d, out_channels: 16, kernel_size: 3, padding: 1, bias: false}",
    "  - {type: batchnorm2d}",
    "  - {type: relu}",
]


def chain_spec(layers: int) -> str:
    lines = ["name: chain", "input: {shape: [16, 32, 32]}", "layers:"]
    lines += [PATTERN[index % len(PATTERN)] for index in range(layers)]
    return "\n".join(lines) + "\n"


def timed(command: list[str], repeats: int) -> tuple[float, float]:
    """Median wall time in seconds and the largest child peak RSS in MB."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(times), peak_kb / 1024


def main() -> None:
    cli = [sys.executable, "-m", "cnncalc", "analyze", "--format", "json"]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for layers in (10_000, 100_000):
            path = Path(folder) / f"chain{layers}.yaml"
            path.write_text(chain_spec(layers))
            results[layers] = timed(cli + [str(path)], repeats=3)
            print(f"{layers:>7,} layers: {results[layers][0]:.2f} s, peak RSS so far {results[layers][1]:.0f} MB")
    print(f"growth 100k/10k: {results[100_000][0] / results[10_000][0]:.1f}x")
    baseline, _ = timed([sys.executable, "-c", "import click, yaml, rich.console, rich.table"], repeats=7)
    resnet, _ = timed([sys.executable, "-m", "cnncalc", "analyze", "specs/resnet50.yaml"], repeats=7)
    print(f"import click, yaml, rich: {baseline:.3f} s; analyze resnet50 (table): {resnet:.3f} s "
          f"= {resnet / baseline:.2f}x")


if __name__ == "__main__":
    main()
