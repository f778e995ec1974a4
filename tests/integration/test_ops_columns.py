"""Column ops on SQLite, PostgreSQL and MariaDB: add, drop and alter, reflected and undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amigrate.errors import ScriptError
from tests.integration.test_ops_support import backend, expect_failure, op_roundtrip, query

TABLES = """
await op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), server_default="n/a", comment="label"),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
)
await op.execute("INSERT INTO item (id) VALUES (1)")
"""


def columns(schema: dict[str, Any], table: str = "item") -> dict[str, tuple[Any, ...]]:
    return {c[0]: c for c in schema["tables"][table]["columns"]}


async def test_add_column(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.add_column("item", sa.Column("price", sa.Numeric(8, 2), server_default="0"))
await op.add_column(
    "item",
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owner.id", name="fk_item_owner"),
              index=True, comment="who"),
)
"""
    downgrade = """
if op.dialect.name == "sqlite":  # SQLite's DROP COLUMN refuses a foreign key column
    async with op.batch_alter_table("item") as batch:
        await batch.drop_column("owner_id")
        await batch.drop_column("price")
else:
    await op.drop_constraint("fk_item_owner", "item", type_="foreignkey")
    await op.drop_index("ix_item_owner_id", "item")
    await op.drop_column("item", "owner_id")
    await op.drop_column("item", "price")
"""

    async def check() -> None:
        rows = await query(db_url, "SELECT id, price, owner_id FROM item")
        assert [(r[0], float(r[1]), r[2]) for r in rows] == [(1, 0.0, None)]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    cols = columns(after)
    assert list(cols)[-2:] == ["price", "owner_id"]
    assert cols["price"][2]  # nullable
    fks = after["tables"]["item"]["fks"]
    assert [(f[1], f[3], f[4]) for f in fks] == [(("owner_id",), "owner", ("id",))]
    assert any("ix_item_owner_id" in str(i) for i in after["tables"]["item"]["indexes"])
    if backend(db_url) != "sqlite":
        assert fks[0][0] == "fk_item_owner"
        assert cols["owner_id"][4] == "who"


async def test_add_column_if_not_exists(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.add_column("item", sa.Column("name", sa.Text), if_not_exists=True)'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="no ADD COLUMN IF NOT EXISTS"
        )
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade="pass"
    )
    assert after == before  # the column was there: nothing changed


async def test_add_column_sqlite_cannot_add_in_place(sqlite_url: str, tmp_path: Path) -> None:
    for n, (column, why) in enumerate(
        [
            ('sa.Column("code", sa.String(5), unique=True)', "cannot add a UNIQUE column"),
            ('sa.Column("code", sa.Integer, nullable=False)', "NOT NULL column without a default"),
            (
                'sa.Column("at", sa.DateTime, server_default=sa.func.now())',
                "default is an expression",
            ),
        ]
    ):
        err = await expect_failure(
            tmp_path / str(n),
            sqlite_url.replace("test.db", f"test{n}.db"),
            setup=TABLES,
            upgrade=f'await op.add_column("item", {column})',
            match=why,
        )
        assert "batch_alter_table" in (getattr(err, "hint", None) or "")


async def test_add_and_drop_an_enum_column(postgresql_url: str, tmp_path: Path) -> None:
    before, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES,
        upgrade='await op.add_column("item", sa.Column("size", sa.Enum("s", "m", name="size")))',
        downgrade='await op.drop_column("item", "size")',
    )
    assert before["enums"] == []
    assert [e[1:] for e in after["enums"]] == [("size", ("s", "m"))]
    assert columns(after)["size"][1] == "size"


async def test_alter_a_column_to_a_new_enum(postgresql_url: str, tmp_path: Path) -> None:
    """The type is created first and the values cast through text; back to a string, the
    enum nothing uses any more is dropped (as drop_column does)."""

    async def values() -> None:
        rows = await query(postgresql_url, "SELECT name::text FROM item")
        assert rows == [("s",)]

    before, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES + "await op.execute(\"UPDATE item SET name = 's'\")",
        upgrade="""
            await op.alter_column(
                "item", "name", type_=sa.Enum("s", "m", name="size"), server_default=None
            )
        """,
        downgrade="""
            await op.alter_column("item", "name", type_=sa.String(50), server_default="n/a")
        """,
        check=values,
    )
    assert before["enums"] == []
    assert [e[1:] for e in after["enums"]] == [("size", ("s", "m"))]
    assert columns(after)["name"][1] == "size"


