"""Ctrl-C during a revision: the interrupt wins, and says what it left behind.

The CLI is interrupted with a real SIGINT while a revision's statement runs on the
server (the revision touches a marker file just before it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import amigrate
from tests.helpers import Result, assert_clean_error, run_cli
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, make_project

MARK = 'pathlib.Path(op.x_args["marker"]).touch()'


def interrupted_upgrade(root: Path, marker: Path) -> Result:
    """Run ``amigrate upgrade``, send SIGINT once *marker* exists, return the outcome."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "amigrate", "-x", f"marker={marker}", "upgrade"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)  # the statement after the marker is running on the server
        proc.send_signal(signal.SIGINT)
    finally:
        out, err = proc.communicate(timeout=60)
    return Result(proc.returncode, out, err)


def sleeping_rev(before: str, sleep: str, after: str = "") -> Rev:
    body = f'{before}\n{MARK}\nawait op.execute("{sleep}")\n{after}'
    return Rev("a1", None, upgrade=body, extra="import pathlib", message="slow")


def test_ctrl_c_on_postgresql_rolls_back(postgresql_url: str, tmp_path: Path) -> None:
    rev = sleeping_rev('await op.execute("CREATE TABLE t1 (id int)")', "SELECT pg_sleep(5)")
    make_project(tmp_path, postgresql_url, rev)
    result = interrupted_upgrade(tmp_path, tmp_path / "marker")
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


def test_ctrl_c_on_mysql_stops_the_running_statement(mysql_url: str, tmp_path: Path) -> None:
    """asyncmy drops its connection but MySQL would run the statement on, unlocked: the
    interrupted run stops it (KILL QUERY) before it releases the migration lock."""
    rev = sleeping_rev("", "SELECT SLEEP(20)")
    make_project(tmp_path, mysql_url, rev)
    started = time.monotonic()
    result = interrupted_upgrade(tmp_path, tmp_path / "marker")
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
