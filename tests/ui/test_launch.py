"""The settings file reaches the app; a bad one is a one-line message and exit 2."""

from __future__ import annotations

import gc

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
        self.settings_file = None

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
    assert options["chosen"].mail_from == "trainer@class.test"
    assert options["chosen"].recipients == ("bob@example.com",)
    assert options["chosen"].ehlo is None  # not set: the default for the network
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
    assert app.options["port"] == 2525
    chosen = app.options["chosen"]
    assert chosen.mail_from is None and chosen.recipients == () and chosen.ehlo is None


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


def test_settings_give_a_domain_its_nameserver_port_dns_timeout_and_ehlo(
    tmp_path, monkeypatch, opened
):
    config = tmp_path / "config.toml"
    config.write_text(
        'nameserver = ["127.0.0.1:5300"]\nport = 2525\n'
        '[envelope]\nehlo = "client.class.test"\n[timeouts]\ndns = 1.5\n'
    )
    assert main(["--config", str(config), "example.org"]) == 0
    (app,) = opened
    options = app.options
    assert options["nameservers"] == [("127.0.0.1", 5300)]
    assert options["port"] == 2525
    assert options["dns_timeout"] == 1.5
    assert options["chosen"].ehlo == "client.class.test"
    assert app.settings_file == config  # where a theme picked in the palette is kept


def test_the_lab_demo_keeps_its_own_dns_and_the_command_line_wins(tmp_path, monkeypatch, opened):
    config = tmp_path / "config.toml"
    config.write_text('nameserver = ["127.0.0.1:5300"]\nport = 2525\n')
    assert main([f"--config={config}"]) == 0
    assert opened[-1].options["nameservers"] == [] and opened[-1].options["domain"] is None
    argv = ["--port", "26", "--nameserver", "127.0.0.1:53", "--config", str(config), "x.org"]
    assert main(argv) == 0
    assert opened[-1].options["port"] == 26
    assert opened[-1].options["nameservers"] == [("127.0.0.1", 53)]


@pytest.mark.parametrize("argv", [["lab", "busy-primary"], ["replay", "{recording}"]])
def test_a_scenario_and_a_replay_open_with_the_settings_theme_and_keys(argv, tmp_path, opened):
    recording = tmp_path / "demo.jsonl"
    assert main(["walk", "example.com", "--lab", "--from", "a@example.org", "--to",
                 "alice@example.com", "--seed", "1", "--record", str(recording)]) == 0  # fmt: skip
    config = tmp_path / "config.toml"
    config.write_text('theme = "textual-light"\n[keys]\nnext-step = "f5"\n')
    assert main(["--config", str(config), *(a.format(recording=recording) for a in argv)]) == 0
    (app,) = opened
    assert app.theme == "textual-light" and app.keymap == {"next-step": "f5"}
    assert app.settings_file == config


def test_a_scenario_keeps_its_own_profile_and_envelope_over_the_settings(tmp_path, opened):
    config = tmp_path / "config.toml"
    config.write_text(
        'profile = "exim"\n[envelope]\nfrom = "t@class.test"\n[timeouts]\nreply = 4\n'
    )
    assert main(["--config", str(config), "lab", "busy-primary"]) == 0
    (app,) = opened
    assert app.options["profile"] == app.options["scenario"].profile
    assert app.options["envelope"] == app.options["scenario"].envelope
    assert app.options["timeouts"].reply == 4  # the settings give what the scenario does not


def test_the_app_runs_with_the_garbage_collector_tuned(monkeypatch):
    """`run_app` (the one way into the app) sets the collector's first threshold before the app
    runs, keeps the older generations' as they were, and freezes what is alive then, once a
    process. The test process is set back to Python's thresholds and to nothing frozen (as a
    new process has it) to show that run_app is what does it."""
    before = gc.get_threshold()
    frozen = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: len(frozen))
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    try:
        gc.set_threshold(700, 10, 10)
        seen = []
        app = FakeApp()
        monkeypatch.setattr(app, "run", lambda: seen.append(gc.get_threshold()), raising=False)
        assert launch.run_app(app) == 0
        assert seen == [(launch.GC_THRESHOLD, 10, 10)] and launch.GC_THRESHOLD > 700
        assert len(frozen) == 1
        assert launch.run_app(app) == 0
        assert len(frozen) == 1, "frozen again"
    finally:
        gc.set_threshold(*before)
