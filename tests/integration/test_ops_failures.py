"""An op with a wrong argument fails its step with a clear error, changing nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from amigrate.errors import ScriptError, UnsupportedOperation
from tests.integration.test_ops_support import backend, expect_failure, query

TABLE = """
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("qty", sa.Integer),
)
await op.create_index("ix_item_name", "item", ["name"])
if op.dialect.name != "sqlite":
    await op.create_check_constraint("ck_item_qty", "item", "qty >= 0")
await op.execute("INSERT INTO item (id, name, qty) VALUES (1, 'a', 1)")
"""


async def test_batch_drop_of_an_unknown_column(db_url: str, tmp_path: Path) -> None:
    # The batch's first change would run before the bad one; it must not (MySQL commits DDL).
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
    await batch.drop_column("nmae")
"""
    err = await expect_failure(
        tmp_path,
        db_url,
        setup=TABLE,
        upgrade=upgrade,
        error=ScriptError,
        match="drop_column('item', 'nmae'): 'item' has no column 'nmae'",
    )
    assert "id" in (getattr(err, "hint", None) or "")
    assert "name" in (getattr(err, "hint", None) or "")


async def test_batch_drop_of_an_unknown_index_or_constraint(db_url: str, tmp_path: Path) -> None:
    for n, (body, match) in enumerate(
        [
            ('await batch.drop_index("ix_nope")', "'item' has no index 'ix_nope'"),
            (
                'await batch.drop_constraint("ck_nope", type_="check")',
                "'item' has no constraint",
            ),
        ]
    ):
        if n and backend(db_url) != "sqlite":
            return
        await expect_failure(
            tmp_path / str(n),
            db_url.replace("test.db", f"test{n}.db"),
            setup=TABLE,
            upgrade=f'async with op.batch_alter_table("item") as batch:\n    {body}',
            error=ScriptError,
            match=match,
        )


async def test_drop_constraint_without_type(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.drop_constraint("ck_item_qty", "item")'
    kind = backend(db_url)
    if kind == "postgresql":
        return  # PostgreSQL drops any constraint by name: nothing wrong here
    match = (
        "it drops each kind of constraint differently, so it needs type_"
        if kind == "mysql"
        else "its ALTER TABLE cannot add or drop constraints"
    )
    err = await expect_failure(
        tmp_path, db_url, setup=TABLE, upgrade=upgrade, error=UnsupportedOperation, match=match
    )
    if kind == "mysql":
        assert "type_='foreignkey' | 'unique' | 'check' | 'primary'" in (
            getattr(err, "hint", None) or ""
        )


async def test_alter_column_of_an_unknown_column_on_mysql(mysql_url: str, tmp_path: Path) -> None:
    await expect_failure(
        tmp_path,
        mysql_url,
        setup=TABLE,
        upgrade='await op.alter_column("item", "nmae", nullable=False)',
        error=ScriptError,
        match="'item' has no column 'nmae'",
    )


async def test_bulk_insert_rows_that_are_not_dicts(db_url: str, tmp_path: Path) -> None:
    await expect_failure(
        tmp_path,
        db_url,
        setup=TABLE,
        upgrade='await op.bulk_insert(sa.table("item", sa.column("id")), [(2,)])',
        error=ScriptError,
        match="row 1 is a tuple, not a dict",
    )


async def test_sqlite_batch_whose_copy_fails_changes_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    setup = TABLE + '\nawait op.execute("INSERT INTO item (id) VALUES (2)")'  # a NULL name
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.alter_column("name", nullable=False)
"""
    err = await expect_failure(
        tmp_path,
        sqlite_url,
        setup=setup,
        upgrade=upgrade,
        error=sa.exc.IntegrityError,
        match="NOT NULL constraint failed: _amigrate_tmp_item.name",
    )
    assert err is not None
    rows = await query(sqlite_url, "SELECT id, name FROM item ORDER BY id")
    assert rows == [(1, "a"), (2, None)]


async def test_alter_column_keywords_it_does_not_take(mysql_url: str, tmp_path: Path) -> None:
    # Before: ignored, so the step "succeeded" changing nothing (on MySQL, which can
    # move a column, a move outside a batch looked done).
    for n, (call, match, hint) in enumerate(
        [
            (
                'await op.alter_column("item", "qty", insert_after="id")',
                "alter_column('item', 'qty'): insert_after moves a column only in a batch",
                "async with op.batch_alter_table('item') as batch:",
            ),
            (
                'await op.alter_column("item", "qty", nulable=False)',
                "alter_column('item', 'qty'): unexpected keyword argument 'nulable'",
                "check its spelling",
            ),
            (
                'async with op.batch_alter_table("item") as batch:\n'
                '    await batch.alter_column("qty", server_defualt="1")',
                "unexpected keyword argument 'server_defualt'",
                "<dialect>_<option>",
            ),
        ]
    ):
        err = await expect_failure(
            tmp_path / str(n), mysql_url, setup=TABLE, upgrade=call, error=ScriptError, match=match
        )
        assert hint in (getattr(err, "hint", None) or "")
