"""The migration lock: replicas that start together, killed and cancelled migrators."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import LockTimeout
from tests.helpers import run_cli, run_python
from tests.integration.test_ops_support import backend
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, linear, make_project

# Each revision records that it ran, so "applied exactly once" can be counted.
LOG_TABLE = Rev(
    "r001",
    None,
    upgrade="""
        await op.create_table("applied_log", sa.Column("revision", sa.String(32)))
        await op.execute("INSERT INTO applied_log VALUES ('r001')")
    """,
    downgrade='await op.drop_table("applied_log")',
)


def counted(rev_id: str, down: str, body: str = "") -> Rev:
    return Rev(
        rev_id,
        down,
        upgrade=(
            f'await op.create_table("t_{rev_id}", sa.Column("id", sa.Integer, primary_key=True))\n'
            f"{textwrap.dedent(body).strip()}\n"
            f"await op.execute(\"INSERT INTO applied_log VALUES ('{rev_id}')\")"
        ),
        downgrade=f'await op.drop_table("t_{rev_id}")',
        extra="import asyncio",
    )


def history(n: int, body: str = "") -> list[Rev]:
    revs = [LOG_TABLE]
    for i in range(2, n + 1):
        revs.append(counted(f"r{i:03d}", f"r{i - 1:03d}", body))
    return revs


async def applied_counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT revision, COUNT(*) FROM applied_log GROUP BY revision")
            )
            return {r[0]: r[1] for r in rows}
    finally:
        await engine.dispose()


async def test_eight_tasks_at_once(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *history(6, "await asyncio.sleep(0.05)"))
    config = project.config()
    results = await asyncio.gather(*(amigrate.upgrade(config) for _ in range(8)))
    assert sum(len(r.steps) for r in results) == 6  # one task did the work
    assert all(r.to_heads == ("r006",) for r in results)
    assert await applied_counts(db_url) == {f"r{i:03d}": 1 for i in range(1, 7)}


async def test_a_sqlite_uri_filename_is_locked_as_its_file(tmp_path: Path) -> None:
    # (``file:...?uri=true`` used to count as in-memory: no lock, and raw "table exists".)
    url = f"sqlite+aiosqlite:///file:{tmp_path / 'app db.db'}?mode=rwc&uri=true"
    url = url.replace(" ", "%20")
    project = make_project(tmp_path, url, *history(4, "await asyncio.sleep(0.05)"))
    results = await asyncio.gather(*(amigrate.upgrade(project.config()) for _ in range(4)))
    assert sum(len(r.steps) for r in results) == 4
    assert (tmp_path / "app db.db.amigrate-lock").exists()
    assert await applied_counts(url) == {f"r{i:03d}": 1 for i in range(1, 5)}


def test_eight_processes_at_once(db_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, db_url, *history(5))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "amigrate", "upgrade", "head"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outputs
    assert sum(err.count("Running upgrade") for _, err in outputs) == 5
    counts = asyncio.run(applied_counts(db_url))
    assert counts == {f"r{i:03d}": 1 for i in range(1, 6)}
    assert asyncio.run(snapshot(db_url))[1] == ["r005"]


async def test_lock_timeout_names_the_holder(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *history(2, "await asyncio.sleep(3)"))
    slow = asyncio.create_task(amigrate.upgrade(project.config()))
    await asyncio.sleep(1.0)
    with pytest.raises(LockTimeout) as info:
        await amigrate.upgrade(project.config(), lock_timeout=0.5)
    assert isinstance(info.value, TimeoutError)
    assert info.value.exit_code == 4
    if db_url.startswith("postgresql"):
        assert "held by pid" in str(info.value)
        assert "amigrate" in str(info.value)
    await slow


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_the_default_schema_named_or_not_is_one_lock(db_url: str, tmp_path: Path) -> None:
    """version_table_schema set to the database's default schema names the version table
    the other config uses without one: the two take one lock (they took two, and both ran
    the revision)."""
    from sqlalchemy.engine import make_url

    default = "public" if backend(db_url) == "postgresql" else make_url(db_url).database
    assert default is not None
    project = make_project(tmp_path, db_url, *history(2, "await asyncio.sleep(3)"))
    slow = asyncio.create_task(amigrate.upgrade(project.config()))
    await asyncio.sleep(1.0)
    named = project.config(version_table_schema=default)
    with pytest.raises(LockTimeout):
        await amigrate.upgrade(named, lock_timeout=0.5)
    await slow
    assert await applied_counts(db_url) == {"r001": 1, "r002": 1}


async def test_one_schema_is_one_lock_whatever_the_search_path(
    postgresql_url: str, tmp_path: Path
) -> None:
    """version_table_schema = app, from an engine whose search_path is app and from one
    whose is public: one table, one lock (the first lock name left the default schema
    out, so the two took two locks and both ran the revision)."""
    admin = create_async_engine(postgresql_url, poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA app"))
    await admin.dispose()
    project = make_project(
        tmp_path, postgresql_url, *history(2, "await asyncio.sleep(3)"), version_table_schema="app"
    )
    app_engine = create_async_engine(
        postgresql_url,
        poolclass=NullPool,
        connect_args={"server_settings": {"search_path": "app"}},
    )
    slow = asyncio.create_task(amigrate.upgrade(project.config(), engine=app_engine))
    await asyncio.sleep(1.0)
    with pytest.raises(LockTimeout) as caught:
        await amigrate.upgrade(project.config(), lock_timeout=0.5)
    assert "/amigrate_test_" in str(caught.value)
    assert ", schema app within 0.5 s" in str(caught.value)  # (tenants share one URL)
    await slow
    await app_engine.dispose()


async def test_an_application_connections_search_path_names_the_lock(
    postgresql_url: str, tmp_path: Path
) -> None:
    """connection= whose session says SET search_path TO app (no version_table_schema):
    its version table is app's, and so is its lock, which a config naming app waits on."""
    admin = create_async_engine(postgresql_url, poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA app"))
    await admin.dispose()
    project = make_project(tmp_path, postgresql_url, *history(2, "await asyncio.sleep(3)"))
    app_engine = create_async_engine(postgresql_url, poolclass=NullPool)
    async with app_engine.connect() as conn:
        await conn.execute(sa.text("SET search_path TO app"))
        await conn.commit()
        slow = asyncio.create_task(amigrate.upgrade(project.config(), connection=conn))
        await asyncio.sleep(1.0)
        named = project.config(version_table_schema="app")
        with pytest.raises(LockTimeout):
            await amigrate.upgrade(named, lock_timeout=0.5)
        await slow
    await app_engine.dispose()


async def test_mysql_locks_the_database_its_version_table_is_in(
    mysql_url: str, tmp_path: Path
) -> None:
    """connection= after USE other, or version_table_schema = other, on a URL naming the
    first database: the run read other's version table but took the lock of the URL's
    database, so a migrator whose URL names other ran beside it."""
    from sqlalchemy.engine import make_url

    other = f"{make_url(mysql_url).database}_other"
    admin = create_async_engine(mysql_url, poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f"CREATE DATABASE {other}"))
    other_url = make_url(mysql_url).set(database=other).render_as_string(hide_password=False)
    try:
        project = make_project(tmp_path, mysql_url, *history(2, "await asyncio.sleep(3)"))
        direct = project.config()
        direct.set("sqlalchemy.url", other_url)
        app_engine = create_async_engine(mysql_url, poolclass=NullPool)
        async with app_engine.connect() as conn:
            await conn.execute(sa.text(f"USE {other}"))
            await conn.commit()
            slow = asyncio.create_task(amigrate.upgrade(project.config(), connection=conn))
            await asyncio.sleep(1.0)
            with pytest.raises(LockTimeout):
                await amigrate.upgrade(direct, lock_timeout=0.5)
            await slow
        await app_engine.dispose()
        project.add(Rev("r003", "r002", upgrade="await asyncio.sleep(3)", extra="import asyncio"))
        named = project.config(version_table_schema=other)
        slow = asyncio.create_task(amigrate.upgrade(named))
        await asyncio.sleep(1.0)
        with pytest.raises(LockTimeout):
            await amigrate.upgrade(direct, lock_timeout=0.5)
        assert (await slow).to_heads == ("r003",)
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {other}"))
        await admin.dispose()


