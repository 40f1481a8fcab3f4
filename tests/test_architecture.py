"""The house rules of issue 14, checked on the source: data flows one way (features -> models -> pipeline),
no import circle between modules, no private name imported across modules, no module over the size a
newcomer reads at once."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "models", "pipeline")
MAX_LINES = 420  # "about 400"
LAYER = {"features": 0, "models": 1, "pipeline": 2}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import of our packages, lazy ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in PACKAGES:
                names = [a.name for a in node.names]
                modules = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in MODULES]
                found.append((node.module, [n for n in names if f"{node.module}.{n}" not in MODULES]))
                found.extend((m, []) for m in modules)
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names if a.name.split(".")[0] in PACKAGES)
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {m for m, _ in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_no_module_is_longer_than_a_newcomer_reads_at_once():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_private_name_is_imported_across_modules():
    private = [(name, module, n) for name, path in MODULES.items() for module, names in _imports(path)
               for n in names if n.startswith("_")]
    assert not private, f"private names imported across modules: {private}"


def test_layers_only_import_downwards():
    upward = [(name, m) for name, deps in _graph().items() for m in deps
              if LAYER[m.split(".")[0]] > LAYER[name.split(".")[0]]]
    assert not upward, f"imports against the flow features -> models -> pipeline: {upward}"


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep] if dep in stack else [node, dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # a package's __init__ importing its own modules is not a circle between modules
    cycles = [c for c in cycles if not any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(c, c[1:]))]
    assert not cycles, f"import circles: {cycles[:5]}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_what_it_is_for(name):
    tree = ast.parse(MODULES[name].read_text())
    assert ast.get_docstring(tree) or not tree.body, f"{MODULES[name].relative_to(ROOT)} has no module docstring"
