"""Data ops on SQLite, PostgreSQL and MariaDB: execute, bulk_insert, inline_literal, f()."""

from __future__ import annotations

from pathlib import Path

from amigrate.errors import ScriptError
from tests.integration.test_ops_support import expect_failure, op_roundtrip, query

TABLES = """
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("qty", sa.Integer, server_default="1"),
)
"""


async def test_execute(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.execute("INSERT INTO item (id, name) VALUES (1, 'one')")
insert = sa.text("INSERT INTO item (id, name) VALUES (:id, :name)")
await op.execute(insert.bindparams(id=2, name="two"))
item = sa.table("item", sa.column("name"), sa.column("qty"))
await op.execute(
    sa.update(item).where(item.c.name == op.inline_literal("two")).values(qty=op.inline_literal(7)),
    execution_options={"synchronize_session": False},
)
result = await op.execute(sa.text("UPDATE item SET name = 'uno' WHERE id = 1"))
assert result.rowcount == 1
"""

    async def check() -> None:
        rows = await query(db_url, "SELECT id, name, qty FROM item ORDER BY id")
        assert rows == [(1, "uno", 1), (2, "two", 7)]

    await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.execute("DELETE FROM item")',
        check=check,
    )


async def test_bulk_insert(db_url: str, tmp_path: Path) -> None:
    upgrade = """
tag = await op.create_table("tag", sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("label", sa.String(20), nullable=False))
await op.bulk_insert(tag, [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}])
item = sa.table("item", sa.column("id", sa.Integer), sa.column("name", sa.String),
                sa.column("qty", sa.Integer))
# Rows need not have the same keys: the missing ones take the column's default.
await op.bulk_insert(item, [{"id": 1, "name": "x"}, {"id": 2, "name": "y", "qty": 5}, {"id": 3}])
await op.bulk_insert(item, [{"id": 4, "name": "z"}], multiinsert=False)
"""
    downgrade = 'await op.drop_table("tag")\nawait op.execute("DELETE FROM item")'

    async def check() -> None:
        assert await query(db_url, "SELECT id, label FROM tag ORDER BY id") == [
            (1, "a"),
            (2, "b"),
        ]
        assert await query(db_url, "SELECT id, name, qty FROM item ORDER BY id") == [
            (1, "x", 1),
            (2, "y", 5),
            (3, None, 1),
            (4, "z", 1),
        ]

    await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )


async def test_bulk_insert_with_an_unknown_key_changes_nothing(db_url: str, tmp_path: Path) -> None:
    upgrade = """
item = sa.table("item", sa.column("id"), sa.column("name"))
await op.bulk_insert(item, [{"id": 1, "name": "x"}, {"id": 2, "nmae": "y"}])
"""
    err = await expect_failure(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        error=ScriptError,
        match="row 2 has a key that 'item' has no column for: 'nmae'",
    )
    assert "id, name" in (getattr(err, "hint", None) or "")
    assert await query(db_url, "SELECT count(*) FROM item") == [(0,)]


async def test_f_keeps_a_name_as_given(db_url: str, tmp_path: Path) -> None:
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade='await op.create_index(op.f("ix_item_NAME"), "item", ["name"])',
        downgrade='await op.drop_index(op.f("ix_item_NAME"), "item")',
    )
    assert "ix_item_NAME" in str(after["tables"]["item"]["indexes"])
