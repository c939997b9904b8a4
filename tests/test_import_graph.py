"""The core's import graph has no cycle, counting every import statement wherever it stands.

The graph is built from the AST of every ``fusion_core`` module (function-level imports included,
relative imports resolved, ``from pkg import name`` counted as an import of ``pkg.name`` where that is
a submodule), so a cycle hidden inside a function body fails here even though Python would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "fusion_core"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names, resolving a relative one against ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(path: Path, module: str, modules: dict[str, Path]) -> set[str]:
    """Every fusion_core module that ``path`` imports, at any depth of its AST."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path.name == "__init__.py")
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules)
    found |= {parent for name in found for parent in _parents_run_first(name, module)}
    return {name for name in found if name in modules and name != module}


def _parents_run_first(name: str, importer: str) -> set[str]:
    """The packages that importing ``name`` runs before it: its ancestors, less the importer's own
    (those are already in ``sys.modules`` while the importer runs)."""
    parts = name.split(".")
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return {".".join(parts[:i]) for i in range(1, len(parts))} - own


def import_graph() -> dict[str, set[str]]:
    """Module -> the fusion_core modules it imports (an edge per import statement, anywhere)."""
    modules = _modules()
    return {name: _targets(path, name, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None when the graph is acyclic (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_find_cycle_reports_a_cycle_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_relative_and_submodule_imports_become_edges(tmp_path):
    source = "def f():\n    from . import sibling\n    from ..other import thing\n"
    path = tmp_path / "mod.py"
    path.write_text(source)
    modules = dict.fromkeys(["p.q.mod", "p.q.sibling", "p.other"], path)
    assert _targets(path, "p.q.mod", modules) == {"p.q.sibling", "p.other"}


def test_graph_sees_the_whole_package():
    graph = import_graph()
    assert {"fusion_core.volume", "fusion_core.training.loop", "fusion_core.data.phantom"} <= set(graph)
    assert "fusion_core.volume" in graph["fusion_core.case"]


def test_fusion_core_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
