"""The house plan holds: imports only point down the layer order of ``docs/architecture.md``, no import
circles anywhere, a "what and why" docstring atop every module,
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


#: the trees whose imports are checked; ``tests`` is a known module set only so that importing it is caught.
TREES = ("core", "studio", "pages", "bench")
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(trees: tuple[str, ...] = TREES) -> dict[str, Path]:
    modules = {module_name(path): path for tree in trees for path in sorted((ROOT / tree).rglob("*.py"))}
    if "pages" in trees:
        modules["app"] = ROOT / "app.py"
    return modules


def core_modules() -> dict[str, Path]:
    return project_modules(("core",))


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere in its body (relative imports resolved)."""
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


def import_graph() -> dict[str, set[str]]:
    """Every project module's imports of other project modules (the test tree included as a target)."""
    modules = project_modules()
    known = set(modules) | set(project_modules(("tests",)))
    return {name: imported_modules(path, name, known) for name, path in modules.items()}


def layer_order(text: str | None = None) -> list[list[str]]:
    """The layers, top first, as ``docs/architecture.md`` writes them in its one ```layers block."""
    text = ARCHITECTURE.read_text(encoding="utf-8") if text is None else text
    block = text.split("```layers\n", 1)[1].split("```", 1)[0]
    return [line.split() for line in block.splitlines() if line.strip()]


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """Index of the layer whose longest matching name covers ``module`` (0 is the top), or None."""
    best: tuple[int, int] | None = None
    for index, names in enumerate(layers):
        for prefix in names:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def upward_imports(graph: dict[str, set[str]], layers: list[list[str]]) -> list[str]:
    """``a -> b`` for each import of a module in a higher layer, or of a module no layer covers (the tests)."""
    found = []
    for module, targets in sorted(graph.items()):
        own = layer_of(module, layers)
        for target in sorted(targets):
            theirs = layer_of(target, layers)
            if own is None or theirs is None or theirs < own:
                found.append(f"{module} (layer {own}) -> {target} (layer {theirs})")
    return found


def circles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return circles


def test_no_import_circles_anywhere() -> None:
    circles = circles_in(import_graph())
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(circle) for circle in circles)


def test_every_import_points_down_the_layer_order() -> None:
    upward = upward_imports(import_graph(), layer_order())
    assert not upward, "imports that climb the layer order of docs/architecture.md:\n" + "\n".join(upward)


def test_the_layer_rule_catches_a_climb_and_a_circle() -> None:
    layers = layer_order("```layers\ncore.cli\ncore.training\ncore\n```")
    graph = {"core.training.train": {"core.cli.train", "core.errors"}, "core.cli.train": {"core.training.train"},
             "core.errors": set(), "core.paths": {"tests.sample_corpus"}}
    assert upward_imports(graph, layers) == [
        "core.paths (layer 2) -> tests.sample_corpus (layer None)",
        "core.training.train (layer 1) -> core.cli.train (layer 0)",
    ]
    assert circles_in(graph) == [["core.cli.train", "core.training.train", "core.cli.train"]]
    assert layer_of("core.training.run_folder", layers) == 1 and layer_of("core", layers) == 2


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
