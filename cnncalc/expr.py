"""The language inside `${...}`: a small, safe expression language (interpolate.py fills strings with it).

The text inside `${...}` is parsed with `ast.parse` and walked against a whitelist;
nothing is ever handed to eval or exec. Every limit below exists so that a hostile
or mistyped spec fails with a one-line message instead of hanging or eating memory.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

MAX_SOURCE_LENGTH = 1000  # characters in one expression, and in a string it builds
MAX_EXPONENT = 1000
MAX_INTEGER = 10**30  # far above any real layer size, far below anything slow


class ExpressionError(Exception):
    """A message without location; the caller adds file:line:col and the layer."""


def make_divisible(value: float, divisor: float, min_value: float | None = None) -> float:
    """MobileNet's channel rounding (torchvision `_make_divisible`)."""
    new_value = max(min_value or divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:  # never round down by more than 10%
        new_value += divisor
    return new_value


def _round(value: float, digits: int | None = None) -> float:
    # round(x) is an int (a size); round(x, n) a float, rounded as a float so that a
    # huge n cannot make Python build 10**n.
    return round(value) if digits is None else round(float(value), digits)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "int": int, "float": float, "round": _round, "ceil": math.ceil, "floor": math.floor,
    "min": min, "max": max, "log": math.log, "log2": math.log2, "sqrt": math.sqrt,
    "abs": abs, "make_divisible": make_divisible,
}  # fmt: skip
_CONSTANTS: dict[str, bool] = {"true": True, "false": False}  # YAML's spelling

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul), ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv), ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
}  # fmt: skip
_UNARY: dict[type[ast.unaryop], tuple[str, Callable[[Any], Any]]] = {
    ast.USub: ("-", operator.neg), ast.UAdd: ("+", operator.pos),
}  # fmt: skip
_COMPARE: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
}  # fmt: skip
_ALLOWED: set[type[ast.AST]] = {
    ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.UnaryOp, ast.Not,
    ast.BinOp, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.IfExp, ast.Subscript,
    ast.Call, *_BINARY, *_UNARY, *_COMPARE,
}  # fmt: skip
# What a rejected construct is called in the message; anything else by its ast name.
_REJECTED: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment ':='", ast.Starred: "starred arguments",
    ast.Slice: "slices (index with one integer)", ast.Dict: "dicts", ast.Set: "sets",
    ast.BitAnd: "operator '&'", ast.BitOr: "operator '|'", ast.BitXor: "operator '^'",
    ast.LShift: "operator '<<'", ast.RShift: "operator '>>'", ast.MatMult: "operator '@'",
    ast.Invert: "operator '~'", ast.In: "operator 'in'", ast.NotIn: "operator 'not in'",
    ast.Is: "operator 'is'", ast.IsNot: "operator 'is not'",
}  # fmt: skip


def evaluate(source: str, scope: Mapping[str, object]) -> object:
    """Evaluate the text inside ${...}; every failure is an ExpressionError."""
    check_length(source)
    return evaluate_tree(parse(source)[0], source, scope)


def check_length(source: str) -> None:
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"expression too long ({len(source)} characters; the limit is {MAX_SOURCE_LENGTH})"
        )


def evaluate_tree(tree: ast.expr, source: str, scope: Mapping[str, object]) -> object:
    """Evaluate a tree `parse` made of `source`; every failure is an ExpressionError."""
    try:
        return _evaluate_node(tree, scope)
    except ZeroDivisionError:
        raise ExpressionError(f"division by zero in '{source}'") from None
    except OverflowError:
        raise ExpressionError(f"number too large in '{source}'") from None
    except ValueError as error:
        raise ExpressionError(f"invalid value in '{source}': {error}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression nested too deeply: '{source}'") from None


@functools.lru_cache(maxsize=4096)  # the same text is evaluated again in every repeat
def parse(source: str) -> tuple[ast.expr, tuple[str, ...], int]:
    """The checked tree, the names it reads (in order, once each) and its size in nodes."""
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" etc. are errors here
            warnings.simplefilter("ignore")
            tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as error:
        raise ExpressionError(f"syntax error in expression '{source}': {error.msg}") from None
    nodes = list(ast.walk(tree))  # iterative, so depth cannot blow the stack here
    for node in nodes:
        _check_node(node)
    names = dict.fromkeys(node.id for node in nodes if isinstance(node, ast.Name) and node.id not in _CONSTANTS)
    return tree, tuple(names), len(nodes)


def _check_node(node: ast.AST) -> None:
    """Reject, before evaluating anything, every construct outside the grammar."""
    if isinstance(node, ast.Attribute):
        raise ExpressionError(f"attribute access ('.{node.attr}') is not allowed")
    if type(node) not in _ALLOWED:
        what = _REJECTED.get(type(node), type(node).__name__)
        raise ExpressionError(f"{what} not allowed in expressions")
    if isinstance(node, ast.Call):
        _check_call(node)
    elif isinstance(node, ast.Name) and node.id.startswith("__"):
        raise ExpressionError(f"name '{node.id}' is not allowed (names starting with '__')")
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (int, float, str, bool):
            raise ExpressionError(f"literal {node.value!r} is not allowed")
        _checked(node.value)


