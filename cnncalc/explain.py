"""`cnncalc explain`: each layer type's formulas, fields and costs, read from the
classes that compute them, so the explanation cannot drift from the numbers."""

from __future__ import annotations

import difflib
import inspect
from dataclasses import MISSING

from .errors import SpecError
from .layers import DEFERRED, REGISTRY, SHORTHANDS


def _in_order() -> list[tuple[str, type]]:
    """Every type in one order whatever was loaded first: the eagerly registered families as
    registered, then the deferred ones in DEFERRED's order (a spec that named `parameter`
    earlier in the process would otherwise move its family up)."""
    order = {f"{__package__}.layers.{module}": index for index, module in enumerate(DEFERRED)}
    return sorted(REGISTRY.items(), key=lambda item: order.get(item[1].__module__, -1))


def list_types(width: int = 80) -> str:
    """Every type, grouped by the class (family) that computes it, wrapped to `width` columns."""
    import textwrap

    def wrapped(text: str, indent: str) -> list[str]:
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False)

    families: dict[type, list[str]] = {}
    for name, cls in _in_order():
        families.setdefault(cls, []).append(name)
    lines = ["Layer types (`cnncalc explain TYPE` for one):", ""]
    for cls, names in families.items():
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        lines += wrapped(", ".join(names), "  ") + wrapped(summary, "      ")
    lines += ["", "Shorthands whose rank comes from the input:", *wrapped(", ".join(SHORTHANDS) + ".", "  "),
              "", "Spec keys (`cnncalc explain KEY`):", *wrapped(", ".join(KEY_TOPICS) + ".", "  ")]
    return "\n".join(lines)


def describe(topic: str) -> str:
    """`cnncalc explain TOPIC`: a layer type, or one of the spec's own keys."""
    if topic in KEY_TOPICS and topic not in REGISTRY:
        return describe_key(topic)
    return describe_type(topic)


def describe_key(key: str) -> str:
    from .budgets import BUDGET_KEYS, FPS_KEYS

    text = inspect.cleandoc(KEY_TOPICS[key]).replace("<budgets>", ", ".join(BUDGET_KEYS))
    text = text.replace("<fps>", ", ".join(FPS_KEYS))
    return "\n".join([f"{key}:", "=" * (len(key) + 1), "", text])


