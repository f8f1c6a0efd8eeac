"""`mxtui config` and the global `--config FILE`: a starter file to edit, the file in force, and
what happens with a missing or broken one (one line, exit 2), before or after the command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mxtui.cli import command_parser, main
from mxtui.commands import serve
from mxtui.settings import Settings, default_path, load_settings


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_init_writes_the_commented_starter_file_where_the_settings_are_read(capsys) -> None:
    path = default_path()
    assert os.environ["XDG_CONFIG_HOME"] in str(path)  # conftest: never the real one
    assert not path.exists()
    assert main(["config", "--init"]) == 0
    assert capsys.readouterr().out == f"wrote a starter settings file: {path}\n"
    text = path.read_text(encoding="utf-8")
    assert "# The sending MTA to imitate" in text and load_settings() == Settings()
    assert main(["config"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: loads; sets ")


def test_init_refuses_to_overwrite_without_force(capsys) -> None:
    path = default_path()
    path.parent.mkdir(parents=True)
    path.write_text('profile = "exim"  # mine\n', encoding="utf-8")
    assert main(["config", "--init"]) == 2
    assert "already exists; --force replaces it" in one_line_error(capsys)
    assert path.read_text(encoding="utf-8") == 'profile = "exim"  # mine\n'
    assert main(["config", "--init", "--force"]) == 0
    assert load_settings(path) == Settings()
    assert main(["config", "--force"]) == 2
    assert "--force goes with --init" in one_line_error(capsys)


@pytest.mark.parametrize("where", ["before", "after", "equals"])
def test_config_file_before_or_after_the_command(where: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "class.toml"
    argv = {
        "before": ["--config", str(path), "config", "--init"],
        "after": ["config", "--init", "--config", str(path)],
        "equals": [f"--config={path}", "config", "--init"],
    }[where]
    assert main(argv) == 0
    assert str(path) in capsys.readouterr().out and load_settings(path) == Settings()
    assert main(["config", "--path", "--config", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}\n"


def test_without_a_file_the_defaults_apply_and_config_says_how_to_make_one(capsys) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{default_path()}: not there yet, so the defaults apply; ")
    assert "`mxtui config --init` writes one" in out


def test_a_missing_config_file_named_on_the_command_line_is_one_line_and_exit_2(
    tmp_path: Path, capsys
) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["--config", str(missing), "explain", "--stage", "rcpt", "--reply", "250 ok"]) == 2
    assert one_line_error(capsys) == f"mxtui explain: {missing}: no such settings file\n"
    assert main(["--config", str(missing)]) == 2  # the app
    assert one_line_error(capsys) == f"mxtui: {missing}: no such settings file\n"


def test_a_broken_file_stops_every_command_but_config_can_replace_it(
    tmp_path: Path, capsys
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[timeouts]\ntheme = 'nord'\n", encoding="utf-8")  # the README's old mistake
    for argv in (["mx", "--lab", "example.com"], ["walk", "--scenario", "backup-mx"], []):
        assert main(["--config", str(path), *argv]) == 2
        assert "timeouts.theme: unknown setting" in one_line_error(capsys)
    assert main(["--config", str(path), "config"]) == 2
    assert "timeouts.theme" in one_line_error(capsys)
    assert main(["--config", str(path), "config", "--init", "--force"]) == 0


def test_config_checks_what_only_the_app_knows_theme_and_binding_ids(
    tmp_path: Path, capsys
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "solarised-ish"\n', encoding="utf-8")
    assert main(["--config", str(path), "config"]) == 2
    assert "theme: unknown theme 'solarised-ish'" in one_line_error(capsys)
    path.write_text('[keys]\nnext-stpe = "f5"\n', encoding="utf-8")
    assert main(["--config", str(path), "config"]) == 2
    assert "keys.next-stpe: no such binding" in one_line_error(capsys)


def test_the_lab_and_a_scenario_keep_their_own_dns_profile_and_envelope(
    tmp_path: Path, capsys
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'profile = "exim"\nnameserver = ["127.0.0.1:9"]\nport = 9\n'
        '[envelope]\nfrom = "t@class.test"\nto = ["nobody@class.test"]\n',
        encoding="utf-8",
    )
    assert main(["--config", str(path), "walk", "--scenario", "backup-mx", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["profile"] == "postfix"  # the scenario's
    assert list(doc["recipients"]) == ["alice@backup.example.net"]
    argv = ["walk", "example.com", "--lab", "--to", "alice@example.com", "--json", "--seed", "1"]
    assert main(["--config", str(path), *argv]) == 0  # the lab's DNS and hosts, not :9
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"] == "delivered" and doc["profile"] == "exim"


def test_serve_hands_the_config_file_to_each_tabs_app(tmp_path: Path) -> None:
    _, parser = command_parser("serve")
    args = parser.parse_args(["--config", "class.toml", "--", "lab", "backup-mx"])
    command = serve.app_command(serve._args_for_app(args))
    assert command.endswith(f"-m mxtui --config {Path('class.toml').resolve()} lab backup-mx")
