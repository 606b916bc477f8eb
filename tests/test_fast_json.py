"""The JSON writer's hand-written layer lines are byte for byte what json.dumps writes
(json.loads would take 1.0 for 1, so the texts themselves are compared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
from cnncalc.render.formats import _field_text, _layer_line, field_json, layer_json

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[path.stem for path in BUNDLED])
def test_layer_lines_are_what_json_dumps_writes(path: Path) -> None:
    report = cnncalc.analyze(path, batch=3)
    for row in report.layers:
        assert _layer_line(row, {}) == json.dumps(layer_json(row))


@pytest.mark.parametrize("field", [
    None, ((1, 1, 0.0),), ((7, 2, -0.5), (3, 1, 1.0)), ((2**40, 2**39, 1.5e17),), ((5, 1, 0.1 + 0.2),),
    ((3, 1, float("inf")),), ((3, 1, float("nan")),), ((3, 2, -0.0),),
], ids=repr)
def test_field_text_is_what_json_dumps_writes(field: object) -> None:
    assert _field_text(field) == json.dumps(field_json(field))  # type: ignore[arg-type]
