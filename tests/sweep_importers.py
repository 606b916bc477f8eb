"""Coverage sweep (not a test): how many real Darknet cfgs and Caffe prototxts cnncalc imports.

    python tests/sweep_importers.py FOLDER [--darknet BIN] [--cache DIR] [--verbose]

FOLDER (or $CNNCALC_IMPORT_CORPUS) holds public .cfg and .prototxt files, in any layout
(docs/importers.md says where ours come from). Every file is imported in this process and
its outcome is one of:

- Caffe: `ok`, `ok with --input` (a train_val whose data layers read sizes from a dataset:
  retried with --input 3xSxS, S the crop_size, else 224), `fails` (a located SpecError),
  `crash` (any other exception: a bug), or left out of the count: `python` (a Python layer:
  arbitrary code), `solver` (a solver naming its net in another file), `not a net`
  (labelmaps and other prototxts without layers).
- Darknet, given --darknet (a darknet executable built from source): the cfg is first run
  through Darknet (`darknet partial CFG EMPTY OUT 100000`: it prints every layer and saves
  every weight); cfgs Darknet does not parse are left out. For an imported cfg, every layer's
  output shape and convolution BF, the number of weights saved, and Darknet's Total BFLOPS
  (AlexeyAB's print) are compared with cnncalc's. Without --darknet, every cfg is counted.

Prints the percentages, then every file that did not import (or differs) with the message.
Nothing here asserts: it measures (see issue 14 for the targets).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from cnncalc import SpecError, analyze
from cnncalc.importers import ImportOptions, import_spec
from cnncalc.importers.prototxt import Message, parse

_INDEX = re.compile(r"^\s*(\d+)\s+(\S.*)$")
_WHC = re.compile(r"(\d+)\s*x\s*(\d+)\s*x\s*(\d+)")
_BF = re.compile(r"([\d.]+)\s*BF")
_TOTAL = re.compile(r"Total BFLOPS\s+([\d.]+)")


# -- Darknet ------------------------------------------------------------------------------

def darknet_print(binary: Path, cfg: Path, cache: Path | None) -> tuple[str, int | None] | None:
    """Darknet's console print of `cfg` and the floats it saves (None when saving failed, as it does for the
    recurrent layers of an empty weights file), or None if Darknet cannot parse the cfg."""
    key = re.sub(r"[^\w.-]", "_", str(cfg.resolve()))
    if cache is not None and (cache / f"{key}.txt").exists():
        text = (cache / f"{key}.txt").read_text(errors="replace")
        floats = int((cache / f"{key}.floats").read_text())
        return _parsed(text, floats)
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as folder:
        empty, out = Path(folder) / "empty.weights", Path(folder) / "out.weights"
        empty.write_bytes(b"")
        try:
            run = subprocess.run([str(binary), "partial", str(cfg.resolve()), str(empty), str(out), "100000"],
                                 capture_output=True, text=True, errors="replace", timeout=120, cwd=cfg.parent)
            text = run.stdout + run.stderr
            # major, minor, revision (4 bytes each) and `seen` (a size_t, 8 bytes), then the floats
            floats = (out.stat().st_size - 20) // 4 if out.exists() and run.returncode == 0 else -1
        except subprocess.TimeoutExpired:
            text, floats = "timeout", -1
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"{key}.txt").write_text(text)
        (cache / f"{key}.floats").write_text(str(floats))
    return _parsed(text, floats)


def _parsed(text: str, floats: int) -> tuple[str, int | None] | None:
    """Darknet parsed the cfg when it went on to load weights (pjreddie) or printed its total (AlexeyAB)."""
    if floats < 0 and "Total BFLOPS" not in text and "Loading weights" not in text:
        return None
    return text, floats if floats >= 0 else None


def darknet_layers(text: str) -> dict[int, tuple[tuple[int, ...] | None, float | None]]:
    """Darknet layer number -> (output C, H, W or (n,), its BF) from the print."""
    layers: dict[int, tuple[tuple[int, ...] | None, float | None]] = {}
    for line in text.splitlines():
        found = _INDEX.match(line)
        if not found or "->" not in line and "outputs:" not in line:
            if found and found.group(2).split()[0] in ("yolo", "region", "detection", "Gaussian_yolo"):
                layers[int(found.group(1))] = (None, None)
            continue
        tail = line.split("->")[-1] if "->" in line else line.split("outputs:")[-1]
        shapes = _WHC.findall(tail)
        bf = _BF.search(tail)
        if shapes:
            width, height, channels = map(int, shapes[-1])
            shape: tuple[int, ...] | None = (channels, height, width)
        else:
            numbers = re.findall(r"\d+", tail)
            shape = (int(numbers[0]),) if numbers else None
        layers[int(found.group(1))] = (shape, float(bf.group(1)) if bf else None)
    return layers


def compare_darknet(cfg: Path, printed: str, floats: int | None) -> list[str]:
    """Differences between Darknet's print of `cfg` and cnncalc's import of it ([] when equal)."""
    spec = import_spec(cfg, ImportOptions())
    report = analyze(cfg)
    rows = {row.name: row for row in report.layers}
    sections: dict[int, list[str]] = {}
    current = -1
    for layer in spec["layers"]:
        comment = layer.get("#", "")
        head = re.match(r"(\d+): \[", comment)
        if head:
            current = int(head.group(1))
        sections.setdefault(current, []).append(layer["name"])
    problems = []
    for index, (shape, bf) in darknet_layers(printed).items():
        names = sections.get(index)
        if names is None:
            problems.append(f"layer {index}: not in cnncalc's import")
            continue
        last = rows[names[-1]]
        ours = last.output_shape[1:]
        if shape is not None and tuple(ours) != shape and not (len(shape) == 1 and _product(ours) == shape[0]):
            problems.append(f"layer {index}: output {'x'.join(map(str, ours))}, Darknet "
                            f"{'x'.join(map(str, shape))}")
        convs = [rows[name] for name in names if rows[name].type in ("conv2d", "conv_transpose2d")]
        if bf is not None and convs and rows[names[0]].type == "conv2d":
            ours_bf = 2 * convs[0].macs / 1e9
            if abs(ours_bf - bf) > 0.0005 + 1e-9 and "xnor" not in str(spec.get("description", "")):
                problems.append(f"layer {index}: {ours_bf:.3f} BF, Darknet {bf:.3f}")
    saved = report.totals.params + report.totals.buffers
    if floats is not None and saved != floats:
        problems.append(f"weights: {saved:,} params + buffers, Darknet saves {floats:,} floats")
    total = _TOTAL.search(printed)
    description = str(spec.get("description", ""))
    ours_total = re.search(r"Total BFLOPS ([\d.]+)", description)
    if total and ours_total and abs(float(ours_total.group(1)) - float(total.group(1))) > 0.0015:
        problems.append(f"Total BFLOPS {ours_total.group(1)}, Darknet {total.group(1)}")
    elif total and not ours_total:
        problems.append("no Darknet total in the spec's description")
    return problems


def _product(shape: Any) -> int:
    result = 1
    for size in shape:
        result *= size
    return result


# -- Caffe --------------------------------------------------------------------------------

def caffe_kind(path: Path) -> tuple[str, Message | None]:
    """net, solver (a net in another file), not a net, or python; with the parsed message."""
    try:
        message = parse(path.read_text(errors="replace"), str(path))
    except SpecError:
        return "net", None
    names = set(message.names())
    if "net_param" in names:
        net = message.last("net_param")
        message = net.value if net is not None and isinstance(net.value, Message) else message
    elif not names & {"layer", "layers"}:
        return ("solver" if names & {"net", "train_net", "test_net", "base_lr"} else "not a net"), message
    for item in message.all("layer") + message.all("layers"):
        kind = item.value.last("type") if isinstance(item.value, Message) else None
        if kind is not None and str(kind.value).lower() == "python":
            return "python", message
    return "net", message


def data_inputs(message: Message | None) -> dict[str, tuple[int, ...]]:
    """--input for a train_val's data layers: 3xSxS, S its crop_size (else 224), per top blob."""
    given: dict[str, tuple[int, ...]] = {}
    if message is None:
        return given
    for item in message.all("layer") + message.all("layers"):
        layer = item.value
        if not isinstance(layer, Message):
            continue
        kind = str(getattr(layer.last("type"), "value", ""))
        if layer.all("bottom") or not (kind.lower().endswith("data") or kind.lower() == "python"):
            continue
        size = 224
        transform = layer.last("transform_param")
        if transform is not None and isinstance(transform.value, Message):
            crop = transform.value.last("crop_size")
            if crop is not None and isinstance(crop.value, int):
                size = crop.value
        tops = layer.all("top")
        if tops:
            given[str(tops[0].value)] = (3, size, size)
    return given


