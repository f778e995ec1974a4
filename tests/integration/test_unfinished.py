"""A step that may commit part of its work writes a ``running`` history row first.

MySQL/MariaDB commit each DDL statement; on every database an ``op.autocommit_block()``
commits what ran before it. A migrator killed after such a commit (SIGKILL, a lost
host) used to leave nothing in the history: the next run started the revision again
over its committed half ("Table ... already exists", with a hint that it had been
rolled back). Now the step's ``running`` row is there, and the next run refuses over it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import MigrationFailed, PartlyApplied
from tests.conftest import _admin
from tests.helpers import run_cli
from tests.integration.test_interrupts import interrupted
from tests.integration.test_locking import LOG_TABLE, applied_counts, counted
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, make_project


async def history_rows(url: str) -> list[tuple[str, str, str | None]]:
    """(revision, status, error) of each history row, oldest first."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT revision, status, error FROM amigrate_history ORDER BY id")
            )
            return [(r[0], r[1], r[2]) for r in rows]
    finally:
        await engine.dispose()


def _stalling(url: str) -> Rev:
    """r002: a table that commits at once (MySQL's DDL; elsewhere an autocommit block),
    then, with ``-x stall``, a marker file and a long wait to be killed in."""
    create = 'await op.create_table("t_r002", sa.Column("id", sa.Integer, primary_key=True))'
    if not url.startswith("mysql"):
        create = f"async with op.autocommit_block():\n    {create}"
    return Rev(
        "r002",
        "r001",
        upgrade=f"""
{create}
if op.x_args.get("stall"):
    pathlib.Path(op.x_args["marker"]).touch()
    await asyncio.sleep(60)
await op.execute("INSERT INTO applied_log VALUES ('r002')")
""",
        downgrade='await op.drop_table("t_r002")',
        extra="import asyncio\nimport pathlib",
    )


