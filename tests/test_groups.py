"""`analyze --by type` and `--by block`: summaries whose rows sum to the totals, with
known counts from the papers' architecture tables."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.groups import TOP_LEVEL, group_rows


def by_name(rows):
    return {row.name: row for row in rows}


@pytest.mark.parametrize("spec", ["specs/mobilenet_v2.yaml", "specs/resnet50.yaml", "specs/googlenet.yaml"])
@pytest.mark.parametrize("by", ["type", "block"])
def test_groups_sum_to_the_totals(spec, by):
    report = cnncalc.analyze(spec)
    rows = group_rows(report, by)
    assert sum(row.macs for row in rows) == report.totals.macs
    assert sum(row.params for row in rows) == report.totals.params
    assert sum(row.buffers for row in rows) == report.totals.buffers
    assert sum(int(row.type.split()[0]) for row in rows) == len(report.layers)


def test_mobilenet_v2_by_type_tells_depthwise_and_pointwise_apart():
    # MobileNetV2 (Sandler et al. 2018, table 2): 17 bottlenecks (1+2+3+4+3+3+1), each one
    # depthwise 3x3 and one 1x1 projection, an 1x1 expansion in all but the first (t = 1),
    # and the final 1x1 conv to 1280: 17 depthwise and 16 + 17 + 1 = 34 pointwise convolutions.
    rows = by_name(group_rows(cnncalc.analyze("specs/mobilenet_v2.yaml"), "type"))
    assert rows["conv2d depthwise"].type == "17 layers"
    assert rows["conv2d 1x1"].type == "34 layers"
    assert rows["conv2d"].type == "1 layer"  # the 3x3 stem
    assert list(by_name(group_rows(cnncalc.analyze("specs/mobilenet_v2.yaml"), "type")))[0] == "conv2d 1x1"


def test_resnet18_by_block_counts_repeat_instances_as_one_entry():
    rows = group_rows(cnncalc.analyze("specs/resnet18.yaml"), "block")
    assert [row.name for row in rows] == [TOP_LEVEL, "layer1", "layer2", "layer3", "layer4"]
    # conv1, bn1, relu, maxpool, avgpool, flatten, fc; two basic blocks of 7 layers, +2 for a downsample.
    assert [row.type for row in rows] == ["7 layers", "14 layers", "16 layers", "16 layers", "16 layers"]


def test_by_in_the_table_and_its_refusals():
    runner = CliRunner()
    result = runner.invoke(main, ["analyze", "specs/resnet18.yaml", "--by", "block"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].split() == ["Layer", "Type", "Params", "MACs", "%", "Act.", "mem"]
    assert "layer1              14 layers  147.97 k  462.42 M  25.5  10.7 MiB" in result.stdout
    for extra in (["--depth", "1"], ["--format", "json"]):
        result = runner.invoke(main, ["analyze", "specs/resnet18.yaml", "--by", "type", *extra])
        assert result.exit_code == 2 and "--by type is a summary table" in result.stderr
    result = runner.invoke(main, ["analyze", "specs/resnet18.yaml", "--by", "type", "--columns", "name,rf"])
    assert result.exit_code == 2 and "--columns with --by type: a row sums layers" in result.stderr
