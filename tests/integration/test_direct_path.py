"""amigrate's own statements go straight to the driver (runtime/direct.py): the step's
transaction must stay one transaction whatever the revision runs through SQLAlchemy,
and whoever watches SQLAlchemy (SQL logging, listeners) must still see every statement."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import MigrationFailed
from amigrate.runtime.direct import AsyncpgDirect, Direct, SQLiteDirect, direct_for
from tests.integration.test_failures import raising_rev
from tests.integration.test_runtime import BRANCHY, snapshot
from tests.projects import Rev, linear, make_project


def _transactional(url: str) -> bool:
    return not url.startswith("mysql")


async def _ids(url: str, table: str) -> list[int]:
    """The ids in *table*, read with a fresh connection."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return [
                r[0] for r in await conn.execute(sa.text(f"SELECT id FROM {table} ORDER BY id"))
            ]
    finally:
        await engine.dispose()


# A first revision that creates "kept" and puts id 1 in it through SQLAlchemy.
KEPT = Rev(
    "r001",
    None,
    upgrade="""
        await op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True))
        await op.connection.execute(sa.text("INSERT INTO kept (id) VALUES (1)"))
    """,
)


async def test_sqlalchemy_statements_join_the_step_transaction(db_url: str, tmp_path: Path) -> None:
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.create_table("mixed", sa.Column("id", sa.Integer, primary_key=True))
            await op.connection.execute(sa.text("INSERT INTO mixed (id) VALUES (1)"))
            await op.execute(sa.text("INSERT INTO mixed (id) VALUES (2)"))
            await op.bulk_insert(sa.table("mixed", sa.column("id")), [{"id": 3}])
            if op.x_args.get("fail"):
                raise RuntimeError("after the inserts")
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(project.config(), x_args={"fail": "1"})
    tables, rows = await snapshot(db_url)
    assert rows == ["r001"]
    if _transactional(db_url):
        assert tables == {"rt1"}  # the DDL and every insert rolled back together
        await amigrate.upgrade(project.config())
        assert await _ids(db_url, "mixed") == [1, 2, 3]


async def test_a_failure_after_an_autocommit_block_rolls_back_what_follows(
    db_url: str, tmp_path: Path
) -> None:
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.create_table("before", sa.Column("id", sa.Integer, primary_key=True))
            async with op.autocommit_block():
                await op.create_table("outside", sa.Column("id", sa.Integer, primary_key=True))
            await op.create_table("after", sa.Column("id", sa.Integer, primary_key=True))
            raise RuntimeError("after the block")
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(project.config())
    tables, rows = await snapshot(db_url)
    assert rows == ["r001"]
    if _transactional(db_url):
        # The block commits what ran before it, runs outside a transaction, and the
        # step's transaction resumes after it: only what follows the block rolls back.
        assert tables == {"rt1", "before", "outside"}


async def test_a_version_row_changed_underneath_fails_the_step(db_url: str, tmp_path: Path) -> None:
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.create_table("racing", sa.Column("id", sa.Integer, primary_key=True))
            await op.execute("DELETE FROM amigrate_version")
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert "changed 0 rows, expected 1" in str(info.value)
    tables, rows = await snapshot(db_url)
    if _transactional(db_url):
        assert (tables, rows) == ({"rt1"}, ["r001"])  # the step rolled back as a whole


async def test_sql_logging_sees_every_statement(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        await amigrate.upgrade(project.config())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "CREATE TABLE rt1" in logged
    assert "INSERT INTO amigrate_version" in logged
    assert "INSERT INTO amigrate_history" in logged


@pytest.mark.parametrize("watch", ["none", "echo", "listener"])
async def test_the_direct_path_only_where_nothing_watches(db_url: str, watch: str) -> None:
    engine = create_async_engine(db_url, poolclass=NullPool, echo=watch == "echo")
    if watch == "listener":
        sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: None)
    try:
        async with engine.connect() as conn:
            direct = await direct_for(conn)
    finally:
        await engine.dispose()
    kinds: dict[str, type[Direct]] = {"sqlite": SQLiteDirect, "postgresql": AsyncpgDirect}
    expected = kinds.get(engine.dialect.name)
    if watch != "none" or expected is None:
        assert direct is None
    else:
        assert type(direct) is expected


