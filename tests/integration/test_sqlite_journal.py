"""SQLite: during a run the rollback journal is truncated at each commit, not deleted;
afterwards the database and the connection are as they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate import Config
from amigrate.errors import MigrationFailed
from tests.projects import Rev, linear, make_project

# Records the journal mode the revisions run under.
RECORD_MODE = Rev(
    "r002",
    "r001",
    upgrade="""
        mode = (await op.execute(sa.text("PRAGMA main.journal_mode"))).scalar()
        await op.create_table("seen", sa.Column("mode", sa.String(16)))
        await op.execute(sa.text("INSERT INTO seen (mode) VALUES (:m)").bindparams(m=mode))
    """,
    downgrade='await op.drop_table("seen")',
)


def _file_state(db: Path) -> tuple[str, bool]:
    """The journal mode a new connection sees, and whether a journal file exists."""
    conn = sqlite3.connect(db)
    try:
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()
    return mode, Path(f"{db}-journal").exists()


def _seen(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT mode FROM seen").fetchone()[0])
    finally:
        conn.close()


async def _upgrade_on_own_connection(config: Config, url: str) -> str:
    """Upgrade on an application's connection; the journal mode it has afterwards."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await amigrate.upgrade(config, connection=conn)
            return str((await conn.execute(sa.text("PRAGMA main.journal_mode"))).scalar())
    finally:
        await engine.dispose()


async def test_revisions_run_with_a_truncated_journal_and_leave_none(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    project = make_project(tmp_path, f"sqlite+aiosqlite:///{db}", *linear(1), RECORD_MODE)
    await amigrate.upgrade(project.config())
    assert _seen(db) == "truncate"
    assert _file_state(db) == ("delete", False)
    await amigrate.downgrade(project.config(), "base")
    assert _file_state(db) == ("delete", False)


async def test_a_wal_database_stays_in_wal(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=wal")
    conn.close()
    project = make_project(tmp_path, f"sqlite+aiosqlite:///{db}", *linear(1), RECORD_MODE)
    await amigrate.upgrade(project.config())
    assert _seen(db) == "wal"
    assert _file_state(db)[0] == "wal"


async def test_a_failed_run_leaves_no_journal(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    failing = Rev("r003", "r002", upgrade='await op.execute("SELECT * FROM missing_table")')
    project = make_project(tmp_path, f"sqlite+aiosqlite:///{db}", *linear(1), RECORD_MODE, failing)
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(project.config())
    assert _file_state(db) == ("delete", False)


async def test_the_applications_connection_gets_its_journal_mode_back(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    url = f"sqlite+aiosqlite:///{db}"
    project = make_project(tmp_path, url, *linear(1), RECORD_MODE)
    assert await _upgrade_on_own_connection(project.config(), url) == "delete"
    assert _seen(db) == "truncate"
    assert _file_state(db) == ("delete", False)


async def test_a_journal_mode_a_revision_sets_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    url = f"sqlite+aiosqlite:///{db}"
    persist = Rev(
        "r002",
        "r001",
        upgrade="""
            async with op.autocommit_block():
                await op.execute(sa.text("PRAGMA main.journal_mode = persist"))
        """,
    )
    project = make_project(tmp_path, url, *linear(1), persist)
    assert await _upgrade_on_own_connection(project.config(), url) == "persist"


async def test_a_journal_mode_on_connect_sets_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    project = make_project(tmp_path, f"sqlite+aiosqlite:///{db}", *linear(1), RECORD_MODE)
    project.env(
        """
        import sqlalchemy as sa


        async def on_connect(connection, config):
            await connection.execute(sa.text("PRAGMA main.journal_mode = persist"))
        """
    )
    await amigrate.upgrade(project.config())
    assert _seen(db) == "persist"