async def test_cancelled_upgrade_releases_the_lock(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *history(3, "await asyncio.sleep(30)"))
    task = asyncio.create_task(amigrate.upgrade(project.config()))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait until r001 is committed and r002 runs
        await asyncio.sleep(0.1)
        try:
            if (await snapshot(db_url))[1] == ["r001"]:
                break
        except sa.exc.OperationalError:  # SQLite busy while r001 commits
            continue
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    tables, rows = await snapshot(db_url)
    assert rows == ["r001"]  # r002 rolled back (its DDL too, where DDL is transactional)
    notes = getattr(info.value, "__notes__", [])
    if not db_url.startswith("mysql"):
        assert "t_r002" not in tables
        assert any("revision r002 rolled back" in note for note in notes), notes
    # the lock was released: another run gets it at once
    for path in project.versions.glob("*.py"):
        path.write_text(path.read_text().replace("await asyncio.sleep(30)", ""))
    if db_url.startswith("mysql"):
        # MySQL kept r002's committed DDL: the cancellation says so and records the
        # failure; the user clears it by hand and says where the database is.
        assert any("r002 is partly applied" in note for note in notes), notes
        assert (await amigrate.log(project.config(), limit=1))[0].status == "failed"
        engine = create_async_engine(db_url, poolclass=NullPool)
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP TABLE IF EXISTS t_r002"))
        await engine.dispose()
        await amigrate.stamp(project.config(), "r001")
    result = await amigrate.upgrade(project.config(), lock_timeout=5)
    assert result.to_heads == ("r003",)


