"""Offline SQL does to a database what the online run does.

Each test renders a script (``upgrade --sql``, ``downgrade a:b --sql``, ``stamp
--sql``, ``ensure-version --sql``), applies it to one fresh database as the
native client would (``tests.sqlclient``), runs the same command online against
another, and compares the two: schema, version rows and data.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import ConfigError, MigrationFailed
from amigrate.runtime.history import HistoryTable
from tests.integration.test_ops_support import describe, query
from tests.projects import Rev, make_project, table_rev
from tests.sqlclient import apply_script


async def offline_url(url: str) -> str:
    """*url* as a DBA would write it for --sql: ``mariadb://`` for a MariaDB server."""
    if not url.startswith("mysql"):
        return url
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
    finally:
        await engine.dispose()
    return url.replace("mysql+", "mariadb+", 1) if mariadb else url


async def version_rows(url: str) -> list[str] | None:
    """The version table's rows, sorted; None when there is no version table."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            exists = await conn.run_sync(lambda c: sa.inspect(c).has_table("amigrate_version"))
            if not exists:
                return None
            result = await conn.execute(sa.text("SELECT version_num FROM amigrate_version"))
            return sorted(row[0] for row in result)
    finally:
        await engine.dispose()


HISTORY_FIELDS = (
    "revision",
    "direction",
    "from_revisions",
    "to_revisions",
    "message",
    "checksum",
    "status",
    "error",
    "db_user",
    "os_user",
    "amigrate_version",
)


async def history(url: str, *, applied_only: bool = False) -> dict[str, Any] | None:
    """The history table: its columns and indexes, and its rows in order (what does not
    change from run to run); None when there is none. Each row was written within the
    last minutes, in UTC, and one run's rows share a run id."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:

            def table(sync: sa.Connection) -> dict[str, Any] | None:
                inspector = sa.inspect(sync)
                if not inspector.has_table("amigrate_history"):
                    return None
                columns = [
                    (c["name"], str(c["type"]), c["nullable"])
                    for c in inspector.get_columns("amigrate_history")
                ]
                indexes = sorted(
                    (i["name"], tuple(i["column_names"]))
                    for i in inspector.get_indexes("amigrate_history")
                )
                return {"columns": columns, "indexes": indexes}

            found = await conn.run_sync(table)
            if found is None:
                return None
            t = HistoryTable().table
            query = sa.select(*(t.c[name] for name in HISTORY_FIELDS), t.c.applied_at, t.c.run_id)
            if applied_only:
                query = query.where(t.c.status == "applied")
            rows = (await conn.execute(query.order_by(t.c.id))).all()
    finally:
        await engine.dispose()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for row in rows:
        assert dt.timedelta(0) <= now - row.applied_at < dt.timedelta(minutes=10), row
        assert len(row.run_id) == 32
    found["rows"] = [tuple(row)[:-2] for row in rows]
    return found


async def state(
    url: str, tables: tuple[str, ...] = (), *, applied_only: bool = False
) -> dict[str, Any]:
    """What a comparison looks at: the schema, the version rows, the history (without
    what differs by run: time, duration, run id), the rows of *tables*."""
    found: dict[str, Any] = {
        "schema": await describe(url),
        "versions": await version_rows(url),
        "history": await history(url, applied_only=applied_only),
    }
    for table in tables:
        found[table] = await query(url, f"SELECT * FROM {table} ORDER BY 1")
    return found


class Pair:
    """One project, two databases: *offline* gets the scripts, *online* the real runs."""

    def __init__(
        self,
        root: Path,
        offline: str,
        online: str,
        revisions: list[Rev],
        *,
        schema: str | None = None,
        **settings: str,
    ) -> None:
        self.project = make_project(root, online, *revisions, **settings)
        self.offline, self.online = offline, online
        self.schema = schema

    async def render(self, command: str, *args: str) -> str:
        url = await offline_url(self.offline)
        async with amigrate.Migrator(self.project.ini, url=url, schema=self.schema) as m:
            if command == "ensure-version":
                return await m.ensure_version_sql()
            if command == "stamp":
                revisions = [a for a in args if a != "--purge"]
                result = await m.stamp_sql(revisions, purge="--purge" in args)
            else:
                result = await m.sql("up" if command == "upgrade" else "down", args[0])
        assert result.sql is not None
        return result.sql

    async def run(self, url: str, command: str, *args: str) -> None:
        async with amigrate.Migrator(self.project.ini, url=url, schema=self.schema) as m:
            if command == "ensure-version":
                await m.ensure_version()
            elif command == "stamp":
                revisions = [a for a in args if a != "--purge"]
                await m.stamp(revisions, purge="--purge" in args)
            else:
                await getattr(m, command)(args[0])

    async def both(self, command: str, *args: str) -> None:
        """Bring both databases somewhere online (a starting point)."""
        await self.run(self.offline, command, *args)
        await self.run(self.online, command, *args)

    async def compare(
        self, offline: tuple[str, ...], online: tuple[str, ...], tables: tuple[str, ...] = ()
    ) -> str:
        """Apply ``offline`` as a script and run ``online``; the two databases must agree."""
        script = await self.render(*offline)
        assert script == await self.render(*offline), "the same command rendered other SQL"
        await apply_script(self.offline, script)
        await self.run(self.online, *online)
        assert await state(self.offline, tables) == await state(self.online, tables)
        return script

    async def compare_failed(self, tables: tuple[str, ...] = ()) -> None:
        """``upgrade head`` fails: the script stops where the online run fails, and the
        two databases are left alike (what each failed step committed, and no more)."""
        script = await self.render("upgrade", "head")
        with pytest.raises(Exception, match=r"(?i)missing|duplicate|unique"):
            await apply_script(self.offline, script)
        with pytest.raises(MigrationFailed):
            await self.run(self.online, "upgrade", "head")
        # Online, a step that committed part of its work is also recorded as failed; a
        # script that stops records nothing more.
        offline = await state(self.offline, tables, applied_only=True)
        assert offline == await state(self.online, tables, applied_only=True)


PERCENT = Rev(
    "p1",
    None,
    upgrade="""
    t = await op.create_table(
        "pct",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(40), server_default="100%", comment="50% off"),
        sa.Column("pat", sa.String(40), server_default=sa.text("'a%%b'")),
        sa.CheckConstraint("label LIKE '%%' OR label IS NULL", name="ck_pct_label"),
        comment="100% sure",
    )
    await op.bulk_insert(t, [{"id": 1, "label": "5% of %s and %(x)s"}])
    await op.execute("INSERT INTO pct (id, label) VALUES (2, 'two % %% %s')")
    await op.execute(sa.text("UPDATE pct SET pat = :p WHERE id = 2").bindparams(p="%d%%"))
    """,
    downgrade='await op.drop_table("pct")',
)


async def test_percent_signs_stay_single(tmp_path: Path, db_url: str, second_db_url: str) -> None:
    """MySQL's drivers (and psycopg) take %s parameters: SQLAlchemy doubles each % for
    them, and offline no driver halves it again."""
    pair = Pair(tmp_path, db_url, second_db_url, [PERCENT])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("pct",))
    rows = await query(db_url, "SELECT label FROM pct ORDER BY id")
    assert rows == [("5% of %s and %(x)s",), ("two % %% %s",)]


