"""A revision that fails: what remains, what the error says, and what is never recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate import Migrator
from amigrate.config import Config
from amigrate.errors import AmigrateError, MigrationError, MigrationFailed, ScriptError
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
    tables, rows = await snapshot(db_url)
    if db_url.startswith("mysql"):
        # MySQL commits before each DDL statement: the steps before r003 and their
        # version rows are committed, and the error says so.
        assert [s.revision for s in info.value.applied] == ["r001", "r002"]
        assert rows == ["r002"]
        assert "stay applied (r001, r002)" in (info.value.hint or "")
    else:
        assert info.value.applied == ()
        assert (tables, rows) == (set(), [])  # the whole run rolled back
        assert "steps before it in this run (r001, r002; one transaction)" in (
            info.value.hint or ""
        )


async def test_a_sync_upgrade_fails_before_anything_runs(db_url: str, tmp_path: Path) -> None:
    sync = Rev("r002", "r001", upgrade="pass", sync=True)
    project = make_project(tmp_path, db_url, *linear(1), sync)
    with pytest.raises(ScriptError, match=r"r002 .*upgrade\(\) must be a coroutine function"):
        await amigrate.upgrade(project.config())
    assert (await snapshot(db_url)) == (set(), [])  # r001 did not run either


async def test_a_refused_plan_creates_no_table_nor_schema(db_url: str, tmp_path: Path) -> None:
    """Checked before amigrate's own tables (and version_table_schema) are created: a
    database Alembic migrated, or a new one, is left exactly as it was."""
    schema = "amigrate_tenant" if "postgresql" in db_url else None  # (a tenant's schema)
    sync = Rev("r002", "r001", upgrade="pass", sync=True)
    project = make_project(tmp_path, db_url, *linear(1), sync)
    for target in ("head", "nope"):
        with pytest.raises(AmigrateError):
            async with Migrator(project.config(), schema=schema) as m:
                await m.upgrade(target)
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            schemas = await conn.run_sync(lambda c: sa.inspect(c).get_schema_names())
    finally:
        await engine.dispose()
    assert tables == []
    assert "amigrate_tenant" not in schemas
    await amigrate.upgrade(project.config(), "r001")  # (and a run that can go creates them)
    assert (await snapshot(db_url)) == ({"rt1"}, ["r001"])


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


AFTER_A_BLOCK = Rev(
    "r002",
    "r001",
    upgrade="""
        await op.execute("CREATE TABLE t2 (id INTEGER)")
        async with op.autocommit_block():
            await op.create_index("ix_rt1_id", "rt1", ["id"])
        await op.execute("SELECT * FROM nope")
    """,
    message="fails after a block",
)


async def test_a_failure_after_an_autocommit_block_is_recorded(db_url: str, tmp_path: Path) -> None:
    """The block committed what ran before it and inside it: the step is partly applied."""
    project = make_project(tmp_path, db_url, *linear(1), AFTER_A_BLOCK)
    config = project.config()
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(config)
    err = info.value
    assert err.partial
    assert [s.revision for s in err.applied] == ["r001"]
    hint = err.hint or ""
    assert "revision r002 is partly applied" in hint
    assert "op.autocommit_block() commits what ran before it and what runs inside it" in hint
    assert "2 of its statements committed (the last: CREATE INDEX ix_rt1_id ON rt1 (id))" in hint
    assert "'amigrate stamp <revision>' (or run again with --force)" in hint
    assert "rolled back" not in hint.split(";")[0]
    tables, rows = await snapshot(db_url)
    assert ("t2" in tables, rows) == (True, ["r001"])
    (failed, ok) = await amigrate.log(config)
    assert (failed.revision, failed.status, ok.status) == ("r002", "failed", "applied")
    assert "SELECT * FROM nope" in (failed.error or "")
    with pytest.raises(MigrationError, match="r002 failed partway"):
        await amigrate.upgrade(config)


async def test_plan_and_current_tell_of_a_recorded_failure(db_url: str, tmp_path: Path) -> None:
    """upgrade --plan refuses as upgrade does (it printed a step and exited 0), and current
    warns, in JSON too; --force plans anyway. The driver-only read of the CLI steps aside."""
    import json

    from tests.helpers import assert_clean_error, run_cli

    project = make_project(tmp_path, db_url, *linear(1), AFTER_A_BLOCK)
    config = project.config()
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(config)
    with pytest.raises(MigrationError, match="r002 failed partway"):
        await amigrate.plan(config)
    assert (await amigrate.plan(config, force=True)).revisions == ("r002",)
    async with Migrator(config) as m:
        failure = await m.last_failure()
    assert failure is not None
    assert failure.revision == "r002"

    planned = run_cli("upgrade", "--plan", cwd=tmp_path)
    assert_clean_error(planned, match="revision r002 failed partway")
    assert "(1 step)" in run_cli("upgrade", "--plan", "--force", cwd=tmp_path).out
    current = run_cli("current", cwd=tmp_path)
    assert current.code == 0, current
    assert current.out.strip() == "r001"
    assert "warning: revision r002 failed partway" in current.err
    data = json.loads(run_cli("--json", "current", cwd=tmp_path).out)
    assert data["failed"]["revision"] == "r002"
    assert run_cli("stamp", "r001", cwd=tmp_path).code == 0  # says where the database is
    assert "warning" not in run_cli("current", cwd=tmp_path).err
    assert json.loads(run_cli("--json", "current", cwd=tmp_path).out)["failed"] is None


async def test_concurrently_after_an_autocommit_block(postgresql_url: str, tmp_path: Path) -> None:
    concurrently = Rev(
        "r002",
        "r001",
        upgrade=AFTER_A_BLOCK.upgrade.replace('["id"])', '["id"], postgresql_concurrently=True)'),
    )
    project = make_project(tmp_path, postgresql_url, *linear(1), concurrently)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert "(the last: CREATE INDEX CONCURRENTLY ix_rt1_id ON rt1 (id))" in (info.value.hint or "")
    assert (await amigrate.log(project.config(), limit=1))[0].status == "failed"


async def test_a_do_block_in_an_autocommit_block_counts_as_committed(
    postgresql_url: str, tmp_path: Path
) -> None:
    """PostgreSQL's DO runs code (here DDL): in an autocommit block it committed, so a
    later failure says the step is partly applied (it said 'rolled back')."""
    do_block = Rev(
        "r002",
        "r001",
        upgrade="""
        async with op.autocommit_block():
            await op.execute("DO $$ BEGIN EXECUTE 'CREATE TABLE t3 (id int)'; END $$")
        await op.execute("SELECT * FROM nope")
    """,
    )
    project = make_project(tmp_path, postgresql_url, *linear(1), do_block)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.partial
    assert "1 of its statements committed (the last: DO $$" in (info.value.hint or "")
    tables, rows = await snapshot(postgresql_url)
    assert ("t3" in tables, rows) == (True, ["r001"])


async def test_one_transaction_and_an_autocommit_block(db_url: str, tmp_path: Path) -> None:
    """The block commits the run so far: those steps are applied, and the error says so."""
    project = make_project(
        tmp_path, db_url, *linear(1), AFTER_A_BLOCK, transaction_per_migration="false"
    )
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert [s.revision for s in info.value.applied] == ["r001"]
    assert info.value.partial
    assert "the steps before it that were committed stay applied (r001)" in (info.value.hint or "")
    tables, rows = await snapshot(db_url)
    assert ({"rt1", "t2"} <= tables, rows) == (True, ["r001"])


async def test_one_transaction_commits_a_step_with_a_block(db_url: str, tmp_path: Path) -> None:
    """A step that used an autocommit block commits with its version row; later ones roll back."""
    block = Rev(
        "r002",
        "r001",
        upgrade="""
            async with op.autocommit_block():
                await op.create_index("ix_rt1_id", "rt1", ["id"])
            await op.execute("CREATE TABLE t2 (id INTEGER)")
        """,
    )
    project = make_project(
        tmp_path,
        db_url,
        *linear(1),
        block,
        Rev("r003", "r002", upgrade='await op.execute("INSERT INTO t2 (id) VALUES (1)")\n1 / 0'),
        transaction_per_migration="false",
    )
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert [s.revision for s in info.value.applied] == ["r001", "r002"]
    assert not info.value.partial
    assert "stay applied (r001, r002)" in (info.value.hint or "")
    tables, rows = await snapshot(db_url)
    assert ("t2" in tables, rows) == (True, ["r002"])  # r002 whole, with its version row
    assert [e.revision for e in await amigrate.log(project.config())] == ["r002", "r001"]


async def test_failing_at_the_first_statement_records_nothing(db_url: str, tmp_path: Path) -> None:
    """Nothing of the revision ran: it is not 'partly applied', and the fixed file runs."""
    bad = Rev("r002", "r001", upgrade='await op.execute("ALTER TABLE no_such_table ADD x INTEGER")')
    project = make_project(tmp_path, db_url, *linear(1), bad)
    config = project.config()
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(config)
    assert not info.value.partial
    assert (info.value.hint or "").startswith("the failed revision was rolled back")
    assert [e.status for e in await amigrate.log(config)] == ["applied"]
    path = project.versions / "r002.py"
    path.write_text(path.read_text().replace("no_such_table", "rt1"))
    assert (await amigrate.upgrade(config)).to_heads == ("r002",)


async def test_row_changes_alone_are_rolled_back(db_url: str, tmp_path: Path) -> None:
    """An INSERT before the failure is rolled back (InnoDB too): nothing to record."""
    dml = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), dml)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert not info.value.partial
    assert "rolled back" in (info.value.hint or "")
    assert [e.status for e in await amigrate.log(project.config())] == ["applied"]


async def test_mysql_ddl_commits_the_row_changes_before_it(mysql_url: str, tmp_path: Path) -> None:
    """MySQL commits before a DDL statement runs, even one that fails."""
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
            await op.execute("ALTER TABLE no_such_table ADD x INTEGER")
        """,
    )
    project = make_project(tmp_path, mysql_url, *linear(1), rev)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.partial
    assert "1 of its statements committed (the last: INSERT INTO rt1 (id) VALUES (1))" in (
        info.value.hint or ""
    )
    assert (await amigrate.log(project.config(), limit=1))[0].status == "failed"


