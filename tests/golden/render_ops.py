"""Golden output of amigrate's autogenerate renderer: each op it writes, as code.

Written by tests/unit/autogenerate/test_render.py; do not edit by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

import tests.unit.autogenerate.custom_types
from amigrate import Operations


async def upgrade(op: Operations) -> None:
    # CreateTableOp: a table with every kind of column and constraint
    await op.create_table(
        "account",
        sa.Column("id", sa.Integer(), sa.Identity(start=10), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False, comment="login"),
        sa.Column("status", sa.Enum("new", "active", name="status"), server_default="new"),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()")),
        sa.Column("price", sa.Numeric(precision=10, scale=2)),
        sa.Column(
            "total", sa.Numeric(precision=12, scale=2), sa.Computed("price * 2", persisted=True)
        ),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text())),
        sa.Column("tags", postgresql.ARRAY(item_type=sa.String(length=20))),
        sa.Column("balance", tests.unit.autogenerate.custom_types.Money(precision=12, scale=2)),
        sa.Column("owner_id", sa.Integer(), autoincrement=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["app.owner.id"], name="fk_account_owner", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("email", name="uq_account_email"),
        sa.CheckConstraint("char_length(email) > 3", name="ck_account_email"),
        sa.Index("ix_account_created", "created"),
        schema="app",
        comment="people",
        mysql_engine="InnoDB",
    )
    # CreateTableOp: a table as reflected: the database's names and types
    await op.create_table(
        "owner",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("name", sa.VARCHAR(length=50), nullable=False, comment="who"),
        sa.Column("mood", postgresql.ENUM("happy", "sad", name="mood")),
        sa.Column("joined", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()")),
        sa.Column("score", sa.DOUBLE_PRECISION(precision=53)),
        sa.Column("team_id", sa.INTEGER()),
        sa.PrimaryKeyConstraint("id", name=op.f("owner_pkey")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("owner_team_id_fkey"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("name", name=op.f("owner_name_key")),
        comment="owners",
    )
    # DropTableOp: drop a table
    await op.drop_table("legacy", schema="app", if_exists=True)
    # RenameTableOp: rename a table
    await op.rename_table("people", "person")
    # CreateTableCommentOp: set a table comment
    await op.create_table_comment("account", "people", existing_comment="x")
    # DropTableCommentOp: remove a table comment
    await op.drop_table_comment("account", existing_comment="people")
    # AddColumnOp: add a column with a foreign key, a default and a comment
    await op.add_column(
        "account",
        sa.Column(
            "parent_id",
            sa.BigInteger(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
            server_default="0",
            comment="who",
        ),
        schema="app",
    )
    # AddColumnOp: add a column of reflected MySQL type
    await op.add_column(
        "account",
        sa.Column(
            "code",
            mysql.VARCHAR(length=20, charset="utf8mb4", collation="utf8mb4_bin"),
            nullable=False,
            server_default=sa.text("'x'"),
        ),
    )
    # AddColumnOp: add a column whose type has a variant
    await op.add_column(
        "account",
        sa.Column("nick", sa.String(length=50).with_variant(mysql.VARCHAR(length=50), "mysql")),
    )
    # DropColumnOp: drop a column
    await op.drop_column("account", "legacy", schema="app")
    # AlterColumnOp: change type, nullability, default and comment
    await op.alter_column(
        "account",
        "email",
        type_=sa.String(length=320),
        existing_type=mysql.VARCHAR(length=255),
        nullable=True,
        existing_nullable=False,
        server_default=None,
        existing_server_default=sa.text("'none'"),
        comment=None,
        existing_comment="login",
        schema="app",
    )
    # AlterColumnOp: a default that is an expression
    await op.alter_column(
        "account",
        "created",
        existing_type=postgresql.TIMESTAMP(timezone=True),
        server_default=sa.text("now()"),
    )
    # CreateIndexOp: create an expression index with a dialect option
    await op.create_index(
        "ix_account_lower_email",
        "account",
        [sa.text("lower(email)")],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    # CreateIndexOp: create an index on columns
    await op.create_index("ix_account_name", "account", ["last", "first"], schema="app")
    # DropIndexOp: drop an index
    await op.drop_index("ix_account_created", "account", schema="app")
    # CreateUniqueConstraintOp: create a unique constraint
    await op.create_unique_constraint("uq_account_name", "account", ["first", "last"])
    # DropConstraintOp: drop a unique constraint
    await op.drop_constraint("uq_account_name", "account", type_="unique")
    # CreateForeignKeyOp: create a foreign key
    await op.create_foreign_key(
        "fk_account_owner",
        "account",
        "owner",
        ["owner_id"],
        ["id"],
        ondelete="CASCADE",
        deferrable=True,
        initially="DEFERRED",
        source_schema="app",
        referent_schema="app",
    )
    # DropConstraintOp: drop a foreign key
    await op.drop_constraint("fk_account_owner", "account", type_="foreignkey", schema="app")
    # CreatePrimaryKeyOp: create a primary key
    await op.create_primary_key("pk_tag", "tag", ["id"])
    # CreateCheckConstraintOp: create a check constraint
    await op.create_check_constraint("ck_qty", "item", "qty > 0")


async def batch(op: Operations) -> None:
    async with op.batch_alter_table("account", schema="app") as batch:
        await batch.add_column(sa.Column("age", sa.Integer()), insert_after="email")
        await batch.alter_column(
            "email", type_=sa.String(length=320), existing_type=sa.String(length=255)
        )
        await batch.drop_column("legacy")
        await batch.create_index("ix_account_age", ["age"])
        await batch.drop_index("ix_account_created")
        await batch.create_unique_constraint("uq_account_age", ["age", "email"])
        await batch.drop_constraint("uq_account_name", type_="unique")
        await batch.create_foreign_key(
            "fk_account_owner", "owner", ["owner_id"], ["id"], referent_schema="app"
        )
        await batch.drop_constraint("fk_account_parent", type_="foreignkey")
        await batch.create_table_comment("people")
        await batch.drop_table_comment(existing_comment="people")
