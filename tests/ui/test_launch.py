"""The settings file reaches the app; a bad one is a one-line message and exit 2."""

from __future__ import annotations

import pytest
from textual.theme import BUILTIN_THEMES

from mxtui.cli import main
from mxtui.ui import launch


class FakeApp:
    return_code = None
    available_themes = BUILTIN_THEMES
    theme = "textual-dark"

    def __init__(self, **options):
        self.options = options
        self.keymap = None

    def set_keymap(self, keymap):
        self.keymap = keymap

    def run(self):
        pass


@pytest.fixture
def opened(monkeypatch):
    apps: list[FakeApp] = []

    def fake_make_app(**options):
        apps.append(FakeApp(**options))
        return apps[-1]

    monkeypatch.setattr(launch, "make_app", fake_make_app)
    return apps


def test_settings_give_the_profile_envelope_timeouts_and_keys(tmp_path, monkeypatch, opened):
    config = tmp_path / "config.toml"
    config.write_text(
        'profile = "qmail"\n'
        '[envelope]\nfrom = "trainer@class.test"\nto = ["bob@example.com"]\n'
        "[timeouts]\nconnect = 3\nreply = 7\n"
        '[keys]\nnext-step = "f5"\n'
    )
    monkeypatch.setenv("MXTUI_CONFIG", str(config))
    assert main([]) == 0
    (app,) = opened
    options = app.options
    assert options["profile"] == "qmail"
    assert options["envelope"].mail_from == "trainer@class.test"
    assert options["envelope"].recipients == ("bob@example.com",)
    assert (options["timeouts"].connect, options["timeouts"].reply) == (3, 7)
    assert options["domain"] is None and options["nameservers"] == []  # still the lab demo
    assert app.keymap == {"next-step": "f5"}


def test_a_bad_setting_names_the_key_and_exits_2(tmp_path, monkeypatch, capsys, opened):
    config = tmp_path / "config.toml"
    config.write_text('[timeouts]\nconnect = "soon"\n')
    monkeypatch.setenv("MXTUI_CONFIG", str(config))
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "timeouts.connect" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not opened


def test_an_unknown_binding_id_is_refused(tmp_path, monkeypatch, capsys, opened):
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nnext-stpe = "f5"\n')
    monkeypatch.setenv("MXTUI_CONFIG", str(config))
    assert main([]) == 2
    assert "keys.next-stpe: no such binding" in capsys.readouterr().err


def test_no_settings_file_means_defaults(tmp_path, monkeypatch, opened):
    monkeypatch.setenv("MXTUI_CONFIG", "")
    monkeypatch.setattr("mxtui.settings.default_path", lambda: tmp_path / "absent.toml")
    assert main(["--port", "2525", "example.org"]) == 0
    (app,) = opened
    assert app.options["port"] == 2525 and app.options["envelope"] is None


def test_the_theme_setting_reaches_the_app(tmp_path, monkeypatch, opened):
    config = tmp_path / "config.toml"
    config.write_text('theme = "textual-light"\n')
    monkeypatch.setenv("MXTUI_CONFIG", str(config))
    assert main([]) == 0
    (app,) = opened
    assert app.theme == "textual-light"


def test_an_unknown_theme_is_named_and_exits_2(tmp_path, monkeypatch, capsys, opened):
    config = tmp_path / "config.toml"
    config.write_text('theme = "solarised-ish"\n')
    monkeypatch.setenv("MXTUI_CONFIG", str(config))
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "theme: unknown theme 'solarised-ish'" in err and "textual-light" in err
    assert len(err.splitlines()) == 1
