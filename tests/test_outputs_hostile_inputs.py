"""What cnncalc reads besides specs: stored JSON reports (`cnncalc diff`), chip files and
numbers on the command line or in budgets. Each bad value is one located message, exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

LENET = "specs/lenet5.yaml"
HINT = "give a report written by `cnncalc analyze --format json`"


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def report_text() -> str:
    code, out, _ = run("analyze", LENET, "--format", "json")
    assert code == 0
    return out


def with_params(text: str) -> callable:
    return lambda report: report.replace('"params": 61706,', f'"params": {text},', 1)


def edited(change: callable) -> callable:
    def apply(report: str) -> str:
        data = json.loads(report)
        change(data)
        return json.dumps(data)
    return apply


# -- cnncalc diff on a malformed report ----------------------------------------------------------

REPORTS = {
    "total-a-list": (with_params("[1, 2]"), "totals.params: expected a whole number >= 0, got a list"),
    "total-a-string": (with_params('"61706"'), "totals.params: expected a whole number >= 0, got a string"),
    "total-null": (with_params("null"), "totals.params: expected a whole number >= 0, got null"),
    "total-true": (with_params("true"), "totals.params: expected a whole number >= 0, got true"),
    "total-nan": (with_params("NaN"), "totals.params: expected a whole number >= 0, got NaN"),
    "total-infinity": (with_params("Infinity"), "totals.params: expected a whole number >= 0, got Infinity"),
    "total-minus-infinity": (with_params("-Infinity"), "totals.params: expected a whole number >= 0, got -Infinity"),
    "total-1e400": (with_params("1e400"), "totals.params: expected a whole number >= 0, got 1e400"),
    "total-5000-digits": (with_params("9" * 5000), "totals.params: expected a whole number >= 0, got a 5,000-digit "
                                                   "integer"),
    "total-31-digits": (with_params("9" * 31), "totals.params: expected a whole number >= 0, got a 31-digit integer"),
    "total-negative": (with_params("-5"), "totals.params: expected a whole number >= 0, got -5"),
    "total-fraction": (with_params("1.5"), "totals.params: expected a whole number >= 0, got 1.5"),
    "total-missing": (edited(lambda data: data["totals"].pop("flops")), "totals: no 'flops'"),
    "totals-a-list": (edited(lambda data: data.update(totals=[1])), "totals: expected an object, got a list"),
    "layers-an-object": (edited(lambda data: data.update(layers={"conv1": {}})), "layers: expected a list, got an "
                                                                                 "object"),
    "layer-a-number": (edited(lambda data: data["layers"].insert(2, 7)), "layers[2]: expected an object, got 7"),
    "layer-a-string": (edited(lambda data: data["layers"].insert(0, "conv")), "layers[0]: expected an object, got a "
                                                                              "string"),
    "layer-without-name": (edited(lambda data: data["layers"][3].pop("name")), "layers[3]: no 'name'"),
    "layer-name-a-number": (edited(lambda data: data["layers"][1].update(name=5)), "layers[1].name: expected a "
                                                                                   "string, got 5"),
    "layer-shape-nan": (lambda report: report.replace('"output_shape": [1, 6, 28, 28]', '"output_shape": [1, NaN]'),
                        "layers[0].output_shape[1]: expected a whole number >= 0, got NaN"),
    "layer-macs-a-mapping": (edited(lambda data: data["layers"][0].update(macs={})),
                             "layers[0].macs: expected a whole number >= 0, got an object"),
    "layer-rf-infinite": (edited(lambda data: data["layers"][0]["receptive_field"].update(jump=[1e308 * 10])),
                          "layers[0].receptive_field.jump[0]: expected a number, got Infinity"),
    "layer-view-a-number": (edited(lambda data: data["layers"][4].update(view=1)),
                            "layers[4].view: expected true or false, got 1"),
    "layer-shape-a-boolean": (edited(lambda data: data["layers"][2]["output_shape"].append(True)),
                              "layers[2].output_shape[4]: expected a whole number >= 0, got true"),
    "layer-from-numbers": (edited(lambda data: data["layers"][1].update({"from": ["conv1", 2]})),
                           "layers[1].from[1]: expected a string, got 2"),
    "layer-buffers-negative": (edited(lambda data: data["layers"][5].update(buffers=-1)),
                               "layers[5].buffers: expected a whole number >= 0, got -1"),
    "layer-flops-31-digits": (edited(lambda data: data["layers"][6].update(flops=10**30)),
                              "layers[6].flops: expected a whole number >= 0, got a 31-digit integer"),
    "layer-rf-a-list": (edited(lambda data: data["layers"][0].update(receptive_field=[1])),
                        "layers[0].receptive_field: expected an object, got a list"),
    "layer-rf-without-start": (edited(lambda data: data["layers"][0]["receptive_field"].pop("start")),
                               "layers[0].receptive_field: no 'start'"),
    "convention-unknown": (edited(lambda data: data["convention"].update(flops="flops")),
                           "convention.flops: expected one of 2mac, mac, full, got a string"),
    "convention-null": (edited(lambda data: data.update(convention=None)), "convention: expected an object, got null"),
    "input-shape-strings": (edited(lambda data: data["inputs"].update(input=["a"])),
                            "inputs.input[0]: expected a whole number >= 0, got a string"),
    "top-level-a-list": (lambda report: "[" + report + "]", "the top level: expected an object, got a list: not a "
                                                            "cnncalc report"),
    "top-level-a-string": (lambda report: '"report"', "the top level: expected an object, got a string: not a "
                                                      "cnncalc report"),
    "top-level-null": (lambda report: "null", "the top level: expected an object, got null: not a cnncalc report"),
    "no-totals": (edited(lambda data: data.pop("totals")), "the top level: no 'totals': not a cnncalc report"),
}


@pytest.mark.parametrize("side", ["base", "head"])
@pytest.mark.parametrize("case", list(REPORTS))
def test_a_malformed_report_is_one_message(tmp_path, report_text, case, side):
    mutate, message = REPORTS[case]
    good, bad = tmp_path / "good.json", tmp_path / f"{side}.json"
    good.write_text(report_text)
    bad.write_text(mutate(report_text))
    pair = (bad, good) if side == "base" else (good, bad)
    code, out, err = run("diff", *map(str, pair))
    assert (code, out, err) == (2, "", f"{bad}: {message}; {HINT}\n")


@pytest.mark.parametrize("text, place, message", [
    ("[" * 100_000 + "]" * 100_000, "1:101", "JSON nested more than 100 levels deep"),
    ('{"totals": ' + "[" * 5000 + "]" * 5000 + "}", "1:111", "JSON nested more than 100 levels deep"),
    ("", "1:1", "not JSON: Expecting value"),
    ('{"cnncalc": "0.1", "totals": {', "1:31", "not JSON: Expecting property name enclosed in double quotes"),
    ("\ufeff{}", "1:1", "not JSON: Unexpected UTF-8 BOM (decode using utf-8-sig)"),
    ('{"totals": {"params": ' + "9" * 5000 + ', ]}', "1:5025", "not JSON: Expecting property name enclosed in "
                                                          "double quotes"),
], ids=["100000-deep-array", "5000-deep-in-totals", "empty", "truncated", "byte-order-mark",
        "5000-digits-then-a-syntax-error"])
def test_unparsable_json_is_located(tmp_path, text, place, message):
    bad = tmp_path / "base.json"
    bad.write_text(text, encoding="utf-8")
    code, out, err = run("diff", str(bad), LENET)
    assert (code, out, err) == (2, "", f"{bad}:{place}: {message}; {HINT}\n")


def test_a_report_that_is_not_utf8_is_located(tmp_path, report_text):
    bad = tmp_path / "base.json"
    bad.write_bytes(report_text.encode()[:40] + b"\xff" + report_text.encode()[40:])
    code, _, err = run("diff", str(bad), LENET)
    assert (code, err) == (2, f"{bad}:3:18: byte 0xff is not UTF-8; {HINT}\n")


def test_unknown_keys_are_dropped_and_a_valid_report_still_compares(tmp_path, report_text):
    data = json.loads(report_text)
    data["extra"] = [[[NotImplemented] * 0]]
    data["layers"][0]["extra"] = {"deep": [[[]]]}
    stored = tmp_path / "base.json"
    stored.write_text(json.dumps(data))
    code, out, err = run("diff", str(stored), LENET, "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["layers"] == []


# -- chip files ------------------------------------------------------------------------------------

CHIP_HINT = "--chips and CNNCALC_CHIPS name a YAML chip file: chips: [{id: my-npu, peak: {int8: 4.0e+12}}]"
NUMBER_HINT = "write ops or bytes per second like 20.0e+12"

CHIP_FILES = {
    "400-digit-peak": ("chips: [{id: x, peak: {int8: 1" + "0" * 400 + "}}]",
                       f"1:30: chip 'x': peak int8 is a 401-digit number, not a positive finite number; {NUMBER_HINT}"),
    "nan-peak": ("chips: [{id: x, peak: {int8: .nan}}]",
                 f"1:30: chip 'x': peak int8 is nan, not a positive finite number; {NUMBER_HINT}"),
    "infinite-peak": ("chips: [{id: x, peak: {fp16: .inf}}]",
                      f"1:30: chip 'x': peak fp16 is inf, not a positive finite number; {NUMBER_HINT}"),
    "overflowing-peak": ("chips: [{id: x, peak: {int8: 1e400}}]",
                         f"1:30: chip 'x': peak int8 is inf, not a positive finite number; {NUMBER_HINT}"),
    "negative-peak": ("chips: [{id: x, peak: {int8: -4.0e+12}}]",
                      f"1:30: chip 'x': peak int8 is -4000000000000.0, not a positive finite number; {NUMBER_HINT}"),
    "zero-sparse-peak": ("chips: [{id: x, peak: {int8: 1.0e+12, int8_sparse: 0}}]",
                         f"1:52: chip 'x': peak int8_sparse is 0, not a positive finite number; {NUMBER_HINT}"),
    "string-peak": ("chips: [{id: x, peak: {int8: 20T}}]",
                    f"1:30: chip 'x': peak int8 is '20T', not a positive finite number; {NUMBER_HINT}"),
    "nan-bandwidth": ("chips: [{id: x, peak: {int8: 1.0e+12}, bandwidth: .nan}]",
                      f"1:51: chip 'x': bandwidth is nan, not a positive finite number; {NUMBER_HINT}"),
    "400-digit-bandwidth": ("chips: [{id: x, peak: {int8: 1.0e+12}, bandwidth: 9" + "9" * 399 + "}]",
                            f"1:51: chip 'x': bandwidth is a 400-digit number, not a positive finite number; "
                            f"{NUMBER_HINT}"),
    "negative-bandwidth": ("chips: [{id: x, peak: {int8: 1.0e+12}, bandwidth: -68.0e+9}]",
                           f"1:51: chip 'x': bandwidth is -68000000000.0, not a positive finite number; "
                           f"{NUMBER_HINT}"),
    "zero-bandwidth": ("chips: [{id: x, peak: {int8: 1.0e+12}, bandwidth: 0}]",
                       f"1:51: chip 'x': bandwidth is 0, not a positive finite number; {NUMBER_HINT}"),
    "infinite-power": ("chips: [{id: x, peak: {int8: 1.0e+12}, power_w: .inf}]",
                       f"1:49: chip 'x': power_w is inf, not a positive finite number; {NUMBER_HINT}"),
    "empty": ("", f"1:1: the chip file is empty; {CHIP_HINT}"),
    "only-a-comment": ("# my chips\n", f"1:1: the chip file is empty; {CHIP_HINT}"),
    "two-documents": ("chips: []\n---\nchips: []", "2:1: a second YAML document starts here; a chip file is one "
                                                   "document: remove the '---' or split the file"),
    "python-tag": ("chips: !!python/object/apply:os.system [id]", "1:8: YAML tag '!!python/object/apply:os.system' is "
                                                                  "not allowed; a chip file is plain data: mappings, "
                                                                  "lists, numbers, strings, true/false"),
}


@pytest.mark.parametrize("command", ["chips", "fps"])
@pytest.mark.parametrize("case", list(CHIP_FILES))
def test_a_bad_chip_file_is_one_located_message(tmp_path, case, command):
    text, message = CHIP_FILES[case]
    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    arguments = ["chips"] if command == "chips" else ["fps", "--flops", "1G", "--chip", "x"]
    code, out, err = run(*arguments, "--chips", str(mine))
    assert (code, out, err) == (2, "", f"{mine}:{message}\n")


def test_a_chip_file_that_is_not_utf8_is_located(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_bytes(b"chips: [{id: \xff}]")
    code, _, err = run("chips", "--chips", str(mine))
    assert (code, err) == (2, f"{mine}:1:14: byte 0xff is not UTF-8; save the chip file as UTF-8 text\n")


@pytest.mark.parametrize("name, problem", [
    ("missing.yaml", "No such file or directory"),
    ("folder", "not a regular file"),
], ids=["missing", "a-folder-through-the-environment"])
def test_an_unreadable_chip_file_names_chip_files(tmp_path, monkeypatch, name, problem):
    (tmp_path / "folder").mkdir()
    monkeypatch.setenv("CNNCALC_CHIPS", str(tmp_path / name))
    code, _, err = run("chips")
    assert (code, err) == (2, f"cannot read {tmp_path / name}: {problem}; {CHIP_HINT}\n")


def test_a_chip_with_a_number_as_source_is_listed(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("chips: [{id: x, peak: {int8: 1.0e+12}, source: 5}]")
    code, out, _ = run("chips", "x", "--chips", str(mine))
    assert code == 0 and "    5\n" in out


# -- numbers: NaN, infinity, too large, not positive -------------------------------------------------

def usage_error(option: str, problem: str) -> str:
    return f"Error: Invalid value for '{option}': {problem}\n"


@pytest.mark.parametrize("arguments, message", [
    (["--utilization", "nan"], usage_error("--utilization", "'nan' is not a finite number > 0 and at most 1")),
    (["--utilization", "inf"], usage_error("--utilization", "'inf' is not a finite number > 0 and at most 1")),
    (["--utilization", "0"], usage_error("--utilization", "'0' is not a finite number > 0 and at most 1")),
    (["--utilization", "-0.5"], usage_error("--utilization", "'-0.5' is not a finite number > 0 and at most 1")),
    (["--utilization", "1.5"], usage_error("--utilization", "'1.5' is not a finite number > 0 and at most 1")),
    (["--fps", "nan"], usage_error("--fps", "'nan' is not a finite number > 0")),
    (["--fps", "inf"], usage_error("--fps", "'inf' is not a finite number > 0")),
    (["--fps", "1e400"], usage_error("--fps", "'1e400' is not a finite number > 0")),
    (["--fps", "-30"], usage_error("--fps", "'-30' is not a finite number > 0")),
    (["--fps", "thirty"], usage_error("--fps", "'thirty' is not a number")),
], ids=["utilization-nan", "utilization-inf", "utilization-zero", "utilization-negative", "utilization-over-one",
        "fps-nan", "fps-inf", "fps-1e400", "fps-negative", "fps-a-word"])
def test_chip_options_refuse_what_is_not_a_finite_positive_number(arguments, message):
    code, out, err = run("fps", "--flops", "1G", "--chip", "hailo-8", *arguments)
    assert (code, out) == (2, "") and err.endswith(message)


@pytest.mark.parametrize("arguments, message", [
    (["--flops", "inf", "--tops", "1"], "--flops inf: 'inf' is not a number with an optional unit\n"),
    (["--flops", "1e400", "--tops", "1"], "--flops 1e400: '1e400' is too large: not a finite number\n"),
    (["--flops", "1e400G", "--tops", "1"], "--flops 1e400G: '1e400G' is too large: not a finite number\n"),
    (["--flops", "0", "--tops", "1"], "--flops 0: the work per frame must be more than 0\n"),
    (["--macs", "nan", "--tops", "1"], "--macs nan: 'nan' is not a number with an optional unit\n"),
    (["--macs", "0G", "--tops", "1"], "--macs 0G: the work per frame must be more than 0\n"),
    (["--flops", "1G", "--chip", "hailo-8", "--bandwidth", "1e400GB/s"],
     "--bandwidth 1e400GB/s: '1e400GB' is too large: not a finite number\n"),
    (["--flops", "1G", "--chip", "hailo-8", "--bandwidth", "0GB/s"],
     "--bandwidth 0GB/s: a bandwidth must be more than 0\n"),
    (["--flops", "1G", "--chip", "hailo-8", "--bandwidth", "nanGB/s"],
     "--bandwidth nanGB/s: 'nanGB' is not a number with an optional unit\n"),
    (["--flops", "1G", "--tops", "nan"], usage_error("--tops", "'nan' is not a finite number > 0")),
    (["--flops", "1G", "--tops", "1e400"], usage_error("--tops", "'1e400' is not a finite number > 0")),
    (["--flops", "1G", "--tflops", "-1"], usage_error("--tflops", "'-1' is not a finite number > 0")),
], ids=["flops-inf", "flops-1e400", "flops-1e400G", "flops-zero", "macs-nan", "macs-zero", "bandwidth-1e400",
        "bandwidth-zero", "bandwidth-nan", "tops-nan", "tops-1e400", "tflops-negative"])
def test_fps_refuses_numbers_that_are_not_finite_and_positive(arguments, message):
    code, out, err = run("fps", *arguments)
    assert (code, out) == (2, "") and err.endswith(message)


def test_analyze_refuses_an_infinite_bandwidth():
    code, _, err = run("analyze", LENET, "--chip", "hailo-8", "--bandwidth", "1e400GB/s")
    assert (code, err) == (2, "--bandwidth 1e400GB/s: '1e400GB' is too large: not a finite number\n")


@pytest.mark.parametrize("budget, message", [
    ("params=1e400", "--budget params: budget params is '1e400': '1e400' is too large: not a finite number; "
                     "counts take k, M, G, T (1000s)"),
    ("params=nan", "--budget params: budget params is 'nan': 'nan' is not a number with an optional unit; "
                   "counts take k, M, G, T (1000s)"),
    ("weights=1e400GiB", "--budget weights: budget weights is '1e400GiB': '1e400GiB' is too large: not a finite "
                         "number; bytes take B, kB, MB, GB (1000s) and KiB, MiB, GiB (1024s)"),
    ("fps={chip: hailo-8, min: .nan}", "--budget fps: fps min is nan; a finite number > 0 (utilization at most 1)"),
    ("fps={chip: hailo-8, min: 30, utilization: .inf}", "--budget fps: fps utilization is inf; a finite number > 0 "
                                                        "(utilization at most 1)"),
], ids=["params-1e400", "params-nan", "weights-1e400GiB", "fps-min-nan", "fps-utilization-inf"])
def test_command_line_budgets_refuse_what_is_not_finite(budget, message):
    code, out, err = run("check", LENET, "--budget", budget)
    assert (code, out, err) == (2, "", message + "\n")


BUDGET_SPEC = "input: {shape: [3, 8, 8]}\nlayers: [{type: relu}]\nbudgets:\n  "


@pytest.mark.parametrize("line, message", [
    ("weights: 1e400 GiB", "4:12: budget weights is '1e400 GiB': '1e400 GiB' is too large: not a finite number; "
                           "bytes take B, kB, MB, GB (1000s) and KiB, MiB, GiB (1024s)"),
    ("params: .nan", "4:11: budget params is nan: nan is not a finite number; counts take k, M, G, T (1000s)"),
    ("params: 1e400", "4:11: budget params is inf: inf is not a finite number; counts take k, M, G, T (1000s)"),
    ("params: 1" + "0" * 400, "4:11: budget params is a 401-digit number: 'a 401-digit number' is too large: "
     "not a finite number; counts take k, M, G, T (1000s)"),
    ("flops: -1G", "4:10: budget flops is '-1G': '-1G' is not a number with an optional unit; counts take k, M, G, "
                   "T (1000s)"),
    ("params: -5", "4:11: budget params is negative; a budget is a limit >= 0"),
    ("fps: {chip: hailo-8, min: 30, utilization: .nan}", "4:46: fps utilization is nan; a finite number > 0 "
                                                         "(utilization at most 1)"),
    ("fps: {chip: hailo-8, min: .inf}", "4:29: fps min is inf; a finite number > 0 (utilization at most 1)"),
    ("fps: {chip: hailo-8, min: 1" + "0" * 400 + "}", "4:29: fps min is a 401-digit number; a finite "
                                                      "number > 0 (utilization at most 1)"),
    ("fps: {chip: hailo-8, min: -30}", "4:29: fps min is -30; a finite number > 0 (utilization at most 1)"),
    ("fps: {chip: hailo-8, min: 30, utilization: 2}", "4:46: fps utilization is 2; a share of the peak, at most 1"),
], ids=["weights-1e400GiB", "params-nan", "params-1e400", "params-401-digits", "flops-negative-text",
        "params-negative", "fps-utilization-nan", "fps-min-inf", "fps-min-401-digits", "fps-min-negative",
        "fps-utilization-over-one"])
def test_spec_budgets_refuse_what_is_not_finite_at_the_value(tmp_path, line, message):
    spec = tmp_path / "net.yaml"
    spec.write_text(BUDGET_SPEC + line + "\n")
    code, out, err = run("check", str(spec))
    assert (code, out) == (2, "")
    assert err == f"{spec}:{message}\n"


@pytest.mark.parametrize("threshold, message", [
    ("nan%", "--fail-above nan%: 'nan%' is not a finite percentage >= 0; write 5% or flops=2%"),
    ("flops=inf%", "--fail-above flops=inf%: 'inf%' is not a finite percentage >= 0; write 5% or flops=2%"),
    ("-5%", "--fail-above -5%: '-5%' is not a finite percentage >= 0; write 5% or flops=2%"),
    ("1e400%", "--fail-above 1e400%: '1e400%' is not a finite percentage >= 0; write 5% or flops=2%"),
], ids=["nan", "inf", "negative", "1e400"])
def test_fail_above_refuses_what_is_not_a_finite_percentage(threshold, message):
    code, out, err = run("diff", LENET, LENET, f"--fail-above={threshold}")
    assert (code, out, err) == (2, "", message + "\n")