SIMPLE = [table_rev("a1", None, "t1"), table_rev("b2", "a1", "t2")]


async def test_down_to_base_and_up_again(tmp_path: Path, db_url: str, second_db_url: str) -> None:
    """A downgrade to base keeps the (empty) version table, as online, and an upgrade
    script from base runs on such a database, however it got there."""
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))
    await pair.compare(("downgrade", "head:base"), ("downgrade", "base"))
    assert await version_rows(db_url) == []
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))
    # Both at base again, online this time: the script from base runs there too.
    await pair.both("downgrade", "base")
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))


async def test_the_history_checks_a_database_migrated_offline(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """The script writes each step's history row, checksum included: ``validate`` checks
    the revisions it applied (they were unchecked), finds an edit, and ``log`` lists them."""
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    if db_url.startswith("postgresql"):  # the script's applied_at is UTC whatever the zone
        name = sa.make_url(db_url).database
        await query(db_url, f"ALTER DATABASE {name} SET timezone = 'Pacific/Kiritimati'")
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))
    async with amigrate.Migrator(pair.project.ini, url=db_url) as m:
        report = await m.validate()
        assert (report.ok, report.checked) == (True, 2)
        assert [(e.revision, e.direction, e.duration) for e in await m.log()] == [
            ("b2", "up", 0.0),
            ("a1", "up", 0.0),
        ]
    path = pair.project.versions / "a1.py"
    path.write_text(path.read_text() + "# edited\n")
    async with amigrate.Migrator(pair.project.ini, url=db_url) as m:
        assert [p.revision for p in (await m.validate()).of_kind("changed")] == ["a1"]


async def test_a_step_s_version_row_commits_with_its_history_row(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """On MySQL too, where the step's DDL commits and the client's session would then
    autocommit each statement: a history row that fails takes its version row with it."""
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    table = HistoryTable().table.to_metadata(sa.MetaData())
    table.append_constraint(sa.CheckConstraint("revision <> 'b2'", name="ck_not_b2"))
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.create)
    finally:
        await engine.dispose()
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        await apply_script(db_url, await pair.render("upgrade", "head"))
    assert await version_rows(db_url) == ["a1"]


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
async def test_a_long_database_user_is_shortened_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """MySQL's CURRENT_USER (user@host) can be longer than the db_user column: a script
    shortens it as the online run does (MySQL refused the row, 'Data too long')."""
    host = "%" * 130  # an account for any host, with a long name
    urls = [sa.make_url(u) for u in (db_url, second_db_url)]
    grants = " ".join(f"GRANT ALL ON `{u.database}`.* TO 'amig_long'@'{host}';" for u in urls)
    await query(db_url, f"DROP USER IF EXISTS 'amig_long'@'{host}'")
    await query(db_url, f"CREATE USER 'amig_long'@'{host}'")
    try:
        for grant in grants.split(";")[:-1]:
            await query(db_url, grant)
        offline, online = (u.set(username="amig_long").render_as_string() for u in urls)
        pair = Pair(tmp_path, offline, online, SIMPLE)
        await pair.compare(("upgrade", "head"), ("upgrade", "head"))
        users = await query(offline, "SELECT DISTINCT db_user FROM amigrate_history")
        assert [(len(u), u.endswith("...")) for (u,) in users] == [(128, True)]
    finally:
        await query(db_url, f"DROP USER IF EXISTS 'amig_long'@'{host}'")


async def test_a_range_script_runs_for_a_role_that_only_changes_data(
    tmp_path: Path, postgresql_url: str
) -> None:
    """The history table is created only where it is missing (PostgreSQL checks the right
    to create before IF NOT EXISTS looks): a data-only step runs as online does."""
    revisions = [
        table_rev("a1", None, "t1"),
        Rev("b2", "a1", upgrade='await op.execute("INSERT INTO t1 (id) VALUES (1)")'),
    ]
    pair = Pair(tmp_path, postgresql_url, postgresql_url, revisions)
    await pair.run(postgresql_url, "upgrade", "a1")
    await query(postgresql_url, "DROP ROLE IF EXISTS amig_dml")
    await query(postgresql_url, "CREATE ROLE amig_dml LOGIN")
    try:
        for grant in (
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "GRANT USAGE ON SCHEMA public TO amig_dml",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO amig_dml",
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO amig_dml",
        ):
            await query(postgresql_url, grant)
        as_role = sa.make_url(postgresql_url).set(username="amig_dml").render_as_string()
        await apply_script(as_role, await pair.render("upgrade", "a1:b2"))
        assert await version_rows(postgresql_url) == ["b2"]
        assert await query(postgresql_url, "SELECT db_user FROM amigrate_history") == [
            ("postgres",),
            ("amig_dml",),
        ]
    finally:
        await query(postgresql_url, "DROP OWNED BY amig_dml")
        await query(postgresql_url, "DROP ROLE amig_dml")


