"""The package layout: no import circles, no private names across modules, pools only in ``execution``.

The import graph is read from the source (``ast``), not by importing, so a circle that Python happens to
tolerate today (a lazy import inside a function) is caught too.  Imports under ``if TYPE_CHECKING:`` are
left out: they never run.  A package's ``__init__`` is a node of its own; importing ``a.b`` does not add an
edge to ``a`` (Python initialises the parent first, but that is not a circle in the code).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "experiments")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``sim`` and ``experiments``."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is, except those guarded by ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _absolute(module: str, node: ast.ImportFrom, modules: dict[str, Path]) -> str:
    if not node.level:
        return node.module or ""
    package = module if modules[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges module -> imported project modules, and every ``from x import _private`` found."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    private: list[str] = []
    for name, path in modules.items():
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names if alias.name in modules)
                continue
            source = _absolute(name, node, modules)
            if source.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    graph[name].add(f"{source}.{alias.name}")
                else:
                    graph[name].add(source)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append(f"{name} imports {source}.{alias.name}")
    return graph, private


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_circle_and_accepts_a_tree() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones(tmp_path: Path) -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
                     "def f():\n    import b\n")
    assert sorted(alias.name for node in _imports(tree) for alias in node.names) == ["TYPE_CHECKING", "b"]


def test_no_import_circles_in_sim_and_experiments() -> None:
    graph, _ = import_graph()
    assert len(graph) > 40  # the walk found the packages
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_no_private_name_is_imported_from_another_module() -> None:
    _, private = import_graph()
    assert private == []


def test_the_command_modules_never_import_the_app() -> None:
    graph, _ = import_graph()
    for name, targets in graph.items():
        if name.startswith("experiments.cli.") and name not in ("experiments.cli.app", "experiments.cli.__main__"):
            assert not targets & {"experiments.cli", "experiments.cli.app"}, name


def test_only_a_handful_of_modules_at_the_top_of_experiments() -> None:
    top = sorted(p.name for p in (REPO / "experiments").glob("*.py"))
    assert top == ["__init__.py", "api.py"]


@pytest.mark.parametrize("pool", ["ProcessPoolExecutor", "distributed import Client", "LocalCluster", "Pool("])
def test_no_process_pool_or_dask_client_outside_the_execution_package(pool: str) -> None:
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "experiments").rglob("*.py")
                 if "execution" not in path.parts and pool in path.read_text(encoding="utf-8")]
    assert offenders == []