async def test_drop_column(db_url: str, tmp_path: Path) -> None:
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade='await op.drop_column("item", "qty")',
        downgrade=(
            'await op.add_column("item", sa.Column("qty", sa.Integer, nullable=False, '
            'server_default="1"))'
        ),
    )
    assert "qty" in columns(before)
    assert list(columns(after)) == ["id", "name"]


async def test_drop_column_if_exists(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.drop_column("item", "nope", if_exists=True)'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="no DROP COLUMN IF EXISTS"
        )
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade="pass"
    )
    assert after == before


ALTER_UP = """
await op.alter_column("item", "qty", type_=sa.BigInteger, nullable=True, server_default="5",
                      existing_type=sa.Integer)
await op.alter_column("item", "name", nullable=False, server_default=None)
"""
ALTER_DOWN = """
await op.alter_column("item", "name", nullable=True, server_default="n/a")
await op.alter_column("item", "qty", type_=sa.Integer, nullable=False, server_default="1")
"""


async def test_alter_column_type_nullability_default(db_url: str, tmp_path: Path) -> None:
    if backend(db_url) == "sqlite":
        err = await expect_failure(
            tmp_path,
            db_url,
            setup=TABLES,
            upgrade=ALTER_UP,
            match="can only rename a column, not change its type, nullable, default",
        )
        assert "batch_alter_table" in (getattr(err, "hint", None) or "")
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=ALTER_UP, downgrade=ALTER_DOWN
    )
    qty, name = columns(after)["qty"], columns(after)["name"]
    assert qty[1].startswith("BIGINT")
    assert qty[2]  # now nullable
    assert "5" in (qty[3] or "")
    assert not name[2]
    assert name[3] is None
    if backend(db_url) == "mysql":
        # MODIFY restates the column: the comment read from the database was kept.
        assert name[4] == "label"
    assert columns(before)["name"][4] == "label"


async def test_alter_column_rename(db_url: str, tmp_path: Path) -> None:
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade='await op.alter_column("item", "name", new_column_name="title")',
        downgrade='await op.alter_column("item", "title", new_column_name="name")',
    )
    assert list(columns(after)) == ["id", "title", "qty"]
    title = columns(after)["title"]
    assert "n/a" in (title[3] or "")  # the default came along


async def test_alter_column_comment(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.alter_column("item", "qty", comment="how many", existing_type=sa.Integer)'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="SQLite keeps no comments"
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.alter_column("item", "qty", comment=None)',
    )
    qty = columns(after)["qty"]
    assert qty[4] == "how many"
    assert not qty[2]  # MySQL's MODIFY kept NOT NULL (read from the database)
    assert "1" in (qty[3] or "")


async def test_alter_column_postgresql_using(db_url: str, tmp_path: Path) -> None:
    setup = TABLES + '\nawait op.add_column("item", sa.Column("code", sa.String(10)))'
    upgrade = (
        'await op.alter_column("item", "code", type_=sa.Integer, postgresql_using="code::integer")'
    )
    kind = backend(db_url)
    if kind == "mysql":
        await expect_failure(
            tmp_path,
            db_url,
            setup=setup,
            upgrade=upgrade,
            error=ScriptError,
            match="postgresql_using is for PostgreSQL",
        )
        return
    if kind == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=setup, upgrade=upgrade, match="can only rename a column"
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade=upgrade,
        downgrade='await op.alter_column("item", "code", type_=sa.String(10))',
    )
    assert columns(after)["code"][1] == "INTEGER"


async def test_mysql_modify_keeps_what_it_is_not_told(mysql_url: str, tmp_path: Path) -> None:
    setup = """
await op.create_table(
    "event",
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.TIMESTAMP, nullable=False,
              server_default=sa.text("CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP")),
)
"""
    upgrade = """
await op.alter_column("event", "id", type_=sa.BigInteger)
await op.alter_column("event", "at", comment="when")
"""
    downgrade = """
await op.alter_column("event", "at", comment=None)
await op.alter_column("event", "id", type_=sa.Integer)
"""

    async def check() -> None:
        await query(mysql_url, "INSERT INTO event () VALUES ()")  # AUTO_INCREMENT kept
        assert await query(mysql_url, "SELECT id FROM event") == [(1,)]

    before, after = await op_roundtrip(
        tmp_path, mysql_url, setup=setup, upgrade=upgrade, downgrade=downgrade, check=check
    )
    at = columns(after, "event")["at"]
    assert at[1:4] == columns(before, "event")["at"][1:4]  # type, NOT NULL, ON UPDATE default
    assert "on update" in (at[3] or "").lower()
    assert at[4] == "when"
    assert columns(after, "event")["id"][1].startswith("BIGINT")
