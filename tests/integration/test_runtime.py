"""The async runtime on SQLite, PostgreSQL and MariaDB: upgrade, downgrade, stamp, failures."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import AmbiguousRevision, ConfigWarning, UnknownRevision
from amigrate.revisions import apply_changes
from amigrate.revisions.planner import plan_upgrade
from tests.helpers import run_cli
from tests.projects import Rev, linear, make_project, table_rev


async def snapshot(url: str, version_table: str = "amigrate_version") -> tuple[set[str], list[str]]:
    """The tables of the database and the version rows, read with a fresh connection."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
            rows: list[str] = []
            if version_table in tables:
                result = await conn.execute(sa.text(f"SELECT version_num FROM {version_table}"))
                rows = sorted(r[0] for r in result)
            return tables - {version_table, "amigrate_history"}, rows
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_cycle(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(4))
    config = project.config()

    result = await amigrate.upgrade(config, "+2")
    assert [s.revision for s in result.steps] == ["r001", "r002"]
    assert all(s.direction == "up" and s.duration >= 0 for s in result.steps)
    assert await snapshot(db_url) == ({"rt1", "rt2"}, ["r002"])

    result = await amigrate.upgrade(config, "head")
    assert result.from_heads == ("r002",)
    assert result.to_heads == ("r004",)
    assert await snapshot(db_url) == ({"rt1", "rt2", "rt3", "rt4"}, ["r004"])
    assert await amigrate.current(config) == ("r004",)

    result = await amigrate.downgrade(config, "-1")
    assert [(s.revision, s.direction) for s in result.steps] == [("r004", "down")]
    assert await snapshot(db_url) == ({"rt1", "rt2", "rt3"}, ["r003"])

    await amigrate.downgrade(config, "base")
    assert await snapshot(db_url) == (set(), [])

    with pytest.raises(AmbiguousRevision) as info:
        await amigrate.upgrade(config, "r00")
    assert info.value.candidates == ("r001", "r002", "r003", "r004")
    assert await snapshot(db_url) == (set(), [])


async def test_partial_id_target(db_url: str, tmp_path: Path) -> None:
    revs = [table_rev("a1b2c3d4e5f6", None, "t1"), table_rev("f6e5d4c3b2a1", "a1b2c3d4e5f6", "t2")]
    project = make_project(tmp_path, db_url, *revs)
    config = project.config()
    await amigrate.upgrade(config, "a1b2")
    assert await snapshot(db_url) == ({"t1"}, ["a1b2c3d4e5f6"])
    with pytest.raises(UnknownRevision):
        await amigrate.upgrade(config, "zzz")
    assert await snapshot(db_url) == ({"t1"}, ["a1b2c3d4e5f6"])


BRANCHY = [
    table_rev("a", None, "ta"),
    table_rev("b1", "a", "tb1"),
    table_rev("b2", "a", "tb2"),
    table_rev("c1", "b1", "tc1"),
    Rev("m", ("c1", "b2"), message="merge"),
    table_rev("n", "m", "tn"),
]


async def test_branches_and_merges_keep_alembic_version_rows(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *BRANCHY)
    config = project.config()
    await amigrate.upgrade(config, "b1")
    assert (await snapshot(db_url))[1] == ["b1"]
    await amigrate.upgrade(config, "b2")  # the other branch: a second head row
    assert (await snapshot(db_url))[1] == ["b1", "b2"]
    result = await amigrate.upgrade(config, "m")  # c1, then the merge: rows collapse to one
    assert [s.revision for s in result.steps] == ["c1", "m"]
    assert (await snapshot(db_url))[1] == ["m"]
    await amigrate.downgrade(config, "c1")  # unmerge: two heads again ("-1" is ambiguous here)
    assert (await snapshot(db_url))[1] == ["b2", "c1"]
    await amigrate.upgrade(config, "heads")
    tables, rows = await snapshot(db_url)
    assert rows == ["n"]
    assert tables == {"ta", "tb1", "tb2", "tc1", "tn"}
    await amigrate.downgrade(config, "base")
    assert await snapshot(db_url) == (set(), [])


async def test_version_rows_match_the_plan(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *BRANCHY)
    config = project.config()
    async with amigrate.Migrator(config) as m:
        for target in ("b2", "c1", "heads"):
            before = await m.current()
            plan = plan_upgrade(m.graph, before, target)
            await m.upgrade(target)
            assert (await snapshot(db_url))[1] == list(apply_changes(before, plan.steps))


