"""Passwords never appear in output: in a URL's userinfo (with or without a scheme) or
in its query string, through the real command, in errors and in normal output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Result, run_cli
from tests.projects import linear, make_project

SECRET = "s3cret-Pw"


def assert_hidden(result: Result) -> None:
    assert SECRET not in result.output, result.output
    assert "Traceback" not in result.output, result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"rev_user:{SECRET}@127.0.0.1/db", "rev_user:***@127.0.0.1/db"),
        (f"postgresql+asyncpg://u@127.0.0.1:1/d?password={SECRET}", "?password=***"),
        (f"postgresql+asyncpg://u:{SECRET}@127.0.0.1:1/d", "u:***@127.0.0.1:1/d"),
    ],
)
@pytest.mark.parametrize("command", [("current",), ("upgrade", "--plan"), ("upgrade",)])
def test_failing_commands_mask_the_password(
    tmp_path: Path, url: str, shown: str, command: tuple[str, ...]
) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    result = run_cli("--url", url, *command, cwd=tmp_path)
    assert result.code == 1, result
    assert_hidden(result)
    assert shown in result.err, result.err
    as_json = run_cli("--url", url, "--json", *command, cwd=tmp_path)
    assert as_json.code == 1, as_json
    assert_hidden(as_json)
    assert shown in as_json.out, as_json.out  # the JSON error names the URL, masked


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # Characters a pattern cannot see the end of (SQLAlchemy connects with them all).
        ("postgresql+asyncpg://u:s3cret Pw@127.0.0.1:1/d", "u:***@127.0.0.1:1/d"),
        ("postgresql+asyncpg://u:s3cret#Pw?x/y@127.0.0.1:1/d", "u:***@127.0.0.1:1/d"),
        ("mysql+asyncmy://u:s3cret@Pw:x@127.0.0.1:1/d", "u:***@127.0.0.1:1/d"),
        # A mistyped scheme: the URL cannot be parsed, and says so masked.
        ("mysql+asyncmy//u:s3cretPw@127.0.0.1/d", "u:***@127.0.0.1/d"),
        ("postgresql+asyncpg:/u:s3cretPw@127.0.0.1/d", "u:***@127.0.0.1/d"),
    ],
)
@pytest.mark.parametrize("how", ["--url", "AMIGRATE_URL", "[targets]"])
def test_passwords_of_any_shape_are_masked(tmp_path: Path, url: str, shown: str, how: str) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    ini = tmp_path / "amigrate.ini"
    if how == "[targets]":
        if " " in url:
            shown = "is there a space in the URL?"  # (a line of words: it cannot be read)
        ini.write_text(ini.read_text() + f"\n[targets]\nmain = {url.replace('%', '%%')}\n")
    for json in ((), ("--json",)):
        args = ("--url", url) if how == "--url" else ()
        env = {"AMIGRATE_URL": url} if how == "AMIGRATE_URL" else {}
        for command in (("upgrade",), ("current",)):
            result = run_cli(*json, *args, *command, cwd=tmp_path, env=env)
            assert result.code == 1, result
            assert "s3cret" not in result.output, result.output
            assert "Traceback" not in result.output, result.output
            assert shown in (result.out if json else result.err), result.output


@pytest.mark.parametrize(
    "url",
    [f"rev_user:{SECRET}@127.0.0.1/db", f"postgresql+asyncpg://u@h/d?sslmode=x&password={SECRET}"],
)
def test_config_masks_the_password(tmp_path: Path, url: str) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db")
    result = run_cli("config", cwd=tmp_path, env={"AMIGRATE_URL": url})
    assert result.code == 0, result
    assert_hidden(result)
    assert "***" in result.out


@pytest.mark.parametrize(
    "x_arg",
    [
        f"url=postgresql://u:{SECRET}@h/db",
        f"db_password={SECRET}",
        f"API_TOKEN={SECRET}",
        f"api-key={SECRET}",
        f"pwd={SECRET}",
        f"dsn=host=h password={SECRET} dbname=app",
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_config_masks_secrets_in_x_values(tmp_path: Path, x_arg: str, as_json: bool) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db")
    result = run_cli(*(["--json"] if as_json else []), "-x", x_arg, "config", cwd=tmp_path)
    assert result.code == 0, result
    assert_hidden(result)
    assert "***" in result.out


def test_a_working_url_with_a_query_password_is_masked(tmp_path: Path, postgresql_url: str) -> None:
    # The server trusts local connections, so the password is accepted and unused.
    url = f"{postgresql_url}?password={SECRET}"
    make_project(tmp_path, url, *linear(2))
    for command in (("upgrade", "--plan"), ("-v", "upgrade", "+1"), ("current", "-v"), ("log",)):
        result = run_cli(*command, cwd=tmp_path)
        assert result.code == 0, result
        assert_hidden(result)
    wrong_database = url.replace("/amigrate_test_", "/amigrate_nodb_")
    result = run_cli("--url", wrong_database, "current", cwd=tmp_path)
    assert result.code == 1, result
    assert_hidden(result)
