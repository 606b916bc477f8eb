"""The package's shape stays readable: no import cycle among cnncalc's modules (imports inside
functions included), `import cnncalc` stays light, and docs/architecture.md names only what exists."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnncalc"


def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Which cnncalc modules each module imports, wherever in the file the import stands."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in known.items():
        package = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                               for alias in node.names)
        graph[name] = {target for target in targets if target in known and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_import_cnncalc_is_light() -> None:
    """The library imports neither the CLI's click and rich nor any importer."""
    code = ("import sys, cnncalc; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('click', 'rich') or m.startswith('cnncalc.importers')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_architecture_names_only_what_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(cnncalc/[\w/]+(?:\.py|/))`", text))
    assert named, "the page names the modules and packages"
    for path in named:
        assert (ROOT / path).exists(), path
    packages = {f"cnncalc/{path.relative_to(PACKAGE).as_posix()}/" for path in PACKAGE.rglob("__init__.py")
                for path in [path.parent] if path != PACKAGE}
    assert packages <= named, f"packages the page does not name: {sorted(packages - named)}"


def test_deferred_layer_families_register_exactly_their_names() -> None:
    """The token families load on first use; their names are written down in cnncalc.layers."""
    code = ("import importlib, cnncalc.layers as layers\n"
            "from cnncalc.layers.base import REGISTRY\n"
            "assert not any(m in __import__('sys').modules for m in ['cnncalc.layers.' + n for n in layers.DEFERRED])\n"
            "before = set(dict.keys(REGISTRY))\n"
            "for module, names in layers.DEFERRED.items():\n"
            "    importlib.import_module('cnncalc.layers.' + module)\n"
            "    added = set(dict.keys(REGISTRY)) - before\n"
            "    assert added == set(names), (module, sorted(added ^ set(names)))\n"
            "    before |= added\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