def test_killed_postgres_migrator(postgresql_url: str, tmp_path: Path) -> None:
    """SIGKILL while holding the lock mid-revision: the next run finds it rolled back."""
    body = """
        if op.x_args.get("stall"):
            for _ in range(600):
                await op.execute("SELECT pg_sleep(0.1)")
    """
    make_project(tmp_path, postgresql_url, *history(3, body))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "amigrate", "-x", "stall=1", "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if asyncio.run(snapshot(postgresql_url))[1] == ["r001"]:
                break
        time.sleep(0.5)  # inside r002, holding the lock
        proc.send_signal(signal.SIGKILL)
    finally:
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    assert asyncio.run(snapshot(postgresql_url)) == ({"applied_log"}, ["r001"])
    result = run_cli("--lock-timeout", "20", "upgrade", "head", cwd=tmp_path)
    assert result.code == 0, result.err
    assert asyncio.run(applied_counts(postgresql_url)) == {"r001": 1, "r002": 1, "r003": 1}
    assert asyncio.run(snapshot(postgresql_url))[1] == ["r003"]


def test_create_index_concurrently_while_another_waits(postgresql_url: str, tmp_path: Path) -> None:
    """A waiting replica holds no transaction, so CREATE INDEX CONCURRENTLY can finish."""
    slow_index = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.create_table("big", sa.Column("id", sa.Integer, primary_key=True),
                                  sa.Column("v", sa.Integer))
            for _ in range(20):
                await op.execute("SELECT pg_sleep(0.1)")
            async with op.autocommit_block():
                await op.execute("CREATE INDEX CONCURRENTLY ix_big_v ON big (v)")
        """,
    )
    make_project(tmp_path, postgresql_url, LOG_TABLE, slow_index)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    command = [sys.executable, "-m", "amigrate", "upgrade", "head"]
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    second = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    _, err1 = first.communicate(timeout=60)
    _, err2 = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0), (err1, err2)
    assert asyncio.run(snapshot(postgresql_url))[1] == ["r002"]


@pytest.mark.parametrize("configured", [False, True])
def test_a_lock_wait_is_logged_only_where_the_app_logs(
    sqlite_url: str, tmp_path: Path, configured: bool
) -> None:
    make_project(tmp_path, sqlite_url, *history(2, "await asyncio.sleep(0.6)"))
    script = textwrap.dedent(
        f"""
        import asyncio, logging
        import amigrate
        if {configured!r}:
            logging.basicConfig(level=logging.WARNING)

        async def main():
            config = amigrate.load_config("amigrate.ini")
            await asyncio.gather(amigrate.upgrade(config), amigrate.upgrade(config))

        asyncio.run(main())
        """
    )
    result = run_python("-c", script, cwd=tmp_path)
    assert result.code == 0, result
    if configured:
        assert "waiting for the migration lock" in result.err
    else:
        assert result.err == ""  # a library prints nothing of its own


@pytest.mark.parametrize("value", [float("nan"), -1.0])
async def test_a_lock_timeout_that_is_no_number_of_seconds(
    sqlite_url: str, tmp_path: Path, value: float
) -> None:
    # (NaN used to wait forever, polling without a pause.)
    project = make_project(tmp_path, sqlite_url, *linear(1))
    with pytest.raises(ValueError, match="lock_timeout must be a number of seconds"):
        await amigrate.upgrade(project.config(), lock_timeout=value)


async def test_the_lock_session_outlives_idle_session_timeout(
    postgresql_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server ending idle sessions must not end the lock's session half-way (a second
    migrator could start); a lock connection lost anyway ends the run with a warning, not
    with a failure of a run whose steps all committed."""
    database = postgresql_url.rsplit("/", 1)[1]
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(
                sa.text(f"ALTER DATABASE {database} SET idle_session_timeout = '1s'")
            )
            await conn.commit()
    finally:
        await engine.dispose()
    sleepy = Rev("a1", None, upgrade="await asyncio.sleep(2.5)", extra="import asyncio")
    kill_lock = (
        'await op.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE '
        "locktype = 'advisory' AND granted AND pid <> pg_backend_pid()\")"
    )
    project = make_project(tmp_path, postgresql_url, sleepy, Rev("b2", "a1", upgrade=kill_lock))
    result = await amigrate.upgrade(project.config(), "a1")
    assert [s.revision for s in result.steps] == ["a1"]
    assert "lost" not in caplog.text

    result = await amigrate.upgrade(project.config(), "b2")
    assert [s.revision for s in result.steps] == ["b2"]
    assert "the connection holding the migration lock" in caplog.text
    assert (await snapshot(postgresql_url))[1] == ["b2"]


