"""The layout's rules, read from the source with `ast` (nothing of the server is imported).

- no private name of a dependency or of the standard library is imported or read;
- no module over 400 lines, no class with more than 25 methods;
- no import cycle among bridgechat's modules;
- the pure modules (core/, matching/) do no I/O and import nothing outside themselves;
- only the store imports sqlmodel.

Each failure lists file:line, so it says where to look.
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "server" / "bridgechat"
OURS = "bridgechat"
MODULES = sorted(PACKAGE.rglob("*.py"))
PURE_PACKAGES = ("core", "matching")
PURE = [p for p in MODULES if p.relative_to(PACKAGE).parts[0] in PURE_PACKAGES]
MAX_LINES = 400
LINES_EXEMPT = PACKAGE / "migrations" / "versions"
MAX_METHODS = 25

NOT_PURE = frozenset({
    "asyncio", "aiohttp", "redis", "sqlmodel", "sqlalchemy", "socket", "websockets", "gc",
    "time", "os", "pathlib", "importlib", "tomllib", "io", "shutil", "subprocess", "threading",
})
# aiohttp's private attributes, as code reaching into a WebSocketResponse, its
# protocol or its loop would read them: flagged on any object but the `self`
# (or `cls`) of a class whose bases are all ours.
LIBRARY_PRIVATE = frozenset({
    "_reader", "_writer", "_heartbeat", "_heartbeat_cb", "_pong_response_cb", "_post_start",
    "_ws_protocol", "_parser", "_loop",
})
SELF_NAMES = frozenset({"self", "cls"})
ATTR_BUILTINS = frozenset({"getattr", "setattr", "hasattr", "delattr"})


# -- reading the source -----------------------------------------------------------

@dataclass(frozen=True)
class Source:
    shown: str  # the path from the repository root
    module: str  # the dotted module name; a package's __init__ is the package
    package: bool
    tree: ast.Module

    def at(self, node: ast.AST) -> str:
        return f"{self.shown}:{getattr(node, 'lineno', 0)}"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    return Source(str(path.relative_to(ROOT)), module_name(path), path.name == "__init__.py",
                  ast.parse(text, str(path)))


def sources() -> list[Source]:
    return [source(p) for p in MODULES]


MODULE_NAMES = frozenset(module_name(p) for p in MODULES)


def is_private(name: str) -> bool:
    """A leading underscore, but not a dunder (`__future__`, `__version__`)."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_ours(module: str) -> bool:
    return module == OURS or module.startswith(OURS + ".")


