"""The PyTorch importer on real models: every torchvision classification and segmentation
model, one timm model per architecture family, every Ultralytics model YAML, each checked
against PyTorch (params, 2 x MACs = FlopCounterMode, output shapes; every layer's shape is
checked by the importer itself).

    python tests/sweep_torch.py --out sweep.jsonl            # the default subset (<= 100 M params)
    python tests/sweep_torch.py --all --out sweep.jsonl      # every model
    python tests/sweep_torch.py --only timm:vit_tiny_patch16_224
    python tests/sweep_torch.py --table sweep.jsonl          # docs/coverage.md's tables

Each model runs in its own process under a time limit, so one model cannot stop the sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from real_models import (Model, build, cnncalc_counts, never_called, pytorch_counts, timm_models,  # noqa: E402
                         torchvision_models, ultralytics_models)

DEFAULT_LIMIT = 100_000_000  # parameters: larger models only with --all


def models(corpora: list[str]) -> list[Model]:
    found: list[Model] = []
    for corpus in corpora:
        try:
            found += {"torchvision": torchvision_models, "timm": timm_models,
                      "ultralytics": ultralytics_models}[corpus]()
        except ImportError as error:
            print(f"{corpus}: not installed ({error})", file=sys.stderr)
    return found


def run_one(model: Model, limit: int | None) -> dict[str, Any]:
    """One model's row: status exact, wrong, refused (a SpecError), defect (a traceback from
    cnncalc), unbuildable (the model itself cannot be built or run here), or skipped (too large)."""
    import torch

    from cnncalc.errors import SpecError

    row: dict[str, Any] = {**asdict(model), "status": "", "reason": ""}
    started = time.monotonic()
    try:
        torch.manual_seed(0)
        module = build(model)
        params = sum(parameter.numel() for parameter in module.parameters())
        if limit is not None and params > limit:
            return {**row, "status": "skipped", "reason": f"{params:,} parameters: more than {limit:,} (run with --all)"}
        theirs = pytorch_counts(module, model.shape)
    except Exception as error:  # noqa: BLE001 - the row says why
        return {**row, "status": "unbuildable", "reason": f"{type(error).__name__}: {error}"[:500]}
    row["torch"] = asdict(theirs)
    try:
        ours, description = cnncalc_counts(module, model.shape, model.name)
    except SpecError as error:
        row.update(status="refused", reason=str(error))
    except Exception as error:  # noqa: BLE001
        row.update(status="defect", reason=f"{type(error).__name__}: {error}",
                   traceback=traceback.format_exc()[-3000:])
    else:
        row["cnncalc"] = asdict(ours)
        row["recorded"] = description
        problems, notes = [], []
        if ours.params != theirs.params:
            unused = never_called(module, model.shape)
            if unused and ours.params == theirs.params - sum(unused.values()):
                notes.append(f"{sum(unused.values()):,} parameters in modules forward never calls "
                             f"({', '.join(sorted(unused)[:5])}{' ...' if len(unused) > 5 else ''}): not counted")
            else:
                problems.append(f"params {ours.params:,} vs PyTorch {theirs.params:,}")
        if ours.macs != theirs.macs:
            problems.append(f"MACs {ours.macs:,} vs PyTorch {theirs.macs:,}")
        if ours.outputs != theirs.outputs:
            problems.append(f"outputs {ours.outputs} vs PyTorch {theirs.outputs}")
        row.update(status="wrong" if problems else "exact", reason="; ".join(problems + notes))
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def sweep(selected: list[Model], limit: int | None, timeout: float, out: Path) -> None:
    """Run the models in a worker process that appends a row per model to `out`; a worker that
    gives no row for `timeout` seconds is stopped, the model marked, and a new worker goes on
    with the rest (one process per model would spend most of its time importing)."""
    remaining = list(selected)
    while remaining:
        done_before = _rows(out)
        command = [sys.executable, __file__, "--worker", json.dumps([asdict(model) for model in remaining]),
                   "--out", str(out)] + (["--all"] if limit is None else [])
        worker = subprocess.Popen(command, env={**os.environ, "YOLO_OFFLINE": "1"}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        seen, last = done_before, time.monotonic()
        while worker.poll() is None and time.monotonic() - last < timeout:
            time.sleep(2)
            now = _rows(out)
            if now != seen:
                seen, last = now, time.monotonic()
                print(_summary(out), file=sys.stderr, flush=True)
        finished = _rows(out) - done_before
        stuck = remaining[finished] if finished < len(remaining) else None
        if worker.poll() is None:
            worker.kill()
            reason = f"more than {timeout:.0f} s"
        else:
            reason = f"the process ended ({worker.returncode}): {(worker.stderr.read() or '').strip()[-300:]}"
        worker.wait()
        if stuck is not None:
            status = "timeout" if reason.startswith("more") else "defect"
            with out.open("a") as stream:
                stream.write(json.dumps({**asdict(stuck), "status": status, "reason": reason}) + "\n")
            print(_summary(out), file=sys.stderr, flush=True)
        remaining = remaining[finished + 1:]


def _rows(out: Path) -> int:
    return len(out.read_text().splitlines()) if out.exists() else 0


def _summary(out: Path) -> str:
    row = json.loads(out.read_text().splitlines()[-1])
    return f"{row['corpus']:12} {row['name']:40} {row['status']:11} {row.get('seconds', 0):6.1f}s {row['reason'][:200]}"


def work(selected: list[Model], limit: int | None, out: Path) -> None:
    for model in selected:
        row = run_one(model, limit)
        with out.open("a") as stream:
            stream.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="torchvision,timm,ultralytics")
    parser.add_argument("--all", action="store_true", help="models of every size")
    parser.add_argument("--only", action="append", default=[], help="corpus:name, repeatable")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per model")
    parser.add_argument("--out", type=Path, help="append one JSON line per model (default sweep-torch.jsonl)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--reverse", action="store_true", help="last model first (a second sweep from the end)")
    parser.add_argument("--table", type=Path, help="print docs/coverage.md's tables from a sweep's JSON lines")
    arguments = parser.parse_args()
    limit = None if arguments.all else DEFAULT_LIMIT
    if arguments.one:
        fields = json.loads(arguments.one)
        fields["shape"] = tuple(fields["shape"])
        print(json.dumps(run_one(Model(**fields), limit)))
        return
    if arguments.worker:
        work([Model(**{**fields, "shape": tuple(fields["shape"])}) for fields in json.loads(arguments.worker)],
             limit, arguments.out)
        return
    if arguments.table:
        from coverage_table import tables

        print(tables([json.loads(line) for line in arguments.table.read_text().splitlines() if line.strip()]))
        return
    selected = models(arguments.corpus.split(","))
    if arguments.only:
        wanted = set(arguments.only)
        selected = [model for model in selected if f"{model.corpus}:{model.name}" in wanted]
    if arguments.reverse:
        selected.reverse()
    sweep(selected, limit, arguments.timeout, arguments.out or Path("sweep-torch.jsonl"))


if __name__ == "__main__":
    main()