async def test_a_range_script_creates_a_missing_history_table(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """A database Alembic migrated has no history table: a range script makes it before
    the first step writes its row (on MySQL the step's DDL had committed when the row
    failed, leaving the version row behind)."""
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    await pair.run(db_url, "upgrade", "a1")
    await query(db_url, "DROP TABLE amigrate_history")
    await apply_script(db_url, await pair.render("upgrade", "a1:head"))
    assert await version_rows(db_url) == ["b2"]
    rows = await query(db_url, "SELECT revision, status FROM amigrate_history ORDER BY id")
    assert rows == [("b2", "applied")]


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
async def test_a_range_script_runs_for_a_mysql_user_that_only_changes_data(
    tmp_path: Path, db_url: str
) -> None:
    """MySQL checks the right to create before IF NOT EXISTS looks: the history table is
    created only where information_schema says it is missing."""
    revisions = [
        table_rev("a1", None, "t1"),
        Rev("b2", "a1", upgrade='await op.execute("INSERT INTO t1 (id) VALUES (1)")'),
    ]
    pair = Pair(tmp_path, db_url, db_url, revisions)
    await pair.run(db_url, "upgrade", "a1")
    database = sa.make_url(db_url).database
    await query(db_url, "DROP USER IF EXISTS 'amig_dml'@'%'")
    await query(db_url, "CREATE USER 'amig_dml'@'%'")
    try:
        await query(
            db_url, f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO 'amig_dml'@'%'"
        )
        as_user = sa.make_url(db_url).set(username="amig_dml").render_as_string()
        await apply_script(as_user, await pair.render("upgrade", "a1:b2"))
        assert await version_rows(db_url) == ["b2"]
    finally:
        await query(db_url, "DROP USER IF EXISTS 'amig_dml'@'%'")


@pytest.mark.parametrize("revisions", [("a1",), ("b2",), ("heads",)])
async def test_stamp(
    tmp_path: Path, db_url: str, second_db_url: str, revisions: tuple[str, ...]
) -> None:
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    await pair.compare(("stamp", *revisions), ("stamp", *revisions))


@pytest.mark.parametrize("revisions", [("a1",), ("base",)])
async def test_stamp_purge_on_a_database_with_rows(
    tmp_path: Path, db_url: str, second_db_url: str, revisions: tuple[str, ...]
) -> None:
    """--purge replaces whatever rows the version table has (it was ignored offline).
    With no step (``base``) the history has a row for each row it removed, as online;
    with steps, the first one's row cannot name them offline (online it does)."""
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    await pair.both("upgrade", "head")
    if revisions == ("base",):
        script = await pair.compare(("stamp", "base", "--purge"), ("stamp", "base", "--purge"))
        assert "INSERT INTO amigrate_history" in script
        rows = (await state(db_url))["history"]["rows"]
        assert rows[-1][:5] == ("b2", "stamp", "b2", "", "purged from the version table")
        return
    await apply_script(db_url, await pair.render("stamp", *revisions, "--purge"))
    await pair.run(second_db_url, "stamp", *revisions, "--purge")
    offline, online = await state(db_url), await state(second_db_url)
    last = online["history"]["rows"][-1]
    assert last[:4] == ("a1", "stamp", "b2", "a1")
    online["history"]["rows"][-1] = (*last[:2], "", *last[3:])
    assert offline == online


async def test_ensure_version(tmp_path: Path, db_url: str, second_db_url: str) -> None:
    pair = Pair(tmp_path, db_url, second_db_url, SIMPLE)
    await pair.compare(("ensure-version",), ("ensure-version",))
    await pair.compare(("ensure-version",), ("ensure-version",))  # there already: no change


async def test_a_schema_target(tmp_path: Path, postgresql_url: str) -> None:
    """Online, a schema target's schema is created and is the search_path; so offline."""
    pair = Pair(tmp_path, postgresql_url, postgresql_url, SIMPLE, schema="tenant_a")
    script = await pair.render("upgrade", "head")
    assert script.splitlines()[2:5] == [
        "CREATE SCHEMA IF NOT EXISTS tenant_a;",
        "",
        "SET search_path TO tenant_a;",
    ]
    assert script.endswith("RESET search_path;\n")
    await apply_script(postgresql_url, script)
    pair.schema = "tenant_b"  # the same database, online, in a schema of its own
    await pair.run(postgresql_url, "upgrade", "head")
    tables = await query(
        postgresql_url,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema LIKE 'tenant_%' ORDER BY table_name, table_schema",
    )
    found = {schema: sorted(t for s, t in tables if s == schema) for schema, _ in tables}
    assert (
        found["tenant_a"]
        == found["tenant_b"]
        == [
            "amigrate_history",
            "amigrate_version",
            "t1",
            "t2",
        ]
    )
    assert await query(postgresql_url, "SELECT version_num FROM tenant_a.amigrate_version") == [
        ("b2",)
    ]


async def test_a_schema_target_needs_postgresql(tmp_path: Path) -> None:
    pair = Pair(tmp_path, "sqlite+aiosqlite:///x.db", "", SIMPLE, schema="tenant_a")
    with pytest.raises(ConfigError, match="schema targets need PostgreSQL"):
        await pair.render("upgrade", "head")


ENUMS = [
    Rev(
        "e1",
        None,
        upgrade="""
        for name in ("a", "b"):
            await op.create_table(
                name,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("m", sa.Enum("x", "y", name="mood")),
            )
        """,
        downgrade='await op.drop_table("b")\nawait op.drop_table("a")',
    ),
    Rev(
        "e2",
        "e1",
        upgrade="""
        await op.create_table(
            "c",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("m", sa.Enum("x", "y", name="mood")),
            sa.Column("f", Feel()),
        )
        await op.add_column("a", sa.Column("m2", sa.Enum("x", "y", name="mood")))
        await op.add_column("a", sa.Column("m3", sa.Enum("p", "q", name="other")))
        """,
        downgrade="""
        await op.drop_column("a", "m3")
        await op.drop_column("a", "m2")
        await op.drop_table("c")
        """,
        extra="""\
class Feel(sa.types.TypeDecorator):  # its enum is created with the table, as online
    impl = sa.Enum("u", "v", name="feel")
    cache_ok = True
""",
    ),
    Rev(
        "e3",
        "e2",
        upgrade="""
        if op.dialect.name != "sqlite":
            await op.alter_column(
                "a", "m3", type_=sa.Enum("p", "q", "r", name="other2"),
                existing_type=sa.Enum("p", "q", name="other"), existing_nullable=True,
            )
        """,
        downgrade="""
        if op.dialect.name != "sqlite":
            await op.alter_column(
                "a", "m3", type_=sa.Enum("p", "q", name="other"),
                existing_type=sa.Enum("p", "q", "r", name="other2"), existing_nullable=True,
            )
        """,
    ),
]


async def test_enum_types_as_online(tmp_path: Path, db_url: str, second_db_url: str) -> None:
    """PostgreSQL: a type is created only where missing (tables share one), and dropped
    when nothing uses it any more (a dropped table or column, a column's new type)."""
    pair = Pair(tmp_path, db_url, second_db_url, ENUMS)
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))
    await pair.compare(("downgrade", "head:e1"), ("downgrade", "e1"))
    await pair.compare(("upgrade", "e1:e2"), ("upgrade", "e2"))  # mood exists already
    await pair.compare(("downgrade", "e2:base"), ("downgrade", "base"))
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))  # nothing left over


#: Revisions written for Alembic, which never drops an enum type: they manage the type
#: themselves (create_type=False, CREATE/DROP TYPE), which amigrate must not get in the way of.
ALEMBIC_ENUMS = [
    Rev(
        "m1",
        None,
        upgrade="""
        if op.dialect.name == "postgresql":
            await op.execute("CREATE TYPE mood AS ENUM ('happy', 'sad')")
            await op.create_table(
                "person",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("mood", ENUM("happy", "sad", name="mood", create_type=False)),
            )
        """,
        downgrade="""
        if op.dialect.name == "postgresql":
            await op.drop_table("person")
            await op.execute("DROP TYPE mood")
        """,
        extra="from sqlalchemy.dialects.postgresql import ENUM",
    ),
    Rev(
        "m2",
        "m1",
        upgrade="""
        if op.dialect.name == "postgresql":
            await op.drop_column("person", "mood")
            await op.add_column("person", sa.Column("mood", ENUM(name="mood", create_type=False)))
            # A value added the way Alembic users do it: a new type, the old one dropped.
            await op.execute("ALTER TYPE mood RENAME TO mood_old")
            await op.execute("CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh')")
            await op.alter_column(
                "person", "mood", type_=ENUM(name="mood", create_type=False),
                existing_type=ENUM(name="mood_old", create_type=False),
                postgresql_using="mood::text::mood",
            )
            await op.execute("DROP TYPE mood_old")
        """,
        downgrade="""
        if op.dialect.name == "postgresql":
            await op.drop_column("person", "mood")
            await op.execute("DROP TYPE mood")
            await op.execute("CREATE TYPE mood AS ENUM ('happy', 'sad')")
            await op.add_column("person", sa.Column("mood", ENUM(name="mood", create_type=False)))
        """,
        extra="from sqlalchemy.dialects.postgresql import ENUM",
    ),
    Rev(
        "m3",
        "m2",
        upgrade="""
        if op.dialect.name == "postgresql":
            # amigrate's own way: the type the dropped table left unused is replaced.
            await op.drop_table("person")
            await op.create_table(
                "person2",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("mood", sa.Enum("x", "y", name="mood")),
            )
        """,
        downgrade="""
        if op.dialect.name == "postgresql":
            await op.drop_table("person2")
            await op.create_table(
                "person",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("mood", sa.Enum("happy", "sad", "meh", name="mood")),
            )
        """,
    ),
]


