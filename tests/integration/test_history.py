"""The audit history, checksums, validate and log, on every backend."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import amigrate
from amigrate.errors import CheckFailed, MigrationError, MigrationFailed, ValidationWarning
from amigrate.runtime.history import checksum
from tests.helpers import assert_clean_error, run_cli
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, linear, make_project


async def test_one_row_per_step(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    await amigrate.upgrade(config)
    await amigrate.downgrade(config, "-1")
    entries = await amigrate.log(config)
    assert [(e.revision, e.direction) for e in entries] == [
        ("r003", "down"),
        ("r003", "up"),
        ("r002", "up"),
        ("r001", "up"),
    ]
    ups = entries[1:]
    assert len({e.run_id for e in ups}) == 1  # one invocation
    assert entries[0].run_id != ups[0].run_id
    first = entries[-1]
    assert first.from_revisions == ""
    assert first.to_revisions == "r001"
    assert first.message == "create rt1"
    assert first.checksum == checksum((project.versions / "r001.py").read_bytes())
    assert first.status == "applied"
    assert before <= first.applied_at <= dt.datetime.now(dt.UTC)  # aware: UTC
    assert first.duration >= 0
    assert "@" in first.os_user
    assert first.amigrate_version == amigrate.__version__
    expected_user = {"postgresql": "postgres", "mysql": "root@", "sqlite": None}
    backend = db_url.split("+")[0]
    if expected_user[backend] is None:
        assert first.db_user is None
    else:
        assert (first.db_user or "").startswith(expected_user[backend] or "")
    assert [e.revision for e in await amigrate.log(config, limit=2)] == ["r003", "r003"]
    assert [e.direction for e in await amigrate.log(config, revisions=["r002"])] == ["up"]


async def test_a_rolled_back_step_leaves_no_row(db_url: str, tmp_path: Path) -> None:
    bad = Rev("r002", "r001", upgrade='await op.execute("CREATE TABLE x (id INTEGER)")\n1 / 0')
    project = make_project(tmp_path, db_url, *linear(1), bad)
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(project.config())
    entries = await amigrate.log(project.config())
    if db_url.startswith("mysql"):  # its DDL committed: the failure is recorded instead
        assert [(e.revision, e.status) for e in entries] == [
            ("r002", "failed"),
            ("r001", "applied"),
        ]
    else:
        assert [(e.revision, e.status) for e in entries] == [("r001", "applied")]


async def test_mysql_partial_failure(mysql_url: str, tmp_path: Path) -> None:
    bad = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.execute("CREATE TABLE half (id INTEGER)")
            await op.execute("ALTER TABLE no_such_table ADD x INTEGER")
        """,
    )
    project = make_project(tmp_path, mysql_url, *linear(1), bad)
    config = project.config()
    with pytest.raises(MigrationFailed) as first:
        await amigrate.upgrade(config)
    # The first error already says what the next run will ask for.
    assert "run the command again" not in (first.value.hint or "")
    assert "'amigrate stamp <revision>' (or run again with --force)" in (first.value.hint or "")
    (failed, ok) = await amigrate.log(config)
    assert (failed.revision, failed.status) == ("r002", "failed")
    assert "ALTER TABLE no_such_table ADD x INTEGER" in (failed.error or "")
    assert ok.status == "applied"
    # the next run refuses to go over it, and says how to resolve it
    with pytest.raises(MigrationError, match="r002 failed partway") as info:
        await amigrate.upgrade(config)
    assert "amigrate stamp" in (info.value.hint or "")
    assert "--force" in (info.value.hint or "")
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="failed partway")
    # The user undoes the half-done DDL by hand, fixes the revision, and says where it is.
    (project.versions / "r002.py").write_text(
        (project.versions / "r002.py").read_text().replace("no_such_table", "half")
    )
    stamped = run_cli("stamp", "r001", cwd=tmp_path)  # changes no row: says what it did
    assert stamped.code == 0, stamped
    assert "Recorded that the failure of r002 is resolved; the database is at r001." in (
        stamped.err
    )
    assert (await amigrate.log(config, limit=1))[0].status == "applied"
    again = await amigrate.stamp(config, "r001")
    assert (again.steps, again.resolved) == ((), None)  # nothing left to resolve
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(mysql_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE half"))
    await engine.dispose()
    result2 = await amigrate.upgrade(config)
    assert [s.revision for s in result2.steps] == ["r002"]


async def test_mysql_history_holds_any_text(mysql_url: str, tmp_path: Path) -> None:
    """In a latin1 database the history table is still utf8mb4: a message with ✓ and an
    emoji is recorded (the INSERT failed after the revision's DDL had committed)."""
    from sqlalchemy.engine import make_url

    from tests.conftest import _admin

    name = make_url(mysql_url).database
    await _admin(mysql_url, f"ALTER DATABASE {name} CHARACTER SET latin1")
    rev = Rev(
        "r001",
        None,
        upgrade='await op.create_table("t", sa.Column("id", sa.Integer))',
        message="add ✓ column 🚀",
    )
    project = make_project(tmp_path, mysql_url, rev)
    await amigrate.upgrade(project.config())
    (entry,) = await amigrate.log(project.config())
    assert (entry.status, entry.message) == ("applied", "add ✓ column 🚀")


async def test_mysql_an_older_latin1_history_is_converted(mysql_url: str, tmp_path: Path) -> None:
    """A history table an earlier amigrate made in a latin1 database is converted to
    utf8mb4 before a run writes to it (the row failed, after the step's DDL committed)."""
    from sqlalchemy.engine import make_url

    from tests.conftest import _admin

    name = make_url(mysql_url).database
    await _admin(mysql_url, f"ALTER DATABASE {name} CHARACTER SET latin1")
    first = Rev("r001", None, upgrade='await op.create_table("t1", sa.Column("id", sa.Integer))')
    second = Rev(
        "r002",
        "r001",
        upgrade='await op.create_table("t2", sa.Column("id", sa.Integer))',
        message="二つ目 two",
    )
    project = make_project(tmp_path, mysql_url, first)
    await amigrate.upgrade(project.config())
    await _admin(mysql_url, "ALTER TABLE amigrate_history CONVERT TO CHARACTER SET latin1")
    project.add(second)
    await amigrate.upgrade(project.config())
    newest = (await amigrate.log(project.config(), limit=1))[0]
    assert (newest.revision, newest.message) == ("r002", "二つ目 two")


async def test_force_runs_over_a_recorded_failure(mysql_url: str, tmp_path: Path) -> None:
    bad = Rev("r002", "r001", upgrade='await op.execute("CREATE TABLE half (id INTEGER)")\n1 / 0')
    project = make_project(tmp_path, mysql_url, *linear(1), bad, Rev("r003", "r002"))
    config = project.config()
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(config)
    (project.versions / "r002.py").write_text(
        (project.versions / "r002.py")
        .read_text()
        .replace("1 / 0", "")
        .replace("CREATE TABLE half", "CREATE TABLE IF NOT EXISTS half")
    )
    with pytest.raises(MigrationError, match="failed partway"):
        await amigrate.upgrade(config)
    result = await amigrate.upgrade(config, force=True)
    assert result.to_heads == ("r003",)


async def test_validate_finds_an_edited_revision(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    await amigrate.upgrade(config, "r002")
    assert (await amigrate.validate(config)).ok
    path = project.versions / "r001.py"
    original = path.read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + original.replace(b"\n", b"  \r\n"))  # BOM, CRLF, blanks
    report = await amigrate.validate(config)
    assert report.ok, report
    assert report.checked == 2
    path.write_bytes(original.replace(b"create rt1", b"create rt1 (edited)"))
    report = await amigrate.validate(config)
    assert [(p.kind, p.revision) for p in report.problems] == [("changed", "r001")]
    with pytest.warns(ValidationWarning, match="r001 changed since applied"):
        await amigrate.upgrade(config, "r003")
    assert (await snapshot(db_url))[1] == ["r003"]  # a warning, not a refusal


async def test_validate_on_upgrade_strict(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(2), validate_on_upgrade="strict")
    config = project.config()
    await amigrate.upgrade(config, "r001")
    path = project.versions / "r001.py"
    path.write_text(path.read_text() + "# an edit\n")
    with pytest.raises(CheckFailed, match="validate_on_upgrade = strict"):
        await amigrate.upgrade(config)
    assert (await snapshot(sqlite_url))[1] == ["r001"]


def test_validate_and_log_cli(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(3))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    result = run_cli("validate", cwd=tmp_path)
    assert result.code == 0, result
    assert "3 applied revisions match their files." in result.out
    path = project.versions / "r002.py"
    path.write_text(path.read_text().replace("create rt2", "create rt2!"))
    (project.versions / "r003.py").unlink()
    result = run_cli("validate", cwd=tmp_path)
    assert_clean_error(result, code=3, match="2 problems found")
    assert "changed: r002: " in result.out
    assert "missing: r003: applied, but no revision file declares it" in result.out
    document = json.loads(run_cli("validate", "--json", cwd=tmp_path).out)
    assert (document["error"]["type"], document["error"]["exit_code"]) == ("CheckFailed", 3)
    data = document  # the report, with the error it ended in beside its keys
    assert data["ok"] is False
    assert sorted(p["kind"] for p in data["problems"]) == ["changed", "missing"]

    log = run_cli("log", cwd=tmp_path)
    assert log.code == 0, log
    lines = log.out.splitlines()
    assert len(lines) == 3
    assert " up     r002 -> r003, create rt3  by " in lines[0]
    entries = json.loads(run_cli("--json", "log", "--limit", "1", cwd=tmp_path).out)
    assert [e["revision"] for e in entries] == ["r003"]
    assert set(entries[0]) >= {"revision", "direction", "applied_at", "os_user", "checksum"}


def test_log_revision_counts_from_the_database(sqlite_url: str, tmp_path: Path) -> None:
    """-r current / -1 are the database's, as for upgrade (they resolved as if nothing
    were applied); a filter that matches no row says so, not 'no history yet'."""
    make_project(tmp_path, sqlite_url, *linear(3))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    for spec, revision in (("current", "r003"), ("-1", "r002")):
        entries = json.loads(run_cli("--json", "log", "-r", spec, cwd=tmp_path).out)
        assert [e["revision"] for e in entries] == [revision], spec
    assert run_cli("downgrade", "base", cwd=tmp_path).code == 0
    nothing = run_cli("log", "-r", "base", cwd=tmp_path)
    assert nothing.code == 0, nothing
    assert nothing.err.startswith("No history rows for base in ")


def test_validate_says_one_revision_in_the_singular(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(1))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert run_cli("validate", cwd=tmp_path).out == "1 applied revision matches its file.\n"


async def test_adopting_alembic_creates_the_history(sqlite_url: str, tmp_path: Path) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(sqlite_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        await conn.execute(sa.text("INSERT INTO alembic_version VALUES ('r001')"))
    await engine.dispose()
    project = make_project(tmp_path, sqlite_url, *linear(2), version_table="alembic_version")
    config = project.config()
    assert await amigrate.log(config) == []
    # Alembic's head has no history row, but its file is here: nothing to report.
    report = await amigrate.validate(config)
    assert report.ok, report
    await amigrate.upgrade(config)
    assert [e.revision for e in await amigrate.log(config)] == ["r002"]
    assert (await amigrate.validate(config)).ok
    engine = create_async_engine(sqlite_url)
    async with engine.begin() as conn:  # a head that no file declares is still reported
        await conn.execute(sa.text("INSERT INTO alembic_version VALUES ('zzzz')"))
    await engine.dispose()
    report = await amigrate.validate(config)
    assert [(p.kind, p.revision) for p in report.problems] == [("unknown_head", "zzzz")]


async def test_stamp_purge_records_what_it_replaced(db_url: str, tmp_path: Path) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    project = make_project(tmp_path, db_url, *linear(2))
    config = project.config()
    await amigrate.upgrade(config, "r001")
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO amigrate_version VALUES ('zzzz')"))
    await engine.dispose()
    result = await amigrate.stamp(config, "r001", purge=True)
    assert result.from_heads == ("r001", "zzzz")
    assert [str(s) for s in result.steps] == ["stamp r001, zzzz -> r001, create rt1"]
    newest = (await amigrate.log(config, limit=1))[0]
    assert (newest.direction, newest.from_revisions, newest.to_revisions) == (
        "stamp",
        "r001,zzzz",
        "r001",
    )
    assert (await snapshot(db_url))[1] == ["r001"]
    # Purging to base: each row removed is recorded.
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO amigrate_version VALUES ('zzzz')"))
    await engine.dispose()
    await amigrate.stamp(config, "base", purge=True)
    assert (await snapshot(db_url))[1] == []
    rows = [(e.revision, e.from_revisions, e.to_revisions) for e in await amigrate.log(config)]
    assert rows[:2] == [("zzzz", "zzzz", ""), ("r001", "r001", "")]
