"""The pure core (hooks/, cards/) does no I/O: no web, HTTP or database libraries, no clock, no randomness."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_FILES = sorted((ROOT / "hooks").glob("*.py")) + sorted((ROOT / "cards").glob("*.py"))
# The standard library minus what reaches outside the process; plus the core itself.
IO_MODULES = {
    "socket",
    "http",
    "urllib.request",
    "subprocess",
    "random",
    "secrets",
    "uuid",
    "time",
    "os",
    "pathlib",
    "sqlite3",
    "logging",
    "shutil",
    "tempfile",
    "io",
    "threading",
    "asyncio",
    "ssl",
    "select",
}
ALLOWED = set(sys.stdlib_module_names) | {"hooks", "cards"}
IMPURE_CALLS = {"now", "today", "utcnow", "uuid4", "uuid1", "open", "getenv", "time", "monotonic"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def is_io(module: str) -> bool:
    return any(module == io or module.startswith(io + ".") for io in IO_MODULES)


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_modules_import_only_pure_modules(path):
    imported = imported_modules(path) - {"__future__"}
    assert {m for m in imported if m.split(".")[0] not in ALLOWED or is_io(m)} == set()


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_modules_read_no_clock_and_draw_no_random_numbers(path):
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    }
    assert calls & IMPURE_CALLS == set()


def test_importing_the_core_loads_no_io_library():
    code = (
        "import sys, hooks.evidence, hooks.orders, hooks.patient_view, cards; "
        "print(sorted(m for m in ('flask', 'requests', 'sqlalchemy', 'werkzeug', 'cds_service') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