async def test_enum_types_a_revision_manages_itself(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """PostgreSQL: drop_table and drop_column dropped the table's enum types at once, so
    that the revision's own 'DROP TYPE mood' failed ('type "mood" does not exist'), and
    so did giving a column the type again (create_type=False). The types are now dropped
    at the end of the revision, if nothing uses them then (online and offline alike)."""
    pair = Pair(tmp_path, db_url, second_db_url, ALEMBIC_ENUMS)
    await pair.compare(("upgrade", "m2"), ("upgrade", "m2"))
    await pair.compare(("upgrade", "m2:head"), ("upgrade", "head"))
    if db_url.startswith("postgresql"):
        moods = await query(db_url, "SELECT enum_range(NULL::mood)::text")
        assert moods == [("{x,y}",)]  # (replaced: the old one was left unused)
    await pair.compare(("downgrade", "head:base"), ("downgrade", "base"))
    assert (await describe(db_url)).get("enums", []) == []
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))


NEWLINES = Rev(
    "l1",
    None,
    upgrade="""
    await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("c", sa.String(20)))
    if op.dialect.name != "sqlite":
        await op.alter_column(
            "t", "c", type_=sa.Enum("a\\nb", "c", name="two_lines"),
            existing_type=sa.String(20), existing_nullable=True,
            comment="line one\\nline two", server_default="a\\nb",
        )
    """,
    downgrade='await op.drop_table("t")',
)


async def test_values_with_a_newline(tmp_path: Path, db_url: str, second_db_url: str) -> None:
    """A comment, default or enum label holding a newline is the same offline as online
    (PostgreSQL's DO blocks must not indent inside string literals)."""
    pair = Pair(tmp_path, db_url, second_db_url, [NEWLINES])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"))
    if db_url.startswith("postgresql"):
        labels = "SELECT enumlabel FROM pg_enum ORDER BY enumsortorder"
        assert await query(db_url, labels) == await query(second_db_url, labels)
        assert await query(db_url, labels) == [("a\nb",), ("c",)]
    await pair.compare(("downgrade", "head:base"), ("downgrade", "base"))


JSON_AND_BYTES = Rev(
    "j1",
    None,
    upgrade="""
    from sqlalchemy.dialects import postgresql

    class Tagged(sa.TypeDecorator):
        impl = sa.JSON
        cache_ok = True

        def process_bind_param(self, value, dialect):
            return {"tagged": value}

    t = await op.create_table(
        "jb",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("doc", sa.JSON),
        sa.Column("bdoc", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.Column("nulls", sa.JSON(none_as_null=True)),
        sa.Column("tagged", Tagged),
        sa.Column("raw", sa.LargeBinary),
        sa.Column("pick", sa.PickleType),
    )
    doc = {"a": [1, "x'y", "back\\\\slash", "quote\\"", "\u00e9 \u2603", None, 2.5, True]}
    rows = [
        {"id": 1, "doc": doc, "bdoc": doc, "nulls": doc, "tagged": [1], "raw": bytes(range(256)),
         "pick": [1, 2, 3]},
        {"id": 2, "doc": None, "bdoc": [], "nulls": None, "tagged": None, "raw": b""},
        {"id": 3, "doc": "text", "bdoc": 0, "pick": 5, "raw": b"'\\\\%s"},
    ]
    await op.bulk_insert(t, rows)
    await op.bulk_insert(t, [dict(r, id=r["id"] + 10) for r in rows], multiinsert=False)
    """,
    downgrade='await op.drop_table("jb")',
)


async def test_json_and_bytes_are_stored_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """SQLAlchemy renders no literal for JSON or bytes: offline they are the JSON text
    the driver would get and a hex literal."""
    pair = Pair(tmp_path, db_url, second_db_url, [JSON_AND_BYTES])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("jb",))
    rows = await query(db_url, "SELECT raw FROM jb ORDER BY id")
    assert [bytes(r[0]) if r[0] is not None else None for r in rows] == [
        bytes(range(256)),
        b"",
        b"'\\%s",
    ] * 2


COMMON_TYPES = Rev(
    "k1",
    None,
    upgrade="""
    import datetime as dt, decimal, uuid, enum
    from sqlalchemy.dialects import postgresql
    class Color(enum.Enum):
        red = 1
        blue = 2
    pg = op.dialect.name == "postgresql"
    cols = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("num", sa.Numeric(12, 4)),
        sa.Column("flt", sa.Float),
        sa.Column("d", sa.Date),
        sa.Column("t", sa.Time),
        sa.Column("ts", sa.DateTime),
        sa.Column("tstz", sa.DateTime(timezone=True)),
        sa.Column("iv", sa.Interval),
        sa.Column("b", sa.Boolean),
        sa.Column("u", sa.Uuid),
        sa.Column("e", sa.Enum(Color, name="color")),
        sa.Column("txt", sa.Text),
        sa.Column("big", sa.BigInteger),
    ]
    if pg:
        cols += [
            sa.Column("arr", postgresql.ARRAY(sa.Integer)),
            sa.Column("sarr", postgresql.ARRAY(sa.String)),
            sa.Column("inet", postgresql.INET),
        ]
    t = await op.create_table("ty", *cols)
    utc2 = dt.timezone(dt.timedelta(hours=2))
    row = {
        "id": 1, "num": decimal.Decimal("12345678.1234"), "flt": 1.0 / 3,
        "d": dt.date(2026, 2, 3), "t": dt.time(4, 5, 6, 789),
        "ts": dt.datetime(2026, 2, 3, 4, 5, 6, 789),
        "tstz": dt.datetime(2026, 2, 3, 4, 5, 6, 789, tzinfo=utc2),
        "iv": dt.timedelta(days=3, seconds=5, microseconds=7), "b": False,
        "u": uuid.UUID(int=77), "e": Color.blue, "big": 2**62,
        "txt": "tab\\there \\\\ back 'q' \\u00e9\\u2603 %s %%",
    }
    if pg:
        strings = ["a'b", 'c"d', "e,f", "{g}", "h\\\\i", None, ""]
        row.update(arr=[1, None, 3], sarr=strings, inet="10.0.0.1")
    rows = [row, {"id": 2}]
    if pg:
        rows.append({"id": 4, "arr": [], "sarr": ["x", "{y}", 'z"'], "inet": "::1"})
    await op.bulk_insert(t, rows)
    await op.bulk_insert(t, [dict(row, id=3)], multiinsert=False)
    """,
    downgrade='await op.drop_table("ty")',
)