async def test_no_step_starts_once_the_lock_session_is_seen_to_end(
    postgresql_url: str, tmp_path: Path
) -> None:
    """An administrator (or a proxy) ending the lock's session lets another migrator in:
    the run stops before its next step, with the steps so far applied."""
    kill_lock = (
        'await op.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE '
        "locktype = 'advisory' AND granted AND pid <> pg_backend_pid() AND database = "
        '(SELECT oid FROM pg_database WHERE datname = current_database())")\n'
        'await op.execute("SELECT pg_sleep(0.3)")'
    )
    revisions = [*linear(1), Rev("r002", "r001", upgrade=kill_lock), Rev("r003", "r002")]
    project = make_project(tmp_path, postgresql_url, *revisions)
    with pytest.raises(amigrate.MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert "the session holding the migration lock ended" in str(info.value)
    assert str(info.value).startswith("stopped before upgrade r002 -> r003")
    assert [s.revision for s in info.value.applied] == ["r001", "r002"]
    assert (await snapshot(postgresql_url))[1] == ["r002"]
    result = await amigrate.upgrade(project.config())  # the next run takes it from there
    assert [s.revision for s in result.steps] == ["r003"]


@pytest.mark.parametrize("server", ["postgresql", "mysql"])  # (SQLite's lock is a file's)
async def test_tasks_waiting_on_an_application_engine_leave_its_pool_free(
    server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Five tasks on one small pool: the waiters must not hold the connections the task
    with the lock needs to migrate (it used to fail: no connection came free)."""
    db_url: str = request.getfixturevalue(f"{server}_url")
    project = make_project(tmp_path, db_url, *history(3, "await asyncio.sleep(0.2)"))
    engine = create_async_engine(db_url, pool_size=2, max_overflow=0, pool_timeout=5)
    try:
        results = await asyncio.gather(
            *(amigrate.upgrade(project.config(), engine=engine) for _ in range(5))
        )
    finally:
        await engine.dispose()
    assert sum(len(r.steps) for r in results) == 3
    assert await applied_counts(db_url) == {f"r{i:03d}": 1 for i in range(1, 4)}


@pytest.mark.parametrize("server", ["postgresql", "mysql"])  # (SQLite's lock is a file's)
async def test_the_lock_session_never_goes_back_to_an_application_pool(
    server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The lock's session has settings of its own (application_name, no idle timeout):
    the application's pool must not hand it out afterwards."""
    db_url: str = request.getfixturevalue(f"{server}_url")
    project = make_project(tmp_path, db_url, *history(2))
    engine = create_async_engine(db_url, pool_size=3, max_overflow=0)
    setting = (
        "SELECT current_setting('application_name')"
        if backend(db_url) == "postgresql"
        else "SELECT @@session.wait_timeout"
    )
    try:
        await asyncio.gather(*(amigrate.upgrade(project.config(), engine=engine) for _ in range(3)))
        conns = [await engine.connect() for _ in range(3)]
        try:
            seen = [(await c.execute(sa.text(setting))).scalar() for c in conns]
        finally:
            for c in conns:
                await c.close()
    finally:
        await engine.dispose()
    assert "amigrate" not in seen
    assert 31536000 not in seen


async def test_a_run_in_an_application_transaction_holds_the_lock_until_it_commits(
    postgresql_url: str, tmp_path: Path
) -> None:
    """connection= inside the application's transaction: the lock was released when the
    run returned, before the application committed, so another replica saw no version
    table and migrated again (failing on what the first had made). Now it waits for the
    commit, and finds the database at head."""
    project = make_project(tmp_path, postgresql_url, LOG_TABLE, counted("r002", "r001"))
    config = project.config()
    first = create_async_engine(postgresql_url, poolclass=NullPool)
    second = create_async_engine(postgresql_url, poolclass=NullPool)
    ran: asyncio.Event = asyncio.Event()
    committed_at: list[float] = []

    async def in_a_transaction() -> None:
        async with first.begin() as conn:
            result = await amigrate.upgrade(config, "head", connection=conn)
            assert [s.revision for s in result.steps] == ["r001", "r002"]
            # A second run in the same transaction holds the lock already: no deadlock.
            assert not (await amigrate.upgrade(config, "head", connection=conn)).steps
            ran.set()
            await asyncio.sleep(1.0)
            committed_at.append(time.monotonic())

    async def another_replica() -> list[str]:
        await ran.wait()
        result = await amigrate.upgrade(config, "head", engine=second, lock_timeout=30)
        assert committed_at  # (it waited for the commit)
        assert time.monotonic() >= committed_at[0]
        return [s.revision for s in result.steps]

    try:
        _, steps = await asyncio.gather(in_a_transaction(), another_replica())
    finally:
        await first.dispose()
        await second.dispose()
    assert steps == []
    assert await applied_counts(postgresql_url) == {"r001": 1, "r002": 1}


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_a_waiting_migrator_keeps_one_connection(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migrator on an engine of its own (the CLI's) opened a new server session for
    every attempt at the lock, twice a second for as long as it waited."""
    from amigrate.runtime import locking

    opened: list[object] = []
    dedicated = locking._dedicated

    async def counting(engine: object) -> object:
        opened.append(engine)
        return await dedicated(engine)  # type: ignore[arg-type]

    monkeypatch.setattr(locking, "_dedicated", counting)
    project = make_project(tmp_path, db_url, *history(2, "await asyncio.sleep(2)"))
    config = project.config()
    results = await asyncio.gather(amigrate.upgrade(config), amigrate.upgrade(config))
    assert sorted(len(r.steps) for r in results) == [0, 2]
    assert len(opened) == 2  # one each: the waiter kept its one


def test_a_killed_migrators_statement_stops_on_the_server(
    postgresql_url: str, tmp_path: Path
) -> None:
    """SIGKILL during a long statement: the server ran it to its end (holding its locks),
    and the next migrator waited behind it without a word. The server now checks that
    the client is there while a statement runs (client_connection_check_interval)."""
    body = """
        if op.x_args.get("stall"):
            pathlib.Path(op.x_args["marker"]).touch()
            await op.execute("SELECT pg_sleep(30)")
    """
    revs = history(2, body)
    revs[1].extra += "\nimport pathlib"
    make_project(tmp_path, postgresql_url, *revs)
    marker = tmp_path / "marker"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "amigrate", "-x", "stall=1", "-x", f"marker={marker}", "upgrade"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # (the sleep is running on the server)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)
    started = time.monotonic()
    result = run_cli("upgrade", "head", cwd=tmp_path)
    assert result.code == 0, result.err
    assert time.monotonic() - started < 15  # not after the 30 s statement
    assert asyncio.run(applied_counts(postgresql_url)) == {"r001": 1, "r002": 1}
