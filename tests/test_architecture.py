"""The import graph of bot/, cogs/ and db/: no cycles, and the layers' rules (docs/ARCHITECTURE.md).

Read from the source with `ast`, so every import counts, including those under
``if TYPE_CHECKING:`` and inside functions: a cycle there is still a cycle for the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "cogs", "db")

# The bot's runtime: the client, the command tree, the composition root and the command line.
RUNTIME = ("bot.bot", "bot.app", "bot.tree", "bot.command_sync", "bot.startup", "bot.__main__")

# layer → (module prefixes it covers, prefixes it must never import)
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "domain": (
        ("bot.domain",),
        ("discord", "db", "sqlalchemy", "cogs", "bot.services", "bot.scheduler", *RUNTIME),
    ),
    "services": (
        ("bot.services", "bot.scheduler"),
        ("discord", "cogs", *RUNTIME),
    ),
    # Leaves every layer may use: words and dates for people, user-facing errors.
    "shared": (
        ("bot.formatting", "bot.errors"),
        ("discord", "db", "sqlalchemy", "cogs", "bot.services", "bot.scheduler", *RUNTIME),
    ),
    "db": (
        ("db",),
        ("discord", "cogs", "bot.services", "bot.scheduler", *RUNTIME),
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "versions" not in path.parts:  # migrations are frozen history
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module `name` imports; `from a import b` counts as a.b when that is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return found


def graph() -> dict[str, set[str]]:
    modules = sources()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    edges = graph()
    assert {"bot.bot", "bot.services", "bot.domain.pairing", "db.engine", "cogs.review"} <= set(
        edges
    )
    assert "bot.services.reviews" in edges["bot.services"]
    assert "bot.clock" in edges["bot.scheduler"]


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_a_cycle_is_noticed() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_rules(layer: str) -> None:
    covered, forbidden = RULES[layer]
    edges = graph()
    members = [name for name in edges if any(under(name, p) for p in covered)]
    assert members, f"no module in layer {layer}"
    broken = sorted(
        f"{name} imports {target}"
        for name in members
        for target in edges[name]
        if any(under(target, p) for p in forbidden)
    )
    assert broken == []


def test_no_sql_outside_db() -> None:
    edges = graph()
    outside = sorted(
        f"{name} imports {target}"
        for name, targets in edges.items()
        if not under(name, "db")
        for target in targets
        if under(target, "sqlalchemy") and name != "bot.tree"  # recognises "database busy"
    )
    assert outside == []
