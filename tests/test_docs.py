"""The docs stay true: the layer reference is regenerated from the code, and every
command, option and layer type is documented in the README or docs."""

from __future__ import annotations

from pathlib import Path

from cnncalc.cli import main
from cnncalc.explain import reference_markdown
from cnncalc.layers import REGISTRY

ROOT = Path(__file__).resolve().parent.parent


def test_layer_reference_is_current():
    current = (ROOT / "docs" / "layers.md").read_text()
    assert current == reference_markdown(), "run: python -m cnncalc.explain > docs/layers.md"


def test_every_layer_type_has_a_formula_and_a_full_rule():
    for kind, cls in REGISTRY.items():
        assert cls.__doc__ and cls.__doc__.strip(), kind
        if kind not in ("identity", "dropout", "drop_path", "stochastic_depth", "flatten", "reshape", "permute",
                        "slice", "pad", "channel_shuffle", "pixel_shuffle", "concat", "select", "stack", "expand",
                        "roll", "parameter", "constant", "embedding"):
            assert cls.full_rule != "0", f"{kind} has no documented full-convention cost"


def test_readme_mentions_every_command_and_option():
    readme = (ROOT / "README.md").read_text()
    for name, command in main.commands.items():
        assert f"cnncalc {name}" in readme, name
        for parameter in command.params:
            for option in getattr(parameter, "opts", []):
                if option.startswith("--"):
                    assert option in readme, f"{name} {option}"


def test_ci_runs_the_readmes_test_command():
    """.ci/run is the README's test command, so a missing install step fails in CI first."""
    readme = (ROOT / "README.md").read_text()
    command = (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1]
    assert f"```sh\n{command}\n```" in readme
    assert "-c .ci/constraints.txt" in command and "torch==" in (ROOT / ".ci" / "constraints.txt").read_text()


def test_peer_comparison_quotes_cnncalcs_current_figures():
    import cnncalc

    page = (ROOT / "docs" / "peers.md").read_text()
    for spec in ("specs/resnet50.yaml", "specs/mobilenet_v2.yaml"):
        for convention in ("mac", "2mac", "full"):
            flops = cnncalc.analyze(spec, convention=convention).totals.flops
            assert f"{flops:,}" in page, (spec, convention)
