"""A revision that fails: what remains, what the error says, and what is never recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import amigrate
from amigrate.errors import MigrationFailed, ScriptError
from tests.integration.test_runtime import snapshot
from tests.projects import Rev, linear, make_project, table_rev


def raising_rev(rev_id: str, down: str) -> Rev:
    return Rev(
        rev_id,
        down,
        upgrade=(
            'await op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))\n'
            'raise RuntimeError("boom halfway")'
        ),
        message="fails halfway",
    )


async def test_revision_that_raises_halfway(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(2), raising_rev("r003", "r002"))
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    err = info.value
    assert [s.revision for s in err.applied] == ["r001", "r002"]
    assert err.failed.revision == "r003"
    assert isinstance(err.__cause__, RuntimeError)
    assert "r002 -> r003 (fails halfway) failed: RuntimeError: boom halfway" in str(err)
    tables, rows = await snapshot(db_url)
    assert rows == ["r002"]  # earlier revisions stay applied
    if db_url.startswith("mysql"):
        assert "half" in tables  # MySQL committed the DDL; the hint says so
        assert "commits DDL as it runs" in (err.hint or "")
    else:
        assert tables == {"rt1", "rt2"}  # nothing of r003 remains
        assert "rolled back" in (err.hint or "")


async def test_driver_error_names_the_statement(db_url: str, tmp_path: Path) -> None:
    bad = Rev("r002", "r001", upgrade='await op.execute("ALTER TABLE no_such_table ADD x INTEGER")')
    project = make_project(tmp_path, db_url, *linear(1), bad)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert isinstance(info.value.__cause__, sa.exc.DBAPIError)
    assert "[while running: ALTER TABLE no_such_table ADD x INTEGER]" in str(info.value)
    assert "\n" not in str(info.value)
    assert (await snapshot(db_url))[1] == ["r001"]


async def test_one_transaction_for_the_run(db_url: str, tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        db_url,
        *linear(2),
        raising_rev("r003", "r002"),
        transaction_per_migration="false",
    )
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.applied == ()
    tables, rows = await snapshot(db_url)
    if not db_url.startswith("mysql"):
        assert (tables, rows) == (set(), [])  # the whole run rolled back
        assert "steps before it" in (info.value.hint or "")


async def test_a_sync_upgrade_fails_before_anything_runs(db_url: str, tmp_path: Path) -> None:
    sync = Rev("r002", "r001", upgrade="pass", sync=True)
    project = make_project(tmp_path, db_url, *linear(1), sync)
    with pytest.raises(ScriptError, match=r"r002 .*upgrade\(\) must be a coroutine function"):
        await amigrate.upgrade(project.config())
    assert (await snapshot(db_url)) == (set(), [])  # r001 did not run either


async def test_an_unawaited_op_fails_the_step(db_url: str, tmp_path: Path) -> None:
    lazy = Rev(
        "r002",
        "r001",
        upgrade=(
            'await op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True))\n'
            'op.create_table("lost", sa.Column("id", sa.Integer, primary_key=True))'
        ),
    )
    project = make_project(tmp_path, db_url, *linear(1), lazy)
    with pytest.raises(MigrationFailed, match="was never awaited") as info:
        await amigrate.upgrade(project.config())
    message = str(info.value)
    assert "op.create_table('lost')" in message
    assert f"{project.versions / 'r002.py'}:" in message
    assert isinstance(info.value.__cause__, ScriptError)
    tables, rows = await snapshot(db_url)
    assert rows == ["r001"]
    if not db_url.startswith("mysql"):
        assert tables == {"rt1"}


async def test_syntax_error_in_a_body_changes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(2))
    path = project.versions / "r002.py"
    path.write_text(path.read_text().replace("await op.drop_table", "await op.drop_table(("))
    with pytest.raises(ScriptError, match=r"r002\.py:\d+: syntax error"):
        await amigrate.upgrade(project.config())
    assert await snapshot(sqlite_url) == (set(), [])


async def test_import_error_names_the_file(sqlite_url: str, tmp_path: Path) -> None:
    broken = table_rev("r002", "r001", "t2")
    broken.extra = "import no_such_module_xyz"
    project = make_project(tmp_path, sqlite_url, *linear(1), broken)
    with pytest.raises(ScriptError, match=r"r002\.py:\d+: importing it raised ModuleNotFoundError"):
        await amigrate.upgrade(project.config())
    assert await snapshot(sqlite_url) == (set(), [])
