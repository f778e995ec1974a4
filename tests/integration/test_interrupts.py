"""Ctrl-C during a revision: the interrupt wins, and says what it left behind.

The CLI is interrupted with a real SIGINT while a revision's statement runs on the
server (the revision touches a marker file just before it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

import amigrate
from tests.conftest import _admin, run_async
from tests.helpers import Result, assert_clean_error, run_cli
from tests.integration.test_ops_support import backend
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, linear, make_project, table_rev

MARK = 'pathlib.Path(op.x_args["marker"]).touch()'


def interrupted_upgrade(root: Path, marker: Path, sig: int = signal.SIGINT) -> Result:
    """Run ``amigrate upgrade``, send *sig* once *marker* exists, return the outcome."""
    # The pause: the statement after the marker is running on the server.
    return interrupted(
        root, "-x", f"marker={marker}", "upgrade", ready=marker.exists, pause=0.3, sig=sig
    )


def interrupted(
    root: Path,
    *args: str,
    ready: Callable[[], bool],
    pause: float = 0,
    sig: int = signal.SIGINT,
) -> Result:
    """Run ``amigrate ARGS``, send *sig* once *ready()* (then *pause* s), return the outcome."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "amigrate", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: ready() or proc.poll() is not None)
        time.sleep(pause)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # (the signal did not stop it: no process left behind)
            proc.kill()
            proc.communicate()
    return Result(proc.returncode, out, err)


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll *condition* until it holds (or *timeout* seconds pass: the test then fails)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def sleeping_rev(before: str, sleep: str, after: str = "") -> Rev:
    body = f'{before}\n{MARK}\nawait op.execute("{sleep}")\n{after}'
    return Rev("a1", None, upgrade=body, extra="import pathlib", message="slow")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_postgresql_rolls_back(postgresql_url: str, tmp_path: Path, sig: int) -> None:
    # (SIGTERM, what docker stop sends, is handled as Ctrl-C: it used to end the process
    # on the spot, without stopping the statement or saying what was left.)
    rev = sleeping_rev('await op.execute("CREATE TABLE t1 (id int)")', "SELECT pg_sleep(5)")
    make_project(tmp_path, postgresql_url, rev)
    result = interrupted_upgrade(tmp_path, tmp_path / "marker", sig)
    assert_clean_error(result, code=130, match="interrupted during upgrade <base> -> a1 (slow)")
    assert "revision a1 rolled back" in result.err
    assert "unexpected" not in result.err
    assert asyncio.run(snapshot(postgresql_url)) == (set(), [])
    assert asyncio.run(amigrate.log(str(tmp_path / "amigrate.ini"))) == []


def test_ctrl_c_on_mysql_records_the_partial_revision(mysql_url: str, tmp_path: Path) -> None:
    rev = sleeping_rev(
        'await op.execute("CREATE TABLE t1 (id int)")',
        "DO SLEEP(5)",
        'await op.execute("CREATE TABLE t2 (id int)")',
    )
    make_project(tmp_path, mysql_url, rev)
    result = interrupted_upgrade(tmp_path, tmp_path / "marker")
    assert_clean_error(result, code=130, match="the database may be partly changed")
    assert "1 of its statements committed (the last: CREATE TABLE t1 (id int))" in result.err
    assert "amigrate stamp <revision>" in result.err
    assert asyncio.run(snapshot(mysql_url)) == ({"t1"}, [])
    log = run_cli("log", "--all", cwd=tmp_path)
    assert "[FAILED: interrupted during upgrade <base> -> a1 (slow)" in log.out, log
    # The next run does not stumble over t1: it says what happened first.
    assert_clean_error(run_cli("upgrade", cwd=tmp_path), match="a1 failed partway")


