"""Index and constraint ops on SQLite, PostgreSQL and MariaDB, reflected and undone."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import amigrate
from amigrate import Migrator
from amigrate.operations.ops import CreateExcludeConstraintOp, DropConstraintOp
from tests.integration.test_ops_support import (
    backend,
    describe,
    expect_failure,
    op_roundtrip,
    query,
)
from tests.projects import Rev, make_project

TABLES = """
await op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.Integer),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
    sa.Column("note", sa.Text),
)
await op.execute("INSERT INTO owner (id) VALUES (1)")
await op.execute("INSERT INTO item (id, code, owner_id) VALUES (1, 'A', 1)")
"""

SQLITE_CONSTRAINTS = "its ALTER TABLE cannot add or drop constraints"


def indexes(schema: dict[str, object]) -> str:
    return str(schema["tables"]["item"]["indexes"])  # type: ignore[index]


async def test_create_index(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_index("ix_item_code", "item", ["code", "qty"], unique=True)
await op.create_index("ix_item_code", "item", ["code", "qty"], unique=True, if_not_exists=True)
if op.dialect.name == "mysql":
    await op.create_index("ix_item_note", "item", ["note"], mysql_length=10)
"""
    downgrade = """
if op.dialect.name == "mysql":
    await op.drop_index("ix_item_note", "item")
await op.drop_index("ix_item_code", "item")
"""

    async def check() -> None:
        if backend(db_url) == "mysql":
            lengths = await query(
                db_url,
                "SELECT sub_part FROM information_schema.statistics "
                "WHERE table_schema = database() AND index_name = 'ix_item_note'",
            )
            assert lengths == [(10,)]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert "ix_item_code" in indexes(after)
    if backend(db_url) == "sqlite":
        assert ("ix_item_code", "CREATE UNIQUE INDEX ix_item_code ON item (code, qty)") in (
            after["tables"]["item"]["indexes"]
        )
    else:
        assert ("ix_item_code", ("code", "qty"), True) in [
            i[:3] for i in after["tables"]["item"]["indexes"]
        ]


async def test_create_index_on_an_expression(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.create_index("ix_item_lower", "item", [sa.text("lower(code)")])'
    if backend(db_url) == "mysql":
        await expect_failure(
            tmp_path,
            db_url,
            setup=TABLES,
            upgrade=upgrade,
            match="MariaDB indexes hold columns, not expressions",
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.drop_index("ix_item_lower", "item")',
    )
    assert "lower" in indexes(after)


async def test_create_index_postgresql_options(postgresql_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_index("ix_item_qty", "item", ["qty"], postgresql_where=sa.text("qty > 0"),
                      postgresql_include=["note"])
async with op.autocommit_block():
    await op.create_index("ix_item_code", "item", ["code"], postgresql_concurrently=True,
                          postgresql_using="hash")
"""
    downgrade = """
async with op.autocommit_block():
    await op.drop_index("ix_item_code", "item", postgresql_concurrently=True)
await op.drop_index("ix_item_qty", "item")
"""

    async def check() -> None:
        definitions = await query(
            postgresql_url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'item' ORDER BY 1"
        )
        assert [d[0] for d in definitions] == [
            "CREATE INDEX ix_item_code ON public.item USING hash (code)",
            "CREATE INDEX ix_item_qty ON public.item USING btree (qty) INCLUDE (note) "
            "WHERE (qty > 0)",
        ]

    _, after = await op_roundtrip(
        tmp_path, postgresql_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert "ix_item_qty" in indexes(after)


async def test_drop_index(db_url: str, tmp_path: Path) -> None:
    setup = TABLES + '\nawait op.create_index("ix_item_code", "item", ["code"])'
    upgrade = (
        'await op.drop_index("ix_item_code", "item")\n'
        'await op.drop_index("ix_nope", "item", if_exists=True)'
    )
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade=upgrade,
        downgrade='await op.create_index("ix_item_code", "item", ["code"])',
    )
    assert "ix_item_code" in indexes(before)
    assert "ix_item_code" not in indexes(after)


async def test_create_primary_key(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.create_primary_key("pk_item", "item", ["id"])'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match=SQLITE_CONSTRAINTS
        )
        return
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.drop_constraint("pk_item", "item", type_="primary")',
    )
    assert before["tables"]["item"]["pk"][1] == ()
    assert after["tables"]["item"]["pk"][1] == ("id",)


async def test_create_unique_constraint(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.create_unique_constraint("uq_item_code", "item", ["code", "owner_id"])'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match=SQLITE_CONSTRAINTS
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.drop_constraint("uq_item_code", "item", type_="unique")',
    )
    assert after["tables"]["item"]["uniques"] == [("uq_item_code", ("code", "owner_id"))]


async def test_create_unique_constraint_with_included_columns(
    postgresql_url: str, tmp_path: Path
) -> None:
    """postgresql_include names another column of the table (it failed: KeyError)."""
    upgrade = (
        'await op.create_unique_constraint("uq_item_code", "item", ["code"], '
        'postgresql_include=["owner_id"])'
    )

    async def check() -> None:
        rows = await query(
            postgresql_url,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'uq_item_code'",
        )
        assert rows == [("UNIQUE (code) INCLUDE (owner_id)",)]

    await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.drop_constraint("uq_item_code", "item", type_="unique")',
        check=check,
    )


async def test_create_foreign_key(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_foreign_key("fk_item_owner", "item", "owner", ["owner_id"], ["id"],
                            ondelete="CASCADE", onupdate="SET NULL")
"""
    downgrade = """
await op.drop_constraint("fk_item_owner", "item", type_="foreignkey")
if op.dialect.name == "mysql":  # MySQL made an index for the key; it stays unless dropped
    await op.drop_index("fk_item_owner", "item")
"""
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match=SQLITE_CONSTRAINTS
        )
        return

    async def check() -> None:
        await query(db_url, "DELETE FROM owner")  # cascades to item
        assert await query(db_url, "SELECT count(*) FROM item") == [(0,)]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    (fk,) = after["tables"]["item"]["fks"]
    assert fk[:5] == ("fk_item_owner", ("owner_id",), "", "owner", ("id",))
    assert "CASCADE" in fk[5]
    assert "SET NULL" in fk[5]


async def test_create_foreign_key_postgresql_options(postgresql_url: str, tmp_path: Path) -> None:
    setup = TABLES + '\nawait op.create_primary_key("pk_item", "item", ["id"])'
    upgrade = """
await op.create_foreign_key("fk_item_self", "item", "item", ["owner_id"], ["id"],
                            deferrable=True, initially="DEFERRED", match="FULL")
"""
    _, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=setup,
        upgrade=upgrade,
        downgrade='await op.drop_constraint("fk_item_self", "item")',  # no type_ needed here
    )
    (fk,) = after["tables"]["item"]["fks"]
    assert "('deferrable', True)" in fk[5]
    assert "('initially', 'DEFERRED')" in fk[5]
    assert "('match', 'FULL')" in fk[5]