def _kill_inside_r002(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    args = ("-x", "stall=1", "-x", f"marker={marker}", "upgrade", "head")
    result = interrupted(tmp_path, *args, ready=marker.exists, sig=signal.SIGKILL)
    assert marker.exists(), "the run never reached r002's wait"
    assert result.code == -signal.SIGKILL, result.err


def test_a_migrator_killed_after_a_commit_leaves_the_step_unfinished(
    db_url: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, db_url, LOG_TABLE, _stalling(db_url), counted("r003", "r002"))
    _kill_inside_r002(tmp_path)
    assert asyncio.run(snapshot(db_url)) == ({"applied_log", "t_r002"}, ["r001"])
    rows = asyncio.run(history_rows(db_url))
    assert rows == [("r001", "applied", None), ("r002", "running", None)]

    # The next run refuses (it ran r002 again: "t_r002 already exists"), and says why.
    result = run_cli("upgrade", "head", cwd=tmp_path)
    assert result.code == 1, result.err
    assert "the upgrade of revision r002 started on" in result.err
    assert "did not finish: its migrator stopped" in result.err
    assert "amigrate stamp <revision>" in result.err
    assert "Traceback" not in result.err
    assert asyncio.run(snapshot(db_url)) == ({"applied_log", "t_r002"}, ["r001"])

    # Read without the lock, it may be running now: current warns, plan refuses, log shows it.
    current = run_cli("current", cwd=tmp_path)
    assert current.code == 0, current.err
    assert "has not finished: another migrator is running it now, or it stopped" in current.err
    with pytest.raises(PartlyApplied, match="has not finished") as caught:
        asyncio.run(amigrate.plan(project.config()))
    assert (caught.value.hint or "").startswith("if no migrator is running it, finish or undo")
    log = run_cli("log", cwd=tmp_path)
    assert "[RUNNING: started, not finished" in log.out, log.out + log.err

    # Finished by hand and stamped: the run goes on from there.
    asyncio.run(_admin(db_url, "INSERT INTO applied_log VALUES ('r002')"))
    stamped = run_cli("stamp", "r002", cwd=tmp_path)
    assert stamped.code == 0, stamped.err
    done = run_cli("upgrade", "head", cwd=tmp_path)
    assert done.code == 0, done.err
    assert asyncio.run(applied_counts(db_url)) == {"r001": 1, "r002": 1, "r003": 1}
    statuses = [status for _, status, _ in asyncio.run(history_rows(db_url))]
    assert statuses == ["applied", "running", "applied", "applied"]  # the stamp, then r003


async def test_a_finished_step_has_one_applied_row(db_url: str, tmp_path: Path) -> None:
    """The running row becomes the step's row: one per step, with its duration."""
    project = make_project(tmp_path, db_url, LOG_TABLE, _stalling(db_url), counted("r003", "r002"))
    result = await amigrate.upgrade(project.config())
    assert [s.revision for s in result.steps] == ["r001", "r002", "r003"]
    assert await history_rows(db_url) == [
        ("r001", "applied", None),
        ("r002", "applied", None),
        ("r003", "applied", None),
    ]
    await amigrate.downgrade(project.config(), "base")
    statuses = [(rev, status) for rev, status, _ in await history_rows(db_url)][3:]
    assert statuses == [("r003", "applied"), ("r002", "applied"), ("r001", "applied")]


async def test_one_transaction_run_ends_its_running_rows(db_url: str, tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        db_url,
        LOG_TABLE,
        _stalling(db_url),
        counted("r003", "r002"),
        transaction_per_migration="false",
    )
    await amigrate.upgrade(project.config())
    assert [status for _, status, _ in await history_rows(db_url)] == ["applied"] * 3


async def test_a_step_that_fails_before_committing_anything_leaves_no_row(
    db_url: str, tmp_path: Path
) -> None:
    """On MySQL the failing DDL's implicit COMMIT took the running row along: it goes, as
    the step is rolled back (a fixed revision then runs without a stamp)."""
    bad = Rev(
        "r002",
        "r001",
        upgrade="""
async with op.autocommit_block():
    await op.create_table("applied_log", sa.Column("x", sa.Integer))
""",
    )
    if db_url.startswith("mysql"):
        bad.upgrade = 'await op.create_table("applied_log", sa.Column("x", sa.Integer))'
    project = make_project(tmp_path, db_url, LOG_TABLE, bad)
    with pytest.raises(MigrationFailed) as caught:
        await amigrate.upgrade(project.config())
    assert not caught.value.partial
    assert await history_rows(db_url) == [("r001", "applied", None)]
    project.add(counted("r002", "r001"))
    result = await amigrate.upgrade(project.config())
    assert [s.revision for s in result.steps] == ["r002"]


async def test_a_partly_applied_step_has_one_failed_row(db_url: str, tmp_path: Path) -> None:
    """The running row becomes the failed one (not a second row beside it)."""
    body = """
async with op.autocommit_block():
    await op.create_table("t_r002", sa.Column("id", sa.Integer, primary_key=True))
    await op.execute("INSERT INTO no_such_table VALUES (1)")
"""
    project = make_project(tmp_path, db_url, LOG_TABLE, Rev("r002", "r001", upgrade=body))
    with pytest.raises(MigrationFailed) as caught:
        await amigrate.upgrade(project.config())
    assert caught.value.partial
    rows = await history_rows(db_url)
    assert [(rev, status) for rev, status, _ in rows] == [("r001", "applied"), ("r002", "failed")]
    assert "no_such_table" in (rows[1][2] or "")
    with pytest.raises(PartlyApplied, match="r002 failed partway"):
        await amigrate.upgrade(project.config())


async def test_a_revision_that_rolls_back_its_own_work_on_mysql_is_applied(
    mysql_url: str, tmp_path: Path
) -> None:
    """An ORM session on op.connection that rolls back (a handled IntegrityError, a dry
    run) took the running row with it: the step then failed ("the history row ... is
    gone"), was recorded as failed, and every later run refused."""
    body = """
from sqlalchemy.ext.asyncio import AsyncSession
session = AsyncSession(bind=op.connection)
await session.execute(sa.text("INSERT INTO applied_log VALUES ('tentative')"))
await session.rollback()
await session.execute(sa.text("INSERT INTO applied_log VALUES ('r002')"))
"""
    project = make_project(tmp_path, mysql_url, LOG_TABLE, Rev("r002", "r001", upgrade=body))
    result = await amigrate.upgrade(project.config())
    assert [s.revision for s in result.steps] == ["r001", "r002"]
    assert await applied_counts(mysql_url) == {"r001": 1, "r002": 1}
    assert await history_rows(mysql_url) == [("r001", "applied", None), ("r002", "applied", None)]


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
@pytest.mark.parametrize("tracing", [False, True], ids=["direct", "through-sqlalchemy"])
async def test_a_connection_lost_after_a_commit_records_the_failure(
    backend: str,
    tracing: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """The server ended the session after part of the step committed: a raw
    PendingRollbackError escaped, and the step's row stayed 'running' (as if its
    migrator had been killed) instead of 'failed' with the error."""
    db_url: str = request.getfixturevalue(f"{backend}_url")
    if tracing:  # (SQLAlchemy's INFO logging takes amigrate off the driver's direct path)
        logger = logging.getLogger("sqlalchemy.engine")
        monkeypatch.setattr(logger, "handlers", [logging.NullHandler()])
        monkeypatch.setattr(logger, "propagate", False)
        level = logger.level
        logger.setLevel(logging.INFO)  # (setLevel, not an attribute: it empties the caches)
        request.addfinalizer(lambda: logger.setLevel(level))
    create = 'await op.create_table("t_r002", sa.Column("id", sa.Integer, primary_key=True))'
    if db_url.startswith("mysql"):
        body = f"{create}\nawait op.execute('KILL CONNECTION_ID()')"
    else:
        body = (
            f"async with op.autocommit_block():\n    {create}\n"
            "await op.execute('SELECT pg_terminate_backend(pg_backend_pid())')"
        )
    project = make_project(tmp_path, db_url, LOG_TABLE, Rev("r002", "r001", upgrade=body))
    with pytest.raises(MigrationFailed) as caught:
        await amigrate.upgrade(project.config())
    assert caught.value.partial
    rows = await history_rows(db_url)
    assert [(rev, status) for rev, status, _ in rows] == [("r001", "applied"), ("r002", "failed")]
    with pytest.raises(PartlyApplied, match="r002 failed partway"):
        await amigrate.upgrade(project.config())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])  # (MySQL: DDL commits first)