def test_ctrl_c_after_an_autocommit_block(postgresql_url: str, tmp_path: Path) -> None:
    """The block committed the index; the cancelled connection is gone, the failure recorded."""
    before = """
        await op.execute("CREATE TABLE t1 (id int)")
        async with op.autocommit_block():
            await op.create_index("ix_t1_id", "t1", ["id"], postgresql_concurrently=True)
    """
    rev = sleeping_rev(before.strip().replace("\n        ", "\n"), "SELECT pg_sleep(5)")
    make_project(tmp_path, postgresql_url, rev)
    result = interrupted_upgrade(tmp_path, tmp_path / "marker")
    assert_clean_error(result, code=130, match="the database may be partly changed")
    assert "op.autocommit_block()" in result.err
    assert asyncio.run(snapshot(postgresql_url)) == ({"t1"}, [])
    entries = asyncio.run(amigrate.log(str(tmp_path / "amigrate.ini")))
    assert [(e.revision, e.status) for e in entries] == [("a1", "failed")]


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
def test_ctrl_c_inside_an_autocommit_block(db_url: str, tmp_path: Path) -> None:
    """Interrupted in the block, the run says so (exit 130, partly changed): it failed with
    exit 1 and 'PendingRollbackError: Can't reconnect until invalid transaction is rolled
    back', raised by the BEGIN after the block on the cancelled connection."""
    sleep = "SELECT pg_sleep(5)" if backend(db_url) == "postgresql" else "DO SLEEP(5)"
    body = f"""
await op.execute("CREATE TABLE t1 (id int)")
async with op.autocommit_block():
    await op.execute("CREATE INDEX ix_t1_id ON t1 (id)")
    {MARK}
    await op.execute("{sleep}")
"""
    make_project(tmp_path, db_url, Rev("a1", None, upgrade=body, extra="import pathlib"))
    result = interrupted_upgrade(tmp_path, tmp_path / "marker")
    assert_clean_error(result, code=130, match="the database may be partly changed")
    assert "interrupted during upgrade <base> -> a1" in result.err
    assert "PendingRollbackError" not in result.err
    entries = asyncio.run(amigrate.log(str(tmp_path / "amigrate.ini")))
    assert [(e.revision, e.status) for e in entries] == [("a1", "failed")]
    assert "PendingRollbackError" not in (entries[0].error or "")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_mysql_stops_the_running_statement(
    mysql_url: str, tmp_path: Path, sig: int
) -> None:
    """asyncmy drops its connection but MySQL would run the statement on, unlocked: the
    interrupted run stops it (KILL QUERY) before it releases the migration lock."""
    rev = sleeping_rev("", "SELECT SLEEP(20)")
    make_project(tmp_path, mysql_url, rev)
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker", sig)
    assert result.code == 130, result

    async def sleeping() -> list[str]:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(mysql_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SHOW FULL PROCESSLIST"))
                return [str(r.Info) for r in rows if r.Info and "SLEEP(20)" in str(r.Info)]
        finally:
            await engine.dispose()

    assert asyncio.run(sleeping()) == []
    assert time.monotonic() - started < 15  # not after the sleep ran out


async def test_a_cancel_scope_stops_the_postgresql_statement(
    postgresql_url: str, tmp_path: Path
) -> None:
    """Cancelled by a scope (move_on_after, a fan-out's --fail-fast), SQLAlchemy terminates
    the connection before asyncpg's own cancel request goes out: amigrate cancels the
    backend itself, so nothing runs on after the migration lock is released."""
    from sqlalchemy.ext.asyncio import create_async_engine

    rev = Rev("a1", None, upgrade='await op.execute("SELECT pg_sleep(20)")')
    project = make_project(tmp_path, postgresql_url, rev)
    started = time.monotonic()
    with anyio.move_on_after(1.5):
        await amigrate.upgrade(project.config())
    engine = create_async_engine(postgresql_url)
    try:
        async with engine.connect() as conn:
            database = postgresql_url.rsplit("/", 1)[1]
            query = (
                "SELECT query FROM pg_stat_activity WHERE datname = :d AND state = 'active' "
                "AND query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()"
            )
            rows = (await conn.execute(sa.text(query), {"d": database})).all()
    finally:
        await engine.dispose()
    assert rows == []
    assert time.monotonic() - started < 15


# Cancelling at random moments also cancels connects half-way; SQLAlchemy then warns
# about a connection the garbage collector closes (noted, not this test's subject).
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_cancelled_commit_that_landed_is_not_recorded_as_failed(
    mysql_url: str, tmp_path: Path
) -> None:
    """Cancelled at random moments, whatever it hits: a revision the version table holds
    never has a newer 'failed' row (which would refuse every later run)."""
    import random

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from tests.projects import linear

    project = make_project(tmp_path, mysql_url, *linear(3))
    config = project.config()
    engine = create_async_engine(mysql_url, poolclass=NullPool)
    rng = random.Random(7)
    try:
        for _ in range(60):
            async with engine.begin() as conn:
                for table in ("rt1", "rt2", "rt3", "amigrate_version", "amigrate_history"):
                    await conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            task = asyncio.create_task(amigrate.upgrade(config))
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            heads = await amigrate.current(config)
            newest: dict[str, str] = {}
            for entry in reversed(await amigrate.log(config, limit=None)):
                newest[entry.revision] = entry.status
            stale = [r for r in heads if newest.get(r) == "failed"]
            assert stale == [], (heads, newest)
    finally:
        await engine.dispose()


# A revision that creates a table (MariaDB commits it at once), says it is running,
# then waits until it is interrupted: the interrupt always lands inside it.
WAITING = Rev(
    "r002",
    "r001",
    upgrade="""
        await op.execute("CREATE TABLE waited (id int)")
        (pathlib.Path(op.x_args["markers"]) / uuid.uuid4().hex).touch()
        await asyncio.sleep(60)
    """,
    extra="import asyncio\nimport pathlib\nimport uuid",
    message="waits",
)


@pytest.fixture
def four_targets(db_url: str) -> Iterator[dict[str, str]]:
    """``name -> URL [schema=NAME]`` as written in ``[targets]``: SQLite files beside the
    ini file, PostgreSQL schemas, MariaDB databases."""
    names = ("done", "a", "b", "c")
    url = sa.make_url(db_url)
    if url.get_backend_name() == "sqlite":
        yield {n: f"sqlite+aiosqlite:///%(here)s/{n}.db" for n in names}
        return
    if url.get_backend_name() == "postgresql":
        yield {n: f"{db_url.replace('%', '%%')} schema={n}" for n in names}
        return
    databases = {n: f"{url.database}_{n}" for n in names}
    for database in databases.values():
        run_async(functools.partial(_admin, db_url, f"CREATE DATABASE {database}"))
    try:
        yield {
            n: url.set(database=d).render_as_string(hide_password=False).replace("%", "%%")
            for n, d in databases.items()
        }
    finally:
        for database in databases.values():
            run_async(functools.partial(_admin, db_url, f"DROP DATABASE {database}"))


def test_ctrl_c_during_a_fan_out(four_targets: dict[str, str], tmp_path: Path) -> None:
    """One summary, exit 130: each database's applied, rolled back (or partly changed:
    MariaDB), not started and completed; the locks are released."""
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1), WAITING)
    targets = "".join(f"{name} = {value}\n" for name, value in four_targets.items())
    project.ini.write_text(project.ini.read_text() + "\n[targets]\n" + targets)
    assert run_cli("-d", "done", "stamp", "r002", cwd=tmp_path).code == 0
    markers = tmp_path / "markers"
    markers.mkdir()

    def two_waiting() -> bool:
        return len(list(markers.iterdir())) == 2

    # done (nothing to do) and a start; b takes done's place; c waits for a free place.
    args = ("-x", f"markers={markers}", "upgrade", "--concurrency", "2")
    result = interrupted(tmp_path, *args, ready=two_waiting)
    partial = "mysql" in four_targets["a"]
    assert_clean_error(result, code=130, match="interrupted: 3 of 4 databases did not finish: ")
    left = "the database may be partly changed" if partial else "revision r002 rolled back"
    for name in ("a", "b"):
        assert (
            f"{name}: r001 applied, then interrupted during upgrade r001 -> r002 (waits): "
            f"{left}" in result.err
        )
    assert "; not started: c; completed: done\n" in result.err
    assert "unexpected" not in result.err
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    assert rows["a"][1:5] == ["<base>", "->", "r001", "1"]
    assert rows["a"][7:9] == ["cancelled:", "interrupted"]
    assert rows["c"][1:3] == ["-", "0"]
    assert rows["done"][-1] == "ok"
    current = run_cli("current", cwd=tmp_path)
    assert current.out.splitlines() == ["done: r002 (head)", "a: r001", "b: r001", "c: <base>"]
    r002 = project.versions / "r002.py"
    r002.write_text(r002.read_text().replace("await asyncio.sleep(60)", "pass"))
    if partial:  # the history says so: the next run refuses until the user says where it is
        log = run_cli("log", "--all", cwd=tmp_path).out
        assert log.count("[FAILED: interrupted during upgrade r001 -> r002 (waits)") == 2, log
        again = run_cli("--lock-timeout", "5", *args, cwd=tmp_path)
        assert "a (failed), b (failed)" in again.err
        assert "r002 failed partway" in again.out
        return
    # Every lock was released: a new run takes each one at once and finishes the work.
    again = run_cli("--lock-timeout", "5", *args, cwd=tmp_path)
    assert again.code == 0, again
    assert run_cli("current", cwd=tmp_path).out.splitlines() == [
        f"{n}: r002 (head)" for n in ("done", "a", "b", "c")
    ]