async def test_create_check_constraint(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_check_constraint("ck_item_qty", "item", sa.column("qty") > 0)
await op.create_check_constraint("ck_item_code", "item", "length(code) > 0")
"""
    downgrade = """
await op.drop_constraint("ck_item_code", "item", type_="check")
await op.drop_constraint("ck_item_qty", "item", type_="check")
"""
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match=SQLITE_CONSTRAINTS
        )
        return
    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade
    )
    checks = dict(after["tables"]["item"]["checks"])
    assert "qty" in checks["ck_item_qty"]
    assert "code" in checks["ck_item_code"]


async def test_drop_constraint(db_url: str, tmp_path: Path) -> None:
    setup = (
        TABLES
        + """
if op.dialect.name != "sqlite":
    await op.create_unique_constraint("uq_item_code", "item", ["code"])
    await op.create_check_constraint("ck_item_qty", "item", "qty > 0")
"""
    )
    upgrade = """
await op.drop_constraint("uq_item_code", "item", type_="unique")
await op.drop_constraint("ck_item_qty", "item", type_="check")
await op.drop_constraint("ck_nope", "item", type_="check", if_exists=True)
"""
    downgrade = """
await op.create_check_constraint("ck_item_qty", "item", "qty > 0")
await op.create_unique_constraint("uq_item_code", "item", ["code"])
"""
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=setup, upgrade=upgrade, match=SQLITE_CONSTRAINTS
        )
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=setup, upgrade=upgrade, downgrade=downgrade
    )
    assert before["tables"]["item"]["uniques"] == [("uq_item_code", ("code",))]
    assert after["tables"]["item"]["uniques"] == []
    assert "ck_item_qty" not in dict(after["tables"]["item"]["checks"])


async def test_create_exclude_constraint(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.create_exclude_constraint(
    "ex_item_qty", "item", ("qty", "="), where="qty > 0", using="btree"
)
"""
    if backend(db_url) != "postgresql":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="EXCLUDE constraints are"
        )
        batch = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
    await batch.create_exclude_constraint("ex_item_qty", ("qty", "="))