def _check_call(node: ast.Call) -> None:
    if isinstance(node.func, ast.Attribute):
        raise ExpressionError(f"attribute access ('.{node.func.attr}') is not allowed")
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"only these functions can be called: {', '.join(FUNCTIONS)}")
    if node.func.id not in FUNCTIONS:
        import difflib  # here: only a hint needs it, start-up does not
        close = difflib.get_close_matches(node.func.id, FUNCTIONS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ExpressionError(
            f"function '{node.func.id}' is not available; {hint}functions: {', '.join(FUNCTIONS)}"
        )
    if node.keywords:
        keyword = node.keywords[0].arg or "**"
        raise ExpressionError(
            f"keyword arguments are not allowed ({keyword}=...); pass them by position"
        )


def _evaluate_node(node: ast.expr, scope: Mapping[str, object]) -> object:
    """Walk a tree that _check_node has already accepted."""
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            return _CONSTANTS[name] if name in _CONSTANTS else lookup(name, scope)
        case ast.List(elts=items) | ast.Tuple(elts=items):
            return [_evaluate_node(item, scope) for item in items]
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not _evaluate_node(operand, scope)
        case ast.UnaryOp(op=op, operand=operand):
            return _unary(op, _evaluate_node(operand, scope))
        case ast.BinOp(left=left, op=op, right=right):
            return _binary(op, _evaluate_node(left, scope), _evaluate_node(right, scope))
        case ast.BoolOp(op=op, values=values):
            return _bool_op(isinstance(op, ast.Or), values, scope)
        case ast.Compare():
            return _compare(node, scope)
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _evaluate_node(body if _evaluate_node(test, scope) else orelse, scope)
        case ast.Subscript(value=container, slice=index):
            return _index(_evaluate_node(container, scope), _evaluate_node(index, scope))
        case ast.Call(func=ast.Name(id=name), args=args):
            return _call(name, [_evaluate_node(argument, scope) for argument in args])
    raise ExpressionError(f"{type(node).__name__} not allowed in expressions")


def lookup(name: str, scope: Mapping[str, object]) -> object:
    if name in scope:
        return scope[name]
    known = [key for key in scope if isinstance(key, str)]  # YAML keys may also be null or numbers
    import difflib  # here: only a hint needs it, start-up does not
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    names = ", ".join(sorted(known)) or "(none)"
    raise ExpressionError(f"unknown name '{name}'; {hint}names in scope: {names}")


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float))


def _checked(value: object) -> object:
    """Stop numbers that are useless as sizes before they grow into slow ones."""
    if isinstance(value, complex):
        raise ExpressionError(f"result is not a real number ({value})")
    if isinstance(value, float) and math.isnan(value):
        raise ExpressionError("result is not a number (nan)")
    if isinstance(value, float) and math.isinf(value):
        raise ExpressionError("number too large (the result is infinite)")
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise ExpressionError("number too large (magnitude above 10**30)")
    if isinstance(value, str) and len(value) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"string too long (over {MAX_SOURCE_LENGTH} characters)")
    return value


def _unary(op: ast.unaryop, operand: object) -> object:
    symbol, function = _UNARY[type(op)]
    if not _is_number(operand):
        raise ExpressionError(f"operator '{symbol}' is not defined for {type(operand).__name__}")
    return function(operand)


def _binary(op: ast.operator, left: object, right: object) -> object:
    symbol, function = _BINARY[type(op)]
    if _is_number(left) and _is_number(right):
        if isinstance(op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ExpressionError(f"number too large: exponent {right} is above {MAX_EXPONENT}")
        return _checked(function(left, right))
    if isinstance(op, ast.Add) and isinstance(left, str) and isinstance(right, str):
        return _checked(left + right)
    # Everything else, '*' and '%' on strings included, would be a door to huge
    # strings or format tricks.
    hint = "; strings can only be joined with +" if str in (type(left), type(right)) else ""
    types = f"{type(left).__name__} and {type(right).__name__}"
    raise ExpressionError(f"operator '{symbol}' is not defined for {types}{hint}")


def _bool_op(is_or: bool, values: Sequence[ast.expr], scope: Mapping[str, object]) -> object:
    # Like Python: `or` stops at the first true operand, `and` at the first false one.
    result = _evaluate_node(values[0], scope)
    for value in values[1:]:
        if bool(result) == is_or:
            return result
        result = _evaluate_node(value, scope)
    return result


def _compare(node: ast.Compare, scope: Mapping[str, object]) -> bool:
    left = _evaluate_node(node.left, scope)
    for op, right_node in zip(node.ops, node.comparators):  # a < b < c: a < b and b < c
        right = _evaluate_node(right_node, scope)
        symbol, function = _COMPARE[type(op)]
        # Any two values can be equal; only numbers or only strings have an order.
        ordered = type(left) is type(right) is str or _is_number(left) and _is_number(right)
        if not (ordered or isinstance(op, (ast.Eq, ast.NotEq))):
            types = f"{type(left).__name__} and {type(right).__name__}"
            raise ExpressionError(f"cannot compare {types} with '{symbol}'")
        if not function(left, right):
            return False
        left = right
    return True


def _index(container: object, index: object) -> object:
    if not isinstance(container, (list, tuple, str)):
        raise ExpressionError(f"cannot index a {type(container).__name__}")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ExpressionError(f"index must be an integer, not {type(index).__name__}")
    if not -len(container) <= index < len(container):
        raise ExpressionError(f"index {index} out of range for length {len(container)}")
    return container[index]


def _call(name: str, arguments: list[object]) -> object:
    try:
        return _checked(FUNCTIONS[name](*arguments))
    except TypeError as error:  # wrong count or types of arguments
        raise ExpressionError(f"bad arguments to {name}(): {error}") from None