async def failing_second(url: str, tmp_path: Path, body: str) -> MigrationFailed:
    """Run a project whose r002 (after r001's table rt1) runs *body* and fails: its error."""
    project = make_project(tmp_path, url, *linear(1), Rev("r002", "r001", upgrade=body))
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    return info.value


@pytest.mark.parametrize(
    "committing",
    [
        "LOCK TABLES rt1 WRITE",
        "SET autocommit = 1",
        "SET STATEMENT lock_wait_timeout=5 FOR ALTER TABLE rt1 ADD note VARCHAR(20)",
    ],
)
async def test_mysql_statements_that_commit_implicitly(
    mysql_url: str, tmp_path: Path, committing: str
) -> None:
    """LOCK TABLES, SET autocommit = 1 and MariaDB's SET STATEMENT ... FOR <DDL> commit the
    row change before them: the step is partly applied (it said 'rolled back', and a rerun
    applied the UPDATE twice)."""
    error = await failing_second(
        mysql_url,
        tmp_path,
        f"""
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
            await op.execute({committing!r})
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
        """,
    )
    assert error.partial
    assert "is partly applied" in (error.hint or "")
    config = Config(ini_path=tmp_path / "amigrate.ini")
    assert (await amigrate.log(config, limit=1))[0].status == "failed"


