"""docs/coverage.md's tables from the JSON lines of tests/sweep_torch.py (`--table FILE`)."""

from __future__ import annotations

from typing import Any

CORPORA = [("torchvision", "torchvision (classification and segmentation)"),
           ("timm-cnn", "timm CNNs (one model per family)"),
           ("timm-transformer", "timm transformers and hybrids (one model per family)"),
           ("ultralytics", "Ultralytics model YAMLs")]


def corpus_of(row: dict[str, Any]) -> str:
    if row["corpus"] == "timm":
        return "timm-transformer" if row.get("kind") == "transformer" else "timm-cnn"
    return str(row["corpus"])


def tables(rows: list[dict[str, Any]]) -> str:
    latest = {(row["corpus"], row["name"]): row for row in rows}  # a later run of a model replaces an earlier one
    rows = list(latest.values())
    lines = ["| corpus | models | exact | wrong | refused | defect or timeout | not built here | skipped (size) | "
             "not run | exact of those run |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, title in CORPORA:
        group = [row for row in rows if corpus_of(row) == key]
        count = {status: sum(1 for row in group if row["status"] == status)
                 for status in ("exact", "wrong", "refused", "defect", "timeout", "unbuildable", "skipped", "not run")}
        run = len(group) - count["unbuildable"] - count["skipped"] - count["not run"]
        share = f"{count['exact']} / {run} ({100 * count['exact'] / run:.0f} %)" if run else "-"
        lines.append(f"| {title} | {len(group)} | {count['exact']} | {count['wrong']} | {count['refused']} | "
                     f"{count['defect'] + count['timeout']} | {count['unbuildable']} | {count['skipped']} | "
                     f"{count['not run']} | {share} |")
    for key, title in CORPORA:
        group = sorted((row for row in rows if corpus_of(row) == key), key=lambda row: row["name"])
        lines += ["", f"## {title}", "", "| model | input | status | params | MACs | why not exact |",
                  "| --- | --- | --- | ---: | ---: | --- |"]
        for row in group:
            counts = row.get("torch") or {}
            params = f"{counts['params']:,}" if counts else ""
            macs = f"{counts['macs']:,}" if counts else ""
            reason = _cell(row.get("reason", ""))
            lines.append(f"| {row['name']} | {'x'.join(map(str, row['shape']))} | {row['status']} | {params} | "
                         f"{macs} | {reason} |")
    return "\n".join(lines)


def _cell(text: str, limit: int = 400) -> str:
    text = " ".join(text.replace("|", "\\|").split())
    return text if len(text) <= limit else text[:limit] + " ..."