async def test_common_types_are_stored_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """Values SQLAlchemy renders no literal for: sa.Interval where it is stored as a
    DATETIME, PostgreSQL arrays holding NULL, text for a type of its own (INET)."""
    pair = Pair(tmp_path, db_url, second_db_url, [COMMON_TYPES])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("ty",))


AWARE = Rev(
    "z1",
    None,
    upgrade="""
    t = await op.create_table("at", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime), sa.Column("t", sa.Time))
    plus2 = dt.timezone(dt.timedelta(hours=2))
    await op.bulk_insert(t, [{"id": 1, "at": dt.datetime(2026, 1, 2, 12, 30, tzinfo=plus2),
        "t": dt.time(8, 15, tzinfo=plus2)}])
    untyped = sa.table("at", sa.column("id"), sa.column("at"))
    await op.bulk_insert(untyped, [{"id": 2, "at": dt.datetime(2026, 1, 2, 12, 30, tzinfo=plus2)}],
        multiinsert=False)
    """,
    downgrade='await op.drop_table("at")',
    extra="import datetime as dt",
)


NAIVE_TZ = Rev(
    "n1",
    None,
    upgrade="""
    t = await op.create_table("tz", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True)))
    await op.bulk_insert(t, [{"id": 1, "at": dt.datetime(2021, 5, 5, 10, 0)}])
    await op.execute(sa.insert(t).values(id=2, at=dt.datetime(2021, 5, 5, 11, 0)))
    """,
    downgrade='await op.drop_table("tz")',
    extra="import datetime as dt",
)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_naive_datetime_for_a_timestamptz_is_local_time_as_online(
    tmp_path: Path, db_url: str, second_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncpg takes a naive value for TIMESTAMP WITH TIME ZONE in the client's local time
    zone; the script's literal was read in the session's (another one here)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        pair = Pair(tmp_path, db_url, second_db_url, [NAIVE_TZ])
        script = await pair.render("upgrade", "head")
        await apply_script(db_url, "SET timezone = 'Asia/Tokyo';\n" + script)
        await pair.run(second_db_url, "upgrade", "head")
    finally:
        monkeypatch.undo()
        time.tzset()
    sql = "SELECT id, at FROM tz ORDER BY id"
    assert await query(db_url, sql) == await query(second_db_url, sql)
    (first, _) = await query(db_url, sql)
    assert first[1] == dt.datetime(2021, 5, 5, 14, 0, tzinfo=dt.UTC)  # 10:00 EDT


NOT_FINITE = Rev(
    "f1",
    None,
    upgrade="""
    t = await op.create_table("fl", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("f", sa.Float))
    await op.bulk_insert(t, [{"id": 1, "f": float("inf")}, {"id": 2, "f": float("-inf")},
        {"id": 3, "f": float("nan")}])
    """,
    downgrade='await op.drop_table("fl")',
)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_infinity_and_nan_are_stored_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """SQLAlchemy writes them as bare inf / nan, which the database reads as column names."""
    pair = Pair(tmp_path, db_url, second_db_url, [NOT_FINITE])
    script = await pair.render("upgrade", "head")
    await apply_script(db_url, script)
    await pair.run(second_db_url, "upgrade", "head")
    sql = "SELECT id, CAST(f AS TEXT) FROM fl ORDER BY id"
    assert await query(db_url, sql) == await query(second_db_url, sql)


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
async def test_infinity_is_refused_offline_on_mysql(tmp_path: Path, db_url: str) -> None:
    """MySQL stores neither (online the driver's value fails the step)."""
    pair = Pair(tmp_path, db_url, db_url, [NOT_FINITE])
    with pytest.raises(MigrationFailed, match="cannot store the float inf"):
        await pair.render("upgrade", "head")


NUL_TEXT = Rev(
    "z1",
    None,
    upgrade="""
    t = await op.create_table("nul", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("s", sa.String(20)))
    await op.bulk_insert(t, [{"id": 1, "s": "a\\x00b"}, {"id": 2, "s": "after"}])
    await op.execute(t.update().where(t.c.id == 2).values(s="\\x00"))
    """,
    downgrade='await op.drop_table("nul")',
)


@pytest.mark.parametrize("db_url", ["sqlite", "mysql"], indirect=True)
async def test_a_nul_character_is_stored_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """The clients read a script as C strings: a raw NUL cut the statement (sqlite3) or
    stopped the client (mysql). Written char(0) / \\0, it is stored as online."""
    pair = Pair(tmp_path, db_url, second_db_url, [NUL_TEXT])
    script = await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("nul",))
    assert "\x00" not in script
    assert await query(db_url, "SELECT s FROM nul ORDER BY id") == [("a\x00b",), ("\x00",)]


async def test_a_nul_character_is_refused_offline_on_postgresql(
    tmp_path: Path, postgresql_url: str
) -> None:
    """PostgreSQL's text cannot hold one (online the step fails too)."""
    pair = Pair(tmp_path, postgresql_url, postgresql_url, [NUL_TEXT])
    with pytest.raises(MigrationFailed, match="cannot store a NUL character"):
        await pair.render("upgrade", "head")


UNBOUND = Rev("u1", None, upgrade='await op.execute(sa.text("DELETE FROM t WHERE id = :x"))')


async def test_a_bind_parameter_without_a_value_is_refused(tmp_path: Path, db_url: str) -> None:
    """Online it fails the step; SQLAlchemy's literal was NULL (a DELETE matching nothing)."""
    pair = Pair(tmp_path, db_url, db_url, [UNBOUND])
    with pytest.raises(MigrationFailed, match="a value is required for the bind parameter 'x'"):
        await pair.render("upgrade", "head")


@pytest.mark.parametrize("db_url", ["sqlite", "mysql"], indirect=True)
async def test_an_aware_datetime_is_its_wall_time_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """The drivers of MySQL (and SQLite's) store an aware value's wall time; the literal
    offline did not (MariaDB rejected '2026-01-02 12:30:00+02:00')."""
    pair = Pair(tmp_path, db_url, second_db_url, [AWARE])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("at",))
    rows = await query(db_url, "SELECT at, t FROM at ORDER BY id")
    assert str(rows[0][0]).startswith("2026-01-02 12:30:00")
    assert str(rows[1][0]).startswith("2026-01-02 12:30:00")
    assert str(rows[0][1]).startswith(("8:15:00", "08:15:00"))


