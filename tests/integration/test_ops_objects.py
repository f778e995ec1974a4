"""Sequences, schemas and views on SQLite, PostgreSQL and MariaDB, reflected and undone."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_ops_support import backend, expect_failure, op_roundtrip, query

TABLES = """
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("qty", sa.Integer),
)
await op.execute("INSERT INTO item (id, name, qty) VALUES (1, 'a', 0), (2, 'b', 3)")
"""


async def test_create_sequence(db_url: str, tmp_path: Path) -> None:
    upgrade = (
        'await op.create_sequence("invoice_no", start=1000, increment=5)\n'
        'await op.create_sequence("invoice_no", if_not_exists=True)'
    )
    if backend(db_url) == "sqlite":
        await expect_failure(tmp_path, db_url, upgrade=upgrade, match="SQLite has no sequences")
        return

    async def check() -> None:
        next_value = (
            "SELECT nextval('invoice_no')"
            if backend(db_url) == "postgresql"
            else "SELECT NEXTVAL(invoice_no)"
        )
        assert await query(db_url, next_value) == [(1000,)]
        assert await query(db_url, next_value) == [(1005,)]

    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        upgrade=upgrade,
        downgrade='await op.drop_sequence("invoice_no")',
        check=check,
    )
    assert after["sequences"] == ["invoice_no"]


async def test_drop_sequence(db_url: str, tmp_path: Path) -> None:
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path,
            db_url,
            upgrade='await op.drop_sequence("s", if_exists=True)',
            match="SQLite has no sequences",
        )
        return
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup='await op.create_sequence("s")',
        upgrade='await op.drop_sequence("s")\nawait op.drop_sequence("nope", if_exists=True)',
        downgrade='await op.create_sequence("s")',
    )
    assert before["sequences"] == ["s"]
    assert after["sequences"] == []


async def test_create_schema(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_schema("billing")
await op.create_schema("billing", if_not_exists=True)
await op.create_table("invoice", sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("item_id", sa.Integer), schema="billing")
await op.create_index("ix_invoice_item", "invoice", ["item_id"], schema="billing")
await op.create_foreign_key("fk_invoice_item", "invoice", "item", ["item_id"], ["id"],
                            source_schema="billing", referent_schema="public")
await op.add_column("invoice", sa.Column("total", sa.Integer), schema="billing")
await op.alter_column("invoice", "total", new_column_name="amount", schema="billing")
await op.rename_table("invoice", "bill", schema="billing")
await op.create_table_comment("bill", "money", schema="billing")
await op.create_view("open_bill", "SELECT id FROM billing.bill", schema="billing")
"""
    downgrade = """
await op.drop_view("open_bill", schema="billing")
await op.drop_index("ix_invoice_item", "bill", schema="billing")
await op.drop_constraint("fk_invoice_item", "bill", type_="foreignkey", schema="billing")
await op.drop_column("bill", "amount", schema="billing")
await op.drop_table("bill", schema="billing")
await op.drop_schema("billing")
await op.drop_schema("billing", if_exists=True)
"""
    kind = backend(db_url)
    if kind != "postgresql":
        why = "SQLite has no schemas" if kind == "sqlite" else "a schema is a whole database"
        await expect_failure(tmp_path, db_url, upgrade=upgrade, match=why)
        return

    async def check() -> None:
        tables = await query(
            db_url,
            "SELECT table_name, obj_description(('billing.' || table_name)::regclass) "
            "FROM information_schema.tables WHERE table_schema = 'billing' ORDER BY 1",
        )
        assert tables == [("bill", "money"), ("open_bill", None)]
        columns = await query(
            db_url,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'billing' AND table_name = 'bill' ORDER BY ordinal_position",
        )
        assert columns == [("id",), ("item_id",), ("amount",)]
        fks = await query(
            db_url,
            "SELECT conname FROM pg_constraint WHERE conrelid = 'billing.bill'::regclass "
            "AND contype = 'f'",
        )
        assert fks == [("fk_invoice_item",)]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert after["schemas"] == ["billing"]


async def test_drop_schema_cascade(postgresql_url: str, tmp_path: Path) -> None:
    setup = """
await op.create_schema("scratch")
await op.create_table("t", sa.Column("id", sa.Integer), schema="scratch")
"""
    before, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=setup,
        upgrade='await op.drop_schema("scratch", cascade=True)',
        downgrade=setup,
    )
    assert before["schemas"] == ["scratch"]
    assert after["schemas"] == []


async def test_create_view(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_view("stocked", "SELECT id, name FROM item WHERE qty > 0")
item = sa.table("item", sa.column("id"), sa.column("name"), sa.column("qty"))
await op.create_view(
    "stocked",
    sa.select(item.c.id, item.c.name).where(item.c.qty > op.inline_literal(1)),
    or_replace=True,
)
"""

    async def check() -> None:
        assert await query(db_url, "SELECT id, name FROM stocked") == [(2, "b")]

    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.drop_view("stocked")',
        check=check,
    )
    assert after["views"] == ["stocked"]


async def test_drop_view(db_url: str, tmp_path: Path) -> None:
    setup = TABLES + '\nawait op.create_view("v", "SELECT id FROM item")'
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade='await op.drop_view("v")\nawait op.drop_view("nope", if_exists=True)',
        downgrade='await op.create_view("v", "SELECT id FROM item")',
    )
    assert before["views"] == ["v"]
    assert after["views"] == []
