"""The CHECK constraints types make (a non-native Boolean's or Enum's), through add_column,
alter_column and a SQLite batch, as CREATE TABLE and Alembic make them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_ops_support import op_roundtrip, query

SETUP = 'await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'


def checks(schema: dict[str, Any], table: str = "t") -> dict[str, str]:
    return {name: " ".join(text.split()) for name, text in schema["tables"][table]["checks"]}


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_add_column_adds_only_the_checks_the_type_makes_here(
    db_url: str, tmp_path: Path
) -> None:
    # Every type constraint used to be added: PostgreSQL failed on a Boolean's
    # 'b IN (0, 1)' (boolean = integer); native enums and other dialects' variants got one.
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=SETUP,
        upgrade="""
        await op.add_column("t", sa.Column("b", sa.Boolean(create_constraint=True, name="ck_b")))
        await op.add_column(
            "t", sa.Column("e", sa.Enum("x", "y", name="ck_e", create_constraint=True))
        )
        lite_only = sa.Enum("p", "q", name="ck_z", create_constraint=True)
        await op.add_column("t", sa.Column("z", sa.String(5).with_variant(lite_only, "sqlite")))
        plain = sa.Enum("x", "y", name="ck_n", native_enum=False, create_constraint=True)
        await op.add_column("t", sa.Column("n", plain))
        """,
        downgrade="""
        for name in ("n", "z", "e", "b"):
            await op.drop_column("t", name)
        """,
    )
    assert checks(before) == {}
    native_boolean = db_url.startswith("postgresql")
    assert sorted(checks(after)) == (["ck_n"] if native_boolean else ["ck_b", "ck_n"])


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_alter_column_adds_and_drops_the_checks_of_the_types(
    db_url: str, tmp_path: Path
) -> None:
    """As Alembic's: the new type's CHECK is added, ``existing_type``'s dropped; one both
    types make alike stays; a renamed column's CHECK names it by its new name."""
    mysql = db_url.startswith("mysql")

    async def values() -> None:
        await query(db_url, "INSERT INTO t (id, s2) VALUES (2, 'c')")  # c: allowed now
        with pytest.raises(Exception, match=r"(?i)check|constraint"):
            await query(db_url, "INSERT INTO t (id, s2) VALUES (3, 'd')")
        await query(db_url, "DELETE FROM t WHERE id = 2")

    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup="""
        await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("s", sa.String(10)), sa.Column("b", sa.Integer))
        await op.execute("INSERT INTO t (id, s, b) VALUES (1, 'a', 1)")
        """,
        upgrade="""
        two = sa.Enum("a", "b", name="e_s", native_enum=False, create_constraint=True)
        three = sa.Enum("a", "b", "c", name="e_s", native_enum=False, create_constraint=True)
        await op.alter_column("t", "s", type_=two, existing_type=sa.String(10))
        await op.alter_column("t", "s", type_=three, existing_type=two, new_column_name="s2")
        if op.dialect.name == "mysql":  # (PostgreSQL casts no integer to boolean)
            flag = sa.Boolean(create_constraint=True, name="ck_b")
            await op.alter_column("t", "b", type_=flag, existing_type=sa.Integer())
        """,
        downgrade="""
        three = sa.Enum("a", "b", "c", name="e_s", native_enum=False, create_constraint=True)
        await op.alter_column(
            "t", "s2", type_=sa.String(10), existing_type=three, new_column_name="s"
        )
        if op.dialect.name == "mysql":
            flag = sa.Boolean(create_constraint=True, name="ck_b")
            await op.alter_column("t", "b", type_=sa.Integer(), existing_type=flag)
        """,
        check=values,
    )
    assert checks(before) == {}
    found = checks(after)
    assert sorted(found) == (["ck_b", "e_s"] if mysql else ["e_s"])
    assert "s2" in found["e_s"]
    assert "'c'" in found["e_s"]


async def test_sqlite_batch_replaces_the_checks_of_a_changed_type(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The stored CHECK of ``existing_type`` goes with it (a non-native enum can grow),
    and one the new type makes again is not written twice."""

    async def values() -> None:
        await query(sqlite_url, "INSERT INTO t (id, e, b, bb) VALUES (2, 'z', 5, 0)")
        await query(sqlite_url, "DELETE FROM t WHERE id = 2")

    before, after = await op_roundtrip(
        tmp_path,
        sqlite_url,
        setup="""
        await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("e", sa.Enum("x", "y", name="ck_e", create_constraint=True)),
            sa.Column("b", sa.Boolean(create_constraint=True, name="ck_b")),
            sa.Column("bb", sa.Boolean(create_constraint=True)))
        await op.execute("INSERT INTO t VALUES (1, 'x', 1, 0)")
        """,
        upgrade="""
        two = sa.Enum("x", "y", name="ck_e", create_constraint=True)
        three = sa.Enum("x", "y", "z", name="ck_e", create_constraint=True)
        async with op.batch_alter_table("t") as batch:
            await batch.alter_column("e", type_=three, existing_type=two)
            await batch.alter_column("b", type_=sa.Integer(),
                existing_type=sa.Boolean(create_constraint=True, name="ck_b"))
            await batch.alter_column("bb", type_=sa.Boolean(create_constraint=True),
                nullable=False)
        """,
        downgrade="""
        two = sa.Enum("x", "y", name="ck_e", create_constraint=True)
        three = sa.Enum("x", "y", "z", name="ck_e", create_constraint=True)
        async with op.batch_alter_table("t") as batch:
            await batch.alter_column("e", type_=two, existing_type=three)
            await batch.alter_column("b", type_=sa.Boolean(create_constraint=True, name="ck_b"),
                existing_type=sa.Integer())
            await batch.alter_column("bb", type_=sa.Boolean(create_constraint=True),
                nullable=True)
        """,
        check=values,
    )
    assert checks(before) == {"": "bb IN (0, 1)", "ck_b": "b IN (0, 1)", "ck_e": "e IN ('x', 'y')"}
    assert checks(after) == {"": "bb IN (0, 1)", "ck_e": "e IN ('x', 'y', 'z')"}
    assert len(after["tables"]["t"]["checks"]) == 2  # bb's once


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)  # (PostgreSQL rewrites a CHECK's text)
async def test_without_existing_type_the_checks_are_left_as_they_are(
    db_url: str, tmp_path: Path
) -> None:
    # What the column has is not known then: adding the type's CHECK again failed
    # ('Duplicate CHECK constraint name') where the column had it already.
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup="""
        plain = sa.Enum("a", "b", name="ck_e", native_enum=False, create_constraint=True)
        await op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("e", plain))
        """,
        upgrade="""
        plain = sa.Enum("a", "b", name="ck_e", native_enum=False, create_constraint=True)
        await op.alter_column("t", "e", type_=plain, nullable=False, existing_nullable=True)
        """,
        downgrade="""
        plain = sa.Enum("a", "b", name="ck_e", native_enum=False, create_constraint=True)
        await op.alter_column("t", "e", type_=plain, nullable=True, existing_nullable=False)
        """,
    )
    assert list(checks(after)) == ["ck_e"]