INTERVALS = Rev(
    "i1",
    None,
    upgrade="""
    t = await op.create_table("iv", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("span", sa.Interval), sa.Column("spans", sa.ARRAY(sa.Interval)))
    await op.execute(t.insert().values(id=5, span=dt.timedelta(days=2, seconds=1),
        spans=[dt.timedelta(days=1, seconds=5), None]))
    await op.bulk_insert(t, [
        {"id": 1, "span": dt.timedelta(days=1, seconds=5, microseconds=7)},
        {"id": 2, "span": dt.timedelta(days=-1, seconds=5)},
        {"id": 3, "span": dt.timedelta(0)},
    ], multiinsert=False)
    untyped = sa.table("iv", sa.column("id"), sa.column("span"))
    await op.bulk_insert(untyped, [{"id": 4, "span": dt.timedelta(days=40)}], multiinsert=False)
    """,
    downgrade='await op.drop_table("iv")',
    extra="import datetime as dt",
)


async def test_an_interval_is_stored_as_online(tmp_path: Path, postgresql_url: str) -> None:
    """asyncpg sends a timedelta's days apart; the literal was all seconds ('24:00:05'
    instead of '1 day 00:00:05': equal, but not the same value to look at)."""
    online = create_async_engine(postgresql_url, poolclass=NullPool)
    try:
        project = make_project(tmp_path, postgresql_url, INTERVALS)
        await amigrate.upgrade(project.config())
        async with online.connect() as conn:
            text = "SELECT id, span::text, spans::text FROM iv ORDER BY id"
            rows = (await conn.execute(sa.text(text))).all()
        assert [r[1] for r in rows] == [
            "1 day 00:00:05.000007",
            "-1 days +00:00:05",
            "00:00:00",
            "40 days",
            "2 days 00:00:01",
        ]
        assert rows[-1][2] == '{"1 day 00:00:05",NULL}'
        await amigrate.downgrade(project.config(), "base")
        async with amigrate.Migrator(project.config()) as m:
            script = (await m.sql("up", "head")).sql
        assert script is not None
        assert "make_interval(days => 1, secs => 5.000007)" in script
        await apply_script(postgresql_url, script)
        async with online.connect() as conn:
            again = (await conn.execute(sa.text(text))).all()
        assert again == rows
    finally:
        await online.dispose()


CUSTOM_TYPES_EXTRA = """\
import datetime as dt


class UTCDateTime(sa.types.TypeDecorator):
    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise TypeError("tzinfo is required")
        return None if value is None else value.astimezone(dt.timezone.utc).replace(tzinfo=None)


class Micros(sa.types.TypeDecorator):
    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value // dt.timedelta(microseconds=1)
"""

CUSTOM_TYPES = Rev(
    "k1",
    None,
    upgrade="""
    await op.create_table("kt", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.DateTime), sa.Column("dur", sa.BigInteger))
    kt = sa.table("kt", sa.column("id", sa.Integer), sa.column("ts", UTCDateTime()),
        sa.column("dur", Micros()))
    row = {"id": 1, "ts": dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "dur": dt.timedelta(days=1, seconds=5)}
    await op.bulk_insert(kt, [row], multiinsert=False)
    """,
    downgrade='await op.drop_table("kt")',
    extra=CUSTOM_TYPES_EXTRA,
)


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_a_type_decorator_sees_the_values_as_given(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """A column's own type (a TypeDecorator) gets the aware datetime and the timedelta
    as they were given, online and offline (they were adjusted before it saw them)."""
    pair = Pair(tmp_path, db_url, second_db_url, [CUSTOM_TYPES])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("kt",))
    rows = await query(db_url, "SELECT ts, dur FROM kt")
    assert str(rows[0][0]).startswith("2026-01-01 10:00:00")
    assert rows[0][1] == 86_405_000_000


DECORATED_ARRAYS = Rev(
    "da1",
    None,
    upgrade="""
    t = await op.create_table("da", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nums", Numbers()), sa.Column("tags", Tags()), sa.Column("doc", Doc()),
        sa.Column("raw", Raw()), sa.Column("vdoc", sa.Text().with_variant(JSONB(), "postgresql")),
        sa.Column("vraw", sa.String(8).with_variant(BYTEA(), "postgresql")),
        sa.Column("vnums", sa.Text().with_variant(postgresql.ARRAY(sa.Integer), "postgresql")),
        sa.Column("always", Always()))
    await op.bulk_insert(t, [{"id": 1, "nums": [1, None, 3], "tags": ["b", "a", "b"],
        "doc": {"x": 1}, "raw": b"\\x00\\x01", "vdoc": {"y": [2]}, "vraw": b"\\x00\\xff",
        "vnums": [4, None], "always": None},
        {"id": 2, "nums": [], "tags": [], "vnums": [], "always": [5]}, {"id": 3}])
    """,
    downgrade='await op.drop_table("da")',
    extra="""\
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import BYTEA, JSONB


class InnerNumbers(sa.types.TypeDecorator):
    impl = postgresql.ARRAY(sa.Integer)
    cache_ok = True


class Numbers(sa.types.TypeDecorator):
    impl = InnerNumbers
    cache_ok = True


class Tags(sa.types.TypeDecorator):
    impl = postgresql.ARRAY(sa.String)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else sorted(set(value))


class Always(sa.types.TypeDecorator):  # None is an empty array, online and offline
    impl = postgresql.ARRAY(sa.Integer)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return [] if value is None else value


class InnerDoc(sa.types.TypeDecorator):
    impl = JSONB
    cache_ok = True


class Doc(sa.types.TypeDecorator):  # decorators over decorators
    impl = InnerDoc
    cache_ok = True


class InnerRaw(sa.types.TypeDecorator):
    impl = sa.LargeBinary
    cache_ok = True


class Raw(sa.types.TypeDecorator):
    impl = InnerRaw
    cache_ok = True
""",
)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_type_decorator_over_an_array_is_stored_as_online(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """Its own processing first, then the array's rendering: a NULL item and an empty
    array (SQLAlchemy's literal fails on the one and writes the other without a type);
    decorators over decorators and with_variant(...) types of JSON, bytes and arrays."""
    pair = Pair(tmp_path, db_url, second_db_url, [DECORATED_ARRAYS])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("da",))
    rows = await query(db_url, "SELECT nums, tags, doc::text, raw, vdoc::text FROM da ORDER BY id")
    always = await query(db_url, "SELECT always FROM da ORDER BY id")
    assert always == [([],), ([5],), (None,)]  # (row 3 gives no value at all)
    assert [tuple(r) for r in rows] == [
        ([1, None, 3], ["a", "b"], '{"x": 1}', b"\x00\x01", '{"y": [2]}'),
        ([], [], None, None, None),
        (None, None, None, None, None),
    ]