@pytest.mark.parametrize("per_migration", ["true", "false"])
async def test_an_interrupt_as_a_blocks_commit_lands_keeps_the_row(
    backend: str,
    per_migration: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """The COMMIT at a block's entry landed (with what the step ran before the block), and
    the interrupt came before its reply: the step counted as rolled back, its running
    row was removed, and the next run ran the revision again over its committed half."""
    db_url: str = request.getfixturevalue(f"{backend}_url")
    from amigrate.runtime.context import OnlineContext

    real_commit = OnlineContext.commit
    fired: list[bool] = []

    async def commit(self: OnlineContext) -> None:
        at_entry = self.marker_written and not self.autocommit_blocks and self.revision == "r002"
        await real_commit(self)
        if at_entry and not fired:
            fired.append(True)
            raise asyncio.CancelledError  # (the interrupt, after the server committed)

    monkeypatch.setattr(OnlineContext, "commit", commit)
    body = """
await op.execute("INSERT INTO applied_log VALUES ('r002')")
async with op.autocommit_block():
    await op.create_table("t_r002", sa.Column("id", sa.Integer, primary_key=True))
"""
    project = make_project(
        tmp_path,
        db_url,
        LOG_TABLE,
        Rev("r002", "r001", upgrade=body),
        transaction_per_migration=per_migration,
    )
    with pytest.raises(asyncio.CancelledError) as caught:
        await amigrate.upgrade(project.config())
    assert fired
    assert "may be partly changed" in " ".join(getattr(caught.value, "__notes__", []))
    assert [(r, s) for r, s, _ in await history_rows(db_url)] == [
        ("r001", "applied"),
        ("r002", "failed"),
    ]
    with pytest.raises(PartlyApplied, match="r002 failed partway"):
        await amigrate.upgrade(project.config())
    assert await applied_counts(db_url) == {"r001": 1, "r002": 1}


async def test_the_failure_is_recorded_where_on_connect_put_the_tables(
    postgresql_url: str, tmp_path: Path
) -> None:
    """The step's connection gone, the failure is written on another one: that one lacked
    env.py's on_connect (SET search_path TO app), looked for the history in public, and
    left the row 'running' (killed) instead of 'failed' (with the error)."""
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA app"))
    await engine.dispose()
    body = (
        "async with op.autocommit_block():\n"
        '    await op.create_table("t_r002", sa.Column("id", sa.Integer, primary_key=True))\n'
        "await op.execute('SELECT pg_terminate_backend(pg_backend_pid())')"
    )
    project = make_project(tmp_path, postgresql_url, LOG_TABLE, Rev("r002", "r001", upgrade=body))
    project.env(
        """
        import sqlalchemy as sa

        async def on_connect(connection, config):
            await connection.execute(sa.text("SET search_path TO app"))
        """
    )
    with pytest.raises(MigrationFailed) as caught:
        await amigrate.upgrade(project.config())
    assert caught.value.partial
    assert not getattr(caught.value, "__notes__", [])  # (no "could not record")
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT revision, status FROM app.amigrate_history ORDER BY id")
        )
        assert [tuple(r) for r in rows] == [("r001", "applied"), ("r002", "failed")]
    await engine.dispose()
