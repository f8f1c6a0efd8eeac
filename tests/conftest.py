"""Fixtures shared by all tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def own_config_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Every test gets an empty config directory: the settings file of whoever runs the tests
    (read by every command) never changes a result, and a kept theme never lands in it.
    Subprocesses inherit it through the environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("MXTUI_CONFIG", raising=False)