SCRIPTED = Rev(
    "s1",
    None,
    upgrade='''
    await op.create_table(
        "aux",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer),
        sa.Column("note", sa.String(40)),
        sa.Column("order_id", sa.Integer),
    )
    if op.dialect.name == "postgresql":
        await op.execute("""CREATE FUNCTION aux_bump() RETURNS trigger AS $$
    BEGIN
      NEW.n := coalesce(NEW.n, 0) + 1;
      RETURN NEW;
    END;
    $$ LANGUAGE plpgsql""")
        await op.execute(
            "CREATE TRIGGER aux_bump BEFORE INSERT ON aux FOR EACH ROW EXECUTE FUNCTION aux_bump()"
        )
    elif op.dialect.name == "sqlite":
        await op.execute("""CREATE TRIGGER aux_bump AFTER INSERT ON aux
    BEGIN
      UPDATE aux SET n = coalesce(n, 0) + 1 WHERE id = NEW.id;
      UPDATE aux SET n = n + 0 WHERE id = NEW.id;
    END""")
    else:
        await op.execute("""CREATE TRIGGER aux_bump BEFORE INSERT ON aux FOR EACH ROW
    BEGIN
      SET NEW.n = coalesce(NEW.n, 0) + 1;
      SET NEW.n = NEW.n + 0;
    END""")
    await op.execute("INSERT INTO aux (id, note) VALUES (1, 'a;b');")
    await op.execute("INSERT INTO aux (id, note) VALUES (2, 'emoji 😀') -- a comment")
    await op.execute("INSERT INTO aux (id, note) VALUES (3, 'last') -- a comment;")
    ''',
    downgrade="""
    await op.drop_table("aux")
    if op.dialect.name == "postgresql":
        await op.execute("DROP FUNCTION aux_bump()")
    """,
)