@pytest.mark.parametrize(
    ("same_thread", "exclusive", "on_loop_thread"),
    [(None, True, True), (True, True, False), (None, False, False)],
)
async def test_sqlite_statements_run_on_the_loop_thread_only_where_allowed(
    sqlite_url: str, same_thread: bool | None, exclusive: bool, on_loop_thread: bool
) -> None:
    # Inline only when the caller's loop is its own (exclusive_loop) and the connection
    # may be used from another thread than aiosqlite's (SQLAlchemy's default for a file).
    args = {} if same_thread is None else {"connect_args": {"check_same_thread": same_thread}}
    engine = create_async_engine(sqlite_url, poolclass=NullPool, **args)
    threads: list[int] = []

    def where() -> int:
        threads.append(threading.get_ident())
        return 1

    try:
        async with engine.connect() as conn:
            direct = await direct_for(conn, inline=exclusive)
            assert isinstance(direct, SQLiteDirect)
            assert direct.inline is on_loop_thread
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.create_function("where_am_i", 0, where)
            await direct.run([("SELECT where_am_i()", (), None)])
    finally:
        await engine.dispose()
    assert (threads == [threading.get_ident()]) is on_loop_thread


async def test_an_exclusive_loop_migrates_the_same(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(2), raising_rev("r003", "r002"))
    async with amigrate.Migrator(project.config(), exclusive_loop=True) as migrator:
        with pytest.raises(MigrationFailed) as info:
            await migrator.upgrade("head")
        assert [s.revision for s in info.value.applied] == ["r001", "r002"]
        assert await snapshot(sqlite_url) == ({"rt1", "rt2"}, ["r002"])
        await migrator.downgrade("base")
    assert await snapshot(sqlite_url) == (set(), [])


async def test_an_exclusive_loop_keeps_transactions_and_autocommit_blocks(
    sqlite_url: str, tmp_path: Path
) -> None:
    revs = [
        KEPT,
        Rev(
            "r002",
            "r001",
            upgrade="""
                await op.execute("INSERT INTO kept (id) VALUES (2)")
                async with op.autocommit_block():
                    await op.create_table("outside", sa.Column("id", sa.Integer, primary_key=True))
                await op.connection.execute(sa.text("INSERT INTO kept (id) VALUES (3)"))
                await op.create_table("after", sa.Column("id", sa.Integer, primary_key=True))
                raise RuntimeError("after the block")
            """,
        ),
    ]
    project = make_project(tmp_path, sqlite_url, *revs)
    async with amigrate.Migrator(project.config(), exclusive_loop=True) as migrator:
        with pytest.raises(MigrationFailed):
            await migrator.upgrade("head")
    # The block committed what ran before it; what followed it rolled back.
    assert await snapshot(sqlite_url) == ({"kept", "outside"}, ["r001"])
    assert await _ids(sqlite_url, "kept") == [1, 2]


async def test_the_applications_connection_gets_its_isolation_level_back(
    db_url: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, db_url, *linear(2))
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            before = await conn.get_isolation_level()
            await conn.commit()
            await amigrate.upgrade(project.config(), "head", connection=conn)
            options = conn.sync_connection.get_execution_options() if conn.sync_connection else {}
            assert options.get("isolation_level") != "AUTOCOMMIT"
            assert await conn.get_isolation_level() == before
            # Still transactional: a rolled-back insert is gone.
            await conn.execute(sa.text("INSERT INTO rt1 (id, name) VALUES (1, 'x')"))
            await conn.rollback()
            count = (await conn.execute(sa.text("SELECT COUNT(*) FROM rt1"))).scalar_one()
            assert count == 0
    finally:
        await engine.dispose()