async def test_mysql_partial_hint_shows_the_statement_as_run(
    mysql_url: str, tmp_path: Path
) -> None:
    """The last committed statement is named as the server ran it: DEFAULT '5%', not the
    driver's escaped '5%%'."""
    error = await failing_second(
        mysql_url,
        tmp_path,
        """
            await op.add_column("rt1", sa.Column("rate", sa.String(10), server_default="5%"))
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
        """,
    )
    assert "(the last: ALTER TABLE rt1 ADD COLUMN rate VARCHAR(10) DEFAULT '5%')" in (
        error.hint or ""
    )


async def test_mysql_what_runs_after_set_autocommit_commits(mysql_url: str, tmp_path: Path) -> None:
    """After SET autocommit = 1 each statement commits as it runs: the INSERT after it is
    counted as committed (the hint said it was rolled back, and it was in the table)."""
    error = await failing_second(
        mysql_url,
        tmp_path,
        """
            await op.execute("SET autocommit = 1")
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
        """,
    )
    assert "2 of its statements committed (the last: INSERT INTO rt1 (id) VALUES (1))" in (
        error.hint or ""
    )


async def test_mysql_set_autocommit_does_not_reach_the_applications_pool(
    mysql_url: str, tmp_path: Path
) -> None:
    """A revision's SET autocommit = 1 is undone before the connection goes back to the
    application's pool (there the application's rollbacks undid nothing)."""
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.execute("SET autocommit = 1")
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
        """,
    )
    project = make_project(tmp_path, mysql_url, *linear(1), rev)
    engine = create_async_engine(mysql_url, pool_size=2, max_overflow=0)
    await amigrate.upgrade(project.config(), engine=engine)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT @@autocommit"))).scalar() == 0
        await conn.execute(sa.text("INSERT INTO rt1 (id) VALUES (99)"))
        await conn.rollback()
        ids = (await conn.execute(sa.text("SELECT id FROM rt1"))).scalars().all()
    await engine.dispose()
    assert ids == [1]


async def test_mysql_temporary_tables_do_not_commit(mysql_url: str, tmp_path: Path) -> None:
    """CREATE/DROP TEMPORARY TABLE commit nothing on MySQL: the failed step was rolled back
    (it was reported partly applied, and the next run refused)."""
    error = await failing_second(
        mysql_url,
        tmp_path,
        """
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
            await op.execute("CREATE TEMPORARY TABLE tmp_ids (id INT PRIMARY KEY)")
            await op.execute("INSERT INTO tmp_ids VALUES (1)")
            await op.execute("DROP TEMPORARY TABLE tmp_ids")
            await op.execute("INSERT INTO rt1 (id) VALUES (1)")
        """,
    )
    assert not error.partial
    assert "rolled back" in (error.hint or "")
    config = Config(ini_path=tmp_path / "amigrate.ini")
    assert [e.status for e in await amigrate.log(config)] == ["applied"]
    engine = create_async_engine(mysql_url, poolclass=NullPool)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM rt1"))).scalar() == 0
    await engine.dispose()


async def test_a_batch_failing_its_name_check_changed_nothing(db_url: str, tmp_path: Path) -> None:
    typo = Rev(
        "r002",
        "r001",
        upgrade="""
            async with op.batch_alter_table("rt1") as batch:
                await batch.add_column(sa.Column("extra", sa.Integer))
                await batch.drop_column("no_such_column")
        """,
    )
    project = make_project(tmp_path, db_url, *linear(1), typo)
    with pytest.raises(MigrationFailed, match="has no column 'no_such_column'") as info:
        await amigrate.upgrade(project.config())
    assert not info.value.partial
    assert "commits DDL" not in (info.value.hint or "")
    assert "the failed revision was rolled back" in (info.value.hint or "")
    assert [e.status for e in await amigrate.log(project.config())] == ["applied"]


async def test_mysql_one_transaction_commits_a_step_with_its_ddl(
    mysql_url: str, tmp_path: Path
) -> None:
    """MySQL commits a step's DDL at once: its version row goes with it, so a later step's
    failure cannot leave that DDL unrecorded."""
    data_only = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.execute("INSERT INTO rt1 (id, name) VALUES (1, 'a')")
            await op.execute("INSERT INTO rt1 (id, name) VALUES (1, 'a')")
        """,
    )
    project = make_project(
        tmp_path, mysql_url, *linear(1), data_only, transaction_per_migration="false"
    )
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert [s.revision for s in info.value.applied] == ["r001"]
    assert not info.value.partial
    assert "stay applied (r001)" in (info.value.hint or "")
    tables, rows = await snapshot(mysql_url)
    assert ("rt1" in tables, rows) == (True, ["r001"])
    path = project.versions / "r002.py"
    head, _, tail = path.read_text().rpartition("(1, 'a')")
    path.write_text(head + "(2, 'b')" + tail)  # the second INSERT fixed
    result = await amigrate.upgrade(project.config())  # picks up at r002: no replayed DDL
    assert [s.revision for s in result.steps] == ["r002"]


