"""Nothing outside mxtui/ui imports textual, and the headless entry points start without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import mxtui

CORE_MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(mxtui.__path__, "mxtui.")
    if not m.name.startswith("mxtui.ui") and m.name != "mxtui.__main__"
)


def _imports_textual(code: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('textual' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_does_not_import_textual(module):
    assert not _imports_textual(f"import {module}")


@pytest.mark.parametrize("argv", [["--help"], ["mx", "--help"], ["smtp", "--help"]])
def test_help_does_not_import_textual(argv):
    code = (
        "import contextlib, io\n"
        "from mxtui.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})"
    )
    assert not _imports_textual(code)