async def test_stamp_and_purge(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    result = await amigrate.stamp(config, "r002")
    assert [s.direction for s in result.steps] == ["stamp"]
    assert await snapshot(db_url) == (set(), ["r002"])  # no code ran
    await amigrate.upgrade(config, "head")
    assert await snapshot(db_url) == ({"rt3"}, ["r003"])
    await amigrate.stamp(config, "base")
    assert await snapshot(db_url) == ({"rt3"}, [])

    engine = create_async_engine(db_url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO amigrate_version VALUES ('gone0001')"))
    await engine.dispose()
    with pytest.raises(UnknownRevision, match="gone0001") as info:
        await amigrate.upgrade(config, "head")
    assert "stamp --purge" in (info.value.hint or "")
    await amigrate.stamp(config, "r003", purge=True)
    assert (await snapshot(db_url))[1] == ["r003"]


async def test_current_is_read_only(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(1))
    assert await amigrate.current(project.config()) == ()
    engine = create_async_engine(db_url, poolclass=NullPool)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    await engine.dispose()
    assert tables == []


async def test_ensure_version(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(1), version_table="my_versions")
    config = project.config()
    await amigrate.ensure_version(config)
    await amigrate.ensure_version(config)  # idempotent
    assert await snapshot(db_url, "my_versions") == (set(), [])
    await amigrate.upgrade(config)
    assert await snapshot(db_url, "my_versions") == ({"rt1"}, ["r001"])


async def test_adopts_an_alembic_database(db_url: str, tmp_path: Path) -> None:
    await _alembic_leftovers(db_url)
    project = make_project(tmp_path, db_url, *linear(3), version_table="alembic_version")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the table is the configured one: nothing to say
        result = await amigrate.upgrade(project.config())
    assert [s.revision for s in result.steps] == ["r002", "r003"]
    assert await snapshot(db_url, "alembic_version") == ({"rt1", "rt2", "rt3"}, ["r003"])


async def test_an_alembic_database_without_its_version_table_configured(
    db_url: str, tmp_path: Path
) -> None:
    """Forgetting version_table = alembic_version: the upgrade started from base with a
    warning, failed on the first table, and left an empty amigrate_version behind (on
    MySQL what the first revision's DDL did, too). Now it is refused, changing nothing."""
    await _alembic_leftovers(db_url)
    project = make_project(tmp_path, db_url, *linear(3))
    with pytest.raises(amigrate.ConfigError, match="migrated by Alembic") as caught:
        await amigrate.upgrade(project.config())
    assert "alembic_version is at r001" in str(caught.value)
    assert "set version_table = alembic_version" in (caught.value.hint or "")
    assert await snapshot(db_url, "alembic_version") == ({"rt1"}, ["r001"])
    engine = create_async_engine(db_url, poolclass=NullPool)
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    await engine.dispose()
    assert tables == {"alembic_version", "rt1"}  # (no amigrate_version, no history)
    # A config that names its own table means it: a warning, and the run goes on.
    project.settings["version_table"] = "amigrate_version"
    project.write_config()
    with (
        pytest.warns(ConfigWarning, match="set version_table = alembic_version"),
        pytest.raises(amigrate.MigrationFailed),  # rt1 is there already
    ):
        await amigrate.upgrade(project.config())


async def test_reads_of_an_alembic_database_say_what_upgrade_would(
    db_url: str, tmp_path: Path
) -> None:
    """current and --plan said <base> without a word, where upgrade refuses."""
    await _alembic_leftovers(db_url)
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    with pytest.warns(ConfigWarning, match="alembic_version is at r001") as caught:
        assert await amigrate.current(config) == ()
    assert "upgrade refuses to start from there" in str(caught[0].message)
    with pytest.raises(amigrate.ConfigError, match="migrated by Alembic"):
        await amigrate.plan(config)
    # The command line, whose quick read hands such a database to the ordinary path.
    current = run_cli("current", cwd=tmp_path)
    assert current.code == 0, current.output
    assert "warning: this database was migrated by Alembic" in current.err
    planned = run_cli("upgrade", "head", "--plan", cwd=tmp_path)
    assert planned.code == 1, planned.output
    assert "error: this database was migrated by Alembic" in planned.err
    # A history of amigrate's own beside it, named in the config: said, not refused.
    project.settings["version_table"] = "amigrate_version"
    project.write_config()
    with pytest.warns(ConfigWarning, match="reads as <base> and an upgrade starts from base"):
        assert await amigrate.current(project.config()) == ()
    assert await snapshot(db_url, "alembic_version") == ({"rt1"}, ["r001"])  # (nothing made)


async def test_alembics_version_table_in_another_schema_is_named(
    postgresql_url: str, tmp_path: Path
) -> None:
    """Alembic's env.py had version_table_schema = "meta": the upgrade started from base
    without a word."""
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA meta"))
        await conn.execute(sa.text("CREATE TABLE meta.alembic_version (version_num VARCHAR(32))"))
        await conn.execute(sa.text("INSERT INTO meta.alembic_version VALUES ('r001')"))
    await engine.dispose()
    project = make_project(tmp_path, postgresql_url, *linear(1))
    with pytest.warns(
        ConfigWarning, match="version_table = alembic_version and version_table_schema = meta"
    ):
        await amigrate.upgrade(project.config())


async def _alembic_leftovers(db_url: str) -> None:
    # What Alembic leaves behind: its version table with one row, and the schema.
    engine = create_async_engine(db_url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        await conn.execute(sa.text("INSERT INTO alembic_version VALUES ('r001')"))
        await conn.execute(sa.text("CREATE TABLE rt1 (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
    await engine.dispose()


async def test_mariadb_url_scheme(mysql_url: str, tmp_path: Path) -> None:
    """``mariadb+asyncmy://`` is SQLAlchemy's 'mariadb' dialect: the same lock, history, DDL."""
    url = sa.make_url(mysql_url).set(drivername="mariadb+asyncmy")
    text_url = url.render_as_string(hide_password=False)
    project = make_project(tmp_path, text_url, *linear(2))
    result = await amigrate.upgrade(project.config())
    assert [s.revision for s in result.steps] == ["r001", "r002"]
    entries = await amigrate.log(project.config())
    assert (entries[0].db_user or "").startswith("root@")
    assert await snapshot(text_url) == ({"rt1", "rt2"}, ["r002"])


async def test_mysql_creates_the_version_table_without_a_warning(
    mysql_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # MySQL calls every primary key PRIMARY and warns about any other name.
    project = make_project(tmp_path, mysql_url, *linear(1))
    with caplog.at_level(logging.WARNING):
        await amigrate.upgrade(project.config())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    engine = create_async_engine(mysql_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            pk = await conn.run_sync(lambda c: sa.inspect(c).get_pk_constraint("amigrate_version"))
    finally:
        await engine.dispose()
    assert pk["constrained_columns"] == ["version_num"]