async def test_a_cancelled_fan_out_says_what_each_database_was_left_with(tmp_path: Path) -> None:
    """The API lets the cancellation through, as for one database, with a note."""
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1), WAITING)
    targets = [(n, f"sqlite+aiosqlite:///{tmp_path / n}.db") for n in ("a", "b", "c")]
    markers = tmp_path / "markers"
    markers.mkdir()
    task = asyncio.create_task(
        amigrate.upgrade(
            project.config(), targets=targets, concurrency=2, x_args={"markers": str(markers)}
        )
    )
    await asyncio.to_thread(wait_until, lambda: len(list(markers.iterdir())) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    (note,) = caught.value.__notes__
    assert note.startswith("interrupted: 3 of 3 databases did not finish: a: r001 applied, then ")
    assert "b: r001 applied, then interrupted during upgrade r001 -> r002 (waits): " in note
    assert note.endswith(
        "not started: c; run the command again to continue: it only touches "
        "the databases that are behind"
    )


@pytest.mark.parametrize("fan_out", [True, False], ids=["fan-out", "one database"])
def test_ctrl_c_as_json(fan_out: bool, tmp_path: Path) -> None:
    """Exit 130 and one JSON error: the interrupted step, and each database's row."""
    project = make_project(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/one.db", *linear(1), WAITING)
    if fan_out:
        targets = "".join(f"{n} = sqlite+aiosqlite:///%(here)s/{n}.db\n" for n in ("a", "b"))
        project.ini.write_text(project.ini.read_text() + "\n[targets]\n" + targets)
    markers = tmp_path / "markers"
    markers.mkdir()
    result = interrupted(
        tmp_path,
        *("--json", "-x", f"markers={markers}", "upgrade", "--concurrency", "1"),
        ready=lambda: any(markers.iterdir()),
    )
    assert_clean_error(result, code=130, match="interrupted")
    error = json.loads(result.out)["error"]
    assert (error["type"], error["exit_code"]) == ("MigrationInterrupted", 130)
    assert error["message"] in result.err
    if not fan_out:
        assert (
            error["message"] == "interrupted during upgrade r001 -> r002 (waits): "
            "revision r002 rolled back"
        )
        assert [s["revision"] for s in error["applied"]] == ["r001"]
        assert error["failed"]["revision"] == "r002"
        return
    a, b = error["databases"]
    assert (a["target"], a["status"], a["to_heads"], a["steps"]) == ("a", "cancelled", ["r001"], 1)
    assert a["failure"]["failed"]["revision"] == "r002"
    assert a["failure"]["partial"] is False
    assert (b["target"], b["status"], b["failure"]) == ("b", "skipped", None)


LONG_SQLITE_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000000) "
    "SELECT count(*) FROM c"
)  # a minute or so of SQLite's time


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_sqlite_interrupts_the_running_statement(
    sqlite_url: str, tmp_path: Path, sig: int
) -> None:
    """aiosqlite's worker thread ran the statement to its end before the run stopped: the
    interrupt now stops it (sqlite3's interrupt()), and the step rolls back."""
    rev = sleeping_rev('await op.execute("CREATE TABLE t1 (id INTEGER)")', LONG_SQLITE_QUERY)
    make_project(tmp_path, sqlite_url, rev)
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker", sig)
    assert_clean_error(result, code=130, match="revision a1 rolled back")
    assert time.monotonic() - started < 20  # not after the query ran out
    assert asyncio.run(snapshot(sqlite_url)) == (set(), [])


