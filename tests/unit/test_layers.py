"""The import graph of the product code points one way, and no function is long.

Layers, from the ground up: ``schemas`` ← ``core`` ← ``streams`` / ``connectors`` ← ``hub``.
A module imports only from its own layer or below (``streams`` and ``connectors`` stand side by
side and import neither each other), and no modules import each other in a circle. Every import
counts: at module level, inside functions, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYER = {"schemas": 0, "core": 1, "streams": 2, "connectors": 2, "hub": 3}
MAX_FUNCTION_LINES = 120

Graph = dict[str, set[str]]


def product_modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every package in LAYER (Alembic's migrations aside:
    they are loaded by path, not imported)."""
    modules: dict[str, Path] = {}
    for package in LAYER:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            if "migrations" in rel.parts:
                continue
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            modules[".".join(parts)] = path
    return modules


def _imported(node: ast.AST, module: str, is_package: bool, known: Mapping[str, Path]
              ) -> Iterator[str]:
    """The product modules one import statement names."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        if node.level:  # relative: from the module's own package upwards
            base = module.split(".")[: len(module.split(".")) - node.level + is_package]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            yield sub if sub in known else source


def import_graph(root: Path) -> Graph:
    """module → the product modules it imports (the nearest known module for a dotted name)."""
    known = product_modules(root)
    graph: Graph = {m: set() for m in known}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported(node, module, path.name == "__init__.py", known):
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    graph[module].add(name)
    return graph


def upward_imports(graph: Graph) -> list[str]:
    """Imports from a lower layer to a higher one (or between the two middle siblings)."""
    bad = []
    for src, targets in sorted(graph.items()):
        top = src.split(".")[0]
        for dst in sorted(targets):
            other = dst.split(".")[0]
            if other != top and LAYER[other] >= LAYER[top]:
                bad.append(f"{src} -> {dst}")
    return bad


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
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


def package_graph(graph: Graph, depth: int) -> Graph:
    """The graph between packages, each module cut to its first ``depth`` name parts."""
    out: Graph = {}
    for src, targets in graph.items():
        a = ".".join(src.split(".")[:depth])
        out.setdefault(a, set())
        for dst in targets:
            b = ".".join(dst.split(".")[:depth])
            if b != a:
                out[a].add(b)
    return out


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for module, path in product_modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    out.append(f"{module}.{node.name} ({lines} lines)")
    return sorted(out)


# ---- the product ---------------------------------------------------------------------------

GRAPH = import_graph(REPO)


def test_the_walker_sees_the_product() -> None:
    assert {"hub.cli", "core.store", "streams.app", "connectors.base", "schemas.events"} <= \
        set(GRAPH)
    assert "core.store" in GRAPH["streams.app"]
    assert "hub.cli_audit" in GRAPH["hub.cli"]


def test_no_import_points_up() -> None:
    assert upward_imports(GRAPH) == []


def test_no_module_cycles() -> None:
    assert cycles(GRAPH) == []


def test_no_package_cycles() -> None:
    # core's parts among themselves (core.privacy, core.ledger, ...) and the top-level packages
    assert cycles(package_graph(GRAPH, 2)) == []
    assert cycles(package_graph(GRAPH, 1)) == []


# Lines of the whole definition, nested functions included.
def test_no_function_over_120_lines() -> None:
    assert long_functions(REPO) == []


# ---- the checks themselves, on a small tree --------------------------------------------------

def _tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in LAYER:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


def test_an_import_inside_a_function_that_points_up_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "core/a.py": "def f() -> None:\n    from hub.b import g\n",
        "hub/b.py": "from core import a\n\ndef g() -> None: ...\n",
        "streams/s.py": "import connectors.c\n",
        "connectors/c.py": "from schemas import x\n",
        "schemas/x.py": "",
    })
    assert upward_imports(import_graph(root)) == ["core.a -> hub.b", "streams.s -> connectors.c"]


def test_a_circle_is_found_with_its_members(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "hub/cli.py": "from hub.sub import run\n",
        "hub/sub.py": "def run() -> None:\n    from hub.cli import fail\n",
        "hub/other.py": "from hub import cli\n",
        "core/p/a.py": "from core.q import b\n",
        "core/q/b.py": "from core.p.c import x\n",
        "core/p/c.py": "x = 1\n",
    })
    graph = import_graph(root)
    assert cycles(graph) == [["hub.cli", "hub.sub"]]
    assert cycles(package_graph(graph, 2)) == [["core.p", "core.q"], ["hub.cli", "hub.sub"]]


def test_a_long_function_is_named(tmp_path: Path) -> None:
    body = "".join("    x = 1\n" for _ in range(MAX_FUNCTION_LINES))
    root = _tree(tmp_path, {"core/m.py": f"def long() -> None:\n{body}\n\ndef short() -> None:\n"
                                         "    pass\n"})
    assert long_functions(root) == [f"core.m.long ({MAX_FUNCTION_LINES + 1} lines)"]
