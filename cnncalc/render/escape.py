"""One escaping rule for every name cnncalc prints, so no name can turn output against its reader.

Names (layers, inputs, blocks, types, the spec's `name`, chips, file paths) come from files
that may be hostile: a newline in a name would start a line of its own, which GitHub runs as
a workflow command when it reads `::error ...` (or `##[error]`) at the start of a line of a
step's output (Azure Pipelines reads `##vso[...]` anywhere in a line); a terminal obeys
escape sequences; bidi overrides reorder what a reviewer sees.

`display` writes every character Python does not call printable (C0 and C1 controls, DEL,
line and paragraph separators, bidi and other format characters, surrogates) as Python's
repr writes it (`\\n`, `\\x1b`, `\\u202e`), and breaks `::` and `##`, the prefixes CI runners
read as commands (`:\\x3a`, `#\\x23`). Backslashes are left as they are. JSON, which escapes
on its own, keeps names exact.
"""

from __future__ import annotations

from typing import Any

# Workflow-command prefixes: GitHub's `::name ...::message` and `##[name ...]message` at the
# start of a line (after spaces), Azure's `##vso[...]` anywhere.
_COMMAND_PREFIXES = {"::": ":\\x3a", "##": "#\\x23"}


def display(text: str) -> str:
    """`text` safe to print on one line of any format; unchanged when it already is."""
    if text.isprintable() and "::" not in text and "##" not in text:
        return text  # the common case, at the speed of two C calls
    escaped = "".join(character if character.isprintable() else repr(character)[1:-1] for character in text)
    for prefix, replacement in _COMMAND_PREFIXES.items():
        escaped = escaped.replace(prefix, replacement)
    return escaped


def json_text(text: str) -> str:
    """JSON text with `##` written `#\\u0023`: the same value, and no `##vso[` for Azure to run.
    (JSON puts `#` nowhere but inside strings; it already escapes every control character.)"""
    return text.replace("##", "#\\u0023")


def tidy_floats(data: Any) -> Any:
    """Floats at 15 significant digits, all a double carries exactly: 1.0000000000000016
    (0.1 * 3 / 0.3 and the like) is written 1.0. Integers, the exact counts, are untouched."""
    if isinstance(data, float):
        return float(f"{data:.15g}") if data == data and abs(data) != float("inf") else data
    if isinstance(data, dict):
        return {key: tidy_floats(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [tidy_floats(item) for item in data]
    return data


def json_document(data: Any) -> str:
    """A JSON document, indented one space, as every command writes one."""
    import json  # here: the table and markdown renderers import this module and never write JSON

    return json_text(json.dumps(tidy_floats(data), indent=1)) + "\n"


def github_message(text: str) -> str:
    """The data of a workflow command, escaped as GitHub's runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value (file=, title=) of a workflow command: also ':' and ','."""
    return github_message(text).replace(":", "%3A").replace(",", "%2C")
