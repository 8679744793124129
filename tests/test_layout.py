"""The house plan holds: no import circles in ``core``, a "what and why" docstring atop every module,
and no long functions in ``core`` without a stated reason.

The import graph is read from the source (``ast``), function-level imports included, so a lazy
import cannot hide a circle. ``core.x`` importing ``core.x.y`` (a package and its own module) is
not an edge: a package's ``__init__`` holds only its docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
#: functions allowed past MAX_FUNCTION_LINES, each with its reason.
LONG_FUNCTIONS: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def core_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / "core").rglob("*.py"))}


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """The ``core`` modules ``path`` imports anywhere in its body (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def test_core_has_no_import_circles() -> None:
    modules = core_modules()
    graph = {name: imported_modules(path, name, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles in core:\n" + "\n".join(" -> ".join(circle) for circle in circles)


def test_every_module_opens_with_a_docstring() -> None:
    folders = ("core", "studio", "pages", "bench")
    paths = [ROOT / "app.py", *(path for folder in folders for path in (ROOT / folder).rglob("*.py"))]
    missing = [str(path.relative_to(ROOT)) for path in paths
               if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]
    assert not missing, f"modules without a 'what and why' docstring: {missing}"


def test_no_long_functions_in_core_without_a_reason() -> None:
    long: list[str] = []
    for name, path in core_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                qualified = f"{name}.{node.name}"
                if length > MAX_FUNCTION_LINES and qualified not in LONG_FUNCTIONS:
                    long.append(f"{qualified} ({length} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (shorten, or list them with a reason): {long}"
