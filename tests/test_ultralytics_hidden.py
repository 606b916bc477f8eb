"""`cnncalc analyze` of an Ultralytics model file with neither torch nor ultralytics
importable (a subprocess where importing them fails), and how long it takes.

The issue's target is an answer in under 0.5 s on the project's machine; the bound
asserted here is three times that, for a shared, loaded CI machine. The report gives
the times measured."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HIDE = ("import sys\n"
        "sys.modules['torch'] = None  # import torch now fails\n"
        "sys.modules['ultralytics'] = None\n"
        "from cnncalc.cli import main\n"
        "main(['analyze', sys.argv[1], '--depth', '1'])\n")
TARGET_SECONDS = 0.5


def shipped(name: str) -> Path | None:
    """A model file of the installed ultralytics package, found without importing it."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0], "cfg", "models").glob(f"*/{name}"))
    return found[0] if found else None


def run_hidden(path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", HIDE, str(path)], cwd=ROOT, capture_output=True, text=True)
    return result, time.perf_counter() - start


def test_the_custom_spec_needs_neither_package() -> None:
    result, seconds = run_hidden(ROOT / "specs" / "yolo_custom_ultralytics.yaml")
    assert result.returncode == 0, result.stderr
    assert "model.16  Detect_2levels    7x2000" in result.stdout
    assert seconds < 3 * TARGET_SECONDS


@pytest.mark.skipif(shipped("yolov8.yaml") is None, reason="ultralytics is not installed: no yolov8.yaml to read")
def test_yolov8n_from_the_package_file(tmp_path: Path) -> None:
    path = tmp_path / "yolov8n.yaml"  # scale n, from the file name as Ultralytics reads it
    path.write_text(shipped("yolov8.yaml").read_text())  # type: ignore[union-attr]
    result, seconds = run_hidden(path)
    assert result.returncode == 0, result.stderr
    assert "3.16 M (3,157,200)" in result.stdout
    assert "8.74 G (8,743,987,200)" in result.stdout
    assert seconds < 3 * TARGET_SECONDS
