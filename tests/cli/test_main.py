"""The command frame: help, version, global options, the error boundary."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amigrate import __version__
from tests.helpers import assert_clean_error, run_cli


def test_help_and_version_do_not_import_heavy_modules() -> None:
    for flag in ("--help", "--version"):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "amigrate", flag],
            capture_output=True,
            text=True,
            check=True,
        )
        imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
        heavy = {m for m in imported if m.split(".")[0] in {"sqlalchemy", "rich", "mako", "anyio"}}
        assert not heavy, f"{flag} imported {sorted(heavy)[:5]}"


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert __version__ in result.out


def test_help_lists_commands() -> None:
    result = run_cli("--help")
    assert result.code == 0
    for command in ("init", "list-templates", "config"):
        assert command in result.out


def test_underscore_spelling_is_accepted() -> None:
    result = run_cli("list_templates")
    assert result.code == 0, result
    assert "generic" in result.out


def test_unknown_command_is_a_usage_error() -> None:
    assert_clean_error(run_cli("frobnicate"), code=2)


def test_malformed_x_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("-x", "novalue", "config", cwd=tmp_path)
    assert_clean_error(result, code=2, match="expected key=value")


def test_x_arguments_reach_the_config(tmp_path: Path) -> None:
    (tmp_path / "amigrate.ini").write_text("[amigrate]\nscript_location = m\n")
    result = run_cli("-x", "tenant=acme", "-x", "dry=1", "--json", "config", cwd=tmp_path)
    assert result.code == 0, result
    assert '"tenant": "acme"' in result.out


def test_config_shows_the_settings_in_effect(tmp_path: Path) -> None:
    """The databases of a multidb project (passwords masked), the hooks and the revision
    file settings too."""
    (tmp_path / "amigrate.ini").write_text(
        "[amigrate]\nscript_location = m\ndatabases = main, audit\ntimezone = UTC\n"
        "[main]\nsqlalchemy.url = postgresql+asyncpg://u:s3cret@db/main\n"
        "[audit]\nsqlalchemy.url = sqlite+aiosqlite:///audit.db\n"
        "[post_write_hooks]\nhooks = fmt\nfmt.type = console_scripts\nfmt.entrypoint = ruff\n"
    )
    result = run_cli("config", cwd=tmp_path)
    assert result.code == 0, result
    assert "s3cret" not in result.out
    lines = dict(line.split(None, 1) for line in result.out.splitlines())
    assert lines["databases"] == (
        "main postgresql+asyncpg://u:***@db/main, audit sqlite+aiosqlite:///audit.db"
    )
    assert lines["post_write_hooks"] == "fmt (console_scripts: ruff)"
    assert lines["timezone"] == "UTC"
    data = json.loads(run_cli("--json", "config", cwd=tmp_path).out)
    assert data["truncate_slug_length"] == 40
    assert data["databases"]["audit"] == "sqlite+aiosqlite:///audit.db"


@pytest.mark.parametrize(
    ("files", "args", "match"),
    [
        ({}, ("config",), "no amigrate.ini"),
        ({}, ("-c", "missing.ini", "config"), "config file missing.ini not found"),
        (
            {"amigrate.ini": "[amigrate]\nsqlalchemy.url = sqlite://\n"},
            ("config",),
            "no script_location",
        ),
        ({"amigrate.ini": "just text, no section\n"}, ("config",), "not a valid ini file"),
        (
            {"amigrate.ini": "[amigrate]\nscript_location = m\n"},
            ("-n", "prod", "config"),
            "no [prod] section",
        ),
        (
            {"pyproject.toml": "[tool.amigrate\n"},
            ("-c", "pyproject.toml", "config"),
            "not valid TOML",
        ),
        (
            {"amigrate.ini": "[amigrate]\nscript_location = m\nsqlalchemy.url = x://u:p%40@h/d\n"},
            ("config",),
            "'%' is written '%%'",
        ),
    ],
)
def test_bad_config_gives_one_clear_line(
    tmp_path: Path, files: dict[str, str], args: tuple[str, ...], match: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run_cli(*args, cwd=tmp_path)
    assert_clean_error(result, match=match)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("--debug", "config", cwd=tmp_path)
    assert result.code == 1
    assert "Traceback" in result.err
    assert "ConfigError" in result.err


def test_password_is_masked(tmp_path: Path) -> None:
    (tmp_path / "amigrate.ini").write_text(
        "[amigrate]\nscript_location = m\nsqlalchemy.url = postgresql+asyncpg://app:hunter2@db/app\n"
    )
    result = run_cli("config", cwd=tmp_path)
    assert result.code == 0, result
    assert "hunter2" not in result.output
    assert "app:***@db/app" in result.out


def test_config_json_before_or_after_the_command(tmp_path: Path) -> None:
    (tmp_path / "amigrate.ini").write_text("[amigrate]\nscript_location = m\n")
    for args in (("--json", "config"), ("config", "--json")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.code == 0, result
        assert json.loads(result.out)["script_location"].endswith("m")


def test_unknown_key_warning_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "amigrate.ini").write_text(
        textwrap.dedent(
            """
            [amigrate]
            script_location = m
            lock_timout = 5
            """
        )
    )
    result = run_cli("config", cwd=tmp_path)
    assert result.code == 0, result
    assert result.err.strip().startswith("warning: unknown key 'lock_timout'")
    assert "did you mean 'lock_timeout'?" in result.err


def test_url_flag_and_env(tmp_path: Path) -> None:
    (tmp_path / "amigrate.ini").write_text(
        "[amigrate]\nscript_location = m\nsqlalchemy.url = sqlite:///a.db\n"
    )
    assert "sqlite:///a.db" in run_cli("config", cwd=tmp_path).out
    env = {"AMIGRATE_URL": "sqlite:///b.db"}
    assert "sqlite:///b.db" in run_cli("config", cwd=tmp_path, env=env).out
    assert (
        "sqlite:///c.db" in run_cli("--url", "sqlite:///c.db", "config", cwd=tmp_path, env=env).out
    )
