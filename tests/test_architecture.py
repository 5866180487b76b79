"""The house rules a tool can check (docs/architecture.md, ADR 0012).

import-linter checks which module may import which; these tests check what an import is used
for and how big a module may grow. They read the source, so they run in a few milliseconds.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLINIC = ROOT / "clinic"

# Calls that change rows (or lock them to change them). A row belongs to the app that owns
# its model: another app asks the owner's service.
WRITE_METHODS = {
    "bulk_create",
    "bulk_update",
    "create",
    "delete",
    "get_or_create",
    "select_for_update",
    "update",
    "update_or_create",
}
LONG_MODULE_LINES = 600
LONG_MODULE_MARK = "Long because:"


def _source_modules(*, with_tests: bool):
    for path in sorted(CLINIC.rglob("*.py")):
        parts = path.relative_to(CLINIC).parts
        if "migrations" in parts:
            continue
        if not with_tests and ("tests" in parts or parts[0] == "demo"):
            continue
        yield path


def _app(path: Path) -> str:
    return path.relative_to(CLINIC).parts[0]


def _models_imported_from_other_apps(tree: ast.Module, app: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            foreign = len(parts) == 3 and parts[0] == "clinic" and parts[1] != app
            if foreign and parts[2] == "models":
                for alias in node.names:
                    names[alias.asname or alias.name] = parts[1]
    return names


def _root_name(node: ast.AST) -> tuple[str | None, bool]:
    """The name a call chain starts from, and whether `.objects` is on the way."""
    through_manager = False
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            through_manager = through_manager or node.attr == "objects"
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, through_manager
        else:
            return None, False


def test_no_app_writes_or_locks_another_apps_rows():
    found = []
    for path in _source_modules(with_tests=False):
        tree = ast.parse(path.read_text(), filename=str(path))
        foreign = _models_imported_from_other_apps(tree, _app(path))
        if not foreign:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in WRITE_METHODS:
                continue
            name, through_manager = _root_name(node.func.value)
            if name in foreign and through_manager:
                where = path.relative_to(ROOT)
                found.append(f"{where}:{node.lineno} {name}.….{node.func.attr}()")
    assert found == [], "Ask the owning app's service instead:\n" + "\n".join(found)


def test_long_modules_say_why():
    unexplained = []
    for path in _source_modules(with_tests=True):
        text = path.read_text()
        lines = text.count("\n")
        if lines <= LONG_MODULE_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if LONG_MODULE_MARK not in docstring:
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert unexplained == [], (
        f"Split these, or say in the module docstring '{LONG_MODULE_MARK} …':\n"
        + "\n".join(unexplained)
    )
