"""The JSON Schema of the spec format: every bundled spec validates, every layer type and
field is in it, the shipped file is what `cnncalc schema` prints, and it rejects what the
reader rejects for the form (unknown keys and fields, missing required fields)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.budgets import BUDGET_KEYS, FPS_KEYS
from cnncalc.cli import main
from cnncalc.layers import REGISTRY
from cnncalc.schema import schema_text, spec_schema
from cnncalc.spec import BLOCK_KEYS, INPUT_KEYS, TOP_LEVEL_KEYS
from cnncalc.yamlread import load

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(path for path in (ROOT / "specs").glob("*.yaml"))
SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def errors(document: object) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def test_the_schema_is_a_valid_draft_7_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_the_shipped_file_is_what_cnncalc_schema_prints():
    shipped = (ROOT / "cnncalc" / "data" / "spec.schema.json").read_text()
    assert shipped == schema_text(), "run: python -m cnncalc.schema > cnncalc/data/spec.schema.json"
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0 and json.loads(result.output) == SCHEMA


@pytest.mark.parametrize("path", [path for path in SPECS if "backbone" not in load(path.read_text(), str(path))],
                         ids=lambda path: path.name)
def test_every_bundled_spec_validates(path):
    assert errors(load(path.read_text(), str(path))) == []


def test_every_key_of_the_reader_is_in_the_schema():
    definitions = SCHEMA["definitions"]
    assert set(SCHEMA["properties"]) == set(TOP_LEVEL_KEYS)
    assert set(definitions["input"]["properties"]) == set(INPUT_KEYS)
    assert set(definitions["block"]["properties"]) == set(BLOCK_KEYS)
    assert set(definitions["budgets"]["properties"]) == set(BUDGET_KEYS)
    assert set(definitions["budgets"]["properties"]["fps"]["properties"]) == set(FPS_KEYS)


def test_every_layer_type_and_field_is_in_the_schema():
    entry = SCHEMA["definitions"]["entry"]
    assert set(entry["properties"]["type"]["anyOf"][0]["enum"]) == set(REGISTRY)
    branches = {branch["if"]["properties"]["type"]["const"]: branch["then"]
                for branch in entry["allOf"] if "type" in branch["if"].get("properties", {})}
    assert set(branches) == set(REGISTRY)
    for kind, cls in REGISTRY.items():
        assert set(branches[kind]["properties"]) == {spec.name for spec in cls.options()}, kind


def spec_with(*layers: dict, **top: object) -> dict:
    return {"input": {"shape": [3, 8, 8]}, "layers": list(layers), **top}


@pytest.mark.parametrize("document, message", [
    (spec_with({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "strid": 2}), "'strid' is not one of"),
    (spec_with({"type": "conv2d", "kernel_size": 3}), "'out_channels' is a required property"),
    (spec_with({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "sam"}), "'sam' is not valid"),
    (spec_with({"type": "conv2d", "out_channels": 0, "kernel_size": 3}), "0 is not valid"),
    (spec_with({"type": "upsample", "mode": "linear-ish"}), "'linear-ish' is not valid"),
    (spec_with({"layers": [{"type": "relu"}], "type": "relu"}), "should not be valid"),
    (spec_with({"type": "relu"}, budgets={"param": 3}), "'param' was unexpected"),
    (spec_with({"type": "relu"}, budgets={"fps": {"chip": "x"}}), "'min' is a required property"),
    (spec_with({"type": "relu"}, blocks={"conv2d": {"layers": [{"type": "relu"}]}}), "should not be valid"),
    (spec_with({"type": "relu"}, dtype="float64"), "'float64' is not one of"),
    ({"layers": [{"type": "relu"}]}, "is not valid under any of the given schemas"),
], ids=["unknown field", "required field", "padding word", "zero channels", "upsample mode", "type and layers",
        "unknown budget", "fps without min", "block named like a type", "dtype", "no input"])
def test_the_schema_rejects_what_the_reader_rejects(document, message):
    assert any(message in text for text in errors(document)), errors(document)


def test_expressions_and_blocks_pass():
    document = spec_with({"type": "conv2d", "out_channels": "$c", "kernel_size": [3, "${k}"], "padding": [[1, 2], 1]},
                         {"type": "my_block", "anything": 1}, {"type": "$act"},
                         params={"c": 4, "k": 3, "act": "relu"})
    assert errors(document) == []
