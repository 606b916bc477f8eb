"""Summaries of a report by layer type or by top-level block: where the cost sits
(`analyze --by type`: convolutions against depthwise and 1x1 ones; `--by block`:
backbone against neck and head). Pure functions over a Report's rows."""

from __future__ import annotations

import re

from .report import LayerRow, Report

TOP_LEVEL = "(top-level layers)"  # the layers of a --by block summary that sit in no block
_INSTANCE = re.compile(r"(.+)\.(\d+)$")


def type_label(row: LayerRow, layer: object) -> str:
    """The row's type, with convolutions told apart: depthwise (groups = output channels),
    grouped, pointwise (every kernel size 1)."""
    groups = getattr(layer, "groups", 1)
    kernel = getattr(layer, "kernel_size", None)
    if not row.type.startswith("conv") or row.type.startswith("conv_transpose"):
        return row.type
    if isinstance(groups, int) and groups > 1:
        return f"{row.type} depthwise" if groups == getattr(layer, "out_channels", None) else f"{row.type} grouped"
    sizes = kernel if isinstance(kernel, tuple) else (kernel,)
    return f"{row.type} 1x1" if all(size == 1 for size in sizes) else row.type


def block_label(row: LayerRow) -> str:
    """The top-level block instance a row sits in, its repeat instances (`layer1.0`,
    `layer1.1`) counted as one entry (`layer1`)."""
    if not row.path:
        return TOP_LEVEL
    match = _INSTANCE.fullmatch(row.path[0])
    return match.group(1) if match else row.path[0]


def group_rows(report: Report, by: str) -> tuple[LayerRow, ...]:
    """One row per type (most MACs first; FLOPs under `full`) or per top-level block (in
    order); its `type` cell says how many layers it sums."""
    if by == "type":
        labels = [type_label(row, record.layer) for row, record in zip(report.layers, report.graph.layers)]
    else:
        labels = [block_label(row) for row in report.layers]
    groups: dict[str, list[LayerRow]] = {}
    for label, row in zip(labels, report.layers):
        groups.setdefault(label, []).append(row)
    rows = [_summed(label, members) for label, members in groups.items()]
    if by == "type":
        counted = "flops" if report.assumptions.convention == "full" else "macs"
        rows.sort(key=lambda row: (-getattr(row, counted), -row.params))
    return tuple(rows)


def _summed(label: str, members: list[LayerRow]) -> LayerRow:
    last = members[-1]
    return LayerRow(
        name=label, type=f"{len(members)} layer{'s' if len(members) > 1 else ''}", inputs=(),
        output_shape=last.output_shape, params=sum(row.params for row in members),
        buffers=sum(row.buffers for row in members), macs=sum(row.macs for row in members),
        flops=sum(row.flops for row in members),
        activation_bytes=sum(row.activation_bytes for row in members), receptive_field=None, path=(),
        block_types=(), view=all(row.view for row in members))