"""
        await expect_failure(
            tmp_path / "batch",
            db_url.replace("test.db", "batch.db"),
            setup=TABLES,
            upgrade=batch,
            match="EXCLUDE constraints are",
        )
        return

    async def check() -> None:
        await query(db_url, "INSERT INTO item (id, code, qty) VALUES (2, 'B', 0)")
        await query(db_url, "INSERT INTO item (id, code, qty) VALUES (3, 'C', 0)")  # where
        with pytest.raises(sa.exc.IntegrityError):
            await query(db_url, "INSERT INTO item (id, code, qty) VALUES (4, 'D', 1)")
        await query(db_url, "DELETE FROM item WHERE id > 1")

    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.drop_constraint("ex_item_qty", "item")',
        check=check,
    )
    assert "ex_item_qty" in indexes(after)  # an exclusion constraint has an index
    op = CreateExcludeConstraintOp("ex", "item", (("qty", "="),))
    assert isinstance(op.reverse(), DropConstraintOp)


async def test_add_column_inline_references_and_primary_key(db_url: str, tmp_path: Path) -> None:
    setup = """
await op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
await op.create_table("item", sa.Column("code", sa.String(5)))
await op.execute("INSERT INTO owner (id) VALUES (1)")
"""
    upgrade = """
if op.dialect.name != "sqlite":  # SQLite cannot add a PRIMARY KEY column
    await op.add_column(
        "item",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        inline_primary_key=True,
    )
await op.add_column(
    "item",
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owner.id", name="fk_item_owner")),
    inline_references=True,
)
"""
    # (The inline REFERENCES keeps the key's name: CONSTRAINT fk_item_owner REFERENCES ...;
    # Alembic leaves it out and the database names it.)
    downgrade = """
if op.dialect.name == "mysql":
    await op.drop_constraint("fk_item_owner", "item", type_="foreignkey")
await op.drop_column("item", "owner_id")
if op.dialect.name != "sqlite":
    await op.drop_column("item", "id")
"""
    _, after = await op_roundtrip(
        tmp_path, db_url, setup=setup, upgrade=upgrade, downgrade=downgrade
    )
    item = after["tables"]["item"]
    assert [fk[1:5] for fk in item["fks"]] == [(("owner_id",), "", "owner", ("id",))]
    if backend(db_url) != "sqlite":  # (SQLite's reflection reads no inline key's name)
        assert [fk[0] for fk in item["fks"]] == ["fk_item_owner"]
    if backend(db_url) != "sqlite":
        assert item["pk"][1] == ("id",)


NAMING_ENV = """
import sqlalchemy as sa

target_metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
"""

NAMED_BY_CONVENTION = """
await op.create_table(
    "parent",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(10), unique=True),
)
await op.create_table(
    "child",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
    sa.Column("n", sa.Integer),
    sa.Column("m", sa.Integer),
    sa.CheckConstraint("n > 0", name="positive"),
)
await op.create_index(None, "child", ["n"])
await op.create_index(op.f("kept_as_written"), "child", ["m"])
if op.dialect.name != "sqlite":
    await op.add_column("child", sa.Column("other_id", sa.Integer))
    await op.create_foreign_key(None, "child", "parent", ["other_id"], ["id"])
    await op.create_unique_constraint(None, "child", ["m"])
"""


async def test_operations_name_constraints_by_the_models_convention(
    db_url: str, tmp_path: Path
) -> None:
    """As Alembic's op: unnamed constraints and indexes get the names of env.py's
    target_metadata naming convention, online and offline; op.f() names stay."""
    project = make_project(tmp_path, db_url, Rev("a1", None, upgrade=NAMED_BY_CONVENTION))
    project.env(NAMING_ENV)
    await amigrate.upgrade(project.config())
    tables = (await describe(db_url))["tables"]
    child, parent = tables["child"], tables["parent"]
    assert ("uq_parent_code", ("code",)) in parent["uniques"] or (  # (MySQL: an index)
        "uq_parent_code" in str(parent["indexes"])
    )
    assert "ix_child_n" in str(child["indexes"])
    assert "kept_as_written" in str(child["indexes"])
    assert "fk_child_parent_id_parent" in str(child["fks"])
    if backend(db_url) != "sqlite":
        assert "fk_child_other_id_parent" in str(child["fks"])
        assert "uq_child_m" in str(child["uniques"]) + str(child["indexes"])
    assert "ck_child_positive" in str(child["checks"])
    if backend(db_url) == "postgresql":  # (MariaDB names every primary key PRIMARY)
        assert parent["pk"][0] == "pk_parent"

    url = {"sqlite": "sqlite://", "postgresql": "postgresql://", "mysql": "mysql://"}
    async with Migrator(project.config(), url=url[backend(db_url)]) as m:
        sql = (await m.sql("up", "head")).sql or ""
    for name in ("pk_parent", "uq_parent_code", "ix_child_n", "fk_child_parent_id_parent"):
        assert name in sql, name