def absolute(src: Source, node: ast.ImportFrom) -> str:
    """The module an ImportFrom names, a relative one resolved against the file's package."""
    if node.level == 0:
        return node.module or ""
    package = src.module.split(".") if src.package else src.module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def literal_import_module(node: ast.AST) -> str | None:
    """The string in `importlib.import_module("x")` or `import_module("x")`, if literal."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    arg = node.args[0]
    if name == "import_module" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def imports(src: Source) -> Iterator[tuple[str, list[str], ast.AST]]:
    """Every (module, names taken from it, node) anywhere in the file: module level,
    in functions, under TYPE_CHECKING. `import a.b` gives ("a.b", []), `from a import
    b, c` gives ("a", ["b", "c"]), a literal import_module("a.b") gives ("a.b", [])."""
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node
        elif isinstance(node, ast.ImportFrom):
            yield absolute(src, node), [a.name for a in node.names], node
        elif (name := literal_import_module(node)) is not None:
            yield name, [], node


def our_imports(src: Source, known: frozenset[str] = MODULE_NAMES
                ) -> Iterator[tuple[str, ast.AST]]:
    """Our modules the file imports: `from bridgechat.x import y` is bridgechat.x.y when
    that is a module file (one of `known`), else bridgechat.x."""
    for module, names, node in imports(src):
        if not is_ours(module):
            continue
        submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
        if submodules:
            yield from ((m, node) for m in submodules)
            if len(submodules) == len(names):
                continue
        while module not in known and "." in module:
            module = module.rsplit(".", 1)[0]
        yield module, node


# -- a. private names of dependencies and the standard library --------------------

def foreign_names(src: Source) -> set[str]:
    """Local names bound by an import of code that is not ours."""
    bound: set[str] = set()
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Import):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names if not is_ours(a.name)}
        elif isinstance(node, ast.ImportFrom) and not node.level and not is_ours(node.module or ""):
            bound |= {a.asname or a.name for a in node.names if a.name != "*"}
    return bound


def root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(src: Source) -> Iterator[str]:
    """Where the file imports or reads a private name of code that is not ours."""
    for module, names, node in imports(src):
        if is_ours(module):
            continue
        bad = [p for p in module.split(".") if is_private(p)] + [n for n in names if is_private(n)]
        if bad:
            yield f"{src.at(node)} imports {', '.join(bad)} ({module})"
    foreign = foreign_names(src)
    # Inside a class with a base that is not ours, `self` may carry the library's privates.
    subclassing: set[int] = set()
    for cls in ast.walk(src.tree):
        if isinstance(cls, ast.ClassDef) and any(root_name(b) in foreign for b in cls.bases):
            subclassing |= {id(n) for n in ast.walk(cls)}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Name) and node.id == "__import__":
            yield f"{src.at(node)} uses __import__"
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ATTR_BUILTINS
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            obj, attr = node.args[0], node.args[1].value
            if (attr in LIBRARY_PRIVATE and getattr(obj, "id", None) not in SELF_NAMES) or (
                    isinstance(attr, str) and is_private(attr) and root_name(obj) in foreign):
                yield f"{src.at(node)} reads {ast.unparse(node)}, a library's private attribute"
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr == "__import__":
            yield f"{src.at(node)} uses {ast.unparse(node)}"
        chain, value = [node.attr], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        on_import = isinstance(value, ast.Name) and value.id in foreign
        if on_import and any(map(is_private, chain)):
            yield f"{src.at(node)} reads {ast.unparse(node)}"
        elif node.attr in LIBRARY_PRIVATE and not (
                isinstance(node.value, ast.Name) and node.value.id in SELF_NAMES
                and id(node) not in subclassing):
            yield f"{src.at(node)} reads {ast.unparse(node)}, a library's private attribute"


def test_no_private_name_of_a_dependency_or_the_stdlib() -> None:
    found = sorted({use for src in sources() for use in private_uses(src)})
    assert not found, "private names of code that is not ours:\n" + "\n".join(found)


PROBE = '''\
from __future__ import annotations
import _thread
import asyncio
import aiohttp.web as web
import concurrent.futures._base
from asyncio import _get_running_loop
from asyncio.base_events import _format_handle
from math import floor as _floor
from bridgechat.core.room import _private_ok
from ._sibling import _also_ok
import importlib
importlib.import_module("asyncio._x")
importlib.import_module("bridgechat._fine")
__import__("json")
asyncio._set_running_loop(None)
asyncio.events._event_loop_policy
web._private
ws._reader.feed_data(b"")
ws._heartbeat_cb = None
loop = conn._loop
class Mine:
    def f(self):
        return self._loop, self._heartbeat(), self._mine
class Theirs(web.WebSocketResponse):
    def f(self):
        return self._reader, self._mine
from aiohttp import web as w2
w2.WebSocketResponse._pong_response_cb
getattr(ws, "_writer", None)
setattr(asyncio, "_hidden", 1)
getattr(self, "_loop"), getattr(thing, "_mine")
'''


def test_the_private_name_rule_finds_each_offence_and_nothing_else() -> None:
    probe = Source("probe.py", "bridgechat.node.probe", False, ast.parse(PROBE))
    lines = sorted({int(use.split(" ", 1)[0].rsplit(":", 1)[1]) for use in private_uses(probe)})
    # Not flagged: __future__, a public name imported as _floor, our own private names,
    # self._loop and self._heartbeat in a class of ours, any self._mine, thing._mine.
    assert lines == [2, 5, 6, 7, 12, 14, 15, 16, 17, 18, 19, 20, 26, 28, 29, 30], lines


# -- b. size -------------------------------------------------------------------------

def test_no_module_over_400_lines() -> None:
    long = [f"{source(p).shown}:{n} lines" for p in MODULES
            if LINES_EXEMPT not in p.parents
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(long)


def test_no_class_over_25_methods() -> None:
    big = []
    for src in sources():
        for node in ast.walk(src.tree):
            if isinstance(node, ast.ClassDef):
                n = sum(isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) for s in node.body)
                if n > MAX_METHODS:
                    big.append(f"{src.at(node)} class {node.name}: {n} methods")
    assert not big, f"classes over {MAX_METHODS} methods:\n" + "\n".join(big)


# -- c. import cycles ------------------------------------------------------------------

Graph = dict[str, dict[str, str]]  # module -> {imported module: file:line of the first import}


def import_graph(srcs: list[Source]) -> Graph:
    graph: Graph = {src.module: {} for src in srcs}
    known = frozenset(graph)
    for src in srcs:
        for target, node in our_imports(src, known):
            if target != src.module and target in graph:
                graph[src.module].setdefault(target, src.at(node))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle from each strongly connected component with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's; the graph is a few hundred modules at most
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        inside, start = set(component), component[0]
        # Breadth first from `start` back to itself, within the component: a shortest cycle.
        came_from: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in came_from:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w in inside and w not in came_from:
                        came_from[w] = v
                        nxt.append(w)
            frontier = nxt
        path = [start]
        while (prev := came_from[path[-1]]) != start:
            path.append(prev)
        found.append([start, *reversed(path[1:]), start])
    return found


def describe(graph: Graph, cycle: list[str]) -> str:
    return "\n".join(f"  {a} -> {b}  ({graph[a][b]})" for a, b in itertools.pairwise(cycle))


def test_no_import_cycle() -> None:
    graph = import_graph(sources())
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n\n".join(describe(graph, c) for c in found)


def test_the_cycle_finder_finds_a_cycle_through_a_function_and_type_checking() -> None:
    files = {
        "bridgechat/a/__init__.py": "from bridgechat.a import b\n",
        "bridgechat/a/b.py": "def f():\n    from ..c import thing\n",
        "bridgechat/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from bridgechat.a import b\n",
        "bridgechat/d.py": "import bridgechat.c\n",
    }
    srcs = [Source(name, name.removesuffix(".py").removesuffix("/__init__").replace("/", "."),
                   name.endswith("__init__.py"), ast.parse(text)) for name, text in files.items()]
    graph = import_graph(srcs)
    assert graph == {
        "bridgechat.a": {"bridgechat.a.b": "bridgechat/a/__init__.py:1"},
        "bridgechat.a.b": {"bridgechat.c": "bridgechat/a/b.py:2"},
        "bridgechat.c": {"bridgechat.a.b": "bridgechat/c.py:3"},
        "bridgechat.d": {"bridgechat.c": "bridgechat/d.py:1"},
    }
    assert cycles(graph) == [["bridgechat.a.b", "bridgechat.c", "bridgechat.a.b"]]


# -- e. the pure core ------------------------------------------------------------------

@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_module_does_no_io(path: Path) -> None:
    src = source(path)
    wrong = []
    for module, _, node in imports(src):
        root = module.split(".")[0]
        if root in NOT_PURE:
            wrong.append(f"{src.at(node)} imports {module}")
    for module, node in our_imports(src):
        parts = module.split(".")
        if len(parts) < 2 or parts[1] not in PURE_PACKAGES:
            wrong.append(f"{src.at(node)} imports {module}, outside core/ and matching/")
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
            wrong.append(f"{src.at(node)} calls open()")
    assert not wrong, "the pure core does I/O:\n" + "\n".join(wrong)


# -- f. the store --------------------------------------------------------------------------

def test_only_the_store_imports_sqlmodel() -> None:
    users = sorted(f"{src.at(node)}" for src in sources() for module, _, node in imports(src)
                   if module.split(".")[0] == "sqlmodel"
                   and not src.module.startswith(f"{OURS}.store"))
    assert not users, "sqlmodel outside server/bridgechat/store/:\n" + "\n".join(users)