def test_a_cancel_scope_on_sqlite_leaves_the_database_unlocked(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Cancelled by a scope mid-statement, SQLAlchemy dropped the connection in the middle
    of it: SQLite's write lock stayed held, and asyncio.run() never returned (a close that
    never ends). Now the statement is interrupted and the step rolled back first."""
    rev = Rev(
        "a1",
        None,
        upgrade=(
            'await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))\n'
            "for i in range(1, 5_000_000):\n"
            '    await op.execute(sa.text("INSERT INTO t (id) VALUES (:i)").bindparams(i=i))'
        ),
    )
    project = make_project(tmp_path, sqlite_url, rev)
    path = sqlite_url.partition(":///")[2]
    script = f"""
import asyncio, pathlib, sqlite3, anyio, amigrate
async def main():
    with anyio.move_on_after(1.5):
        await amigrate.upgrade(amigrate.Config(ini_path=pathlib.Path({str(project.ini)!r})))
    db = sqlite3.connect({path!r}, timeout=0)
    db.execute("BEGIN IMMEDIATE")  # fails with 'database is locked' if the step's is open
    db.rollback()
    print("writable")
asyncio.run(main())
print("returned")
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["writable", "returned"]


def test_sigterm_during_a_sqlite_fan_out_exits(tmp_path: Path) -> None:
    """Two SQLite targets, a statement running in each: SIGTERM ends the command (it hung
    until a second signal, waiting on the closes its cancelled connections left behind)."""
    rev = sleeping_rev("", LONG_SQLITE_QUERY)
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", rev)
    with project.ini.open("a") as fh:
        fh.write(
            "\n[targets]\n"
            f"a = sqlite+aiosqlite:///{tmp_path / 'a.db'}\n"
            f"b = sqlite+aiosqlite:///{tmp_path / 'b.db'}\n"
        )
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker", signal.SIGTERM)
    assert result.code == 130, result
    assert "rolled back" in result.err
    assert time.monotonic() - started < 20


