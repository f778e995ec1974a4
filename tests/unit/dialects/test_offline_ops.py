"""Offline SQL (--sql) of a revision that uses every op: golden output per dialect.

Regenerate the golden files after an intended change with
``AMIGRATE_UPDATE_GOLDEN=1 python -m pytest tests/unit/dialects/test_offline_ops.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import amigrate
from amigrate.errors import UnsupportedOperation
from tests.helpers import stable_script
from tests.projects import Rev, make_project

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
URLS = {
    "postgresql": "postgresql+asyncpg://app@db/app",
    "sqlite": "sqlite+aiosqlite:///app.db",
    "mysql": "mysql+asyncmy://app@db/app",
    "mariadb": "mariadb+asyncmy://app@db/app",
}

# Every op, in the order a real project might use them; ops a dialect cannot do are
# guarded by op.dialect, as a revision written for several databases would be.
EVERY_OP_UP = """
pg = op.dialect.name == "postgresql"
sqlite = op.dialect.name == "sqlite"
maria = getattr(op.dialect, "is_mariadb", False)
if pg:
    await op.create_schema("billing", if_not_exists=True)
if pg or maria:
    await op.create_sequence("invoice_no", start=1000, increment=1)
account = await op.create_table(
    "account",
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, comment="login"),
    sa.Column("active", sa.Boolean, server_default=sa.true(), nullable=False),
    sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
    sa.Column("settings", sa.JSON),
    sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.UniqueConstraint("email", name="uq_account_email"),
    comment="people",
)
await op.bulk_insert(
    account,
    [
        {"id": 1, "email": "o'brien@example.com", "mood": "happy"},
        {"id": 2, "email": "b@example.com"},
    ],
)
await op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("total", sa.Numeric(10, 2), server_default="0"),
    sa.Column("note", sa.Text),
)
if not maria:
    await op.create_index("ix_account_email_lower", "account", [sa.text("lower(email)")])
if not pg:
    await op.create_index("ix_orders_note", "orders", ["note"], mysql_length=20)
if pg:
    await op.create_index(
        "ix_orders_total",
        "orders",
        ["total"],
        postgresql_where=sa.text("total > 0"),
        postgresql_include=["note"],
    )
    async with op.autocommit_block():
        await op.create_index(
            "ix_orders_account", "orders", ["account_id"], postgresql_concurrently=True
        )
if sqlite:
    table = sa.Table(
        "orders",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("total", sa.Numeric(10, 2), server_default="0"),
        sa.Column("note", sa.Text),
        sa.Index("ix_orders_note", "note"),
    )
    async with op.batch_alter_table("orders", copy_from=table) as batch:
        await batch.create_foreign_key(
            "fk_orders_account", "account", ["account_id"], ["id"], ondelete="CASCADE"
        )
        await batch.create_check_constraint("ck_orders_total", "total >= 0")
        await batch.create_unique_constraint("uq_orders_note", ["note"])
        await batch.alter_column("note", new_column_name="remark", type_=sa.String(200))
        await batch.add_column(
            sa.Column("paid", sa.Boolean, server_default=sa.false()), insert_after="total"
        )
