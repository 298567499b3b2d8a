"""The pure core never imports I/O: parse every core module's imports."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "bridgechat"
CORE = sorted([*(PACKAGE / "core").glob("*.py"), *(PACKAGE / "matching").glob("*.py")])
FORBIDDEN = {"asyncio", "aiohttp", "redis", "sqlmodel", "sqlalchemy", "socket", "websockets"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("bridgechat."):
                roots.add(node.module)
    return roots


@pytest.mark.parametrize("path", CORE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_module_does_no_io(path: Path) -> None:
    roots = imported_roots(path)
    assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
    ours = {r for r in roots if r.startswith("bridgechat.")}
    pure = {r for r in ours if r.split(".")[1] in ("core", "matching")}
    assert ours == pure, f"{path.name} imports adapters: {ours - pure}"


def test_only_the_store_imports_sqlmodel() -> None:
    users = {p.parent.name for p in PACKAGE.rglob("*.py") if "sqlmodel" in imported_roots(p)}
    assert users == {"store"}
