"""A step's COMMIT sent ahead (asyncpg): the next revision's Python runs while it travels.

The next step's first use of the connection waits for it; the step is reported done
when it lands; a COMMIT that fails or an interrupt while it travels is the step's own.
These tests slow the trip down where they need it still on its way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import MigrationFailed
from amigrate.runtime.direct import COMMIT, AsyncpgDirect
from amigrate.runtime.runner import StepEvent, interruption
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, linear, make_project


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The trips sent ahead (their SQL), each made to take 0.2 s more on its way."""
    trips: list[list[str]] = []
    original = AsyncpgDirect.send_ahead

    def send_ahead(self: AsyncpgDirect, items: Any) -> Any:
        trips.append([sql for sql, _, _ in items])
        return original(self, items)

    original_run = AsyncpgDirect.run

    async def run(self: AsyncpgDirect, items: Any) -> None:
        if any(sql.startswith(COMMIT) or sql.endswith(f"{COMMIT}; BEGIN") for sql, _, _ in items):
            await asyncio.sleep(0.2)
        await original_run(self, items)

    monkeypatch.setattr(AsyncpgDirect, "send_ahead", send_ahead)
    monkeypatch.setattr(AsyncpgDirect, "run", run)
    return trips


async def test_steps_are_reported_in_order_when_their_commit_lands(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]]
) -> None:
    project = make_project(tmp_path, postgresql_url, *linear(3))
    events: list[tuple[str, str, float | None]] = []

    def on_step(event: StepEvent) -> None:
        duration = event.result.duration if event.result else None
        events.append(("done" if event.result else "start", event.step.revision, duration))

    result = await amigrate.upgrade(project.config(), on_step=on_step)
    # Every COMMIT but the last was sent ahead, with the step's bookkeeping before it and
    # the next step's BEGIN after it: one simple query.
    assert len(sent) == 2
    for trip in sent:
        assert len(trip) == 1
        assert "amigrate_version" in trip[0]
        assert "amigrate_history" in trip[0]
        assert trip[0].endswith("; COMMIT; BEGIN")
    assert [(kind, rev) for kind, rev, _ in events] == [
        (kind, rev) for rev in ("r001", "r002", "r003") for kind in ("start", "done")
    ]
    # A step's time runs until its COMMIT landed (0.2 s on its way here).
    durations = {rev: d for kind, rev, d in events if kind == "done"}
    assert durations["r001"] is not None
    assert durations["r001"] >= 0.2
    assert [s.revision for s in result.steps] == ["r001", "r002", "r003"]
    assert await snapshot(postgresql_url) == ({"rt1", "rt2", "rt3"}, ["r003"])
    entries = list(reversed(await amigrate.log(project.config())))
    assert [(e.revision, e.status) for e in entries] == [
        ("r001", "applied"),
        ("r002", "applied"),
        ("r003", "applied"),
    ]
    # Written out as literals (r001, r002) or sent as parameters (r003): the same rows.
    for entry in entries:
        assert (entry.direction, entry.from_revisions) == (
            "up",
            {"r001": ""}.get(entry.revision, f"r00{int(entry.revision[-1]) - 1}"),
        )
        assert entry.to_revisions == entry.revision
        assert entry.message == f"create rt{entry.revision[-1]}"
        assert entry.checksum is not None
        assert entry.checksum.startswith("v1:")
        assert 0 < entry.duration < 60
        assert entry.error is None
        assert entry.db_user == "postgres"
    assert len({(e.run_id, e.os_user, e.amigrate_version) for e in entries}) == 1
    assert entries[0].applied_at <= entries[1].applied_at <= entries[2].applied_at


@pytest.mark.parametrize("conforming", ["on", "off"])
async def test_values_written_out_come_back_as_they_were(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]], conforming: str
) -> None:
    # A message with quotes, backslashes and more: written out as a literal in the trip
    # sent ahead, whatever standard_conforming_strings says.
    tricky = "it's a \\\\'quote\\\\' -- ünï $1 \\\\x41 %s %% {} E'\\\\' end"
    # r001's values are written out; r002's (the last step) go as parameters.
    revs = [Rev("r001", None, message=tricky), Rev("r002", "r001", message=tricky)]
    project = make_project(tmp_path, postgresql_url, *revs)
    project.env(
        f"""
        import sqlalchemy as sa


        async def on_connect(connection, config):
            await connection.execute(sa.text("SET standard_conforming_strings = {conforming}"))
        """
    )
    await amigrate.upgrade(project.config())
    assert len(sent) == 1
    entries = await amigrate.log(project.config())
    assert [e.revision for e in entries] == ["r002", "r001"]
    assert entries[0].message == entries[1].message
    assert "\\" in entries[1].message
    assert "'" in entries[1].message
    assert "ünï $1" in entries[1].message