async def test_a_query_prepared_before_an_alter_runs_again_after_it(
    db_url: str, tmp_path: Path
) -> None:
    # On asyncpg the ALTER skips SQLAlchemy, which must still re-prepare its cached
    # SELECT (its result type changed) instead of failing on a stale statement.
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.execute(sa.text("INSERT INTO rt1 (id, name) VALUES (1, 'abc')"))
            first = await op.execute(sa.text("SELECT name FROM rt1"))
            assert first.scalar_one() == "abc"
            if op.dialect.name != "sqlite":  # SQLite changes a type only in batch mode
                await op.alter_column("rt1", "name", type_=sa.Text())
                again = await op.execute(sa.text("SELECT name FROM rt1"))
                assert again.scalar_one() == "abc"
            await op.drop_index("ix_rt1_name", "rt1")
            await op.drop_column("rt1", "name")
            await op.add_column("rt1", sa.Column("name", sa.Integer()))
            last = await op.execute(sa.text("SELECT name FROM rt1"))
            assert last.scalar_one() is None
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    await amigrate.upgrade(project.config())
    assert (await snapshot(db_url))[1] == ["r002"]


async def test_each_step_is_its_own_transaction(db_url: str, tmp_path: Path) -> None:
    # A step's COMMIT and the next step's BEGIN travel together; whatever the steps run
    # through SQLAlchemy, a failing step still takes nothing but itself back.
    revs = [
        KEPT,
        Rev(
            "r002",
            "r001",
            upgrade="""
                await op.connection.execute(sa.text("INSERT INTO kept (id) VALUES (2)"))
                await op.create_table("gone", sa.Column("id", sa.Integer, primary_key=True))
                raise RuntimeError("after the insert")
            """,
        ),
    ]
    project = make_project(tmp_path, db_url, *revs)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert [s.revision for s in info.value.applied] == ["r001"]
    tables, rows = await snapshot(db_url)
    assert rows == ["r001"]
    if _transactional(db_url):
        assert tables == {"kept"}
        assert await _ids(db_url, "kept") == [1]


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_commit_that_fails_fails_its_own_step(db_url: str, tmp_path: Path) -> None:
    # A deferred foreign key is checked at COMMIT: the step that broke it fails, with
    # nothing of it kept, and the next step (whose BEGIN rode with that COMMIT) never runs.
    revs = [
        Rev(
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
        ),
        Rev(
            "r002",
            "r001",
            upgrade="""
                await op.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")
                await op.create_table("orphaned", sa.Column("id", sa.Integer, primary_key=True))
            """,
        ),
        Rev(
            "r003",
            "r002",
            upgrade='await op.create_table("never", sa.Column("id", sa.Integer, primary_key=True))',
        ),
    ]
    project = make_project(tmp_path, db_url, *revs)
    project.env(
        """
        import sqlalchemy as sa


        async def on_connect(connection, config):
            if connection.dialect.name == "sqlite":
                await connection.execute(sa.text("PRAGMA foreign_keys = ON"))
        """
    )
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert [s.revision for s in info.value.applied] == ["r001"]
    assert info.value.failed.revision == "r002"
    assert isinstance(info.value.__cause__, sa.exc.IntegrityError)
    assert await snapshot(db_url) == ({"parent", "child"}, ["r001"])
    engine = create_async_engine(db_url, poolclass=NullPool)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM child"))).scalar() == 0
    await engine.dispose()


