"""Protocol Buffers text format (Caffe's .prototxt), read without protobuf.

    name: "AlexNet"                       # a scalar field: identifier, number or "string"
    layer {                               # a message field, `layer: { ... }` and `< ... >` too
      bottom: "data" bottom: "label"      # a field given again repeats it
      convolution_param { kernel_size: [3, 3] }   # a list repeats it too
    }

A message is its fields in order, each with the line and column it was written at, so
that every later error can point at it. Errors here are about the text itself: an
unclosed string or brace (a truncated file), a value where a name belongs, a number out
of protobuf's range, blocks nested past NESTING_LIMIT, a file past TOKEN_LIMIT. Reading
takes time and memory in proportion to the file, never more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Union

from ..errors import Mark, SpecError
from .common import brief, printable_text

Scalar = Union[str, int, float, bool]

NESTING_LIMIT = 100  # blocks inside blocks: Caffe's nets nest 3 or 4 deep; it also bounds the reader's recursion
# Tokens (names, values, punctuation and comments) in one file: Caffe layers take 25 to 50, so a
# 1,000-layer ResNet's train_val has some 50,000. Past it a file is generated or corrupt, and reading
# on would take seconds and gigabytes.
TOKEN_LIMIT = 500_000
INTEGER_RANGE = (-(2**63), 2**64 - 1)  # protobuf's widest integers, int64 and uint64
_DIGITS = len(str(INTEGER_RANGE[1]))  # a decimal integer with more digits is out of range unconverted

# Spaces, then one token. Each alternative matches in one way only, and no group repeats, so a long
# or unclosed token costs time in proportion to it and no memory for backtracking. (`lastgroup` is
# the token's kind: each kind is the last group of its alternative.)
_TOKEN = re.compile(r"""
    [ \t\r\n]*
    (?:(?P<comment>\#[^\n]*)
     | (?P<string>"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"|'[^'\\\n]*(?:\\[^\n][^'\\\n]*)*')
     | (?=(?P<numeral>[-+]?(?:0[xX][0-9a-fA-F]+|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[fF]?)))
       (?P<number>(?P=numeral))(?![\w.])  # the lookahead is atomic: "1111...1a" is not retried digit by digit
     | (?P<name>-?[A-Za-z_][A-Za-z0-9_.]*)
     | (?P<punct>[{}<>\[\]:,;])
     | (?P<end>\Z)
     | (?P<bad>[-+.\w]+|.))
""", re.VERBOSE)
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
_HEXADECIMAL = re.compile(r"[-+]?0[xX][0-9a-fA-F]+")
_DECIMAL = re.compile(r"[-+]?[0-9]+[fF]?")
_CLOSING = {"{": "}", "<": ">"}
# Fields whose strings are free text, never a name cnncalc prints: a Python layer's parameters.
FREE_TEXT = frozenset({"param_str"})
_TEXT_HINT = "a prototxt is plain text: names, numbers, \"strings\" and { }"


class Identifier(str):
    """A bare word value (an enum such as MAX, or true/false), kept apart from a "string"."""


class Token(NamedTuple):
    kind: str  # string, number, name, punct or end
    text: str
    line: int
    column: int


_new_token = tuple.__new__  # a Token without NamedTuple's Python-level __new__: a third faster


class Field(NamedTuple):
    name: str
    value: Scalar | Message
    line: int
    column: int


@dataclass(slots=True)
class Message:
    """A message's fields in the order written; `line` and `column` of its opening brace."""

    line: int
    column: int
    fields: list[Field] = field(default_factory=list)
    _by_name: dict[str, list[Field]] | None = None  # built on the first look-up, once the message is read

    def _index(self) -> dict[str, list[Field]]:
        if self._by_name is None:
            index: dict[str, list[Field]] = {}
            for item in self.fields:
                index.setdefault(item.name, []).append(item)
            self._by_name = index
        return self._by_name

    def all(self, name: str) -> list[Field]:
        return list(self._index().get(name, ()))

    def last(self, name: str) -> Field | None:
        """The field's value as protobuf keeps it when a singular field is written twice: the last."""
        found = self._index().get(name)
        return found[-1] if found else None

    def names(self) -> list[str]:
        return list(self._index())


def describe(value: Scalar | Message) -> str:
    """A value as an error quotes it: a block by its line, never written out whole."""
    if isinstance(value, Message):
        return f"a {{ ... }} block (line {value.line})"
    return repr(value)


def _tokens(text: str, filename: str) -> Iterator[Token]:
    """The tokens but comments, the last an end token. (The hot loop of a read: kept lean.)"""
    line, line_start, count = 1, 0, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "end"
        start = match.start(kind)
        if start != match.start():  # spaces before the token: the only place newlines are
            newlines = text.count("\n", match.start(), start)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", match.start(), start) + 1
        count += 1
        if count > TOKEN_LIMIT or kind == "bad":
            mark = Mark(filename, line, start - line_start + 1)
            if kind == "bad":
                raise _bad(match.group(kind), mark)
            raise SpecError(f"the file has more than {TOKEN_LIMIT:,} tokens (names, values, braces)", mark=mark,
                            hint="the largest Caffe nets have some 50,000: a generated or corrupt file?")
        if kind != "comment":
            yield _new_token(Token, (kind, match.group(kind), line, start - line_start + 1))
        if kind == "end":
            return


def _bad(text: str, mark: Mark) -> SpecError:
    if text in "\"'":
        return SpecError("a string is not closed on its line", mark=mark, hint="close it with a matching quote")
    if text[0] in "0123456789+-.":
        return SpecError(f"'{brief(text)}' is not a number", mark=mark, hint="e.g. 3, -1, 0.5, 1e-3 or 0x1F")
    return SpecError(f"unexpected character {text[0]!r}", mark=mark, hint=_TEXT_HINT)


class _Parser:
    def __init__(self, tokens: Iterator[Token], filename: str) -> None:
        self.tokens = tokens
        self.filename = filename
        self.next = next(tokens)
        self.open: list[tuple[str, Message]] = []  # the blocks being read, outermost first

    def peek(self) -> Token:
        return self.next

    def take(self) -> Token:
        token = self.next
        if token.kind != "end":
            self.next = next(self.tokens)
        return token

    def fail(self, token: Token, problem: str, hint: str | None = None) -> SpecError:
        """An error at `token`, naming the Caffe layer it is in when that layer's name was read."""
        layer = None
        for owner, message in self.open:
            if owner in ("layer", "layers"):
                name, kind = message.last("name"), message.last("type")
                if name is not None and isinstance(name.value, str):
                    layer = (str(name.value), str(kind.value) if kind and isinstance(kind.value, str) else "?")
        return SpecError(problem, mark=Mark(self.filename, token.line, token.column), layer=layer, hint=hint)

    def message(self, opening: Token | None, owner: str) -> Message:
        """Fields until the closing brace of `opening` (or the end of the file for the top level)."""
        result = Message(opening.line if opening else 1, opening.column if opening else 1)
        closing = _CLOSING[opening.text] if opening else None
        if opening is not None:
            if len(self.open) >= NESTING_LIMIT:
                raise self.fail(opening, f"blocks nest more than {NESTING_LIMIT} deep here",
                                "Caffe's nets nest 3 or 4 deep: a generated or corrupt file?")
            self.open.append((owner, result))
        try:
            return self._fields(result, opening, closing, owner)
        finally:
            if opening is not None:
                self.open.pop()

    def _fields(self, result: Message, opening: Token | None, closing: str | None, owner: str) -> Message:
        while True:
            token = self.peek()
            if token.kind == "end":
                if opening is not None:
                    raise self.fail(token, f"the file ends inside '{owner}' opened at line {opening.line}",
                                    f"a truncated file? '{owner} {{' needs its closing '{closing}'")
                return result
            if token.kind == "punct" and token.text in "}>":
                self.take()
                if opening is None:
                    raise self.fail(token, f"'{token.text}' closes nothing here", "one '}' too many?")
                if token.text != closing:
                    raise self.fail(token, f"'{token.text}' where '{closing}' closes '{owner}' (line {opening.line})")
                return result
            if token.kind == "punct" and token.text in ",;":
                self.take()
                continue
            result.fields.extend(self.field())
            result._by_name = None  # an error message may have looked the block up while it was read

    def field(self) -> list[Field]:
        name = self.take()
        if name.kind != "name" or name.text.startswith("-"):
            raise self.fail(name, f"expected a field name, found {brief(name.text)!r}" if name.text else
                            "expected a field name", "fields are written name: value or name { ... }")
        token = self.peek()
        colon = token.kind == "punct" and token.text == ":"
        if colon:
            self.take()
            token = self.peek()
        if token.kind == "punct" and token.text in _CLOSING:
            self.take()
            return [Field(name.text, self.message(token, name.text), name.line, name.column)]
        if token.kind == "end":
            raise self.fail(token, f"the file ends after '{brief(name.text)}'", "a truncated file?")
        if not colon:
            raise self.fail(token, f"expected ':' or '{{' after '{brief(name.text)}'",
                            f"write {brief(name.text)}: value or {brief(name.text)} {{ ... }}")
        if token.kind == "punct" and token.text == "[":
            return self.listed(name)
        return [Field(name.text, self.scalar(name.text), name.line, name.column)]

    def listed(self, name: Token) -> list[Field]:
        """`name: [a, b]`: the field repeated once per item."""
        self.take()
        result: list[Field] = []
        while True:
            token = self.peek()
            if token.kind == "punct" and token.text == "]":
                self.take()
                return result
            if result:
                if not (token.kind == "punct" and token.text == ","):
                    raise self.fail(token, f"expected ',' or ']' in the list of '{brief(name.text)}'")
                self.take()
                token = self.peek()
            if token.kind == "punct" and token.text in _CLOSING:
                self.take()
                result.append(Field(name.text, self.message(token, name.text), token.line, token.column))
            else:
                result.append(Field(name.text, self.scalar(name.text), token.line, token.column))

    def scalar(self, owner: str) -> Scalar:
        token = self.take()
        if token.kind == "string":
            free = owner in FREE_TEXT
            parts = [self.string(token, free)]
            while self.peek().kind == "string":  # "a" "b" is "ab", as in C
                parts.append(self.string(self.take(), free))
            return "".join(parts)
        if token.kind == "number":
            return self.number(token)
        if token.kind == "name":
            lowered = token.text.lower()
            if lowered in ("true", "t"):
                return True
            if lowered in ("false", "f"):
                return False
            if lowered.lstrip("-+") in ("inf", "infinity", "nan"):
                return float(lowered)
            return Identifier(token.text)
        what = "the end of the file" if token.kind == "end" else repr(brief(token.text))
        raise self.fail(token, f"expected a value for '{brief(owner)}', found {what}",
                        "a truncated file?" if token.kind == "end" else None)

    def string(self, token: Token, free: bool = False) -> str:
        text = token.text[1:-1]
        if "\\" in text:
            text = _ESCAPE.sub(lambda match: _ESCAPES.get(match.group(1), match.group(1)), text)
        if not free and ("\n" in text or "\r" in text or "\0" in text):
            raise self.fail(token, "an escape in this string makes a newline, carriage return or NUL",
                            "names and types in a prototxt are plain text")
        return text

    def number(self, token: Token) -> int | float:
        text = token.text
        if _HEXADECIMAL.fullmatch(text):
            value = int(text, 16)
        elif _DECIMAL.fullmatch(text):
            digits = text.rstrip("fF")
            if len(digits.lstrip("-+").lstrip("0")) > _DIGITS:
                raise self.out_of_range(token)
            value = int(digits)
        else:
            return float(text.rstrip("fF"))  # past a double's range: inf, as protobuf reads it
        if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
            raise self.out_of_range(token)
        return value

    def out_of_range(self, token: Token) -> SpecError:
        return self.fail(token, f"integer {brief(token.text)} is out of range",
                         "protobuf's integers run from -2**63 to 2**64 - 1; Caffe's sizes are far smaller")


def parse(text: str, filename: str) -> Message:
    """The top-level message of a prototxt file."""
    text = printable_text(text, filename, _TEXT_HINT)
    return _Parser(_tokens(text, filename), filename).message(None, "the file")