async def test_a_version_row_changed_underneath_fails_its_step_on_the_way(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]]
) -> None:
    # The trip sent ahead checks the row counts itself: nothing of the step is committed.
    revs = [
        *linear(1),
        Rev(
            "r002",
            "r001",
            upgrade="""
                await op.create_table("racing", sa.Column("id", sa.Integer, primary_key=True))
                await op.execute("DELETE FROM amigrate_version")
            """,
        ),
        Rev("r003", "r002"),
    ]
    project = make_project(tmp_path, postgresql_url, *revs)
    # The application's engine, one pooled connection: it must come back usable.
    engine = create_async_engine(postgresql_url, pool_size=1, max_overflow=1)
    try:
        with pytest.raises(MigrationFailed) as info:
            await amigrate.upgrade(project.config(), engine=engine)
        failure = info.value
        assert failure.failed is not None
        assert failure.failed.revision == "r002"
        assert "changed 0 rows, expected 1" in str(failure)
        assert "another process may have changed the version table" in (failure.hint or "")
        assert "[while running" not in str(failure)
        assert len(sent) == 2
        assert await snapshot(postgresql_url) == ({"rt1"}, ["r001"])
        # Its transaction, aborted by the failed check, was rolled back before it went back.
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None
            assert not raw.driver_connection.is_in_transaction()
            assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_the_next_revision_may_start_with_sqlalchemy(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]]
) -> None:
    # op.connection and op.run_sync go through SQLAlchemy, which queues behind the trip
    # (asyncpg itself would refuse a second statement while one is on its way).
    revs = [
        *linear(1),
        Rev(
            "r002",
            "r001",
            upgrade="""
                await op.connection.execute(sa.text("CREATE TABLE raw2 (id int)"))
                await op.connection.execute(sa.text("INSERT INTO raw2 VALUES (1)"))
            """,
        ),
        Rev(
            "r003",
            "r002",
            upgrade="""
                def insert(connection):
                    connection.execute(sa.text("INSERT INTO raw2 VALUES (2)"))

                await op.run_sync(insert)
            """,
        ),
        Rev("r004", "r003", upgrade='await op.execute("INSERT INTO raw2 VALUES (3)")'),
    ]
    project = make_project(tmp_path, postgresql_url, *revs)
    failing = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.connection.execute(sa.text("CREATE TABLE early (id int)"))
            raise RuntimeError("after SQLAlchemy's statement")
        """,
    )
    project.add(failing)
    # Had SQLAlchemy's statement run before the trip, r001's COMMIT would have kept it.
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(project.config())
    assert await snapshot(postgresql_url) == ({"rt1"}, ["r001"])
    project.add(revs[1])
    sent.clear()
    await amigrate.upgrade(project.config())
    assert len(sent) == 2
    assert await snapshot(postgresql_url) == ({"rt1", "raw2"}, ["r004"])
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT id FROM raw2 ORDER BY id"))
            assert rows.scalars().all() == [1, 2, 3]
    finally:
        await engine.dispose()


DEFERRED = Rev(
    "r001",
    None,
    upgrade="""
        await op.create_table("parent", sa.Column("id", sa.Integer, primary_key=True))
        await op.create_table(
            "child",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(
                "parent_id",
                sa.Integer,
                sa.ForeignKey("parent.id", deferrable=True, initially="DEFERRED"),
            ),
        )
    """,
)
#: Breaks the deferred foreign key: its COMMIT fails.
ORPHAN = Rev(
    "r002", "r001", upgrade='await op.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")'
)


@pytest.mark.parametrize(
    "body",
    [
        'await op.create_table("never", sa.Column("id", sa.Integer, primary_key=True))',
        # The revision swallows what its first statement raised: the failure is still
        # the previous step's, and nothing of this one runs.
        """
        try:
            await op.create_table("never", sa.Column("id", sa.Integer, primary_key=True))
        except Exception:
            pass
        await op.execute("CREATE TABLE never2 (id int)")
        """,
        """
        try:
            await op.execute("CREATE TABLE never (id int)")
        except Exception:
            pass
        """,
        "pass",  # touches nothing: its own bookkeeping finds the failure
    ],
    ids=["plain", "swallowed-then-more", "swallowed", "empty"],
)
async def test_a_commit_that_fails_on_its_way_fails_its_own_step(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]], body: str
) -> None:
    revs = [DEFERRED, ORPHAN, Rev("r003", "r002", upgrade=body), Rev("r004", "r003")]
    project = make_project(tmp_path, postgresql_url, *revs)
    events: list[tuple[str, str]] = []
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(
            project.config(),
            on_step=lambda e: events.append(("done" if e.result else "start", e.step.revision)),
        )
    failure = info.value
    assert failure.failed is not None
    assert failure.failed.revision == "r002"
    assert [s.revision for s in failure.applied] == ["r001"]
    assert "upgrade r001 -> r002" in str(failure)
    assert "[while running: COMMIT]" in str(failure)
    assert isinstance(failure.__cause__, sa.exc.IntegrityError)
    assert events == [("start", "r001"), ("done", "r001"), ("start", "r002")]
    assert await snapshot(postgresql_url) == ({"parent", "child"}, ["r001"])
    entries = await amigrate.log(project.config())
    assert [(e.revision, e.status) for e in entries] == [("r001", "applied")]


async def test_an_error_in_the_next_revision_keeps_the_step_before_it(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]]
) -> None:
    # r002 fails in Python while r001's COMMIT is still on its way: r001 is applied.
    revs = [*linear(1), Rev("r002", "r001", upgrade='raise RuntimeError("before any SQL")')]
    project = make_project(tmp_path, postgresql_url, *revs)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.failed is not None
    assert info.value.failed.revision == "r002"
    assert [s.revision for s in info.value.applied] == ["r001"]
    assert "before any SQL" in str(info.value)
    assert await snapshot(postgresql_url) == ({"rt1"}, ["r001"])


async def test_an_interrupt_while_the_commit_travels_waits_for_it(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]]
) -> None:
    # The task is cancelled while r002's Python runs and r001's COMMIT is on its way: the
    # COMMIT lands (it is not cancelled with the task), r001 is applied, r002 never ran.
    revs = [
        *linear(1),
        Rev(
            "r002",
            "r001",
            upgrade="""
                asyncio.current_task().cancel()
                await op.create_table("never", sa.Column("id", sa.Integer, primary_key=True))
            """,
            extra="import asyncio",
        ),
    ]
    project = make_project(tmp_path, postgresql_url, *revs)
    with pytest.raises(asyncio.CancelledError) as info:
        await amigrate.upgrade(project.config())
    task = asyncio.current_task()
    assert task is not None
    task.uncancel()
    left = interruption(info.value)
    assert left is not None
    assert [s.revision for s in left.applied] == ["r001"]
    assert left.failed is not None
    assert left.failed.revision == "r002"
    assert "rolled back" in str(left)
    assert await snapshot(postgresql_url) == ({"rt1"}, ["r001"])
    # The connection came back clean: the next run goes on from r001.
    await amigrate.upgrade(project.config(), "r001")


async def test_an_interrupt_while_the_last_commit_travels(
    postgresql_url: str, tmp_path: Path, sent: list[list[str]]
) -> None:
    # Cancelled right after r001's COMMIT was sent (r002 cancels before anything else,
    # and r002's own COMMIT is never sent ahead: it is the last step).
    revs = [
        *linear(1),
        Rev("r002", "r001", upgrade="asyncio.current_task().cancel()", extra="import asyncio"),
    ]
    project = make_project(tmp_path, postgresql_url, *revs)
    with pytest.raises(asyncio.CancelledError) as info:
        await amigrate.upgrade(project.config())
    task = asyncio.current_task()
    assert task is not None
    task.uncancel()
    left = interruption(info.value)
    assert left is not None
    assert [s.revision for s in left.applied] == ["r001"]
    assert await snapshot(postgresql_url) == ({"rt1"}, ["r001"])
