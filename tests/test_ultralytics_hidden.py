"""`cnncalc analyze` of an Ultralytics model file with neither torch nor ultralytics
importable (a subprocess where importing them fails), and how long it takes.

The issue's target is an answer in under 0.5 s on the project's machine. What is
asserted is the subprocess's CPU time (user + system, start-up included) under twice
that: the wall-clock time of a machine shared with other jobs measures them too
(measured on 2 shared cores with a load of 14: 1.4 to 2.1 s wall for 0.25 to 0.36 s of
CPU). The report gives the times measured."""

from __future__ import annotations

import importlib.util
import resource
import subprocess
import sys
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
    """The run, and the CPU seconds (user + system) it took."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([sys.executable, "-c", HIDE, str(path)], cwd=ROOT, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


@pytest.mark.parametrize(("name", "row"), [
    ("yolo_custom_ultralytics.yaml", "model.16  Detect_2levels    7x2000"),
    ("yolo_attention_ultralytics.yaml", "model.18  Detect_2levels  8x2000"),
    ("rtdetr_small_ultralytics.yaml", "model.14  RTDETRDecoder_3levels  100x6"),
])
def test_the_specs_need_neither_package(name: str, row: str) -> None:
    result, seconds = run_hidden(ROOT / "specs" / name)
    assert result.returncode == 0, result.stderr
    assert row in result.stdout
    assert seconds < 2 * TARGET_SECONDS


# (package file, the name it is copied to (the scale letter), its parameters and FlopCounterMode FLOPs)
PACKAGE_FILES = [
    ("yolov8.yaml", "yolov8n.yaml", "3.16 M (3,157,200)", "8.74 G (8,743,987,200)"),
    ("yolov10n.yaml", "yolov10n.yaml", "2.78 M (2,775,520)", "8.63 G (8,627,891,200)"),
    ("yolo11.yaml", "yolo11n.yaml", "2.62 M (2,624,080)", "6.54 G (6,542,502,400)"),
    ("yolo12.yaml", "yolo12n.yaml", "2.60 M (2,602,288)", "7.47 G (7,470,963,200)"),
    ("yolo26.yaml", "yolo26n.yaml", "2.57 M (2,572,280)", "6.08 G (6,081,254,400)"),
    ("rtdetr-l.yaml", "rtdetr-l.yaml", "32.97 M (32,970,476)", "109.54 G (109,536,153,600)"),
]


@pytest.mark.skipif(shipped("yolov8.yaml") is None, reason="ultralytics is not installed: no package files to read")
@pytest.mark.parametrize(("source", "name", "params", "flops"), PACKAGE_FILES, ids=[row[1] for row in PACKAGE_FILES])
def test_package_files_need_neither_package(tmp_path: Path, source: str, name: str, params: str, flops: str) -> None:
    path = tmp_path / name  # the scale letter in the file name, as Ultralytics reads it
    path.write_text(shipped(source).read_text())  # type: ignore[union-attr]
    result, seconds = run_hidden(path)
    assert result.returncode == 0, result.stderr
    assert params in result.stdout
    assert flops in result.stdout
    assert seconds < 2 * TARGET_SECONDS