async def test_one_transaction_a_failing_commit_is_a_migration_failure(
    postgresql_url: str, tmp_path: Path
) -> None:
    deferred = Rev(
        "r001",
        None,
        upgrade="""
            await op.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            await op.execute(
                "CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )
        """,
    )
    orphan = Rev("r002", "r001", upgrade='await op.execute("INSERT INTO c VALUES (1, 42)")')
    project = make_project(
        tmp_path, postgresql_url, deferred, orphan, transaction_per_migration="false"
    )
    with pytest.raises(MigrationFailed, match="committing the run failed: ") as info:
        await amigrate.upgrade(project.config())
    assert info.value.applied == ()
    assert "rolled back (r001, r002; one transaction)" in (info.value.hint or "")
    assert await snapshot(postgresql_url) == (set(), [])


async def test_op_run_sync_counts_as_the_revisions_own_sql(mysql_url: str, tmp_path: Path) -> None:
    """DDL a revision runs through op.run_sync commits on MySQL: a later failure says so."""
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            await op.run_sync(lambda c: c.exec_driver_sql("CREATE TABLE r1 (id INTEGER)"))
            await op.execute("INSERT INTO no_such_table VALUES (1)")
        """,
    )
    project = make_project(tmp_path, mysql_url, *linear(1), rev)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.partial
    assert "is partly applied" in (info.value.hint or "")
    assert [e.status for e in await amigrate.log(project.config())] == ["failed", "applied"]


async def test_a_nested_autocommit_block_keeps_counting(
    postgresql_url: str, tmp_path: Path
) -> None:
    rev = Rev(
        "r002",
        "r001",
        upgrade="""
            async with op.autocommit_block():
                async with op.autocommit_block():
                    pass
                await op.execute("CREATE TABLE t_nested (id INTEGER)")
            await op.execute("INSERT INTO no_such_table VALUES (1)")
        """,
    )
    project = make_project(tmp_path, postgresql_url, *linear(1), rev)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.partial
    assert "CREATE TABLE t_nested" in (info.value.hint or "")
    assert "t_nested" in (await snapshot(postgresql_url))[0]


@pytest.mark.parametrize("sql", ["COMMIT", "  commit;", "ROLLBACK", "BEGIN", "START TRANSACTION"])
async def test_op_execute_of_a_transaction_statement_is_refused(
    sqlite_url: str, tmp_path: Path, sql: str
) -> None:
    # It ran, and the revision's version row no longer committed with its work: the
    # failure said "rolled back" while the table before it stayed.
    rev = Rev(
        "r002",
        "r001",
        upgrade=(
            'await op.create_table("t1", sa.Column("id", sa.Integer))\n'
            f"await op.execute({sql!r})\n"
            'raise RuntimeError("after")'
        ),
    )
    project = make_project(tmp_path, sqlite_url, *linear(1), rev)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert "would end the transaction amigrate runs the revision in" in str(info.value)
    assert "op.autocommit_block()" in (info.value.hint or "")
    assert not info.value.partial
    assert await snapshot(sqlite_url) == ({"rt1"}, ["r001"])


async def test_statements_that_keep_the_transaction_pass(db_url: str, tmp_path: Path) -> None:
    savepoints = (
        'await op.execute("SAVEPOINT sp")\n'
        'await op.execute("ROLLBACK TO SAVEPOINT sp")\n'
        'await op.execute("SAVEPOINT sp2")\n'
        'word = "WORK" if op.dialect.name == "mysql" else "TRANSACTION"  # each one\'s\n'
        'await op.execute(f"ROLLBACK {word} TO SAVEPOINT sp2")\n'
        'await op.create_table("t1", sa.Column("id", sa.Integer))'
    )
    project = make_project(tmp_path, db_url, *linear(1), Rev("r002", "r001", upgrade=savepoints))
    await amigrate.upgrade(project.config())
    assert await snapshot(db_url) == ({"rt1", "t1"}, ["r002"])


@pytest.mark.parametrize("then_raise", [False, True])
@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_commit_through_op_connection_makes_the_step_partial(
    db_url: str, tmp_path: Path, then_raise: bool
) -> None:
    """Found when the revision returns or fails: its work before the COMMIT stays, and
    the version table does not record it, so the step is partly applied."""
    rev = Rev(
        "r002",
        "r001",
        upgrade=(
            'await op.create_table("t1", sa.Column("id", sa.Integer))\n'
            'await op.connection.exec_driver_sql("COMMIT")\n'
            'await op.create_table("t2", sa.Column("id", sa.Integer))\n'
            + ('raise RuntimeError("after")' if then_raise else "")
        ),
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    err = info.value
    assert err.partial
    assert "revision r002 is partly applied" in (err.hint or "")
    if not then_raise:
        assert "r002 ended the transaction amigrate runs it in" in str(err)
    tables, rows = await snapshot(db_url)
    assert "t1" in tables
    assert rows == ["r001"]
    (failed, _) = await amigrate.log(project.config())
    assert (failed.revision, failed.status) == ("r002", "failed")


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_commit_through_op_connection_is_found_off_the_direct_path(
    db_url: str, tmp_path: Path
) -> None:
    # With engine logging on (echo), statements go through SQLAlchemy, not the direct
    # path: the COMMIT is found there too.
    rev = Rev(
        "r002",
        "r001",
        upgrade=(
            'await op.execute("INSERT INTO rt1 (id) VALUES (1)")\n'
            'await op.connection.exec_driver_sql("COMMIT")\n'
            'raise RuntimeError("after")'
        ),
    )
    project = make_project(tmp_path, db_url, *linear(1), rev)
    project.env("engine_options = {'echo': True}\n")
    with pytest.raises(MigrationFailed) as info:
        await amigrate.upgrade(project.config())
    assert info.value.partial
    assert "revision r002 is partly applied" in (info.value.hint or "")


async def test_a_stamp_or_an_empty_revision_is_no_lost_transaction(
    db_url: str, tmp_path: Path
) -> None:
    # (SQLAlchemy's asyncpg adapter begins at the first statement: none ran yet.)
    project = make_project(tmp_path, db_url, *linear(1), Rev("r002", "r001", upgrade="pass"))
    project.env("engine_options = {'echo': True}\n")
    await amigrate.upgrade(project.config())
    assert (await snapshot(db_url))[1] == ["r002"]


async def test_a_revision_id_longer_than_the_version_table_holds(
    db_url: str, tmp_path: Path
) -> None:
    """Refused before step one where the database holds VARCHAR(32) to its length (on
    MySQL the step's DDL would have committed before its version row failed); SQLite
    does not, and an adopted SQLite project with long ids keeps working."""
    long_id = "20240115_add_user_email_column_to_accounts"
    project = make_project(tmp_path, db_url, *linear(1), table_rev(long_id, "r001", "t_long"))
    if db_url.startswith("sqlite"):
        await amigrate.upgrade(project.config())
        assert (await snapshot(db_url))[1] == [long_id]
        return
    with pytest.raises(ScriptError, match="is 42 characters long; the version table's"):
        await amigrate.upgrade(project.config())
    assert await snapshot(db_url) == (set(), [])  # not even r001: refused before step one


@pytest.mark.parametrize("tracing", [False, True], ids=["direct", "through-sqlalchemy"])
async def test_an_engine_in_autocommit_still_rolls_a_failed_revision_back(
    db_url: str, tmp_path: Path, tracing: bool
) -> None:
    """isolation_level="AUTOCOMMIT" on the application's engine: where amigrate went
    through SQLAlchemy (MySQL; PostgreSQL with echo or a cursor listener), a failing
    revision's row and table stayed committed while the error said "rolled back"."""
    body = "await op.execute(\"INSERT INTO log VALUES ('r002')\")\n"
    if not db_url.startswith("mysql"):  # (MySQL's DDL commits: a revision of rows there)
        body += 'await op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))\n'
    body += 'raise RuntimeError("boom halfway")'
    first = Rev("r001", None, upgrade='await op.create_table("log", sa.Column("v", sa.String(8)))')
    project = make_project(tmp_path, db_url, first, Rev("r002", "r001", upgrade=body))
    engine = create_async_engine(db_url, isolation_level="AUTOCOMMIT", echo=tracing)
    try:
        with pytest.raises(MigrationFailed) as caught:
            await amigrate.upgrade(project.config(), engine=engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT v FROM log"))).all()
            # The application's connections are as it made them.
            raw = await conn.get_raw_connection()
            assert raw.dbapi_connection is not None
            assert conn.dialect.detect_autocommit_setting(raw.dbapi_connection)
        tables = (await snapshot(db_url))[0]
    finally:
        await engine.dispose()
    assert not caught.value.partial
    assert "rolled back" in (caught.value.hint or "")
    assert (rows, tables) == ([], {"log"})


@pytest.mark.parametrize("server", ["postgresql", "mysql"])  # (SQLite: see below)
async def test_a_connection_in_autocommit_is_refused_for_writes(
    server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db_url: str = request.getfixturevalue(f"{server}_url")
    project = make_project(tmp_path, db_url, *linear(1))
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            with pytest.raises(MigrationError, match="is in AUTOCOMMIT") as caught:
                await amigrate.upgrade(project.config(), connection=conn)
            assert "or the engine (engine=...)" in (caught.value.hint or "")
            # A read (a health check's current()) has nothing to roll back: it runs, and
            # leaves the connection in AUTOCOMMIT (it was left at READ COMMITTED).
            assert await amigrate.current(project.config(), connection=conn) == ()
            assert await amigrate.log(project.config(), connection=conn) == []
            raw = await conn.get_raw_connection()
            assert raw.dbapi_connection is not None
            assert conn.dialect.detect_autocommit_setting(raw.dbapi_connection)
    finally:
        await engine.dispose()
    assert await snapshot(db_url) == (set(), [])


async def test_sqlalchemys_sqlite_transaction_recipe_is_left_alone(
    sqlite_url: str, tmp_path: Path
) -> None:
    """SQLAlchemy's recipe for real SQLite transactions (isolation_level None on connect,
    its own BEGIN) looks like AUTOCOMMIT: connection= was refused and engine= failed
    ("cannot start a transaction within a transaction"). On SQLite amigrate takes the
    driver's transactions over whatever the level."""
    from sqlalchemy import event

    def recipe_engine(url: str) -> AsyncEngine:
        engine = create_async_engine(url)

        @event.listens_for(engine.sync_engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _own_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine

    # A new database, by the engine alone (it failed: the listener's BEGIN met the one
    # amigrate had sent to the driver itself).
    new_url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    new = recipe_engine(new_url)
    try:
        await amigrate.upgrade(
            make_project(tmp_path / "new", new_url, *linear(1)).config(), engine=new
        )
    finally:
        await new.dispose()
    assert await snapshot(new_url) == ({"rt1"}, ["r001"])
    engine = recipe_engine(sqlite_url)
    project = make_project(tmp_path, sqlite_url, *linear(3), raising_rev("r004", "r003"))
    try:
        async with engine.begin() as conn:
            await amigrate.upgrade(project.config(), "r001", connection=conn)
        async with engine.connect() as conn:
            await amigrate.upgrade(project.config(), "r002", connection=conn)
        await amigrate.upgrade(project.config(), "r003", engine=engine)
        with pytest.raises(MigrationFailed):  # (and rolled back)
            await amigrate.upgrade(project.config(), engine=engine)
    finally:
        await engine.dispose()
    assert await snapshot(sqlite_url) == ({"rt1", "rt2", "rt3"}, ["r003"])


async def test_a_schema_translate_map_is_refused(postgresql_url: str, tmp_path: Path) -> None:
    """Half applied: the version table went to the mapped schema, amigrate's direct
    writes to public ("relation amigrate_version does not exist"); through SQLAlchemy a
    revision's table was created in one schema and altered in the other."""
    async with create_async_engine(postgresql_url, poolclass=NullPool).begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA tenant1"))
    project = make_project(tmp_path, postgresql_url, *linear(1))
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    mapped = engine.execution_options(schema_translate_map={None: "tenant1"})
    try:
        with pytest.raises(MigrationError, match="has a schema_translate_map") as caught:
            await amigrate.upgrade(project.config(), engine=mapped)
        assert "version_table_schema" in (caught.value.hint or "")
        async with mapped.connect() as conn:
            with pytest.raises(MigrationError, match="has a schema_translate_map"):
                await amigrate.current(project.config(), connection=conn)
        unmapped = mapped.execution_options(schema_translate_map=None)  # (as the hint says)
        await amigrate.upgrade(project.config(), engine=unmapped)
    finally:
        await engine.dispose()
    assert await snapshot(postgresql_url) == ({"rt1"}, ["r001"])
