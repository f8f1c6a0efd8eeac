"""The layers stay apart, checked on the source (every import, also inside functions):

- `mxtui.desk` and `mxtui.network` never reach textual or `mxtui.ui`: what the person does is
  headless, and the network seam is plain asyncio;
- `mxtui.delivery` never reaches `mxtui.lab`: the walk knows a Dialer, not the lab behind it;
- `mxtui.ui` reaches `mxtui.lab` only to list scenarios and build a Network (`lab.scenarios`,
  `lab.runtime`), never the lab's hosts or DNS server;
- nothing outside `mxtui.ui` imports textual (the import-time check is in test_layering.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "mxtui"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, absolute, wherever the import statement is."""
    found: set[str] = set()
    package = (
        module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    )
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def modules_under(prefix: str) -> list[Path]:
    root = PACKAGE / Path(*prefix.split(".")[1:])
    if root.with_suffix(".py").exists():
        return [root.with_suffix(".py")]
    return sorted(root.rglob("*.py"))


def reaches(imported: set[str], target: str) -> list[str]:
    return sorted(i for i in imported if i == target or i.startswith(target + "."))


@pytest.mark.parametrize("layer", ["mxtui.desk", "mxtui.network"])
def test_desk_and_network_never_reach_textual_or_the_ui(layer: str) -> None:
    for path in modules_under(layer):
        found = imports(path)
        assert not reaches(found, "textual"), path
        assert not reaches(found, "mxtui.ui"), path


def test_delivery_never_reaches_the_lab() -> None:
    for path in modules_under("mxtui.delivery"):
        assert not reaches(imports(path), "mxtui.lab"), path


def test_the_ui_reaches_the_lab_only_for_scenarios_and_a_network() -> None:
    allowed = ("mxtui.lab.scenarios", "mxtui.lab.runtime")
    for path in modules_under("mxtui.ui"):
        for name in reaches(imports(path), "mxtui.lab"):
            assert name.startswith(allowed), f"{path.name} imports {name}"


def test_nothing_outside_the_ui_imports_textual() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if module_name(path).startswith("mxtui.ui"):
            continue
        assert not reaches(imports(path), "textual"), path


def test_the_check_sees_imports_inside_functions() -> None:
    assert "mxtui.ui.launch.open_app" in imports(PACKAGE / "commands" / "replay.py")


def test_the_ui_stays_small_typed_and_without_mixins() -> None:
    """Issue 12's shape of the UI: no mixin anywhere, no `type: ignore` in `mxtui/ui`, the app
    module under 400 lines, no class in `mxtui/ui` with more than 30 methods."""
    for path in PACKAGE.rglob("*.py"):
        assert "Mixin" not in path.read_text(encoding="utf-8"), path
    ui = PACKAGE / "ui"
    for path in ui.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "type: ignore" not in text, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                methods = [
                    n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                assert len(methods) <= 30, f"{path.name}: {node.name} has {len(methods)} methods"
    assert len((ui / "app.py").read_text(encoding="utf-8").splitlines()) < 400
