"""The package layout: arrows point down only, no import circle, every package says what it is.

Read from the source with ``ast`` (nothing is imported but the packages whose ``__all__``
is checked), so a broken layout fails here with the modules named, not as an
``ImportError`` somewhere else.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "toolkit"
#: Presentation: figures, the notebook runner and helpers, the command lines.
PRESENTATION = ("toolkit.plots", "toolkit.report", "toolkit.cli", "toolkit.lab")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
PACKAGES = sorted(name for name, path in MODULES.items() if path.name == "__init__.py")


def _is_presentation(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PRESENTATION)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: top level, and inside top-level
    ``if``/``try``/``with`` blocks, but not under ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level(block)
            for handler in node.handlers:
                yield from _module_level(handler.body)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The toolkit modules an import statement imports."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.split(".")[0] == "toolkit"}
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base.split(".")[0] != "toolkit":
        return set()
    found = {base}
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:  # from package import submodule
            found.add(f"{base}.{alias.name}")
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the toolkit modules importing it runs, with the packages above them
    (importing ``toolkit.a.b`` runs ``toolkit/a/__init__.py`` first), except the
    packages above the importing module itself, which are already being imported."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        own = {name.rsplit(".", k)[0] for k in range(name.count(".") + 1)}
        edges: set[str] = set()
        for node in _module_level(ast.parse(path.read_text()).body):
            for target in _targets(name, node):
                parts = target.split(".")
                for k in range(2, len(parts) + 1):
                    step = ".".join(parts[:k])
                    if step in MODULES and step not in own:
                        edges.add(step)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_layout() -> None:
    """The checks below are only as good as the walk: it must see the packages and
    the imports that hold them together."""
    graph = _import_graph()
    assert {"toolkit.capacity", "toolkit.scale", "toolkit.slo", "toolkit.report"} <= set(PACKAGES)
    assert "toolkit.scale._partials" in graph["toolkit.scale._stats"]
    assert "toolkit.slo" in graph["toolkit"]  # from toolkit import (..., slo, ...)
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    assert _cycles(_import_graph()) == []


def _all_imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(module, node):
                yield node.lineno, target


def test_nothing_below_presentation_imports_it() -> None:
    """Analyses, the data model and ingest never import plots, report or the command
    line, not even inside a function."""
    offending = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items()
        if not _is_presentation(name)
        for line, target in _all_imports(path, name)
        if _is_presentation(target)
    ]
    assert offending == []


@pytest.mark.parametrize("package", PACKAGES)
def test_package_says_what_it_holds(package: str) -> None:
    tree = ast.parse(MODULES[package].read_text())
    doc = ast.get_docstring(tree)
    assert doc, f"{package}/__init__.py needs a docstring"
    assert len(doc.split()) >= 8, f"{package}/__init__.py: say what the package holds"
    declared = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    assert declared, f"{package}/__init__.py has no __all__"
    names = ast.literal_eval(declared[0].value)
    assert names
    assert len(names) == len(set(names))
    imported = importlib.import_module(package)
    unresolved = [
        n
        for n in names
        if not hasattr(imported, n) and f"{package}.{n}" not in MODULES  # a name or a submodule
    ]
    assert unresolved == []


@pytest.mark.parametrize("package", PACKAGES)
def test_a_public_name_is_defined_once_in_its_package(package: str) -> None:
    """A package re-exports each name of its ``__all__`` from the one private module that
    defines it: a private helper of the same name elsewhere in the package would make the
    re-export depend on the order of the imports (``_aif360.group_metrics`` once shadowed
    ``fairness.group_metrics``)."""
    tree = ast.parse(MODULES[package].read_text())
    declared = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    names = set(ast.literal_eval(declared[0])) if declared else set()
    where: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        if name.rpartition(".")[0] != package or not path.stem.startswith("_"):
            continue  # the package's private modules, behind its __init__
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in names:
                where.setdefault(node.name, []).append(name)
    where = {k: sorted(set(v)) for k, v in where.items()}
    assert {k: v for k, v in where.items() if len(v) > 1} == {}