def test_ctrl_c_on_sqlite_stops_a_run_sync_function(sqlite_url: str, tmp_path: Path) -> None:
    """op.run_sync's function running many short statements stops soon after the interrupt
    (the interrupt lands between its statements: it went on to its end)."""
    body = (
        'await op.execute("CREATE TABLE t1 (id INTEGER)")\n'
        f"{MARK}\n"
        "def fill(c):\n"
        "    for i in range(20_000_000):\n"
        '        c.exec_driver_sql(f"INSERT INTO t1 VALUES ({i})")\n'
        "await op.run_sync(fill)"
    )
    make_project(tmp_path, sqlite_url, Rev("a1", None, upgrade=body, extra="import pathlib"))
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker")
    assert_clean_error(result, code=130, match="revision a1 rolled back")
    assert time.monotonic() - started < 20
    assert asyncio.run(snapshot(sqlite_url)) == (set(), [])


#: An index whose every entry costs SQLite a string of 16 KB: a minute or so for the table.
SLOW_INDEX = (
    'await op.create_table("t1", sa.Column("x", sa.Integer))\n'
    'await op.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c '
    'WHERE x < 1000000) INSERT INTO t1 SELECT x FROM c")\n'
    f"{MARK}\n"
    'await op.create_index("ix_slow", "t1", '
    "[sa.text(\"length(replace(hex(zeroblob(4000 + x % 7)), '0', 'ab'))\")])"
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_sqlite_stops_an_op_statement_on_the_loop_thread(
    sqlite_url: str, tmp_path: Path, sig: int
) -> None:
    """The CLI runs an op's SQLite DDL on the loop's thread, where the loop delivers no
    cancel: the CREATE INDEX ran to its end (a minute), then the step committed and the
    command said 'interrupted after ... it is applied'. Now the statement stops."""
    make_project(tmp_path, sqlite_url, Rev("a1", None, upgrade=SLOW_INDEX, extra="import pathlib"))
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker", sig)
    assert_clean_error(result, code=130, match="revision a1 rolled back")
    assert time.monotonic() - started < 20
    assert asyncio.run(snapshot(sqlite_url)) == (set(), [])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_sqlite_stops_a_run_of_many_op_statements(
    sqlite_url: str, tmp_path: Path, sig: int
) -> None:
    """Ops only, each statement short, on the loop's thread: nothing gave the loop a turn
    to deliver the cancel, so the run went on to its last step and then exited 130."""
    body = (
        f"{MARK}\n"
        "for i in range(200_000):\n"
        '    await op.create_table(f"t{i}", sa.Column("id", sa.Integer))'
    )
    rev = Rev("a1", None, upgrade=body, extra="import pathlib")
    make_project(tmp_path, sqlite_url, rev, table_rev("a2", "a1", "after"))
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker", sig)
    assert_clean_error(result, code=130, match="revision a1 rolled back")
    assert time.monotonic() - started < 20
    assert asyncio.run(snapshot(sqlite_url)) == (set(), [])


def test_a_cancel_while_a_failure_is_handled_rolls_back_and_records_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    """SIGTERM arriving as a step fails (on SQLite, on the loop's thread): the cancel was
    delivered in the failure's cleanup, before its ROLLBACK, and the teardown committed
    the step's work, with no failed row for the autocommit block's part."""
    body = (
        "async with op.autocommit_block():\n"
        '    await op.create_table("t_auto", sa.Column("x", sa.Integer))\n'
        'await op.create_table("t2", sa.Column("x", sa.Integer))\n'
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        'raise RuntimeError("boom")'
    )
    make_project(tmp_path, sqlite_url, Rev("a1", None, upgrade=body, extra="import os, signal"))
    result = run_cli("upgrade", cwd=tmp_path)
    assert result.code == 130, result
    assert asyncio.run(snapshot(sqlite_url)) == ({"t_auto"}, [])  # (t2 rolled back)
    again = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(again, match="failed partway")
    assert "RuntimeError: boom" in again.err


def test_ctrl_c_without_asyncios_handler_stops_the_statement_as_keyboardinterrupt(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Python's own SIGINT handler (a loop run without asyncio.run) raises in sqlite3's
    progress handler, where sqlite3 drops the exception and stops the statement: the
    run said 'MigrationFailed: interrupted', which an application's 'except Exception'
    took for a failure, and Ctrl-C did not end the program. Nor did the program end then:
    anyio's worker thread (that loaded the revisions) outlived the loop left by Ctrl-C."""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=SLOW_INDEX, extra="import pathlib")
    )
    marker = tmp_path / "marker"
    script = f"""
import asyncio, amigrate
async def main():
    ini, x_args = {str(project.ini)!r}, {{"marker": {str(marker)!r}}}
    async with amigrate.Migrator(ini, x_args=x_args, exclusive_loop=True) as m:
        await m.upgrade("head")
try:
    asyncio.new_event_loop().run_until_complete(main())
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
except Exception as exc:
    print(type(exc).__name__, exc, flush=True)
"""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: marker.exists() or proc.poll() is not None)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.strip() == "KeyboardInterrupt", out + err
    assert time.monotonic() - started < 20
    assert asyncio.run(snapshot(sqlite_url)) == (set(), [])


