"""Table ops on SQLite, PostgreSQL and MariaDB: applied, reflected, and undone.

Each test applies the op in a real revision over a set-up revision, checks the
result by reflection, downgrades, and checks the schema is back as it was
(``op_roundtrip``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from tests.integration.test_ops_support import (
    backend,
    describe,
    expect_failure,
    op_roundtrip,
    query,
)
from tests.projects import Rev, make_project

ACCOUNT = """
await op.create_table(
    "account",
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, comment="login"),
    sa.Column("active", sa.Boolean, server_default=sa.true(), nullable=False),
    sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
    sa.Column("kind", sa.Enum("basic", "premium", name="kind", native_enum=False)),
    sa.Column("settings", sa.JSON),
    sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("amount", sa.Numeric(10, 2), server_default="0"),
    sa.Column("note", sa.Text),
    sa.UniqueConstraint("email", name="uq_account_email"),
    sa.CheckConstraint("amount >= 0", name="ck_account_amount"),
    sa.Index("ix_account_created", "created"),
    comment="people",
)
"""


async def test_create_table(db_url: str, tmp_path: Path) -> None:
    kind = backend(db_url)
    _, after = await op_roundtrip(
        tmp_path, db_url, upgrade=ACCOUNT, downgrade='await op.drop_table("account")'
    )
    table = after["tables"]["account"]
    columns = {c[0]: c for c in table["columns"]}
    assert list(columns) == [
        "id", "email", "active", "mood", "kind", "settings", "created", "amount", "note"
    ]  # fmt: skip
    assert columns["kind"][1] == "VARCHAR(7)"  # not a native enum: a string everywhere
    assert table["pk"][1] == ("id",)
    assert not columns["email"][2]
    assert not columns["active"][2]
    assert columns["email"][1] == "VARCHAR(255)"
    assert columns["amount"][1] in ("NUMERIC(10, 2)", "DECIMAL(10, 2)")
    assert (
        "now" in (columns["created"][3] or "").lower()
        or "current_timestamp" in (columns["created"][3] or "").lower()
    )
    assert ("uq_account_email", ("email",)) in table["uniques"]
    assert [c[0] for c in table["checks"] if c[0].startswith("ck_")] == ["ck_account_amount"]
    assert any("ix_account_created" in str(i) for i in table["indexes"])
    expected_types = {
        "sqlite": ("VARCHAR(5)", "JSON", "DATETIME"),
        "postgresql": ("mood", "JSON", "TIMESTAMP WITH TIME ZONE"),
        "mysql": ("ENUM('happy','sad')", "LONGTEXT", "DATETIME"),
    }[kind]
    settings = columns["settings"][1].split(" CHARACTER SET")[0]  # MariaDB: JSON is LONGTEXT
    assert (columns["mood"][1], settings, columns["created"][1]) == expected_types
    if kind == "sqlite":
        assert table["comment"] is None  # SQLite keeps no comments
    else:
        assert table["comment"] == "people"
        assert columns["email"][4] == "login"
    if kind == "postgresql":
        assert [e[1:] for e in after["enums"]] == [("mood", ("happy", "sad"))]


async def test_create_table_fills_defaults_and_numbers_rows(db_url: str, tmp_path: Path) -> None:
    upgrade = (
        ACCOUNT
        + """