async def test_postgresql_writes_a_steps_bookkeeping_in_one_statement(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The version write and the history row go as one statement (one round trip); a merge's
    # second write to the version table goes on its own, before it.
    import asyncpg

    sent: list[tuple[str, str]] = []
    for name in ("execute", "fetchrow"):
        original = getattr(asyncpg.Connection, name)

        def spy(original: Any = original, name: str = name) -> Any:
            async def call(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
                sent.append((name, query))
                return await original(self, query, *args, **kwargs)

            return call

        monkeypatch.setattr(asyncpg.Connection, name, spy())
    project = make_project(tmp_path, postgresql_url, *BRANCHY)
    config = project.config()
    await amigrate.upgrade(config, "heads")
    await amigrate.downgrade(config, "c1")  # unmerge
    bookkeeping = [(name, q) for name, q in sent if "amigrate_history" in q and "INSERT" in q]
    assert len(bookkeeping) == 8  # six steps up, two down
    assert all(name == "fetchrow" and "amigrate_version" in q for name, q in bookkeeping)
    assert sum("DELETE FROM amigrate_version" in q for _, q in sent) == 1  # the merge's
    assert (await snapshot(postgresql_url))[1] == ["b2", "c1"]
    entries = await amigrate.log(config)
    assert [(e.revision, e.direction, e.from_revisions, e.to_revisions) for e in entries[:4]] == [
        ("m", "down", "m", "c1,b2"),
        ("n", "down", "n", "m"),
        ("n", "up", "m", "n"),
        ("m", "up", "c1,b2", "m"),
    ]


async def test_postgresql_begin_rides_with_commit_after_sqlalchemy_statements(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A revision's op.execute runs through SQLAlchemy, which (in AUTOCOMMIT) still keeps a
    # transaction object: it is ended first, so the next BEGIN still goes with the COMMIT.
    import asyncpg

    simple: list[str] = []
    original = asyncpg.Connection.execute

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:
            simple.append(query.strip())
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    revs = [
        Rev("r001", None, upgrade='await op.execute("CREATE TABLE p1 (id int)")'),
        Rev("r002", "r001", upgrade='await op.execute("INSERT INTO p1 VALUES (1)")'),
        Rev("r003", "r002", upgrade='await op.execute("INSERT INTO p1 VALUES (2)")'),
    ]
    project = make_project(tmp_path, postgresql_url, *revs)
    await amigrate.upgrade(project.config())
    assert simple.count("COMMIT; BEGIN") == 2
    assert await _ids(postgresql_url, "p1") == [1, 2]
    # A failing step still takes only itself back.
    failing = 'await op.execute("INSERT INTO p1 VALUES (3)")\nraise RuntimeError("after it")'
    project.add(Rev("r004", "r003", upgrade=failing))
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(project.config())
    assert await _ids(postgresql_url, "p1") == [1, 2]
    assert (await snapshot(postgresql_url))[1] == ["r003"]


async def test_postgresql_drops_skip_sqlalchemy_and_keep_statements_prepared(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DROP TABLE/INDEX go to asyncpg as simple queries; through SQLAlchemy each was
    # prepared first and made the dialect drop every prepared statement, so a downgrade
    # prepared its bookkeeping statement again in every step (three trips more a step).
    import asyncpg

    project = make_project(tmp_path, postgresql_url, *linear(3))
    config = project.config()
    await amigrate.upgrade(config)
    simple: list[str] = []
    reloads: list[int] = []
    original_execute = asyncpg.Connection.execute
    original_reload = asyncpg.Connection.reload_schema_state

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:
            simple.append(query)
        return await original_execute(self, query, *args, **kwargs)

    async def reload_schema_state(self: Any) -> None:
        reloads.append(1)
        await original_reload(self)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    monkeypatch.setattr(asyncpg.Connection, "reload_schema_state", reload_schema_state)
    await amigrate.downgrade(config, "base")
    drops = [q.strip() for q in simple if q.strip().startswith("DROP")]
    assert drops == [
        f"DROP {what}" for i in (3, 2, 1) for what in (f"INDEX ix_rt{i}_name", f"TABLE rt{i}")
    ]
    assert reloads == []
    assert (await snapshot(postgresql_url)) == (set(), [])