async def test_an_applications_progress_handler_is_left_in_place(
    sqlite_url: str, tmp_path: Path
) -> None:
    """On the application's connection amigrate sets no progress handler of its own
    (sqlite3 cannot give back the one the application had: it was removed)."""
    project = make_project(tmp_path, sqlite_url, *linear(2))
    engine = create_async_engine(sqlite_url)
    calls: list[int] = []
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            db = raw.driver_connection._conn  # type: ignore[union-attr]
            db.set_progress_handler(lambda: calls.append(1), 10)
            async with amigrate.Migrator(
                project.config(), connection=conn, exclusive_loop=True
            ) as m:
                await m.upgrade("head")
            calls.clear()
            await conn.exec_driver_sql(LONG_SQLITE_QUERY.replace("400000000", "1000"))
            assert calls
    finally:
        await engine.dispose()


def checked_out(engine: AsyncEngine) -> int:
    """The connections of *engine*'s pool in use."""
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def test_a_cancel_as_begin_lands_leaves_no_transaction_in_the_applications_pool(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN, sent straight to asyncpg, began on the server and the cancel came before
    its reply: the connection went back to the application's pool idle in transaction
    (SQLAlchemy's reset on return knew nothing of it); the application's next commits
    on it vanished."""
    from amigrate.runtime.direct import BEGIN, AsyncpgDirect

    real_run = AsyncpgDirect.run
    fired: list[bool] = []

    async def run(self: AsyncpgDirect, items: Any, **kwargs: Any) -> None:
        await real_run(self, items, **kwargs)
        if [sql for sql, _, _ in items] == [BEGIN] and not fired:
            fired.append(True)
            raise asyncio.CancelledError  # (the server began; the reply never came back)

    monkeypatch.setattr(AsyncpgDirect, "run", run)
    project = make_project(tmp_path, postgresql_url, *linear(2))
    engine = create_async_engine(postgresql_url, pool_size=1, max_overflow=1)
    try:
        with pytest.raises(asyncio.CancelledError):
            await amigrate.upgrade(project.config(), engine=engine)
        assert fired
        assert checked_out(engine) == 0
        idle = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
        )
        async with engine.connect() as conn:
            assert (await conn.execute(idle)).scalar() == 0
        await amigrate.upgrade(project.config(), engine=engine)  # and the run goes on
    finally:
        await engine.dispose()


@pytest.mark.parametrize("server", ["postgresql", "mysql"])  # (SQLite's lock is a file's)
async def test_a_cancel_while_the_lock_connection_is_set_up_closes_it(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """(A round trip on asyncmy.) The lock's connection was dropped without being closed:
    SQLAlchemy's warning of a connection the garbage collector cleans up, a pool slot
    lost until then."""
    from sqlalchemy.ext.asyncio import AsyncConnection

    db_url: str = request.getfixturevalue(f"{server}_url")

    real = AsyncConnection.execution_options
    fired: list[bool] = []

    async def execution_options(self: AsyncConnection, **options: Any) -> AsyncConnection:
        result = await real(self, **options)
        if options.get("isolation_level") == "AUTOCOMMIT" and not fired:
            fired.append(True)
            raise asyncio.CancelledError
        return result

    monkeypatch.setattr(AsyncConnection, "execution_options", execution_options)
    project = make_project(tmp_path, db_url, *linear(1))
    engine = create_async_engine(db_url)
    try:
        with pytest.raises(asyncio.CancelledError):
            await amigrate.upgrade(project.config(), engine=engine)
        assert fired
        assert checked_out(engine) == 0
        monkeypatch.undo()
        await amigrate.upgrade(project.config(), engine=engine)
    finally:
        await engine.dispose()