await op.execute("INSERT INTO account (email) VALUES ('a@x.io')")
await op.execute("INSERT INTO account (email, mood) VALUES ('b@x.io', 'sad')")
"""
    )

    async def check() -> None:
        rows = await query(
            db_url, "SELECT id, email, active, mood, amount FROM account ORDER BY id"
        )
        assert [(r[0], r[1], bool(r[2]), r[3], float(r[4])) for r in rows] == [
            (1, "a@x.io", True, None, 0.0),
            (2, "b@x.io", True, "sad", 0.0),
        ]
        created = await query(db_url, "SELECT count(*) FROM account WHERE created IS NOT NULL")
        assert created == [(2,)]

    await op_roundtrip(
        tmp_path, db_url, upgrade=upgrade, downgrade='await op.drop_table("account")', check=check
    )


async def test_create_table_if_not_exists(db_url: str, tmp_path: Path) -> None:
    setup = 'await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade=(
            'await op.create_table("t", sa.Column("other", sa.Integer), if_not_exists=True)\n'
            'await op.create_table("u", sa.Column("id", sa.Integer), if_not_exists=True)'
        ),
        downgrade='await op.drop_table("u")',
    )
    assert after["tables"]["t"] == before["tables"]["t"]  # left alone
    assert "u" in after["tables"]


async def test_drop_table(db_url: str, tmp_path: Path) -> None:
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=ACCOUNT,
        upgrade='await op.drop_table("account")\nawait op.drop_table("nope", if_exists=True)',
        downgrade=ACCOUNT,
    )
    assert "account" in before["tables"]
    assert after["tables"] == {}
    if backend(db_url) == "postgresql":
        assert after["enums"] == []  # the table's enum type went with it


async def test_drop_table_keeps_an_enum_another_table_uses(
    postgresql_url: str, tmp_path: Path
) -> None:
    shared = 'sa.Column("mood", sa.Enum("happy", "sad", name="mood"))'
    setup = (
        f'await op.create_table("a", sa.Column("id", sa.Integer, primary_key=True), {shared})\n'
        f'await op.create_table("b", sa.Column("id", sa.Integer, primary_key=True), {shared})'
    )
    _, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=setup,
        upgrade='await op.drop_table("a")',
        downgrade=f'await op.create_table("a", sa.Column("id", sa.Integer, primary_key=True), '
        f"{shared})",
    )
    assert [e[1] for e in after["enums"]] == ["mood"]  # table b still uses it


async def test_rename_table(db_url: str, tmp_path: Path) -> None:
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=ACCOUNT,
        upgrade='await op.rename_table("account", "person")',
        downgrade='await op.rename_table("person", "account")',
    )
    assert list(after["tables"]) == ["person"]
    assert after["tables"]["person"]["columns"] == before["tables"]["account"]["columns"]


async def test_table_comments(db_url: str, tmp_path: Path) -> None:
    setup = 'await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path,
            db_url,
            setup=setup,
            upgrade='await op.create_table_comment("t", "hello")',
            match="not supported on SQLite: SQLite keeps no comments",
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade='await op.create_table_comment("t", "hello")',
        downgrade='await op.drop_table_comment("t", existing_comment="hello")',
    )
    assert after["tables"]["t"]["comment"] == "hello"


async def test_drop_table_comment(db_url: str, tmp_path: Path) -> None:
    setup = 'await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), comment="c")'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path,
            db_url,
            setup=setup,
            upgrade='await op.drop_table_comment("t")',
            match="SQLite keeps no comments",
        )
        return
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade='await op.drop_table_comment("t", existing_comment="c")',
        downgrade='await op.create_table_comment("t", "c")',
    )
    assert before["tables"]["t"]["comment"] == "c"
    assert after["tables"]["t"]["comment"] is None


@pytest.mark.parametrize("how", ["execute", "connection", "run_sync"])
async def test_drop_table_sees_an_enum_the_run_created_itself(
    postgresql_url: str, tmp_path: Path, how: str
) -> None:
    # amigrate learns once per run that the database has no enum type, and forgets it
    # when the revision's own SQL may have created one: a later drop_table still drops
    # the enum its table left unused.
    create = {
        "execute": 'await op.execute("{sql}")',
        "connection": 'await op.connection.execute(sa.text("{sql}"))',
        "run_sync": 'await op.run_sync(lambda c: c.execute(sa.text("{sql}")))',
    }[how]
    revs = [
        Rev("r1", None, upgrade='await op.create_table("a", sa.Column("id", sa.Integer))'),
        Rev("r2", "r1", upgrade='await op.drop_table("a")'),  # no enum anywhere: remembered
        Rev(
            "r3",
            "r2",
            upgrade="\n".join(
                create.format(sql=sql)
                for sql in ("CREATE TYPE mood AS ENUM ('happy', 'sad')", "CREATE TABLE b (m mood)")
            ),
        ),
        Rev("r4", "r3", upgrade='await op.drop_table("b")'),
    ]
    project = make_project(tmp_path, postgresql_url, *revs)
    await amigrate.upgrade(project.config())
    after = await describe(postgresql_url)
    assert after["tables"] == {}
    assert after["enums"] == []  # mood went with b


async def test_dropping_many_tables_asks_for_enum_types_once(
    postgresql_url: str, tmp_path: Path
) -> None:
    revs = [Rev("r0", None, upgrade="pass")]
    for i in range(1, 4):
        revs.append(
            Rev(
                f"r{i}",
                f"r{i - 1}",
                upgrade=f'await op.create_table("t{i}", sa.Column("id", sa.Integer))',
                downgrade=f'await op.drop_table("t{i}")',
            )
        )
    project = make_project(tmp_path, postgresql_url, *revs)
    await amigrate.upgrade(project.config())
    engine = create_async_engine(postgresql_url, poolclass=NullPool)
    asked: list[str] = []

    def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if "typtype = 'e'" in statement:
            asked.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await amigrate.downgrade(project.config(), "r0", engine=engine)
    finally:
        await engine.dispose()
    assert len(asked) == 1
