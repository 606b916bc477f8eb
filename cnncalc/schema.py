"""A JSON Schema (draft-07) of the spec format, so that editors with the YAML language
server complete and check specs. The layer part is generated from the registry (each
type's fields, their parsers and defaults), so it cannot drift from what the walk accepts;
the keys come from the reader's own tables. `cnncalc schema` prints it, and
cnncalc/data/spec.schema.json is the same text (a test keeps them equal).

The schema checks form, not arithmetic: which keys exist, which fields a type takes,
which are required, and each field's kind of value. Any value may also be an expression
(`$name`, `${...}`), which only the walk can evaluate.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import MISSING
from typing import Any, Callable

from .budgets import BUDGET_KEYS, FPS_KEYS, FPS_MODELS
from .layers import LATER_TYPES, REGISTRY, SHORTHANDS
from .layers import fields as f
from .layers.base import ENTRY_FIELDS, IGNORED_FIELDS
from .spec import BLOCK_KEYS, DTYPE_BYTES, INPUT_KEYS, TOP_LEVEL_KEYS

EXPRESSION: dict[str, Any] = {"type": "string", "pattern": "\\$", "description": "an expression: $name or ${...}"}
EXPRESSION_REF = {"$ref": "#/definitions/expression"}


def _or_expression(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, EXPRESSION_REF]}


def _list_of(item: dict[str, Any], *, min_items: int = 1, max_items: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "array", "items": _or_expression(item), "minItems": min_items}
    if max_items is not None:
        result["maxItems"] = max_items
    return result


COUNT = {"type": "integer", "minimum": 1}
NON_NEGATIVE = {"type": "integer", "minimum": 0}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
POSITIVE = {"type": "number", "exclusiveMinimum": 0}
PAIR = _list_of(NON_NEGATIVE, min_items=2, max_items=2)

# What each field parser of cnncalc/layers/fields.py accepts, as JSON Schema, each a definition
# (`#/definitions/<name>`) that the fields of every type refer to.
PARSERS: dict[Callable[..., Any], tuple[str, dict[str, Any]]] = {
    f.count: ("count", COUNT),
    f.non_negative: ("non_negative", NON_NEGATIVE),
    f.integer: ("integer", INTEGER),
    f.number: ("number", NUMBER),
    f.positive_number: ("positive_number", POSITIVE),
    f.flag: ("flag", {"type": "boolean"}),
    f.sizes: ("sizes", {"anyOf": [COUNT, _list_of(COUNT, max_items=3)]}),
    f.sizes_or_zero: ("sizes_or_zero", {"anyOf": [NON_NEGATIVE, _list_of(NON_NEGATIVE, max_items=3)]}),
    f.paddings: ("paddings", {"anyOf": [NON_NEGATIVE, {"enum": ["same", "valid"]},
                                        _list_of({"anyOf": [NON_NEGATIVE, PAIR]}, max_items=3)]}),
    f.int_list: ("int_list", _list_of(INTEGER)),
    f.count_list: ("count_list", _list_of(COUNT)),
    f.count_or_list: ("count_or_list", {"anyOf": [COUNT, _list_of(COUNT)]}),
    f.int_or_list: ("int_or_list", {"anyOf": [INTEGER, _list_of(INTEGER)]}),
    f.scales: ("scales", {"anyOf": [POSITIVE, _list_of(POSITIVE)]}),
    f.text: ("text", {"type": "string", "minLength": 1}),
}


def field_schema(parse: Callable[..., Any], doc: str) -> dict[str, Any]:
    """One field's schema from its parser: the fields.py parsers by identity, `choice` and
    `optional` through the values they close over; any other parser is a defect here."""
    closure = inspect.getclosurevars(parse).nonlocals
    if parse.__qualname__.startswith("choice."):
        return {"anyOf": [{"enum": list(closure["allowed"])}, EXPRESSION_REF], "description": doc}
    if parse.__qualname__.startswith("optional."):
        inner = field_schema(closure["parse"], doc)
        return {"anyOf": [{"type": "null"}, *inner.get("anyOf", [{"$ref": inner["allOf"][0]["$ref"]}])],
                "description": doc}
    if parse.__name__ == "parse_equation":  # einsum's own parser: text, checked by the walk
        parse = f.text
    if parse not in PARSERS:
        raise ValueError(f"no schema for the field parser {parse.__module__}.{parse.__qualname__}")
    return {"allOf": [{"$ref": f"#/definitions/{PARSERS[parse][0]}"}], "description": doc}


def _entry_keys() -> dict[str, Any]:
    """The keys every entry takes besides the type's fields (cnncalc/walk reads them)."""
    return {
        "type": {"description": "a layer type or a block of the spec",
                 "anyOf": [{"enum": sorted(REGISTRY)}, {"type": "string"}]},
        "name": {"type": "string", "description": "unique name; default <type>_<k>"},
        "from": {"description": "a name, `input`, a negative offset, or a list of them",
                 "anyOf": [{"type": "string"}, {"type": "integer", "maximum": -1},
                           {"type": "array", "minItems": 1,
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer", "maximum": -1}]}}]},
        "repeat": {"description": "the entry N times in a chain", "anyOf": [COUNT, EXPRESSION_REF]},
        "when": {"description": "false: the entry makes no layer", "anyOf": [{"type": "boolean"}, EXPRESSION_REF]},
    }


def _layer_branch(kind: str) -> dict[str, Any]:
    """if type is `kind` then only its fields (and the entry keys and ignored fields)."""
    cls = REGISTRY[kind]
    properties: dict[str, Any] = {}
    required = []
    for spec in cls.options():
        properties[spec.name] = field_schema(spec.metadata["parse"], spec.metadata["doc"])
        if spec.default is MISSING:
            required.append(spec.name)
    then: dict[str, Any] = {"properties": properties}
    if required:
        then["required"] = required
    if kind not in LATER_TYPES:  # a spec may have a block of that name, with parameters of its own
        then["propertyNames"] = {"enum": sorted(ENTRY_FIELDS | IGNORED_FIELDS | set(properties))}
    return {"if": {"properties": {"type": {"const": kind}}, "required": ["type"]}, "then": then}


def _definitions() -> dict[str, Any]:
    entry_keys = _entry_keys()
    chain_keys = {key: entry_keys[key] for key in ("name", "from", "repeat", "when")}
    return {
        "expression": EXPRESSION,
        **{name: _or_expression(schema) for name, schema in PARSERS.values()},
        "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/entry"}},
        "entry": {
            "type": "object",
            "description": "a layer (type: ...), a block's use, or an inline chain (layers: [...])",
            "anyOf": [{"required": ["type"]}, {"required": ["layers"]}],
            "properties": entry_keys,
            "allOf": [
                {"if": {"required": ["layers"]},
                 "then": {"not": {"required": ["type"]},
                          "properties": {**chain_keys, "layers": {"$ref": "#/definitions/layers"}},
                          "additionalProperties": False}},
                *(_layer_branch(kind) for kind in REGISTRY),
            ],
        },
        "input": {"type": "object", "required": ["shape"], "additionalProperties": False,
                  "properties": {
                      "shape": {"description": "one sample, channels first: [C, L], [C, H, W], [C, D, H, W] or [F]",
                                "anyOf": [_list_of(COUNT, max_items=4), EXPRESSION_REF]},
                      "batch": {"anyOf": [COUNT, EXPRESSION_REF]}}},
        "block": {"type": "object", "required": ["layers"], "additionalProperties": False,
                  "properties": {"params": {"type": "object"},
                                 "inputs": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                                 "layers": {"$ref": "#/definitions/layers"},
                                 "description": {"type": "string"}}},
        "budgets": {"type": "object", "additionalProperties": False,
                    "properties": {**{key: {"anyOf": [{"type": "string"}, {"type": "number", "minimum": 0}]}
                                      for key in BUDGET_KEYS if key != "fps"},
                                   "fps": {"type": "object", "required": ["chip", "min"],
                                           "additionalProperties": False,
                                           "properties": {"chip": {"type": "string"},
                                                          "precision": {"type": "string"},
                                                          "min": POSITIVE,
                                                          "utilization": {"type": "number", "exclusiveMinimum": 0,
                                                                          "maximum": 1},
                                                          "sparse": {"type": "boolean"},
                                                          "model": {"enum": list(FPS_MODELS)}}}}},
    }


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of spec format 1."""
    properties = {
        "cnncalc": {"const": 1, "description": "format version"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "params": {"type": "object", "description": "global parameters, overridable with --set"},
        "input": {"$ref": "#/definitions/input"},
        "inputs": {"type": "object", "minProperties": 1, "additionalProperties": {"$ref": "#/definitions/input"}},
        "dtype": {"enum": list(DTYPE_BYTES)},
        "blocks": {"type": "object", "additionalProperties": {"$ref": "#/definitions/block"},
                   "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                                     "not": {"enum": sorted(set(REGISTRY) - LATER_TYPES) + ["chain"]}}},
        "layers": {"$ref": "#/definitions/layers"},
        "outputs": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "budgets": {"$ref": "#/definitions/budgets"},
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "cnncalc network spec, format 1",
        "description": "See docs/spec-format.md. Shorthand types whose rank comes from the input: "
                       + ", ".join(SHORTHANDS) + ".",
        "type": "object",
        "required": ["layers"],
        "oneOf": [{"required": ["input"]}, {"required": ["inputs"]}],
        "additionalProperties": False,
        "properties": properties,
        "definitions": _definitions(),
    }


def schema_text() -> str:
    return json.dumps(spec_schema(), indent=1) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
