"""The package's shape: no import cycle anywhere (module-level or inside functions), run modules of
a readable size, and no method or adapter kind names in the run's code (capabilities decide)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import promptkit
from promptkit.methods import method_kinds

PACKAGE = Path(promptkit.__file__).parent
RUN = PACKAGE / "run"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under ``if TYPE_CHECKING:`` (annotations only: never imported at run time)."""
    return {node for block in ast.walk(tree) if isinstance(block, ast.If) and isinstance(block.test, ast.Name)
            and block.test.id == "TYPE_CHECKING" for stmt in block.body for node in ast.walk(stmt)}


def imports(path: Path) -> set[str]:
    """Every ``promptkit`` module ``path`` imports, anywhere in the file (lazy imports included,
    ``if TYPE_CHECKING:`` blocks not)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = type_checking_only(tree)
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("promptkit")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("promptkit") and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # `from promptkit.run import cell`
    return found


def graph(root: Path) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in root.rglob("*.py")}
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (empty: the graph is acyclic)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_run_package_has_no_import_cycle() -> None:
    edges = graph(RUN)
    assert {"promptkit.run.plan", "promptkit.run.cell", "promptkit.run.local", "promptkit.run.ray"} <= set(edges)
    assert "promptkit.run.plan" in edges["promptkit.run.cell"]  # the graph sees the package's own imports
    assert cycles(edges) == []


def test_the_whole_package_has_no_import_cycle() -> None:
    edges = graph(PACKAGE)
    assert len(edges) > 90 and "promptkit.tasks.adapters.base" in edges["promptkit.tasks.adapters.qa"]
    assert cycles(edges) == []


def test_the_run_package_does_not_import_its_launchers_from_below() -> None:
    """plan and store know nothing of how cells are executed."""
    edges = graph(RUN)
    for low in ("promptkit.run.plan", "promptkit.run.store", "promptkit.run.cell", "promptkit.run.prompts"):
        assert not edges[low] & {"promptkit.run.local", "promptkit.run.ray", "promptkit.run.launch"}, low


def test_the_run_package_names_no_method_or_adapter_kind() -> None:
    kinds = set(method_kinds()) | {"classification", "multiple_choice", "qa", "translation", "generation"}
    # `.kind == ...`, `kind != ...`, `m.kind in (...)`, or a kind name as a string (not a dict key)
    pattern = re.compile(r"""\bkind\s*(==|!=)|\.kind\s+in\b|["'](%s)["'](?!\s*:)""" % "|".join(map(re.escape, sorted(kinds))))
    offending = [f"{p.name}:{i}: {line.strip()}" for p in sorted(RUN.glob("*.py"))
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offending == []


def test_run_modules_stay_readable() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in RUN.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes
