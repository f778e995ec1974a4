"""The awaitable API: the application's engine, concurrency, op's escape hatches, env.py hooks."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import (
    DatabaseError,
    MigrationError,
    MigrationFailed,
    MissingEnvironmentVariable,
    ScriptError,
)
from tests.helpers import run_cli
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, linear, make_project


async def test_uses_and_leaves_open_the_apps_engine(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(2))
    engine = create_async_engine(db_url)  # pooled, as an application's would be
    try:
        result = await amigrate.upgrade(project.config(), "head", engine=engine)
        assert len(result.steps) == 2
        async with engine.connect() as conn:  # still usable: amigrate did not dispose it
            assert (await conn.execute(sa.text("SELECT COUNT(*) FROM rt2"))).scalar_one() == 0
        assert await amigrate.current(project.config(), engine=engine) == ("r002",)
    finally:
        await engine.dispose()


async def test_a_connection_inside_the_callers_transaction(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(2))
    engine = create_async_engine(db_url, poolclass=NullPool)
    if engine.dialect.name == "mysql":  # DDL would commit the caller's transaction: refused
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("CREATE TABLE app (x INT)"))
                await conn.commit()
                await conn.execute(sa.text("INSERT INTO app VALUES (1)"))  # the caller's work
                assert await amigrate.current(project.config(), connection=conn) == ()  # reads: ok
                with pytest.raises(MigrationError, match="cannot run inside the connection's"):
                    await amigrate.upgrade(project.config(), connection=conn)
                assert conn.in_transaction()
                await conn.rollback()  # and the caller's work is still the caller's to undo
            assert (await snapshot(db_url)) == ({"app"}, [])
            async with engine.connect() as conn:
                assert (await conn.execute(sa.text("SELECT COUNT(*) FROM app"))).scalar() == 0
        finally:
            await engine.dispose()
        return
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await amigrate.upgrade(project.config(), connection=conn)
            assert not conn.closed
            assert conn.in_transaction()  # amigrate did not commit the caller's transaction
            await conn.commit()
        assert (await snapshot(db_url))[1] == ["r002"]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])  # (MySQL refuses: see above)
async def test_a_run_inside_the_callers_transaction_is_the_callers_to_undo(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Rolled back by the caller, nothing of the run stays (SQLite's DDL used to commit
    on its own: pysqlite begins only before a row change); a failure there reports
    nothing as applied and says to roll back (PostgreSQL aborts the transaction)."""
    db_url: str = request.getfixturevalue(f"{kind}_url")
    failing = Rev("r003", "r002", upgrade='await op.execute("INSERT INTO nope VALUES (1)")')
    project = make_project(tmp_path, db_url, *linear(2), failing)
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await amigrate.upgrade(project.config(), "r002", connection=conn)
            await conn.rollback()
        assert (await snapshot(db_url)) == (set(), [])
        async with engine.connect() as conn:
            await conn.begin()
            with pytest.raises(MigrationFailed) as info:
                await amigrate.upgrade(project.config(), connection=conn)
            assert info.value.applied == ()
            assert "roll that transaction back" in (info.value.hint or "")
            await conn.rollback()
        tables, rows = await snapshot(db_url)
        assert rows == []
        assert tables == set()
    finally:
        await engine.dispose()


async def test_two_databases_concurrently(tmp_path: Path) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'db{i}.db'}" for i in range(2)]
    projects = [make_project(tmp_path / f"p{i}", url, *linear(5)) for i, url in enumerate(urls)]
    results = await asyncio.gather(*(amigrate.upgrade(p.config()) for p in projects))
    assert [len(r.steps) for r in results] == [5, 5]
    for url in urls:
        assert (await snapshot(url))[1] == ["r005"]


async def test_server_and_sqlite_concurrently(db_url: str, tmp_path: Path) -> None:
    other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    a = make_project(tmp_path / "a", db_url, *linear(3))
    b = make_project(tmp_path / "b", other, *linear(3, prefix="s"))
    await asyncio.gather(amigrate.upgrade(a.config()), amigrate.upgrade(b.config()))
    assert (await snapshot(db_url))[1] == ["r003"]
    assert (await snapshot(other))[1] == ["s003"]


