"""docs/spec-format.md and docs/counting.md are the public contract: every key and layer
type they name exists, every type and field the code knows is named, and every YAML
example on them analyses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cnncalc
from cnncalc.budgets import BUDGET_KEYS, FPS_KEYS
from cnncalc.layers import REGISTRY, SHORTHANDS
from cnncalc.layers.base import ENTRY_FIELDS, IGNORED_FIELDS
from cnncalc.spec import BLOCK_KEYS, INPUT_KEYS, TOP_LEVEL_KEYS

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC_FORMAT = (DOCS / "spec-format.md").read_text()
COUNTING = (DOCS / "counting.md").read_text()


def yaml_examples(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def type_table() -> list[tuple[str, list[str], list[str]]]:
    """(family, types, fields) of each row of the layer-type table."""
    table = SPEC_FORMAT.split("| family | types | fields (default) |")[1].split("\n\n")[0]
    rows = []
    for line in table.splitlines()[2:]:
        family, types, fields = (cell.strip() for cell in line.strip("|").split("|", 2))
        rows.append((family, re.findall(r"`([a-z0-9_]+)`", types), re.findall(r"`([a-z_]+)`", fields)))
    return rows


@pytest.mark.parametrize("index", range(len(yaml_examples(SPEC_FORMAT))))
def test_every_spec_format_example_analyses(index):
    report = cnncalc.analyze(yaml_examples(SPEC_FORMAT)[index])
    assert report.layers


def test_counting_worked_example_gives_the_figures_it_states():
    (example,) = yaml_examples(COUNTING)
    totals = cnncalc.analyze(example).totals
    stated = f"gives {totals.params:,} params, {totals.buffers:,} buffers, {totals.macs:,} MACs and " \
             f"{totals.flops:,} FLOPs"
    assert stated in " ".join(COUNTING.split())
    # By hand: conv 16*3*9 + 16, batchnorm 2*16, linear 4096*10 + 10; MACs 16*32*32*27 + 4096*10.
    assert (totals.params, totals.buffers, totals.macs) == (448 + 32 + 40_970, 32, 442_368 + 40_960)


def test_every_layer_type_is_in_the_table_and_every_name_there_is_a_type():
    named = {kind for _, types, _ in type_table() for kind in types}
    assert named <= set(REGISTRY), named - set(REGISTRY)
    assert set(REGISTRY) - set(SHORTHANDS) == named - set(SHORTHANDS)
    for shorthand in SHORTHANDS:
        assert f"`{shorthand}`" in SPEC_FORMAT, shorthand


def test_every_field_of_every_type_is_named_and_every_field_named_exists():
    known = {spec.name for cls in REGISTRY.values() for spec in cls.options()}
    for family, types, fields in type_table():
        assert set(fields) - {"from"} - set(REGISTRY) <= known, (family, set(fields) - known)
    for kind, cls in REGISTRY.items():
        for spec in cls.options():
            assert f"`{spec.name}`" in SPEC_FORMAT, (kind, spec.name)
    for name in IGNORED_FIELDS:
        assert f"`{name}`" in SPEC_FORMAT, name


@pytest.mark.parametrize("keys", [TOP_LEVEL_KEYS, BLOCK_KEYS, INPUT_KEYS, tuple(ENTRY_FIELDS), BUDGET_KEYS, FPS_KEYS],
                         ids=["top-level", "block", "input", "entry", "budgets", "fps budget"])
def test_every_key_the_reader_accepts_is_documented(keys):
    for key in keys:
        assert f"`{key}`" in SPEC_FORMAT or f"\n{key}:" in SPEC_FORMAT or f" {key}:" in SPEC_FORMAT, key


def test_the_whole_file_example_uses_every_top_level_key_but_inputs():
    import yaml

    whole = yaml.safe_load(yaml_examples(SPEC_FORMAT)[0])
    assert set(whole) == set(TOP_LEVEL_KEYS) - {"inputs"}


def test_the_entry_table_names_exactly_the_entry_keys():
    table = SPEC_FORMAT.split("| key | meaning |")[1].split("\n\n")[0]
    named = set(re.findall(r"^\| `([a-z]+)` \|", table, re.M))
    assert named == set(ENTRY_FIELDS) - {"type"}


def test_the_budget_example_names_every_budget():
    import yaml

    (example,) = [text for text in yaml_examples(SPEC_FORMAT) if "budgets:\n" in text]
    budgets = yaml.safe_load(example)["budgets"]
    assert set(budgets) == set(BUDGET_KEYS)
    assert set(budgets["fps"]) == set(FPS_KEYS)


def test_readme_links_the_contract():
    readme = (DOCS.parent / "README.md").read_text()
    assert "(docs/spec-format.md)" in readme and "(docs/counting.md)" in readme
    assert "shared documents" not in readme