def describe_type(kind: str) -> str:
    if kind not in REGISTRY:
        close = difflib.get_close_matches(kind, [*REGISTRY, *KEY_TOPICS], n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise SpecError(f"unknown layer type or spec key '{kind}'",
                        hint=f"{guess}`cnncalc explain` lists every type and key")
    cls = REGISTRY[kind]
    lines = [kind, "=" * len(kind), "", inspect.cleandoc(cls.__doc__ or ""), ""]
    options = cls.options()
    lines.append("Fields:" if options else "Fields: none (besides name, from, repeat, when)")
    for spec in options:
        default = "required" if spec.default is MISSING else f"default {_yaml(spec.default)}"
        lines.append(f"  {spec.name} ({default}): {spec.metadata['doc']}")
    inputs = {"many": "several (from: [a, b, ...])", "none": "none (later layers read it with from:)"}
    lines += ["", f"Inputs: {inputs.get(cls.arity, 'one')}", "",
              "FLOPs by convention:",
              "  2mac: 2 x MACs",
              "  mac:  MACs",
              f"  full: {cls.full_rule}"]
    return "\n".join(lines)


# The spec's own keys, as `cnncalc explain KEY` tells them; docs/spec-format.md is the whole contract.
KEY_TOPICS = {
    "from": """
        What an entry consumes. Default: the previous entry (-1).

          from: conv1             a layer's name (local names first, then input, then the
                                  enclosing chains' names, then any full dotted name: layer3.1)
          from: input             the only input, or inside a block its input
          from: image             an input named under inputs:
          from: -2                a negative offset: two entries back
          from: [bn2, shortcut]   several, for add, sub, mul, div, concat, stack, matmul,
                                  attention, upsample to a reference, blocks with inputs: [...]

        parameter and constant take no input; later layers read them with from:.
        """,
    "outputs": """
        The network's outputs, by layer name (full dotted names reach inside blocks):

          outputs: [head_p3, head_p4, head_p5]

        Default: the last entry. Needed for networks with several heads (detectors):
        without it only the last head is an output, and every layer whose result reaches
        no output is listed in a warning (it is still counted, since the spec has it).
        Outputs count in peak memory to the end of the run, and export --torch returns
        them as a tuple in this order.
        """,
    "blocks": """
        Reusable sub-networks, used like layer types:

          blocks:
            basic:
              params: {channels: 64, stride: 1}   # defaults, passed as fields
              inputs: [x, skip]                   # only for blocks with several inputs
              layers: [...]                       # input is the block's input
          layers:
            - {type: basic, name: layer2, repeat: 2, channels: 128, stride: "${2 if i == 0 else 1}"}

        Layers of an instance are named <instance>.<local name> (layer2.0.bn2); --depth 1
        folds them into one row per instance, --by block into one per top-level entry
        (a repeat's instances together). A block's output is its last
        entry. A parameter default may be an expression over the globals, in_channels,
        in_shape and earlier parameters. A block may not take a built-in type's name, nor
        reach itself. An entry with layers: instead of type: is an inline chain (a branch).
        """,
    "budgets": """
        Limits that cnncalc check gates CI on: exit 0 when all hold, 1 when one fails.

          budgets:
            params: 5M             # counts: k, M, G, T (powers of 1000)
            flops: 1.2G            # in the --convention in force (default 2mac)
            weights: 20MB          # bytes: B, kB, MB, GB (1000) and KiB, MiB, GiB (1024)
            peak_activations: 64MiB
            fps: {chip: jetson-orin-nano-8gb, min: 30, utilization: 0.4}

        Keys: <budgets>.
        fps keys: <fps> (chip and min required).
        --budget KEY=VALUE overrides or adds one. Given several specs, one without budgets
        is listed as "no budgets" and skipped; alone, it is an error.
        """,
    "repeat": """
        repeat: N makes N instances of an entry in a chain, named <name>.0 ... <name>.N-1;
        the first takes from:, each next one the previous instance, and the entry's name
        means the last. i is the index inside expressions: stride: "${2 if i == 0 else 1}".
        """,
    "when": """
        when: a boolean, usually an expression (when: "${stride != 1}"), evaluated per
        instance. When false the entry makes no layer and stands for its (first) input.
        """,
    "params": """
        Global parameters with their defaults: params: {width: 1.0}. Every expression sees
        them; --set width=0.5 overrides one (only declared names: a typo is an error).
        Blocks have params of their own, passed as fields where the block is used.
        """,
    "input": """
        One sample's shape, channels first, and the batch:
          input: {shape: [3, 224, 224], batch: 1}
        Several inputs: inputs: {image: {shape: [3, 512, 512]}, depth: {shape: [1, 512, 512]}}.
        --input 3x320x320 (or --input image=3x512x512) replaces a shape; --batch N the batch.
        """,
}


def _yaml(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def reference_markdown() -> str:
    """docs/layers.md: every type's explanation; a test keeps the file equal to this."""
    families: dict[type, list[str]] = {}
    for name, cls in _in_order():
        families.setdefault(cls, []).append(name)
    parts = ["# Layer types", "",
             "Generated by `python -m cnncalc.explain > docs/layers.md` from the classes that compute",
             "the numbers; `cnncalc explain TYPE` prints the same. The `full` line is the per-element",
             "cost of the type in the `full` FLOP convention.", ""]
    for names in families.values():
        text = describe_type(names[0]).split("\n", 2)[2]
        parts += [f"## {', '.join(names)}", "", "```", text.strip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference_markdown(), end="")
