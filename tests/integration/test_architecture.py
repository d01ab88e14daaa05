"""The architecture: the core never imports discord (only bot/discord_app may), no module
of bot/ takes part in an import cycle, classes and functions stay short, and the unit
tests mirror bot/ (tests/unit/<dirs>/test_<name>.py tests bot/<dirs>/<name>)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def core_modules() -> list[str]:
    modules = []
    for path in sorted((PROJECT / "bot").rglob("*.py")):
        rel = path.relative_to(PROJECT).with_suffix("")
        if "discord_app" in rel.parts or rel.name == "__main__":
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        modules.append(".".join(parts))
    return modules


def test_core_modules_are_found() -> None:
    modules = core_modules()
    assert "bot.pipeline" in modules and "bot.quiz.engine" in modules
    assert not any("discord_app" in m for m in modules)


def test_importing_the_whole_core_never_imports_discord() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"core imported: {proc.stdout.strip()}"


def test_a_discord_import_would_be_detected() -> None:
    # The check above can fail: importing the adapter package does pull discord in.
    code = "import sys, bot.discord_app.client; print('discord' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "True", proc.stderr


# -- the import graph: no cycles, not even TYPE_CHECKING-only ones -----------------------------
def module_files() -> dict[str, Path]:
    """Every module under bot/, by dotted name (a package by its own name)."""
    files = {}
    for path in sorted((PROJECT / "bot").rglob("*.py")):
        rel = path.relative_to(PROJECT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        files[".".join(parts)] = path
    return files


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The bot modules that `name` imports anywhere in its file: at the top, inside
    functions, or under `if TYPE_CHECKING:`. `from package import module` counts as the
    module; `from package import name` as the package."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_import_graph_sees_relative_type_checking_and_function_imports() -> None:
    graph = import_graph()
    assert "bot.discord_app.deps" in graph["bot.discord_app.client"]
    assert "bot.discord_app.runner" in graph["bot.cli"]  # imported inside a function
    fake = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(fake) == [["a", "b", "c"]]


def test_no_import_cycles_in_bot() -> None:
    cycles = import_cycles(import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


# -- sizes: no class over 200 lines, no function over 60 -----------------------------------------
CLASS_LINES = 200
FUNCTION_LINES = 60


def oversized() -> list[str]:
    found = []
    for name, path in module_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found.extend(_oversized_in(name, tree.body, ""))
    return found


def _oversized_in(module: str, body: list[ast.stmt], prefix: str) -> list[str]:
    found = []
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = f"{prefix}{node.name}"
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            limit = CLASS_LINES if isinstance(node, ast.ClassDef) else FUNCTION_LINES
            if lines > limit:
                found.append(f"{module}:{qualname} ({lines} lines)")
            found.extend(_oversized_in(module, node.body, qualname + "."))
    return found


def test_no_class_over_200_lines_and_no_function_over_60() -> None:
    offenders = oversized()
    assert offenders == [], "too long: " + ", ".join(offenders)


# -- the unit tests mirror bot/: tests/unit/<dirs>/test_<name>.py tests bot/<dirs>/<name> --------
def unit_tests_without_a_module(unit_root: Path, package: Path) -> list[str]:
    """The tests/unit/<dirs>/test_<name>.py for which neither a module
    bot/<dirs>/<name>.py nor a package bot/<dirs>/<name>/ exists."""
    missing = []
    for path in sorted(unit_root.rglob("test_*.py")):
        rel = path.relative_to(unit_root)
        target = package.joinpath(*rel.parts[:-1], rel.stem.removeprefix("test_"))
        if not (target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()):
            missing.append(rel.as_posix())
    return missing


def test_a_unit_test_without_its_module_would_be_detected(tmp_path: Path) -> None:
    for name in ("bot/a.py", "bot/sub/__init__.py", "bot/sub/b.py", "bot/pkg/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    (tmp_path / "bot/c.py").touch()  # c exists, but not where sub/test_c.py points
    for name in ("test_a.py", "sub/test_b.py", "test_pkg.py", "sub/test_c.py", "test_parts.py"):
        (tmp_path / "unit" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "unit" / name).touch()
    found = unit_tests_without_a_module(tmp_path / "unit", tmp_path / "bot")
    assert found == ["sub/test_c.py", "test_parts.py"]


def test_every_unit_test_file_is_named_after_its_module_in_bot() -> None:
    unit_root = PROJECT / "tests" / "unit"
    assert len(list(unit_root.rglob("test_*.py"))) > 20  # the check has files to look at
    missing = unit_tests_without_a_module(unit_root, PROJECT / "bot")
    assert missing == [], (
        "tests/unit/<dirs>/test_<name>.py must test bot/<dirs>/<name>.py (or the package "
        "bot/<dirs>/<name>/); no such module for: " + ", ".join(missing)
    )
