"""Known answers for `$name` / `${...}`, and one test per construct the grammar rejects."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.expr import ExpressionError, evaluate
from cnncalc.interpolate import contains_expression, resolve

SCOPE: dict[str, object] = {
    "width": 0.5,
    "i": 0,
    "stride": 1,
    "channels": 64,
    "in_channels": 64,
    "in_shape": [1, 64, 56, 56],
    "act": "relu",
}

# (expression, extra scope, value); the ids are the expressions themselves.
EVALUATE = [
    # spec-format.md, "Blocks, parameters, expressions"
    ("int(128 * width)", {}, 64),
    ("2 if i == 0 else 1", {}, 2),
    ("2 if i == 0 else 1", {"i": 1}, 1),
    ("stride != 1 or in_channels != channels", {}, False),
    ("stride != 1 or in_channels != channels", {"stride": 2}, True),
    ("stride != 1 or in_channels != channels", {"in_channels": 32}, True),
    ("in_shape[1]", {}, 64),
    ("in_shape[-1]", {}, 56),
    ("in_shape[1]", {"in_shape": (8, 3, 224, 224)}, 3),
    # torchvision MobileNetV2 / V3 channel rounding (_make_divisible)
    ("make_divisible(32 * 0.75, 8)", {}, 24),
    ("make_divisible(3.2, 8)", {}, 8),
    ("make_divisible(10, 8)", {}, 16),
    ("make_divisible(16 * 0.25, 8, 16)", {}, 16),
    # arithmetic as Python does it
    ("7 / 2", {}, 3.5),
    ("7 // 2", {}, 3),
    ("-7 // 2", {}, -4),
    ("7 % 3", {}, 1),
    ("2 ** 10", {}, 1024),
    ("2 ** -1", {}, 0.5),
    ("-(3) + +2", {}, -1),
    ("1 < 2 <= 2 < 3", {}, True),
    ("3 > 2 > 2", {}, False),
    ("0 or 5", {}, 5),
    ("2 and 0", {}, 0),
    ("not 0", {}, True),
    ("true and not false", {}, True),
    ("'a' + 'b'", {}, "ab"),
    ("act == 'relu'", {}, True),
    ("'abc' < 'abd'", {}, True),
    ("[3, 5]", {}, [3, 5]),
    ("(3, 5)", {}, [3, 5]),
    ("[3, 5][1]", {}, 5),
    ("  channels * 2  ", {}, 128),
    # functions
    ("round(2.5)", {}, 2),
    ("round(2.675, 2)", {}, 2.67),
    ("round(7, 1)", {}, 7.0),
    ("ceil(224 / 32)", {}, 7),
    ("floor(-0.5)", {}, -1),
    ("min(3, 1, 2)", {}, 1),
    ("max([3, 5])", {}, 5),
    ("log2(1024)", {}, 10.0),
    ("log(8, 2)", {}, 3.0),
    ("sqrt(16)", {}, 4.0),
    ("abs(-3)", {}, 3),
    ("float(3)", {}, 3.0),
    ("int(7.9)", {}, 7),
]


@pytest.mark.parametrize(("source", "extra", "expected"), EVALUATE, ids=[e[0] for e in EVALUATE])
def test_evaluate(source: str, extra: dict[str, object], expected: object) -> None:
    value = evaluate(source, {**SCOPE, **extra})
    assert value == expected
    assert type(value) is type(expected)


RESOLVE = [
    ("$channels", 64),
    ("${int(128 * width)}", 64),
    ("${[3, 5]}", [3, 5]),
    ("${act}", "relu"),
    ("layer${i}", "layer0"),
    ("conv${i + 3}", "conv3"),
    ("${i}.${i + 1}", "0.1"),
    ("w=${width}", "w=0.5"),
    ("${'}' + act}", "}relu"),
    ("cost $5", "cost $5"),
    ("$channels and more", "$channels and more"),
    ("$$", "$$"),
    ("$${i}", "$0"),
    ("plain", "plain"),
    (64, 64),
    (None, None),
    ([1, "$channels"], [1, "$channels"]),
]


@pytest.mark.parametrize(("value", "expected"), RESOLVE, ids=[repr(r[0]) for r in RESOLVE])
def test_resolve(value: object, expected: object) -> None:
    assert resolve(value, SCOPE) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("$x", True), ("a${b}", True), ("plain", False), (3, False), (None, False)],
)
def test_contains_expression(value: object, expected: bool) -> None:
    assert contains_expression(value) is expected


NESTED_1000 = "(" * 1000 + "1" + ")" * 1000
REJECTED = [
    ("widht * 2", "unknown name 'widht'; did you mean 'width'? names in scope: act, channels"),
    ("zzz", "unknown name 'zzz'; names in scope: act,"),
    ("__import__('os')", "function '__import__' is not available; functions: int, float,"),
    ("lg2(8)", "function 'lg2' is not available; did you mean 'log2'?"),
    ("exec('1')", "function 'exec' is not available"),
    ("().__class__.__bases__", "attribute access ('.__bases__') is not allowed"),
    ("act.upper()", "attribute access ('.upper') is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("lambda: 1", "lambda not allowed in expressions"),
    ("[x for x in in_shape]", "comprehensions not allowed"),
    ("f'{act}'", "f-strings not allowed"),
    ("(x := 1)", "assignment ':=' not allowed"),
    ("max(*in_shape)", "starred arguments not allowed"),
    ("in_shape[1:]", "slices (index with one integer) not allowed"),
    ("{1: 2}", "dicts not allowed"),
    ("1 << 3", "operator '<<' not allowed"),
    ("1 in in_shape", "operator 'in' not allowed"),
    ("make_divisible(10, 8, min_value=16)", "keyword arguments are not allowed (min_value=...)"),
    ("[max][0](1)", "only these functions can be called"),
    ("None", "literal None is not allowed"),
    ("1j", "literal 1j is not allowed"),
    ("9**9**9", "number too large: exponent 387420489 is above 1000"),
    ("10 ** 31", "number too large (magnitude above 10**30)"),
    ("1e308 * 10", "number too large (the result is infinite)"),
    ("10.0 ** 400", "number too large in '10.0 ** 400'"),
    ("float('nan')", "result is not a number (nan)"),
    ("(-8) ** 0.5", "result is not a real number"),
    ("'a'*10**9", "operator '*' is not defined for str and int; strings can only be joined"),
    ("'%s' % act", "operator '%' is not defined for str and str"),
    ("'a' - 1", "operator '-' is not defined for str and int"),
    ("-act", "operator '-' is not defined for str"),
    ("act < 1", "cannot compare str and int with '<'"),
    ("in_shape[4]", "index 4 out of range for length 4"),
    ("in_shape[-5]", "index -5 out of range for length 4"),
    ("in_shape['a']", "index must be an integer, not str"),
    ("width[0]", "cannot index a float"),
    ("1 / 0", "division by zero in '1 / 0'"),
    ("7 % 0", "division by zero in '7 % 0'"),
    ("log(0)", "invalid value in 'log(0)': math domain error"),
    ("sqrt('a')", "bad arguments to sqrt(): must be real number, not str"),
    ("min()", "bad arguments to min()"),
    ("2 +", "syntax error in expression '2 +': invalid syntax"),
    ("", "syntax error in expression ''"),
    ("(" * 300 + "1" + ")" * 300, "too many nested parentheses"),
    ("-" * 999 + "1", "expression nested too deeply"),
    (NESTED_1000, "expression too long (2001 characters; the limit is 1000)"),
    ("1+" * 1000 + "1", "expression too long (2001 characters; the limit is 1000)"),
]


@pytest.mark.parametrize(("source", "message"), REJECTED, ids=[r[0][:40] for r in REJECTED])
def test_rejected(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as error:
        evaluate(source, SCOPE)
    assert message in str(error.value)


def test_untaken_branch_is_still_checked() -> None:
    with pytest.raises(ExpressionError, match="attribute access"):
        evaluate("1 if true else ().__class__", SCOPE)


def test_string_concatenation_is_limited() -> None:
    with pytest.raises(ExpressionError, match="string too long"):
        evaluate("s + s", {"s": "a" * 600})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("$chanels", "unknown name 'chanels'; did you mean 'channels'?"),
        ("layer${i", "'${' without its closing '}' in 'layer${i'"),
        ("layer${1/0}", "division by zero in '1/0'"),
    ],
)
def test_resolve_rejected(value: str, message: str) -> None:
    with pytest.raises(ExpressionError) as error:
        resolve(value, SCOPE)
    assert message in str(error.value)


# Fragments that make hypothesis build near-valid expressions, not only syntax errors.
TOKENS = [
    *"0123456789()[],.+-*/%<>=!'e", "**", "//", " if ", " else ", " and ", " or ", "not ",
    "in_shape", "width", "act", "i", "1e308", "round(", "log(", "make_divisible(",
    "int(", "float(", "min(", "sqrt(", "ceil(", "'nan'", "${", "}", "$",
]  # fmt: skip


def _only_expression_errors(run: Callable[[], object]) -> None:
    try:
        run()
    except ExpressionError:
        pass


@given(st.text(string.printable, max_size=60))
def test_random_text_only_raises_expression_error(text: str) -> None:
    _only_expression_errors(lambda: evaluate(text, SCOPE))
    _only_expression_errors(lambda: resolve("${" + text + "}", SCOPE))


@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_random_expressions_only_raise_expression_error(text: str) -> None:
    _only_expression_errors(lambda: evaluate(text, SCOPE))
    _only_expression_errors(lambda: resolve(text, SCOPE))