async def test_statements_the_client_reads_whole(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """A trigger body holding semicolons (MySQL: between DELIMITER lines), SQL that ends
    with a semicolon or a line comment, and text beyond the client's character set."""
    pair = Pair(tmp_path, db_url, second_db_url, [SCRIPTED])
    await pair.compare(("upgrade", "head"), ("upgrade", "head"), ("aux",))
    assert await query(db_url, "SELECT id, n, note FROM aux ORDER BY id") == [
        (1, 1, "a;b"),
        (2, 1, "emoji 😀"),
        (3, 1, "last"),
    ]
    await pair.compare(("downgrade", "head:base"), ("downgrade", "base"))


BLOCK_THEN_FAILURE = [
    Rev(
        "f1",
        None,
        upgrade="""
        await op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))
        async with op.autocommit_block():
            await op.create_index(
                "ix_t1_id", "t1", ["id"], postgresql_concurrently=op.dialect.name == "postgresql"
            )
        """,
    ),
    Rev(
        "f2",
        "f1",
        upgrade="""
        await op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))
        await op.execute("INSERT INTO missing (id) VALUES (1)")
        """,
    ),
]


async def test_one_transaction_a_step_with_an_autocommit_block_commits_its_version(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """In one transaction for the run, a step whose autocommit block committed its work
    commits its version row with it, so that a later failure does not leave its work
    unrecorded."""
    settings = {"transaction_per_migration": "false"}
    pair = Pair(tmp_path, db_url, second_db_url, BLOCK_THEN_FAILURE, **settings)
    await pair.compare_failed()
    assert await version_rows(db_url) == ["f1"]


DATA_THEN_FAILURE = [
    Rev(
        "d1",
        None,
        upgrade="""
        await op.create_table(
            "t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer)
        )
        """,
    ),
    Rev(
        "d2",
        "d1",
        upgrade="""
        await op.execute("INSERT INTO t (id, n) VALUES (1, 1)")
        await op.execute("INSERT INTO t (id, n) VALUES (1, 2)")
        """,
    ),
]


async def test_a_failed_step_leaves_no_rows_behind(
    tmp_path: Path, db_url: str, second_db_url: str
) -> None:
    """A step's row changes and its version row commit together, MySQL too: a step
    that fails leaves none of them (a rerun would insert them again)."""
    pair = Pair(tmp_path, db_url, second_db_url, DATA_THEN_FAILURE)
    await pair.compare_failed(("t",))
    assert await query(db_url, "SELECT * FROM t") == []


# -- a whole project: a branchy history, a broad set of operations ---------------------

PRE = """
import datetime as dt
pg = op.dialect.name == "postgresql"
sqlite = op.dialect.name == "sqlite"
"""

ACCOUNT_UP = (
    PRE
    + """
account = await op.create_table(
    "account",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, unique=True, comment="it's the login"),
    sa.Column("name", sa.String(50), server_default="it's \\\\ \\"q\\" 100%", nullable=False),
    sa.Column("status", sa.Enum("new", "it's", "old", name="acct_status"), server_default="new"),
    sa.Column("born", sa.Date),
    sa.Column("seen", sa.DateTime),
    sa.Column("score", sa.Numeric(10, 2), server_default=sa.text("0")),
    sa.Column("flag", sa.Boolean, nullable=False, server_default=sa.false()),
    comment="people's 100% table",
)
await op.create_index("ix_account_name", "account", ["name"])
await op.bulk_insert(
    account,
    [
        {"id": 1, "email": "o'brien@x", "name": "back\\\\slash %s %%", "status": "it's",
         "born": dt.date(2000, 1, 2), "seen": dt.datetime(2020, 5, 6, 7, 8, 9), "score": 1.5,
         "flag": True},
        {"id": 2, "email": "ünï©ødé@x", "name": "héllo 😀 ☃", "born": None, "flag": False},
        {"id": 3, "email": "semi;colon@x", "name": "a;b -- no /* comment */ 'q'", "flag": False},
    ],
)
"""
)
ACCOUNT_DOWN = """
await op.drop_index("ix_account_name", "account")
await op.drop_table("account")
"""

DATA_UP = (
    PRE
    + """
await op.add_column("account", sa.Column("nick", sa.String(30), server_default="x'y"))
await op.add_column("account", sa.Column("note", sa.Text))
if not sqlite:
    await op.alter_column(
        "account", "nick", type_=sa.String(60), existing_type=sa.String(30),
        existing_server_default="x'y", existing_nullable=True,
    )
await op.alter_column("account", "note", new_column_name="remark")
await op.execute(
    sa.text("UPDATE account SET remark = :r, seen = :s WHERE id = :i").bindparams(
        r="tab\\tq'uote\\\\b \\"d\\" ünï 😀 %s %% :notparam",
        s=dt.datetime(2021, 1, 2, 3, 4, 5),
        i=1,
    )
)
await op.execute(
    sa.text("UPDATE account SET remark = :r, born = :b WHERE id = :i").bindparams(
        r=None, b=dt.date(1999, 12, 31), i=2
    )
)
await op.execute("UPDATE account SET nick = 'plain 50%' WHERE id = 3;")
await op.execute("-- a comment first\\nUPDATE account SET score = 7 WHERE id = 2")
acc = sa.table("account", sa.column("id", sa.Integer), sa.column("nick", sa.String))
await op.execute(
    acc.update()
    .where(acc.c.id == op.inline_literal(1))
    .values(nick=op.inline_literal("new\\nline"))
)
"""
)
DATA_DOWN = (
    PRE
    + """
await op.alter_column("account", "remark", new_column_name="note")
await op.drop_column("account", "note")
await op.drop_column("account", "nick")
"""
)

ORDERS_COLUMNS = """
sa.Column("id", sa.Integer, primary_key=True),
sa.Column(
    "account_id", sa.Integer,
    sa.ForeignKey("account.id", ondelete="CASCADE", name="fk_orders_account"), nullable=False,
),
sa.Column("status", sa.Enum("new", "it's", "old", name="acct_status")),
sa.Column("kind", sa.Enum("a", "b", name="order_kind")),
"""

ORDERS_UP = (
    PRE
    + f"""
orders = await op.create_table("orders", {ORDERS_COLUMNS})
await op.bulk_insert(
    orders, [{{"id": 10, "account_id": 1, "status": "old", "kind": "a"}}], multiinsert=False
)
if pg:
    async with op.autocommit_block():
        await op.create_index(
            "ix_orders_account", "orders", ["account_id"], postgresql_concurrently=True
        )
else:
    await op.create_index("ix_orders_account", "orders", ["account_id"])
"""
)
ORDERS_DOWN = (
    PRE
    + """
if pg:
    async with op.autocommit_block():
        await op.drop_index("ix_orders_account", "orders", postgresql_concurrently=True)
elif sqlite:
    await op.drop_index("ix_orders_account", "orders")
await op.drop_table("orders")
"""
)

QTY_UP = (
    PRE
    + f"""
if sqlite:
    copy = sa.Table(
        "orders", sa.MetaData(), {ORDERS_COLUMNS} sa.Index("ix_orders_account", "account_id")
    )
    async with op.batch_alter_table("orders", copy_from=copy) as batch:
        await batch.add_column(sa.Column("qty", sa.Integer, nullable=False, server_default="1"))
        await batch.create_check_constraint("ck_orders_qty", "qty > 0")
        await batch.alter_column("kind", new_column_name="category")
else:
    await op.add_column("orders", sa.Column("qty", sa.Integer, nullable=False, server_default="1"))
    await op.create_check_constraint("ck_orders_qty", "orders", "qty > 0")
    await op.alter_column(
        "orders", "kind", new_column_name="category",
        existing_type=sa.Enum("a", "b", name="order_kind"), existing_nullable=True,
    )
    await op.alter_column(
        "orders", "category", type_=sa.Enum("a", "b", "c", name="order_category"),
        existing_type=sa.Enum("a", "b", name="order_kind"), existing_nullable=True,
    )
    await op.create_table_comment("orders", "what's ordered")
"""
)
QTY_DOWN = (
    PRE
    + """
if sqlite:
    copy = sa.Table(
        "orders", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id", sa.Integer,
            sa.ForeignKey("account.id", ondelete="CASCADE", name="fk_orders_account"),
            nullable=False,
        ),
        sa.Column("status", sa.Enum("new", "it's", "old", name="acct_status")),
        sa.Column("category", sa.Enum("a", "b", name="order_kind")),
        sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("qty > 0", name="ck_orders_qty"),
        sa.Index("ix_orders_account", "account_id"),
    )
    async with op.batch_alter_table("orders", copy_from=copy) as batch:
        await batch.alter_column("category", new_column_name="kind")
        await batch.drop_constraint("ck_orders_qty", type_="check")
        await batch.drop_column("qty")
else:
    await op.drop_table_comment("orders", existing_comment="what's ordered")
    await op.alter_column(
        "orders", "category", type_=sa.Enum("a", "b", name="order_kind"),
        existing_type=sa.Enum("a", "b", "c", name="order_category"), existing_nullable=True,
    )
    await op.alter_column(
        "orders", "category", new_column_name="kind",
        existing_type=sa.Enum("a", "b", name="order_kind"), existing_nullable=True,
    )
    await op.drop_constraint("ck_orders_qty", "orders", type_="check")
    await op.drop_column("orders", "qty")
"""
)

# The trigger (its body holds semicolons), SQL ending in ; or a line comment, an emoji.
AUX_UP, AUX_DOWN = SCRIPTED.upgrade, SCRIPTED.downgrade

AUX_COLUMNS = (
    'sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer), '
    'sa.Column("note", sa.String(40)), sa.Column("order_id", sa.Integer)'
)
AUX_FK_UP = f"""
if op.dialect.name == "sqlite":
    copy = sa.Table("aux", sa.MetaData(), {AUX_COLUMNS})
    async with op.batch_alter_table("aux", copy_from=copy) as batch:
        await batch.create_foreign_key("fk_aux_order", "orders", ["order_id"], ["id"])
else:
    await op.create_foreign_key("fk_aux_order", "aux", "orders", ["order_id"], ["id"])
"""
AUX_FK_DOWN = f"""
if op.dialect.name == "sqlite":
    copy = sa.Table(
        "aux", sa.MetaData(), {AUX_COLUMNS},
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_aux_order"),
    )
    async with op.batch_alter_table("aux", copy_from=copy) as batch:
        await batch.drop_constraint("fk_aux_order", type_="foreignkey")
else:
    await op.drop_constraint("fk_aux_order", "aux", type_="foreignkey")
"""

HISTORY = [
    Rev("r1", None, message="account", upgrade=ACCOUNT_UP, downgrade=ACCOUNT_DOWN),
    Rev("r2", "r1", message="columns and data", upgrade=DATA_UP, downgrade=DATA_DOWN),
    Rev(
        "r3",
        "r1",
        message="orders",
        upgrade=ORDERS_UP,
        downgrade=ORDERS_DOWN,
        branch_labels=("feature",),
    ),
    Rev("r4", ("r2", "r3"), message="merge"),
    Rev("r5", "r4", message="order quantities", upgrade=QTY_UP, downgrade=QTY_DOWN),
    Rev("x1", None, message="aux", upgrade=AUX_UP, downgrade=AUX_DOWN, branch_labels=("aux",)),
    Rev("x2", "x1", message="aux fk", upgrade=AUX_FK_UP, downgrade=AUX_FK_DOWN, depends_on=("r3",)),
]

DATA = ("account", "orders", "aux")


@pytest.fixture(params=["per_migration", "per_run"])
def pair(request: pytest.FixtureRequest, tmp_path: Path, db_url: str, second_db_url: str) -> Pair:
    per_migration = "true" if request.param == "per_migration" else "false"
    return Pair(tmp_path, db_url, second_db_url, HISTORY, transaction_per_migration=per_migration)


async def test_upgrade_downgrade_and_upgrade_again(pair: Pair) -> None:
    await pair.compare(("upgrade", "heads"), ("upgrade", "heads"), DATA)
    await pair.compare(("downgrade", "heads:base"), ("downgrade", "base"))
    # What the downgrade left lets the same script run again (a type, the version table).
    await pair.compare(("upgrade", "heads"), ("upgrade", "heads"), DATA)


async def test_ranges_from_a_database_in_between(pair: Pair) -> None:
    # Each range starts where the database is: its lower end names the database's heads.
    await pair.both("upgrade", "r2")
    await pair.compare(("downgrade", "r2:r1"), ("downgrade", "r1"), ("account",))
    await pair.compare(("upgrade", "r1:r2"), ("upgrade", "r2"), ("account",))
    await pair.compare(("upgrade", "r2:feature@head"), ("upgrade", "feature@head"), DATA[:2])
    await pair.compare(("upgrade", "r5:heads"), ("upgrade", "heads"), DATA)
    await pair.compare(("downgrade", "heads:r3"), ("downgrade", "r3"), DATA[:2])
