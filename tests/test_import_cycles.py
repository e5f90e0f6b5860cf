"""No cycle among the modules' imports, at load time or in functions. A module that imports, at
load time, a module that imports it back works only while Python's half-loaded fallback happens
to suffice (the start-up loop portal → portal.celery → connections.workflows → portal did); one
that defers the import into a function only hides the loop.

Read from the source, without importing anything. Imports under `if TYPE_CHECKING:` are not run
and are left out; so is the way to a module through its own parent packages (importing
`a.b.c` loads `a` and `a.b` first, which is no loop of `a.b.c`'s making)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "connections", "cloudsim")


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _run_at_load(body: list[ast.stmt]):
    """The statements a module runs when it is loaded, into if/try blocks but not functions."""
    for node in body:
        if _is_type_checking(node):
            continue
        yield node
        if isinstance(node, ast.If):
            yield from _run_at_load(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            handlers = [stmt for handler in node.handlers for stmt in handler.body]
            yield from _run_at_load(node.body + handlers + node.orelse + node.finalbody)


def _anywhere(body: list[ast.stmt]):
    """Every statement, in functions too: an import there runs at the first call."""
    for node in body:
        if not _is_type_checking(node):
            yield from ast.walk(node)


def imported_names(name: str, path: Path, *, deferred: bool = False) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    statements = (_anywhere if deferred else _run_at_load)(ast.parse(path.read_text()).body)
    for node in statements:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            # `from package import module` loads the module; `from module import name`, the module.
            found.update(f"{module}.{alias.name}" for alias in node.names)
            found.add(module)
    return found


def import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    """Which module imports which: at load time, or (`deferred`) anywhere, in functions too."""
    modules = module_files()
    graph = {}
    for name, path in modules.items():
        edges = set()
        for imported in imported_names(name, path, deferred=deferred):
            parts = imported.split(".")
            # Importing a.b.c loads a, a.b and a.b.c.
            edges.update(
                prefix
                for i in range(1, len(parts) + 1)
                if (prefix := ".".join(parts[:i])) in modules
            )
        graph[name] = {m for m in edges if m != name and not name.startswith(m + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
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


def test_no_module_imports_itself_back_at_load_time():
    assert cycles(import_graph()) == []


def test_no_module_imports_itself_back_even_from_a_function():
    """A function-level import that closes a loop hides the loop, it does not remove it."""
    assert cycles(import_graph(deferred=True)) == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_a_cycle_and_only_one(graph, expected):
    assert cycles(graph) == expected


def test_the_graph_sees_the_imports_it_must():
    graph = import_graph()
    assert "portal.celery" in graph["portal"]
    assert "portal.outages" in graph["connections.workflows.liveness"]
    # Only at type-checking time: no edge.
    assert "cloudsim.server" not in graph["cloudsim.control"]
    # Imported in a function: an edge of the deferred graph only.
    assert "connections.monitoring.sweep" not in graph["connections.tasks"]
    assert "connections.monitoring.sweep" in import_graph(deferred=True)["connections.tasks"]
