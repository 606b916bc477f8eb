"""Parsers for layer fields: each takes (field name, YAML value) and returns the
validated value or raises FieldError saying what would be accepted."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import FieldError

Parser = Callable[[str, Any], Any]


def describe(value: Any) -> str:
    """A YAML value as the spec's author wrote it: null, true, 'text', a list."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(name: str, value: Any, minimum: int, accepted: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value) or value < minimum:
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes {accepted}")
    return int(value)


def count(name: str, value: Any) -> int:
    """A whole number of at least 1 (channels, features, groups)."""
    return _as_int(name, value, 1, "a whole number >= 1")


def non_negative(name: str, value: Any) -> int:
    return _as_int(name, value, 0, "a whole number >= 0")


def integer(name: str, value: Any) -> int:
    return _as_int(name, value, -(2**62), "a whole number")


def number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes a number")
    try:
        return float(value)
    except OverflowError:  # an integer past the largest float
        raise FieldError(name, f"{name} is too large", f"{name} takes a number below 1e308") from None


def positive_number(name: str, value: Any) -> float:
    result = number(name, value)
    if result <= 0 or result == float("inf"):
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes a number > 0")
    return result


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes true or false")
    return value


def sizes(name: str, value: Any) -> int | tuple[int, ...]:
    """A size >= 1 for every spatial axis, or a list with one per axis."""
    if isinstance(value, list):
        if not 1 <= len(value) <= 3:
            raise FieldError(name, f"{name} has {len(value)} entries", f"{name} takes 1 to 3")
        return tuple(count(name, item) for item in value)
    return _as_int(name, value, 1, "a whole number >= 1, or one per spatial axis like [3, 5]")


def paddings(name: str, value: Any) -> Any:
    """An int, one per axis, [begin, end] pairs per axis, `same` or `valid`."""
    if value in ("same", "valid"):
        return value
    if isinstance(value, list):
        if not 1 <= len(value) <= 3:
            raise FieldError(name, f"{name} has {len(value)} entries", f"{name} takes 1 to 3")
        return tuple(_pad_pair(name, item) if isinstance(item, list) else non_negative(name, item)
                     for item in value)
    if _is_int(value) or isinstance(value, float):
        return non_negative(name, value)
    raise FieldError(
        name, f"{name} is {describe(value)}",
        f"{name} takes a whole number >= 0, one per axis, [begin, end] pairs, 'same' or 'valid'",
    )


def _pad_pair(name: str, pair: list[Any]) -> tuple[int, int]:
    if len(pair) != 2:
        raise FieldError(name, f"{name} pair has {len(pair)} entries", "write [begin, end]")
    return (non_negative(name, pair[0]), non_negative(name, pair[1]))


def choice(*allowed: str) -> Parser:
    def parse(name: str, value: Any) -> str:
        if value not in allowed:
            raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes {', '.join(allowed)}")
        return str(value)

    return parse


def optional(parse: Parser) -> Parser:
    """The same parser, with null meaning "not given"."""

    def parse_optional(name: str, value: Any) -> Any:
        return None if value is None else parse(name, value)

    return parse_optional


def int_list(name: str, value: Any) -> tuple[int, ...]:
    """A list of whole numbers (reshape's shape, permute's dims)."""
    if not isinstance(value, list) or not value:
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes a list of whole numbers")
    return tuple(integer(name, item) for item in value)


def count_or_list(name: str, value: Any) -> int | tuple[int, ...]:
    """One whole number >= 1, or a list of them (output_size, normalized_shape)."""
    if isinstance(value, list):
        if not value:
            raise FieldError(name, f"{name} is empty", f"{name} takes a whole number or a list")
        return tuple(count(name, item) for item in value)
    return count(name, value)


def sizes_or_zero(name: str, value: Any) -> int | tuple[int, ...]:
    """Like `sizes`, but 0 is allowed (output_padding)."""
    if isinstance(value, list):
        if not 1 <= len(value) <= 3:
            raise FieldError(name, f"{name} has {len(value)} entries", f"{name} takes 1 to 3")
        return tuple(non_negative(name, item) for item in value)
    return non_negative(name, value)


def scales(name: str, value: Any) -> float | tuple[float, ...]:
    """A factor > 0, or one per spatial axis."""
    if isinstance(value, list):
        return tuple(positive_number(name, item) for item in value)
    return positive_number(name, value)


def count_list(name: str, value: Any) -> tuple[int, ...]:
    """A non-empty list of whole numbers >= 1 (a learned tensor's shape)."""
    if not isinstance(value, list) or not value:
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes a list of whole numbers >= 1")
    return tuple(count(name, item) for item in value)


def int_or_list(name: str, value: Any) -> tuple[int, ...]:
    """One whole number or a non-empty list of them, as a tuple (axes, shifts)."""
    return int_list(name, value) if isinstance(value, list) else (integer(name, value),)


def text(name: str, value: Any) -> str:
    """A non-empty string (an einsum equation)."""
    if not isinstance(value, str) or not value:
        raise FieldError(name, f"{name} is {describe(value)}", f"{name} takes text such as 'bhqd,bhkd->bhqk'")
    return value
