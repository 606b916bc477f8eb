"""Protocol Buffers text format (Caffe's .prototxt), read without protobuf.

    name: "AlexNet"                       # a scalar field: identifier, number or "string"
    layer {                               # a message field, `layer: { ... }` and `< ... >` too
      bottom: "data" bottom: "label"      # a field given again repeats it
      convolution_param { kernel_size: [3, 3] }   # a list repeats it too
    }

A message is its fields in order, each with the line and column it was written at, so
that every later error can point at it. Errors here are about the text itself: an
unclosed string or brace (a truncated file), a value where a name belongs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from ..errors import Mark, SpecError

Scalar = Union[str, int, float, bool]

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[fF]?))(?![A-Za-z_])
  | (?P<name>-?[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}<>\[\]:,;])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
_CLOSING = {"{": "}", "<": ">"}


class Identifier(str):
    """A bare word value (an enum such as MAX, or true/false), kept apart from a "string"."""


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, name, punct or end
    text: str
    line: int
    column: int


@dataclass
class Field:
    name: str
    value: Scalar | Message
    line: int
    column: int


@dataclass
class Message:
    """A message's fields in the order written; `line` and `column` of its opening brace."""

    line: int
    column: int
    fields: list[Field] = field(default_factory=list)

    def all(self, name: str) -> list[Field]:
        return [item for item in self.fields if item.name == name]

    def last(self, name: str) -> Field | None:
        """The field's value as protobuf keeps it when a singular field is written twice: the last."""
        found = self.all(name)
        return found[-1] if found else None

    def names(self) -> list[str]:
        return list(dict.fromkeys(item.name for item in self.fields))


def _tokens(text: str, filename: str) -> list[Token]:
    result: list[Token] = []
    line, line_start, position = 1, 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        column = position - line_start + 1
        if match is None:
            char = text[position]
            if char in "\"'":
                problem, hint = "a string is not closed on its line", "close it with a matching quote"
            else:
                problem, hint = f"unexpected character {char!r}", "prototxt holds names, numbers, \"strings\" and { }"
            raise SpecError(problem, mark=Mark(filename, line, column), hint=hint)
        kind = match.lastgroup or "space"
        if kind != "space":
            result.append(Token(kind, match.group(), line, column))
        newlines = match.group().count("\n")
        if newlines:
            line += newlines
            line_start = position + match.group().rfind("\n") + 1
        position = match.end()
    result.append(Token("end", "", line, position - line_start + 1))
    return result


def _string(token: Token) -> str:
    body = token.text[1:-1]
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(1)), body)


def _number(text: str) -> int | float:
    text = text.rstrip("fF") if not text.lower().startswith(("0x", "-0x", "+0x")) else text
    if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", text):
        return int(text, 16)
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    return float(text)


class _Parser:
    def __init__(self, tokens: list[Token], filename: str) -> None:
        self.tokens = tokens
        self.filename = filename
        self.index = 0
        self.open: list[tuple[str, Message]] = []  # the blocks being read, outermost first

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: Token, problem: str, hint: str | None = None) -> SpecError:
        """An error at `token`, naming the Caffe layer it is in when that layer's name was read."""
        layer = None
        for owner, message in self.open:
            if owner in ("layer", "layers"):
                name, kind = message.last("name"), message.last("type")
                if name is not None:
                    layer = (str(name.value), str(kind.value) if kind is not None else "?")
        return SpecError(problem, mark=Mark(self.filename, token.line, token.column), layer=layer, hint=hint)

    def message(self, opening: Token | None, owner: str) -> Message:
        """Fields until the closing brace of `opening` (or the end of the file for the top level)."""
        result = Message(opening.line if opening else 1, opening.column if opening else 1)
        closing = _CLOSING[opening.text] if opening else None
        if opening is not None:
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

    def field(self) -> list[Field]:
        name = self.take()
        if name.kind != "name" or name.text.startswith("-"):
            raise self.fail(name, f"expected a field name, found {name.text!r}" if name.text else
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
            raise self.fail(token, f"the file ends after '{name.text}'", "a truncated file?")
        if not colon:
            raise self.fail(token, f"expected ':' or '{{' after '{name.text}'",
                            f"write {name.text}: value or {name.text} {{ ... }}")
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
                    raise self.fail(token, f"expected ',' or ']' in the list of '{name.text}'")
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
            text = _string(token)
            while self.peek().kind == "string":  # "a" "b" is "ab", as in C
                text += _string(self.take())
            return text
        if token.kind == "number":
            return _number(token.text)
        if token.kind == "name":
            lowered = token.text.lower()
            if lowered in ("true", "t"):
                return True
            if lowered in ("false", "f"):
                return False
            if lowered.lstrip("-+") in ("inf", "infinity", "nan"):
                return float(lowered)
            return Identifier(token.text)
        what = "the end of the file" if token.kind == "end" else repr(token.text)
        raise self.fail(token, f"expected a value for '{owner}', found {what}",
                        "a truncated file?" if token.kind == "end" else None)


def parse(text: str, filename: str) -> Message:
    """The top-level message of a prototxt file."""
    return _Parser(_tokens(text, filename), filename).message(None, "the file")
