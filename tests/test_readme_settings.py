"""Every settings example in the README loads: each ```toml block goes through the real loader
and the app's own checks (theme names, binding ids), as the app would at start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mxtui.settings import load_settings
from mxtui.ui.launch import settings_problem

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```toml\n(.*?)^```$", README.read_text(encoding="utf-8"), re.M | re.S)


def test_the_readme_has_settings_examples() -> None:
    assert BLOCKS, "no ```toml block in the README"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_a_readme_settings_block_loads_and_the_app_would_start_with_it(
    block: str, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    settings = load_settings(path)  # raises SettingsError (the app's one-line refusal) if wrong
    assert settings_problem(settings, path) == ""