else:
    await op.create_foreign_key(
        "fk_orders_account",
        "orders",
        "account",
        ["account_id"],
        ["id"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )
    await op.create_check_constraint("ck_orders_total", "orders", sa.column("total") >= 0)
    await op.alter_column(
        "orders",
        "note",
        new_column_name="remark",
        type_=sa.String(200),
        existing_type=sa.Text,
        existing_nullable=True,
    )
    await op.add_column("orders", sa.Column("paid", sa.Boolean, server_default=sa.false()))
await op.add_column("account", sa.Column("name", sa.String(50), server_default="n/a"))
await op.alter_column("account", "name", new_column_name="full_name")
if not sqlite:
    await op.alter_column(
        "account",
        "full_name",
        nullable=False,
        server_default=None,
        comment="shown",
        existing_type=sa.String(50),
        existing_server_default="n/a",
    )
    await op.alter_column(
        "orders",
        "total",
        type_=sa.Numeric(12, 2),
        existing_type=sa.Numeric(10, 2),
        existing_nullable=True,
        existing_server_default="0",
        postgresql_using="total::numeric(12,2)" if pg else None,
    )
    await op.create_table_comment("orders", "what was bought", existing_comment=None)
    await op.drop_table_comment("account", existing_comment="people")
    await op.create_table("tag", sa.Column("name", sa.String(20), nullable=False))
    await op.create_primary_key("pk_tag", "tag", ["name"])
if not pg and not sqlite:  # MySQL moves a column by restating it: existing_* say how
    async with op.batch_alter_table("orders") as batch:
        await batch.alter_column(
            "total",
            insert_after="id",
            existing_type=sa.Numeric(12, 2),
            existing_nullable=True,
            existing_server_default="0",
        )
mood = sa.table("account", sa.column("mood"))
await op.execute(
    sa.update(mood).values(mood=op.inline_literal("sad")).where(mood.c.mood.is_(None))
)
await op.execute("UPDATE account SET email = lower(email)")
await op.create_view(
    "active_account",
    sa.select(sa.column("id"), sa.column("email"))
    .select_from(sa.table("account"))
    .where(sa.text("active")),
    or_replace=True,
)
await op.rename_table("orders", "purchase")
await op.drop_column("account", "settings", if_exists=pg or maria)
if pg:
    await op.create_table(
        "invoice", sa.Column("no", sa.Integer, primary_key=True), schema="billing"
    )
    await op.create_foreign_key(
        op.f("fk_invoice_account"),
        "invoice",
        "account",
        ["no"],
        ["id"],
        source_schema="billing",
        deferrable=True,
        initially="DEFERRED",
    )
"""

EVERY_OP_DOWN = """
pg = op.dialect.name == "postgresql"
sqlite = op.dialect.name == "sqlite"
maria = getattr(op.dialect, "is_mariadb", False)
if pg:
    await op.drop_constraint("fk_invoice_account", "invoice", type_="foreignkey", schema="billing")
    await op.drop_table("invoice", schema="billing")
await op.drop_view("active_account", if_exists=True)
await op.drop_table("purchase")
if not sqlite:
    await op.drop_constraint("pk_tag", "tag", type_="primary")
    await op.drop_table("tag")
    await op.drop_constraint("uq_account_email", "account", type_="unique")
if pg:
    await op.drop_index("ix_account_email_lower", "account", if_exists=True)
await op.drop_table("account", if_exists=True)
if pg or maria:
    await op.drop_sequence("invoice_no", if_exists=True)
if pg:
    await op.drop_schema("billing", cascade=True)
"""

EVERY = [Rev("e1", None, message="every op", upgrade=EVERY_OP_UP, downgrade=EVERY_OP_DOWN)]


async def render(root: Path, url: str, direction: str, spec: str) -> str:
    config = amigrate.load_config(root / "amigrate.ini", url=url)
    async with amigrate.Migrator(config) as m:
        result = await m.sql("up" if direction == "up" else "down", spec)
    assert result.sql is not None
    return stable_script(result.sql)


@pytest.mark.parametrize("dialect", sorted(URLS))
async def test_golden_every_op(tmp_path: Path, dialect: str) -> None:
    make_project(tmp_path, URLS["sqlite"], *EVERY)
    text = ""
    for direction, spec in (("up", "head"), ("down", "head:base")):
        sql = await render(tmp_path, URLS[dialect], direction, spec)
        text += f"-- amigrate {direction} {spec}\n{sql}\n"
    golden = GOLDEN / f"ops_{dialect}.sql"
    if os.environ.get("AMIGRATE_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


async def test_batch_recreate_offline_needs_copy_from(tmp_path: Path) -> None:
    body = """
        async with op.batch_alter_table("account") as batch:
            await batch.drop_column("email")
    """
    make_project(tmp_path, URLS["sqlite"], Rev("a1", None, upgrade=body))
    with pytest.raises(UnsupportedOperation, match="recreates the table") as info:
        await render(tmp_path, URLS["sqlite"], "up", "head")
    assert "copy_from" in (info.value.hint or "")