def import_caffe(path: Path, message: Message | None) -> tuple[str, str]:
    try:
        analyze(path)
        return "ok", ""
    except SpecError as error:
        if "reads its sizes from a dataset" not in str(error):
            return "fails", str(error).splitlines()[0]
    try:
        analyze(path, inputs=data_inputs(message))
        return "ok with --input", ""
    except SpecError as error:
        return "fails", str(error).splitlines()[0]


# -- both ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=os.environ.get("CNNCALC_IMPORT_CORPUS"))
    parser.add_argument("--darknet", type=Path, help="a darknet executable built from source")
    parser.add_argument("--cache", type=Path, help="a folder keeping Darknet's prints between runs")
    parser.add_argument("--verbose", action="store_true")
    arguments = parser.parse_args()
    if not arguments.folder:
        sys.exit("give a folder of .cfg and .prototxt files (or set CNNCALC_IMPORT_CORPUS)")
    root = Path(arguments.folder)
    files = sorted(Path(folder, name) for folder, _, names in os.walk(root, followlinks=True) for name in names
                   if Path(name).suffix in (".cfg", ".prototxt"))
    outcomes: dict[str, Counter[str]] = {"Darknet": Counter(), "Caffe": Counter()}
    failures: list[str] = []
    for path in files:
        shown = path.relative_to(root)
        try:
            if path.suffix == ".cfg":
                kind, outcome, why = "Darknet", *sweep_cfg(path, arguments.darknet, arguments.cache)
            else:
                kind, outcome, why = "Caffe", *sweep_prototxt(path)
        except Exception:  # a crash is a bug: shown with its traceback
            kind = "Darknet" if path.suffix == ".cfg" else "Caffe"
            outcome, why = "crash", traceback.format_exc().strip().splitlines()[-1]
        outcomes[kind][outcome] += 1
        if outcome in ("fails", "crash", "differs") or arguments.verbose:
            failures.append(f"{kind} {outcome}: {shown}: {why}")
        sys.stdout.flush()
    for kind, counts in outcomes.items():
        counted = sum(number for outcome, number in counts.items() if outcome in
                      ("ok", "ok with --input", "fails", "crash", "differs"))
        if not counted:
            continue
        good = counts["ok"] + counts["ok with --input"]
        print(f"{kind}: {good}/{counted} = {100 * good / counted:.1f} % import"
              + (f" ({counts['ok']} as they are, {counts['ok with --input']} with --input)" if kind == "Caffe" else "")
              + "; " + ", ".join(f"{outcome} {number}" for outcome, number in sorted(counts.items())))
    print()
    print("\n".join(failures))


def sweep_cfg(path: Path, darknet: Path | None, cache: Path | None) -> tuple[str, str]:
    printed = darknet_print(darknet, path, cache) if darknet else None
    if darknet and printed is None:
        return "darknet cannot parse", ""
    try:
        analyze(path)
    except SpecError as error:
        return "fails", str(error).splitlines()[0]
    if printed is None:
        return "ok", ""
    problems = compare_darknet(path, *printed)
    return ("differs", "; ".join(problems[:4]) + (f" (+{len(problems) - 4})" if len(problems) > 4 else "")) \
        if problems else ("ok", "")


def sweep_prototxt(path: Path) -> tuple[str, str]:
    kind, message = caffe_kind(path)
    if kind != "net":
        return kind, ""
    return import_caffe(path, message)


if __name__ == "__main__":
    main()
