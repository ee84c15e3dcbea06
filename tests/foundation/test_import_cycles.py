"""No module of ipctop imports, even indirectly, one that imports it back.

Every import counts: at the top of a file, inside a function, and under
`if TYPE_CHECKING:` (a type-only import is still a dependency a reader follows).
The monitor's app depends on its screens, panes, handlers and registry; they
reach it through the Protocols of ipctop/tui/interfaces.py, never by importing it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ipctop

PACKAGE = Path(ipctop.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The ipctop modules `path` (module `name`) imports anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a import b` names module a.b if there is one, else a name in a.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known and target != name}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_finder_sees_a_cycle_through_a_type_only_import():
    # The app's cycle as it was: app -> main screen -> context -> app (under TYPE_CHECKING).
    graph = {"app": {"main"}, "main": {"context"}, "context": {"app"}, "panes": set()}
    assert cycles(graph) == [["app", "context", "main"]]


def test_no_module_of_ipctop_is_in_an_import_cycle():
    known = modules()
    graph = {name: imported(path, name, known) for name, path in known.items()}
    assert graph["ipctop.tui.app"] >= {"ipctop.tui.screens.main", "ipctop.tui.commands"}  # the finder reads imports
    assert cycles(graph) == []


def test_the_parts_of_the_monitor_load_without_its_app():
    parts = ["context", "registry", "commands", "help_text", "demo_session", "screens.main", "screens.detail"]
    code = "\n".join(f"import ipctop.tui.{part}" for part in parts)
    code += "\nfrom ipctop.tui.registry import all_actions\nall_actions()  # every handler module"
    code += "\nimport sys\nprint('ipctop.tui.app' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
