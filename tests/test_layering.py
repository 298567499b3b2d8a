"""The pure core never imports I/O: parse every core module's imports."""

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
CORE = ["protocol.py", "matching.py", "match_round.py", "match_pool.py", "match_candidates.py",
        "match_solve.py", "match_stuck.py", "room.py", "franking.py", "limits.py", "aliases.py"]
FORBIDDEN = {"asyncio", "aiohttp", "redis", "sqlmodel", "sqlalchemy", "socket", "websockets"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module == "server":
                roots |= {f"server.{a.name}" for a in node.names}
            elif node.module.startswith("server."):
                roots.add(node.module)
    return roots


@pytest.mark.parametrize("name", CORE)
def test_core_module_does_no_io(name: str) -> None:
    roots = imported_roots(SERVER / name)
    assert not roots & FORBIDDEN, f"{name} imports {roots & FORBIDDEN}"
    # The core may lean on other core modules and the deck's types, nothing else of ours.
    ours = {r for r in roots if r.startswith("server.")}
    allowed = {f"server.{m[:-3]}" for m in CORE} | {"server.deck", "server.reasons"}
    assert ours <= allowed, f"{name} imports adapters: {ours - allowed}"


def test_only_the_store_imports_sqlmodel() -> None:
    users = {p.parent.name for p in SERVER.rglob("*.py") if "sqlmodel" in imported_roots(p)}
    assert users == {"store"}
