"""How the code is allowed to import: the core names no plugin, a plugin uses only the public
API of the core and of the plugins it builds on, and no two modules import each other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The modules of a bundled plugin that other plugins may import: its declared API. A package
#: name alone means what its ``__init__`` exports. Everything else is the plugin's own.
PUBLIC = {
    "ioproto_tcp": {"records"},
    "ioproto_http": {"records", "framing"},
    "ioproto_engineio": {"records"},
    "ioproto_socketio": {"records", "acks"},
    "ioproto_classify": {"records", "liveness"},
    "ioproto_appproto": {"", "records"},
    "ioproto_stats": {"collector", "report"},
    "ioproto_parquet": {"store"},
    "ioproto_tap": {""},
}


def modules() -> Iterator[tuple[str, Path]]:
    """``(dotted name, path)`` of every module of the core and of the bundled plugins."""
    for base in (ROOT, ROOT / "plugins"):
        top = ["ioproto"] if base == ROOT else [p.name for p in base.iterdir() if p.is_dir()]
        for package in top:
            for path in (base / package).rglob("*.py"):
                parts = path.relative_to(base).with_suffix("").parts
                name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                yield name, path


def imports(name: str, path: Path) -> Iterator[str]:
    """Every module ``path`` imports (at the top, lazily, or for type checking)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base)
                target = f"{stem}.{node.module}" if node.module else stem
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def test_the_core_imports_no_plugin() -> None:
    offences = [
        f"{name} imports {target}"
        for name, path in modules()
        if name.split(".")[0] == "ioproto"
        for target in imports(name, path)
        if target.startswith("ioproto_")
    ]
    assert offences == []


def test_plugins_import_only_the_declared_api_of_other_plugins() -> None:
    known = {name for name, _ in modules()}
    offences = []
    for name, path in modules():
        owner = name.split(".")[0]
        for target in imports(name, path):
            package, _, module = target.partition(".")
            if not package.startswith("ioproto_") or package == owner or target not in known:
                continue
            if module.split(".")[0] not in PUBLIC.get(package, set()):
                offences.append(f"{name} imports {target}")
    assert offences == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    known = {name for name, _ in modules()}
    graph = {
        name: {target for target in imports(name, path) if target in known and target != name}
        for name, path in modules()
    }
    # A package importing its own modules (its __init__ re-exporting them) is no circle.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    circles = [sorted(group) for group in strongly_connected(graph) if len(group) > 1]
    assert circles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of ``graph`` (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, set())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups
