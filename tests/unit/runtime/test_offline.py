"""Offline SQL (--sql): golden output per dialect, ranges, and what cannot be rendered.

Regenerate the golden files after an intended change with
``AMIGRATE_UPDATE_GOLDEN=1 python -m pytest tests/unit/runtime/test_offline.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import amigrate
from amigrate.errors import InvalidTarget, MigrationFailed, ScriptError
from tests.helpers import stable_script
from tests.projects import Rev, make_project

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
URLS = {
    "postgresql": "postgresql+asyncpg://app:secret@db/app",
    "sqlite": "sqlite+aiosqlite:///app.db",
    "mysql": "mysql+asyncmy://app:secret@db/app",
}

HISTORY = [
    Rev(
        "a1",
        None,
        message="create account",
        upgrade="""
            await op.create_table(
                "account",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("email", sa.String(255), nullable=False, unique=True),
                sa.Column("active", sa.Boolean, server_default=sa.true()),
            )
            await op.create_index("ix_account_email_lower", "account", [sa.text("lower(email)")])
        """,
        downgrade="""
            await op.drop_index("ix_account_email_lower", "account")
            await op.drop_table("account")
        """,
    ),
    Rev(
        "b2",
        "a1",
        message="orders and data",
        upgrade="""
            await op.create_table(
                "orders",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column(
                    "account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE")
                ),
                sa.Column("note", sa.Text),
            )
            await op.add_column("account", sa.Column("name", sa.String(50), server_default="n/a"))
            await op.execute(
                sa.text("UPDATE account SET name = :n WHERE name IS NULL").bindparams(n="o'brien")
            )
        """,
        downgrade="""
            await op.drop_column("account", "name")
            await op.drop_table("orders")
        """,
    ),
    Rev("c3", "b2", message="nothing"),
]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    make_project(tmp_path, URLS["sqlite"], *HISTORY)
    return tmp_path


async def render(project_dir: Path, url: str, direction: str, spec: str) -> str:
    config = amigrate.load_config(project_dir / "amigrate.ini", url=url)
    async with amigrate.Migrator(config) as m:
        if direction == "stamp":
            result = await m.stamp_sql([spec])
        else:
            result = await m.sql("up" if direction == "up" else "down", spec)
    assert result.sql is not None
    return stable_script(result.sql)


@pytest.mark.parametrize("dialect", sorted(URLS))
async def test_golden(project_dir: Path, dialect: str) -> None:
    text = ""
    for direction, spec in (
        ("up", "head"),
        ("down", "head:base"),
        ("up", "a1:b2"),
        ("stamp", "b2"),
    ):
        sql = await render(project_dir, URLS[dialect], direction, spec)
        text += f"-- amigrate {direction} {spec}\n{sql}\n"
    golden = GOLDEN / f"offline_{dialect}.sql"
    if os.environ.get("AMIGRATE_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    assert "secret" not in text


async def test_transaction_per_run(project_dir: Path) -> None:
    ini = project_dir / "amigrate.ini"
    ini.write_text(ini.read_text() + "transaction_per_migration = false\n")
    sql = await render(project_dir, URLS["postgresql"], "up", "head")
    # one BEGIN for the version table, one for the whole run
    assert sql.count("BEGIN;") == 2
    assert sql.count("COMMIT;") == 2


async def test_mysql_steps_are_transactions_too(project_dir: Path) -> None:
    """MySQL's DDL commits as it runs, but a step's row changes and its version row
    commit together, as online (the mysql client's session would autocommit them)."""
    sql = await render(project_dir, URLS["mysql"], "up", "head")
    assert sql.count("COMMIT;") == 4  # the version table, 3 steps
    # After a step's DDL (which committed) the client's session would autocommit: the
    # step's row changes, version and history rows begin a transaction again.
    b2 = sql[sql.index("-- Running upgrade a1 -> b2") : sql.index("-- Running upgrade b2 -> c3")]
    statements = b2.rstrip().rstrip(";").split(";\n\n")
    assert statements[-6:] == [
        "ALTER TABLE account ADD COLUMN name VARCHAR(50) DEFAULT 'n/a'",
        "BEGIN",
        "UPDATE account SET name = 'o''brien' WHERE name IS NULL",
        "UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'a1'",
        statements[-2],
        "COMMIT",
    ]
    assert statements[-2].startswith("INSERT INTO amigrate_history")
    assert sql.count("BEGIN;") == 6  # and one in each step with DDL (a1, b2)


async def test_downgrade_needs_a_range(project_dir: Path) -> None:
    with pytest.raises(InvalidTarget, match="needs a range"):
        await render(project_dir, URLS["sqlite"], "down", "-1")
    with pytest.raises(InvalidTarget, match="both ends"):
        await render(project_dir, URLS["sqlite"], "down", "b2:")


async def test_an_upgrade_range_that_runs_backwards(project_dir: Path) -> None:
    with pytest.raises(InvalidTarget, match="the range 'c3:a1' runs backwards: a1 is below c3"):
        await render(project_dir, URLS["sqlite"], "up", "c3:a1")
    assert await render(project_dir, URLS["sqlite"], "up", "b2:b2") == ""  # nothing between


READS = "the result of a query that reads data"


async def test_a_query_whose_result_is_not_used_is_written(tmp_path: Path) -> None:
    """SELECT setval(...) after a bulk insert is run for what it does, as Alembic writes it."""
    body = (
        "await op.execute(\"SELECT setval('account_id_seq', 5)\")\n"
        'result = await op.execute("SELECT 1")'
    )
    make_project(tmp_path, URLS["sqlite"], Rev("a1", None, upgrade=body))
    script = await render(tmp_path, URLS["postgresql"], "up", "head")
    assert "SELECT setval('account_id_seq', 5);" in script
    assert "SELECT 1;" in script


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ('await op.connection.execute(sa.text("SELECT 1"))', "op.connection"),
        ("await op.run_sync(lambda c: None)", "op.run_sync()"),
        ('(await op.execute("SELECT count(*) FROM account")).scalar()', READS),
        ("(await op.execute(sa.select(sa.literal(1)))).first()", READS),
        ('list(await op.execute("(SELECT 1)"))', READS),
        ('(await op.execute("/* how many */ -- now\\nselect 1")).all()', READS),
        ('if await op.execute("VALUES (1)"): pass', READS),
        ('len(await op.execute("WITH x AS (SELECT 1) SELECT * FROM x"))', READS),
        ('(await op.execute("PRAGMA table_info(account)")).rowcount', READS),
    ],
)
async def test_revisions_that_need_a_database(tmp_path: Path, body: str, what: str) -> None:
    make_project(tmp_path, URLS["sqlite"], Rev("a1", None, upgrade=body))
    with pytest.raises(ScriptError, match="needs a live database") as info:
        await render(tmp_path, URLS["postgresql"], "up", "head")
    assert f"revision a1 uses {what}" in str(info.value)


async def test_a_revision_that_raises_offline(tmp_path: Path) -> None:
    """Its own exception is wrapped, naming the step; nothing ran, so nothing rolled back."""
    body = 'await op.execute("CREATE TABLE t (id int)")\nraise RuntimeError("boom")'
    make_project(tmp_path, URLS["sqlite"], Rev("a1", None, upgrade=body))
    with pytest.raises(MigrationFailed) as info:
        await render(tmp_path, URLS["postgresql"], "up", "head")
    assert (
        str(info.value) == "upgrade <base> -> a1 (a1) cannot be rendered as SQL: RuntimeError: boom"
    )
    assert "nothing was printed" in str(info.value.hint)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert not info.value.partial


@pytest.mark.parametrize(
    "sql",
    [
        "WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved",
        "PRAGMA foreign_keys = OFF",
        "DO $$ BEGIN PERFORM 1; END $$",
        "-- a note\nUPDATE account SET name = 'x'",
    ],
)
async def test_statements_that_change_things_render(tmp_path: Path, sql: str) -> None:
    """Not queries, whatever their first word looks like: rendered as online runs them."""
    make_project(tmp_path, URLS["sqlite"], Rev("a1", None, upgrade=f"await op.execute({sql!r})"))
    assert sql in await render(tmp_path, URLS["postgresql"], "up", "head")


@pytest.mark.parametrize(
    "url", ["mysql+asyncmy://db/app", "mysql+aiomysql://db/app", "postgresql+psycopg://db/app"]
)
async def test_percent_signs_are_not_doubled(tmp_path: Path, url: str) -> None:
    """Drivers with %s parameters get each % doubled by SQLAlchemy; offline there is none."""
    body = """
        await op.add_column("t", sa.Column("c", sa.String(9), server_default="100%"))
        await op.execute("UPDATE t SET c = '5%'")
        await op.execute(sa.text("UPDATE t SET c = :c").bindparams(c="%s"))
    """
    make_project(tmp_path, URLS["sqlite"], Rev("a1", None, upgrade=body))
    sql = await render(tmp_path, url, "up", "head")
    assert "DEFAULT '100%'" in sql
    assert "SET c = '5%'" in sql
    assert "SET c = '%s'" in sql


async def test_the_version_table_as_online(project_dir: Path) -> None:
    """Created only if missing, kept by a downgrade to base; on MySQL its primary key
    unnamed (MySQL warns that it ignores the name)."""
    for dialect in URLS:
        up = await render(project_dir, URLS[dialect], "up", "head")
        assert "CREATE TABLE IF NOT EXISTS amigrate_version" in up
        assert ("amigrate_version_pkc" in up) == (dialect != "mysql")
        down = await render(project_dir, URLS[dialect], "down", "head:base")
        assert "DROP TABLE amigrate_version" not in down


@pytest.mark.parametrize(
    ("direction", "spec"),
    [
        ("up", "current:head"),
        ("up", "current"),
        ("up", "current+1"),
        ("down", "head:current"),
        ("down", "current:a1"),
        ("stamp", "current"),
    ],
)
async def test_current_needs_a_database(project_dir: Path, direction: str, spec: str) -> None:
    """Without a database 'current' resolved to base: a script from scratch, silently."""
    with pytest.raises(InvalidTarget, match="no database to read 'current' from"):
        await render(project_dir, URLS["postgresql"], direction, spec)
    assert await render(project_dir, URLS["postgresql"], "up", "a1:+1")  # relative: fine
