"""The ONNX coverage sweep: every case of tests/onnx_models.py exported, imported and compared with
PyTorch, one child process per model (bounded in time), the table written to docs/coverage-onnx.md.

    python tests/sweep_onnx.py                      # all cases, results in /tmp/cnncalc-onnx-sweep.jsonl
    python tests/sweep_onnx.py --only swin_t vit_b_16
    python tests/sweep_onnx.py --render docs/coverage-onnx.md   # the table from the results file

tests/test_import_onnx_models.py runs it under CNNCALC_ONNX_SWEEP=1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from onnx_models import CASES, Case, run  # noqa: E402

TIMEOUT = 300  # seconds per model: build, count, export, import
CACHE = Path(tempfile.gettempdir()) / "cnncalc-onnx-models"  # exports and PyTorch's counts, reused


def child(name: str, dynamo: bool) -> None:
    """Run one case and print its outcome as one JSON line."""
    case = next(case for case in CASES if case.id == name)
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    outcome = run(case, CACHE, dynamo)
    print(json.dumps({**asdict(outcome), "seconds": round(time.perf_counter() - started, 1)}))


def sweep(cases: list[Case], results: Path, dynamo: bool) -> list[dict]:
    rows = []
    with results.open("w") as out:
        for case in cases:
            command = [sys.executable, __file__, "--child", case.id] + (["--dynamo"] if dynamo else [])
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
                lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                if lines:
                    row = json.loads(lines[-1])
                else:
                    error = (done.stderr.strip().splitlines() or ["no output"])[-1]
                    row = {"case": case.id, "status": "crashed", "reason": error[:300]}
            except subprocess.TimeoutExpired:
                row = {"case": case.id, "status": "timeout", "reason": f"more than {TIMEOUT} s"}
            rows.append(row)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(f"{row['case']:45} {row['status']:14} {row.get('reason', '')[:150]}", flush=True)
    return rows


def number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def render(rows: list[dict], exporter: str) -> str:
    exact = sum(row["status"] == "exact" for row in rows)
    exported = [row for row in rows if row["status"] not in ("export failed", "timeout", "crashed")]
    lines = [f"| model | status | params | FLOPs (2 x MACs) | reason |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        reference = row.get("reference") or {}
        lines.append(f"| {row['case']} | {row['status']} | {number(reference.get('params'))} | "
                     f"{number(reference.get('flops'))} | {row.get('reason', '').replace('|', '/')} |")
    share = 100 * exact / max(len(exported), 1)
    return (f"{exact} of {len(exported)} exported models ({share:.0f} %) analyse exactly through the {exporter} "
            f"exporter; {len(rows) - len(exported)} of {len(rows)} could not be exported or counted.\n\n"
            + "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--dynamo", action="store_true")
    parser.add_argument("--results", type=Path, default=Path(tempfile.gettempdir()) / "cnncalc-onnx-sweep.jsonl")
    parser.add_argument("--render", type=Path)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.dynamo)
        return
    if arguments.render:
        rows = [json.loads(line) for line in arguments.results.read_text().splitlines() if line.strip()]
        print(render(rows, "dynamo" if arguments.dynamo else "TorchScript"))
        return
    cases = [case for case in CASES if not arguments.only or case.name in arguments.only or case.id in arguments.only]
    sweep(cases, arguments.results, arguments.dynamo)


if __name__ == "__main__":
    main()
