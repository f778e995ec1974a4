"""The driver-only read of the version table agrees with the SQLAlchemy path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import amigrate
from amigrate.runtime.quickread import parse_plain_url, read_heads
from tests.helpers import run_cli
from tests.projects import linear, make_project


async def test_same_heads_as_the_migrator(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    tables = ("amigrate_version", "amigrate_history")
    assert await read_heads(db_url, tables, None) in ((), None)
    await amigrate.upgrade(config, "r002")
    quick = await read_heads(db_url, tables, None)
    if db_url.startswith("mysql"):
        assert quick is None  # not handled here: the ordinary path reads it
    else:
        assert quick == await amigrate.current(config) == ("r002",)


async def test_schema_table(postgresql_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, postgresql_url, *linear(1))
    project.settings["version_table_schema"] = "audit"
    project.write_config()
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(postgresql_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA audit"))
    await engine.dispose()
    await amigrate.upgrade(project.config())
    tables = ("amigrate_version", "amigrate_history")
    assert await read_heads(postgresql_url, tables, "audit") == ("r001",)
    assert await read_heads(postgresql_url, tables, None) == ()  # (no table there)


def test_current_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    make_project(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'never.db'}", *linear(1))
    result = run_cli("current", cwd=tmp_path)
    assert result.code == 0
    assert result.out == ""
    assert not (tmp_path / "never.db").exists()
    plan = run_cli("upgrade", "--plan", cwd=tmp_path)
    assert "(1 step)" in plan.out
    assert not (tmp_path / "never.db").exists()


async def test_the_api_reads_do_not_create_a_sqlite_file(tmp_path: Path) -> None:
    project = make_project(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'never.db'}", *linear(1))
    config = project.config()
    assert await amigrate.current(config) == ()
    assert (await amigrate.plan(config)).revisions == ("r001",)
    assert await amigrate.log(config) == []
    assert (await amigrate.validate(config)).ok
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_current_imports_no_sqlalchemy_without_hooks(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(f"{backend}_url")
    make_project(tmp_path, url, *linear(2))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    for command, shown in ((["current"], "r002 (head)"), (["downgrade", "-1", "--plan"], "Plan")):
        probe = (
            "import sys, runpy\n"
            f"sys.argv = ['amigrate', *{command!r}]\n"
            "try:\n    runpy.run_module('amigrate', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('SQLALCHEMY', 'sqlalchemy' in sys.modules)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
        assert shown in out
        assert "SQLALCHEMY False" in out, (command, out)


def test_env_hooks_take_the_ordinary_path(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    project.env("async def on_connect(connection, config):\n    config.attributes['seen'] = True\n")
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert run_cli("current", cwd=tmp_path).out.strip() == "r001 (head)"


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("sqlite+aiosqlite:////tmp/a b.db", ("sqlite", "/tmp/a b.db")),
        ("postgresql+asyncpg://u:p%40ss@h:5433/db", ("postgresql", "db")),
        ("postgresql://u@h/db?ssl=require", None),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite://", None),
        ("nonsense", None),
    ],
)
def test_parse_plain_url(url: str, parts: tuple[str, str] | None) -> None:
    plain = parse_plain_url(url)
    if parts is None:
        assert plain is None
    else:
        assert plain is not None
        assert (plain.backend, plain.database) == parts
    if url.startswith("postgresql+asyncpg://u:p"):
        assert plain is not None
        assert (plain.password, plain.port, plain.host) == ("p@ss", 5433, "h")


def test_refuses_over_the_same_statuses_as_the_history() -> None:
    """A newest row of these hands `current` to the ordinary path, which reports it."""
    from amigrate.runtime import history, quickread

    assert quickread.UNFINISHED == history.UNFINISHED


async def test_a_database_without_tables_is_read_quickly_unless_alembic_was_there(
    db_url: str, tmp_path: Path
) -> None:
    """No version table: () at once (the ordinary path costs 0.2 s more), unless Alembic's
    table is there, which the ordinary path reports (see test_runtime.py)."""
    tables = ("amigrate_version", "amigrate_history")
    if db_url.startswith("mysql"):
        assert await read_heads(db_url, tables, None) is None  # (not handled here)
        return
    if db_url.startswith("sqlite"):
        import sqlite3

        sqlite3.connect(db_url.partition(":///")[2]).close()  # an empty file
    assert await read_heads(db_url, tables, None) == ()
    from tests.conftest import _admin

    await _admin(db_url, "CREATE TABLE alembic_version (version_num VARCHAR(32))")
    assert await read_heads(db_url, tables, None) is None