async def test_op_escape_hatches(db_url: str, tmp_path: Path) -> None:
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            names = await op.run_sync(lambda c: sa.inspect(c).get_table_names())
            assert "rt1" in names, names
            await op.connection.execute(
                sa.text("INSERT INTO rt1 (name) VALUES (:n)"), {"n": op.x_args["who"]}
            )
            await op.execute(sa.text("INSERT INTO rt1 (name) VALUES ('" + op.dialect.name + "')"))
            result = await op.execute("SELECT COUNT(*) FROM rt1")
            assert result.scalar_one() == 2
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    await amigrate.upgrade(project.config(), x_args={"who": "alice"})
    engine = create_async_engine(db_url, poolclass=NullPool)
    async with engine.connect() as conn:
        names = sorted(r[0] for r in await conn.execute(sa.text("SELECT name FROM rt1")))
    await engine.dispose()
    assert names == sorted(["alice", engine.dialect.name])


async def test_autocommit_block_runs_outside_the_transaction(db_url: str, tmp_path: Path) -> None:
    statement = {
        "postgresql": "CREATE INDEX CONCURRENTLY ix_rt1_c ON rt1 (name)",
        "sqlite": "CREATE INDEX ix_rt1_c ON rt1 (name)",
        "mysql": "CREATE INDEX ix_rt1_c ON rt1 (name)",
    }
    rev = Rev(
        "r002",
        "r001",
        upgrade=f"""
            async with op.autocommit_block():
                await op.execute({statement!r}[op.dialect.name])
            await op.create_table("after", sa.Column("id", sa.Integer, primary_key=True))
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    await amigrate.upgrade(project.config())
    assert await snapshot(db_url) == ({"rt1", "after"}, ["r002"])


async def test_a_failure_in_an_autocommit_block_leaves_the_connection_transactional(
    db_url: str, tmp_path: Path
) -> None:
    """The application's connection gets its isolation level back after a failure inside
    op.autocommit_block() too: left in AUTOCOMMIT (MySQL), its rollbacks undid nothing."""
    body = """
        await op.execute("CREATE TABLE acx (id int)")
        async with op.autocommit_block():
            await op.execute("INSERT INTO acx VALUES (1)")
            await op.execute("SELECT * FROM no_such_table")
    """
    project = make_project(tmp_path, db_url, Rev("a1", None, upgrade=body))
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            with pytest.raises(MigrationFailed):
                await amigrate.upgrade(project.config(), connection=conn)
            await conn.execute(sa.text("CREATE TABLE appt (id int)"))
            await conn.commit()
            await conn.execute(sa.text("INSERT INTO appt VALUES (7)"))
            await conn.rollback()
            count = (await conn.execute(sa.text("SELECT count(*) FROM appt"))).scalar()
            await conn.rollback()
        assert count == 0
    finally:
        await engine.dispose()


async def test_a_cancel_scope_stops_a_wait_for_the_application_s_pool(
    sqlite_url: str, tmp_path: Path
) -> None:
    """anyio.fail_after() around an upgrade on an application's engine whose pool is busy
    ends at its deadline (a shielded connect waited out the pool's timeout instead)."""
    import anyio

    project = make_project(tmp_path, sqlite_url, *linear(1))
    engine = create_async_engine(sqlite_url, pool_size=1, max_overflow=0, pool_timeout=5)
    try:
        async with engine.connect():  # the application holds the only connection
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.5):
                    await amigrate.upgrade(project.config(), engine=engine)
    finally:
        await engine.dispose()


async def test_env_hooks(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    project.env(
        """
        import sqlalchemy as sa

        engine_options = {"echo": False}


        async def on_connect(connection, config):
            config.attributes["connections"] = config.attributes.get("connections", 0) + 1
            await connection.execute(sa.text("PRAGMA foreign_keys = ON"))
        """
    )
    config = project.config()
    await amigrate.upgrade(config)
    assert config.attributes["connections"] == 1


async def test_env_create_engine_hook(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    project.env(
        f"""
        from sqlalchemy.ext.asyncio import create_async_engine

        async def create_engine(config):
            config.attributes["factory"] = True
            return create_async_engine({sqlite_url!r})
        """
    )
    config = project.config()
    await amigrate.upgrade(config)
    assert config.attributes["factory"] is True
    assert (await snapshot(sqlite_url))[1] == ["r001"]


async def test_concurrent_first_calls_share_one_engine_from_the_hook(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Two calls at once on a new Migrator both ran the async hook and kept both engines:
    one was never disposed."""
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    project.env(
        f"""
        import asyncio

        from sqlalchemy import event
        from sqlalchemy.ext.asyncio import create_async_engine

        async def create_engine(config):
            await asyncio.sleep(0.05)
            engine = create_async_engine({sqlite_url!r})
            made = config.attributes.setdefault("made", [])
            disposed = config.attributes.setdefault("disposed", [])
            made.append(engine)
            event.listen(engine.sync_engine, "engine_disposed", lambda e: disposed.append(e))
            return engine
        """
    )
    config = project.config()
    async with amigrate.Migrator(config) as m:
        assert await asyncio.gather(m.current(), m.current(), m.upgrade()) is not None
        assert len(config.attributes["disposed"]) == len(config.attributes["made"]) - 1
    made = config.attributes["made"]
    assert {id(e) for e in config.attributes["disposed"]} == {id(e.sync_engine) for e in made}


async def test_hooks_get_each_databases_url_and_the_x_args(tmp_path: Path) -> None:
    """A fan-out's create_engine hook connects to each target (config.url is the
    target's), and the API's x_args reach the hooks as the CLI's -x do."""
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    project.env(
        """
        from sqlalchemy.ext.asyncio import create_async_engine

        async def create_engine(config):
            config.attributes.setdefault("urls", []).append(config.url)
            return create_async_engine(config.url)

        async def on_connect(connection, config):
            config.attributes.setdefault("x", []).append(dict(config.x_args))
        """
    )
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}" for name in ("a", "b")]
    config = project.config()
    results = await amigrate.upgrade(
        config, targets=[("a", urls[0]), ("b", urls[1])], x_args={"who": "api"}
    )
    assert results.ok
    for url in urls:
        assert (await snapshot(url))[1] == ["r001"]
    assert not (tmp_path / "unused.db").exists()
    single = project.config()
    async with amigrate.Migrator(single, url=urls[0], x_args={"who": "api"}) as m:
        assert await m.current() == ("r001",)
    assert single.attributes["urls"] == [urls[0]]
    assert single.attributes["x"] == [{"who": "api"}]


async def test_env_hook_must_be_async(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    project.env("def on_connect(connection, config):\n    pass\n")
    with pytest.raises(ScriptError, match="on_connect must be a coroutine function"):
        await amigrate.upgrade(project.config())


@pytest.mark.parametrize(
    ("hook", "match"),
    [
        (
            "async def on_connect(connection, config):\n    raise KeyError('nope')\n",
            r"env\.py: on_connect\(\) raised KeyError: 'nope'",
        ),
        (
            "async def create_engine(config):\n    raise OSError('no certificate')\n",
            r"env\.py: create_engine\(\) raised OSError: no certificate",
        ),
        (
            "async def create_engine(config):\n    return 5\n",
            r"env\.py: create_engine\(\) returned int, not an AsyncEngine",
        ),
    ],
)
async def test_a_failing_env_hook_is_named(
    sqlite_url: str, tmp_path: Path, hook: str, match: str
) -> None:
    # They were "unexpected" errors of amigrate's ('int' object has no attribute 'dispose').
    project = make_project(tmp_path, sqlite_url, *linear(1))
    project.env(hook)
    with pytest.raises(ScriptError, match=match):
        await amigrate.upgrade(project.config())
    result = run_cli("upgrade", cwd=tmp_path)
    assert result.code == 1
    assert "unexpected" not in result.err
    assert "hint: fix " in result.err or "hint: return create_async_engine" in result.err


async def test_amigrate_s_own_error_in_a_hook_keeps_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The async template's create_engine reads config.url: an unset ${VAR} there is the
    # config's error (with its hint to export it), not the hook's.
    project = make_project(tmp_path, "${NO_SUCH_URL_VAR}", *linear(1))
    project.env(
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "async def create_engine(config):\n"
        "    return create_async_engine(config.url)\n"
    )
    monkeypatch.delenv("NO_SUCH_URL_VAR", raising=False)
    with pytest.raises(MissingEnvironmentVariable):
        await amigrate.upgrade(project.config())


async def test_api_leaves_logging_alone(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    (tmp_path / "amigrate.ini").write_text(
        project.ini.read_text()
        + "\n[loggers]\nkeys = root\n[handlers]\nkeys = h\n[formatters]\nkeys = f\n"
        "[logger_root]\nlevel = CRITICAL\nhandlers = h\n"
        "[handler_h]\nclass = NullHandler\nargs = ()\nformatter = f\n[formatter_f]\nformat = x\n"
    )
    app_logger = logging.getLogger("myapp")
    root_level = logging.getLogger().level
    await amigrate.upgrade(amigrate.load_config(project.ini))
    assert logging.getLogger().level == root_level
    assert not app_logger.disabled


async def test_plan_and_migrator_context(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    async with amigrate.Migrator(project.config()) as m:
        plan = await m.plan("head")
        assert plan.revisions == ("r001", "r002", "r003")
        assert plan.from_heads == ()
        assert await m.current() == ()  # planning changed nothing
        await m.upgrade("+1")
        assert (await m.plan("head")).revisions == ("r002", "r003")
        down = await m.plan("base", direction="down")
        assert down.revisions == ("r001",)
    assert (await amigrate.plan(project.config(), "head")).revisions == ("r002", "r003")
    with pytest.raises(ValueError, match="direction must be 'up' or 'down', not 'Up'"):
        await amigrate.plan(project.config(), "head", direction="Up")  # type: ignore[arg-type]


async def test_on_connect_settings_do_not_reach_the_apps_pool(
    postgresql_url: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, postgresql_url, *linear(1))
    project.env(
        """
        import sqlalchemy as sa

        async def on_connect(connection, config):
            await connection.execute(sa.text("SET lock_timeout = '3s'"))
        """
    )
    engine = create_async_engine(postgresql_url, pool_size=2, max_overflow=0)
    try:
        await amigrate.upgrade(project.config(), engine=engine)
        await amigrate.current(project.config(), engine=engine)
        async with engine.connect() as a, engine.connect() as b:
            for conn in (a, b):
                timeout = (await conn.execute(sa.text("SHOW lock_timeout"))).scalar()
                assert timeout == "0"
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_a_pool_without_room_for_the_lock_says_so(
    postgresql_url: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, postgresql_url, *linear(1))
    engine = create_async_engine(postgresql_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    try:
        with pytest.raises(DatabaseError, match="came free in the engine's pool") as info:
            await amigrate.upgrade(project.config(), engine=engine)
        assert "takes two connections" in (info.value.hint or "")
    finally:
        await engine.dispose()


async def test_a_schema_target_puts_the_applications_search_path_back(
    postgresql_url: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, postgresql_url, *linear(1))
    engine = create_async_engine(postgresql_url, pool_size=1, max_overflow=1)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("CREATE SCHEMA appschema"))
            await conn.execute(sa.text("SET search_path TO appschema, public"))
            await conn.commit()
            async with amigrate.Migrator(project.config(), connection=conn, schema="tenant_x") as m:
                await m.upgrade()
            path = (await conn.execute(sa.text("SHOW search_path"))).scalar()
    finally:
        await engine.dispose()
    assert path == "appschema, public"  # (it used to be RESET to the server's default)


async def test_a_new_sqlite_database_waits_for_an_applications_write(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A request of the application's holds a write transaction as the lifespan migrates
    a new database: the first upgrade failed at once ("database is locked", a raw
    OperationalError), as it read before writing in one transaction, where SQLite does
    not wait; now it waits for the request, as a run over existing tables did."""
    project = make_project(tmp_path, sqlite_url, *linear(2))
    engine = create_async_engine(sqlite_url, connect_args={"timeout": 10})
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE app_data (n INTEGER)"))
        request = await engine.connect()
        await request.execute(sa.text("INSERT INTO app_data VALUES (1)"))

        async def finish_request() -> None:
            await asyncio.sleep(0.5)
            await request.commit()
            await request.close()

        finishing = asyncio.create_task(finish_request())
        result = await amigrate.upgrade(project.config(), engine=engine)
        await finishing
        assert result.to_heads == ("r002",)
    finally:
        await engine.dispose()


async def test_a_database_error_names_the_database_the_hook_connected_to(tmp_path: Path) -> None:
    """(It named the config's URL, which env.py's create_engine had replaced.)"""
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a SQLite database, not at all" * 100)
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    project.env(
        f"""
        from sqlalchemy.ext.asyncio import create_async_engine

        async def create_engine(config):
            return create_async_engine("sqlite+aiosqlite:///{garbage}")
        """
    )
    with pytest.raises(amigrate.DatabaseError, match="file is not a database") as caught:
        await amigrate.current(project.config())
    assert str(garbage) in str(caught.value)
    assert "unused.db" not in str(caught.value)
    assert "not a SQLite database" in (caught.value.hint or "")
