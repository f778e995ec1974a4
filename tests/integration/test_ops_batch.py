"""Batch mode: SQLite recreates the table keeping everything; other dialects ALTER in place."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import MigrationError, ScriptError, UnsupportedOperation
from tests.integration.test_ops_support import (
    backend,
    describe,
    expect_failure,
    op_roundtrip,
    query,
)
from tests.projects import Rev, make_project

# A table with a bit of everything SQLite can hold, and data in it.
POPULATED = """
await op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
await op.create_table("audit", sa.Column("item_id", sa.Integer), sa.Column("what", sa.String(10)))
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("name", sa.String(50)),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
    sa.Column("owner_id", sa.Integer),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("item.id")),
    sa.Column("legacy", sa.String(10)),
    sa.UniqueConstraint("code", name="uq_item_code"),
    sa.CheckConstraint("qty >= 0", name="ck_item_qty"),
    sa.CheckConstraint("length(code) > 0"),
    sa.ForeignKeyConstraint(["owner_id"], ["owner.id"], name="fk_item_owner", ondelete="CASCADE"),
)
await op.create_table(
    "note",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id", name="fk_note_item")),
)
await op.create_index("ix_item_name", "item", ["name"])
await op.create_index("ix_item_lower_name", "item", [sa.text("lower(name)")])
await op.create_index("ix_item_qty", "item", [sa.text("qty DESC")], sqlite_where=sa.text("qty > 0"))
await op.create_index("ix_item_legacy", "item", ["legacy"])
await op.execute(
    "CREATE TRIGGER tr_item_audit AFTER INSERT ON item "
    "BEGIN INSERT INTO audit (item_id, what) VALUES (NEW.id, 'insert'); END"
)
await op.create_view("item_stock", "SELECT id, qty FROM item")
await op.execute("INSERT INTO owner (id) VALUES (1), (2)")
await op.execute(
    "INSERT INTO item (id, code, name, qty, owner_id, parent_id, legacy) VALUES "
    "(1, 'A', 'Apple', 3, 1, NULL, 'x'), (2, 'B', 'Banana', 0, 2, 1, 'y'), "
    "(3, 'C', 'Cherry', 7, 1, 1, NULL)"
)
await op.execute("INSERT INTO note (id, item_id) VALUES (1, 2)")
await op.execute("DELETE FROM audit")
"""

CHANGE = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("price", sa.Numeric(8, 2), server_default="0"),
                           insert_after="code")
    await batch.alter_column("name", new_column_name="title", type_=sa.String(100),
                             nullable=False)
    await batch.alter_column("qty", type_=sa.BigInteger)
    await batch.drop_column("legacy")
"""

UNDO = """
async with op.batch_alter_table("item") as batch:
    await batch.drop_column("price")
    await batch.alter_column("title", new_column_name="name", type_=sa.String(50), nullable=True)
    await batch.alter_column("qty", type_=sa.Integer)
    await batch.add_column(sa.Column("legacy", sa.String(10)))
    await batch.create_index("ix_item_legacy", ["legacy"])
"""


async def test_sqlite_batch_keeps_rows_indexes_constraints_and_keys(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def check() -> None:
        rows = await query(
            sqlite_url, "SELECT id, code, price, title, qty, owner_id, parent_id FROM item"
        )
        assert sorted(rows) == [
            (1, "A", 0, "Apple", 3, 1, None),
            (2, "B", 0, "Banana", 0, 2, 1),
            (3, "C", 0, "Cherry", 7, 1, 1),
        ]
        # The trigger was recreated, the view still reads the table.
        await query(sqlite_url, "INSERT INTO item (id, code, title) VALUES (4, 'D', 'Date')")
        assert await query(sqlite_url, "SELECT item_id, what FROM audit") == [(4, "insert")]
        assert await query(sqlite_url, "SELECT count(*) FROM item_stock") == [(4,)]
        await query(sqlite_url, "DELETE FROM item WHERE id = 4")
        await query(sqlite_url, "DELETE FROM audit")
        # The named constraints still hold.
        for bad in (
            "INSERT INTO item (id, code, title) VALUES (9, 'A', 'dup')",  # uq_item_code
            "INSERT INTO item (id, code, title, qty) VALUES (9, 'Z', 'neg', -1)",  # ck_item_qty
            "INSERT INTO item (id, code, title) VALUES (9, '', 'empty')",  # unnamed check
            "INSERT INTO item (id, code) VALUES (9, 'Z')",  # title is NOT NULL now
        ):
            with pytest.raises(sa.exc.IntegrityError):
                await query(sqlite_url, bad)

    before, after = await op_roundtrip(
        tmp_path, sqlite_url, setup=POPULATED, upgrade=CHANGE, downgrade=UNDO, check=check
    )
    item = after["tables"]["item"]
    assert [c[0] for c in item["columns"]] == [
        "id", "code", "price", "title", "qty", "owner_id", "parent_id"
    ]  # fmt: skip
    columns = {c[0]: c for c in item["columns"]}
    assert columns["title"][1:3] == ("VARCHAR(100)", False)
    assert columns["qty"][1:4] == ("BIGINT", False, "'1'")
    assert item["uniques"] == before["tables"]["item"]["uniques"]
    assert item["checks"] == before["tables"]["item"]["checks"]
    assert item["fks"] == before["tables"]["item"]["fks"]  # to owner, and to itself
    assert after["tables"]["note"]["fks"] == before["tables"]["note"]["fks"]
    assert dict(item["indexes"]) == {
        "ix_item_name": "CREATE INDEX ix_item_name ON item (title)",
        "ix_item_lower_name": "CREATE INDEX ix_item_lower_name ON item (lower(title))",
        "ix_item_qty": "CREATE INDEX ix_item_qty ON item (qty DESC) WHERE qty > 0",
    }  # ix_item_legacy went with its column
    assert item["triggers"] == before["tables"]["item"]["triggers"]
    assert after["views"] == ["item_stock"]


SAME_BLOCK = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("price", sa.Integer, server_default="0"))
    await batch.alter_column("name", new_column_name="title", type_=sa.String(100),
                             existing_type=sa.String(50))
    await batch.alter_column("qty", nullable=True, existing_type=sa.Integer)
    await batch.drop_column("legacy")
    await batch.create_index("ix_item_price", ["price"])
    await batch.drop_index("ix_item_name")
    await batch.create_unique_constraint("uq_item_title", ["title"])
    await batch.create_check_constraint("ck_item_price", "price >= 0")
    await batch.drop_constraint("uq_item_code", type_="unique")
"""

SAME_UNDO = """
async with op.batch_alter_table("item") as batch:
    await batch.create_unique_constraint("uq_item_code", ["code"])
    await batch.drop_constraint("ck_item_price", type_="check")
    await batch.drop_constraint("uq_item_title", type_="unique")
    await batch.create_index("ix_item_name", ["title"])
    await batch.drop_index("ix_item_price")
    await batch.add_column(sa.Column("legacy", sa.String(10)))
    await batch.alter_column("qty", nullable=False, existing_type=sa.Integer)
    await batch.alter_column("title", new_column_name="name", type_=sa.String(50),
                             existing_type=sa.String(100))
    await batch.drop_column("price")
"""

SIMPLE = """
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("name", sa.String(50)),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
    sa.Column("legacy", sa.String(10)),
    sa.UniqueConstraint("code", name="uq_item_code"),
)
await op.create_index("ix_item_name", "item", ["name"])
await op.execute("INSERT INTO item (id, code, name, legacy) VALUES (1, 'A', 'Apple', 'x')")
"""


async def test_the_same_batch_runs_everywhere(db_url: str, tmp_path: Path) -> None:
    async def check() -> None:
        rows = await query(db_url, "SELECT id, code, title, qty, price FROM item")
        assert rows == [(1, "A", "Apple", 1, 0)]

    before, after = await op_roundtrip(
        tmp_path, db_url, setup=SIMPLE, upgrade=SAME_BLOCK, downgrade=SAME_UNDO, check=check
    )
    item = after["tables"]["item"]
    columns = {c[0]: c for c in item["columns"]}
    assert list(columns) == ["id", "code", "title", "qty", "price"]
    assert columns["title"][1] == "VARCHAR(100)"
    assert columns["qty"][2]
    assert item["uniques"] == [("uq_item_title", ("title",))]
    assert "ck_item_price" in dict(item["checks"])
    assert "ix_item_price" in str(item["indexes"])
    assert "ix_item_name" not in str(item["indexes"])
    assert before["tables"]["item"]["uniques"] == [("uq_item_code", ("code",))]


async def test_batch_insert_before_and_after(sqlite_url: str, tmp_path: Path) -> None:
    upgrade = """
async with op.batch_alter_table("item", recreate="always") as batch:
    await batch.add_column(sa.Column("first", sa.Integer), insert_before="id")
    await batch.add_column(sa.Column("second", sa.Integer), insert_after="first")
    await batch.alter_column("legacy", insert_after="code")
"""
    downgrade = """
async with op.batch_alter_table("item", partial_reordering=[("name", "qty", "legacy")]) as batch:
    await batch.drop_column("first")
    await batch.drop_column("second")
"""
    _, after = await op_roundtrip(
        tmp_path, sqlite_url, setup=SIMPLE, upgrade=upgrade, downgrade=downgrade
    )
    assert [c[0] for c in after["tables"]["item"]["columns"]] == [
        "first", "second", "id", "code", "legacy", "name", "qty"
    ]  # fmt: skip


async def test_an_empty_batch_that_always_recreates_applies_its_table_args(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The Alembic idiom for adding a constraint on SQLite: no change in the block, the
    constraint in table_args (it was silently not applied)."""
    upgrade = """
async with op.batch_alter_table(
    "item",
    recreate="always",
    table_args=(sa.CheckConstraint("qty > 0", name="ck_item_qty"),),
) as batch:
    pass
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.drop_constraint("ck_item_qty", type_="check")
"""
    _, after = await op_roundtrip(
        tmp_path, sqlite_url, setup=SIMPLE, upgrade=upgrade, downgrade=downgrade
    )
    assert "ck_item_qty" in dict(after["tables"]["item"]["checks"])


async def test_batch_naming_convention_names_unnamed_constraints(
    sqlite_url: str, tmp_path: Path
) -> None:
    setup = """
await op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owner.id")),
    sa.Column("code", sa.String(5), unique=True),
)
"""
    upgrade = """
convention = {
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
}
async with op.batch_alter_table("item", naming_convention=convention) as batch:
    await batch.drop_constraint("fk_item_owner_id_owner", type_="foreignkey")
    await batch.drop_constraint("uq_item_code", type_="unique")
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.create_foreign_key(None, "owner", ["owner_id"], ["id"])
    await batch.create_unique_constraint(None, ["code"])
"""
    before, after = await op_roundtrip(
        tmp_path, sqlite_url, setup=setup, upgrade=upgrade, downgrade=downgrade
    )
    assert before["tables"]["item"]["fks"][0][0] == ""  # unnamed
    assert after["tables"]["item"]["fks"] == []
    assert after["tables"]["item"]["uniques"] == []


async def test_batch_recreate_always_is_sqlite_only(db_url: str, tmp_path: Path) -> None:
    upgrade = """
async with op.batch_alter_table("item", recreate="always") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
"""
    if backend(db_url) == "sqlite":
        _, after = await op_roundtrip(
            tmp_path,
            db_url,
            setup=SIMPLE,
            upgrade=upgrade,
            downgrade='async with op.batch_alter_table("item") as b:\n'
            '    await b.drop_column("extra")',
        )
        assert after["tables"]["item"]["columns"][-1][0] == "extra"
        return
    await expect_failure(
        tmp_path, db_url, setup=SIMPLE, upgrade=upgrade, match="recreate='always' is for SQLite"
    )


async def test_batch_errors_before_anything_runs(db_url: str, tmp_path: Path) -> None:
    # An op the batch cannot hold, a bad recreate value, a call that was never awaited,
    # and a plain `with`: each fails the step, with the schema as it was.
    for n, (body, error, match) in enumerate(
        [
            (
                'async with op.batch_alter_table("item", recreate="sometimes") as b:\n    pass',
                ScriptError,
                "recreate='sometimes' is not one of",
            ),
            (
                'async with op.batch_alter_table("item") as b:\n    b.drop_column("legacy")',
                ScriptError,
                "was never awaited, so it is not part of the batch",
            ),
            (
                'with op.batch_alter_table("item") as b:\n    pass',
                ScriptError,
                "was used with 'with'",
            ),
        ]
    ):
        url = db_url.replace("test.db", f"test{n}.db")
        if backend(db_url) != "sqlite" and n:
            return  # one database per server test is enough for these
        await expect_failure(
            tmp_path / str(n), url, setup=SIMPLE, upgrade=body, error=error, match=match
        )


@pytest.mark.parametrize(
    ("referent", "batched"),
    [("item", "item"), ("ITEM", "item"), ("item", "Item")],  # SQLite's names ignore case
)
async def test_sqlite_batch_refuses_a_referenced_table_with_foreign_keys_on(
    sqlite_url: str, tmp_path: Path, referent: str, batched: str
) -> None:
    setup = f"""
await op.create_table("item", sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("name", sa.String(5)))
await op.execute(
    "CREATE TABLE note (id INTEGER PRIMARY KEY, "
    "item_id INTEGER REFERENCES {referent}(id) ON DELETE CASCADE)"
)
await op.execute("INSERT INTO item (id) VALUES (1)")
await op.execute("INSERT INTO note (id, item_id) VALUES (1, 1)")
"""
    upgrade = f"""
async with op.batch_alter_table("{batched}") as batch:
    await batch.alter_column("name", type_=sa.String(50))
"""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=setup), Rev("b2", "a1", upgrade=upgrade)
    )
    await amigrate.upgrade(project.config(), "a1")
    engine = create_async_engine(sqlite_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            await conn.commit()
            with pytest.raises(MigrationError) as info:
                await amigrate.upgrade(project.config(), "b2", connection=conn)
    finally:
        await engine.dispose()
    cause = info.value.__cause__
    assert isinstance(cause, UnsupportedOperation)
    assert "foreign keys point at this table" in str(cause)
    assert await query(sqlite_url, "SELECT count(*) FROM note") == [(1,)]  # nothing cascaded
    assert (await describe(sqlite_url))["tables"]["item"]["columns"][1][1] == "VARCHAR(5)"


DEPENDENTS = """
await op.execute(
    "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE, legacy TEXT, n INT, x TEXT, y INT)"
)
await op.execute("CREATE TABLE log (msg TEXT)")
await op.execute("CREATE VIEW v AS SELECT id, n FROM t")
await op.execute("CREATE VIEW everything AS SELECT * FROM t")
await op.execute(
    "CREATE TRIGGER trg AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.legacy); END"
)
await op.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, tcode TEXT REFERENCES t(code))")
await op.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT)")
await op.execute("CREATE VIEW tv AS SELECT id, code FROM t")
await op.execute(
    "CREATE TRIGGER tvi INSTEAD OF INSERT ON tv BEGIN INSERT INTO t(id, y) VALUES (new.id, 1); END"
)
await op.execute(
    "CREATE TRIGGER copy AFTER INSERT ON src BEGIN INSERT INTO t(x) VALUES (new.v); END"
)
"""


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            'await batch.drop_column("legacy")',
            "the INSERT triggers of 't' would fail: no such column: new.legacy",
        ),
        (
            'await batch.alter_column("n", new_column_name="qty")',
            "view 'v' would fail: no such column: n",
        ),
        (
            'await batch.alter_column("code", new_column_name="ref")',
            "a foreign key of table 'child' refers to column 'code', which this batch renames",
        ),
        (
            'await batch.drop_column("y")',  # an INSTEAD OF trigger of a view writes t.y
            "the INSERT triggers of 'tv' would fail: table t has no column named y",
        ),
        (
            'await batch.drop_column("x")',  # a trigger of another table writes t.x
            "the INSERT triggers of 'src' would fail: table t has no column named x",
        ),
    ],
)
async def test_sqlite_rebuild_refuses_to_break_what_uses_a_column(
    sqlite_url: str, tmp_path: Path, change: str, match: str
) -> None:
    """A rebuild cannot rewrite the views, triggers and other tables' keys that use a column
    it drops or renames (SQLite's own DROP COLUMN refuses, its RENAME COLUMN rewrites them):
    they were left broken, the run said it succeeded."""
    upgrade = f"""
async with op.batch_alter_table("t", recreate="always") as batch:
    {change}
"""
    cause = await expect_failure(
        tmp_path, sqlite_url, setup=DEPENDENTS, upgrade=upgrade, error=ScriptError, match=match
    )
    assert isinstance(cause, ScriptError)
    hint = cause.hint or ""
    assert "create it again after" in hint or "foreign key first" in hint


async def test_sqlite_rebuild_leaves_be_what_only_looks_like_it_uses_a_column(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A view or trigger naming another table's column of the same name, or a column named
    like a keyword of every trigger (end), is no reason to refuse (they were refused by a
    check that read words)."""
    setup = """
await op.execute('CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT, "end" TEXT, x INT)')
await op.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT)")
await op.execute("CREATE TABLE log (name TEXT)")
await op.execute(
    "CREATE VIEW v AS SELECT a.id, c.name FROM account a JOIN customer c ON c.id = a.x"
)
await op.execute(
    "CREATE TRIGGER gone AFTER DELETE ON account BEGIN INSERT INTO log (name) VALUES ('x'); END"
)
await op.execute(  # broken from the start: not this batch's doing
    "CREATE TRIGGER pre AFTER UPDATE ON customer BEGIN INSERT INTO account (nope) VALUES (1); END"
)
await op.execute("CREATE TABLE gone_soon (id INTEGER PRIMARY KEY)")
await op.execute(  # a view broken from the start, with an INSTEAD OF trigger
    "CREATE VIEW broken AS SELECT account.id FROM account JOIN gone_soon USING (id)"
)
await op.execute(
    "CREATE TRIGGER bd INSTEAD OF DELETE ON broken BEGIN DELETE FROM account WHERE id = old.id; END"
)
await op.execute("DROP TABLE gone_soon")
"""
    upgrade = """
async with op.batch_alter_table("account", recreate="always") as batch:
    await batch.drop_column("name")
    await batch.drop_column("end")
"""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=setup), Rev("b2", "a1", upgrade=upgrade)
    )
    await amigrate.upgrade(project.config())
    await query(sqlite_url, "INSERT INTO account (id, x) VALUES (1, 1)")
    await query(sqlite_url, "DELETE FROM account")
    assert await query(sqlite_url, "SELECT name FROM log") == [("x",)]
    assert await query(sqlite_url, "SELECT * FROM v") == []


async def test_sqlite_rebuild_keeps_what_does_not_use_the_column(
    sqlite_url: str, tmp_path: Path
) -> None:
    """SELECT * names no column, and the trigger only names legacy: dropping n is fine."""
    setup = DEPENDENTS.replace("SELECT id, n FROM t", "SELECT id FROM t")
    upgrade = """
async with op.batch_alter_table("t") as batch:
    await batch.alter_column("code", type_=sa.String(20))
    await batch.drop_column("n")
"""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=setup), Rev("b2", "a1", upgrade=upgrade)
    )
    await amigrate.upgrade(project.config())
    await query(sqlite_url, "INSERT INTO t (id, code, legacy) VALUES (1, 'c', 'x')")
    assert await query(sqlite_url, "SELECT msg FROM log") == [("x",)]
    assert await query(sqlite_url, "SELECT * FROM everything") == [(1, "c", "x", None, None)]


async def test_sqlite_batch_keeps_the_name_of_an_inline_foreign_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    """pid INTEGER CONSTRAINT fk_p REFERENCES p(id): the rebuilt table keeps the key's name
    (reflection finds the key unnamed; it could no longer be dropped by its name)."""
    setup = """
await op.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
await op.execute(
    "CREATE TABLE a (id INTEGER PRIMARY KEY, "
    "pid INTEGER CONSTRAINT fk_p REFERENCES p(id) ON DELETE CASCADE, old TEXT)"
)
"""
    upgrade = """
async with op.batch_alter_table("a") as batch:
    await batch.drop_column("old")
"""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=setup), Rev("b2", "a1", upgrade=upgrade)
    )
    await amigrate.upgrade(project.config())
    (sql,) = await query(sqlite_url, "SELECT sql FROM sqlite_master WHERE name = 'a'")
    assert "CONSTRAINT fk_p FOREIGN KEY(pid) REFERENCES p (id) ON DELETE CASCADE" in sql[0]


async def test_sqlite_batch_on_a_name_in_another_case(sqlite_url: str, tmp_path: Path) -> None:
    """batch_alter_table("Account") is the table stored as account (SQLite's names ignore
    case): its key, AUTOINCREMENT counter, indexes and triggers are kept, and its name.
    (Read under the other name, the key and the rest were silently lost.)"""
    setup = """
await op.execute(
    "CREATE TABLE account (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT, n INT)"
)
await op.execute("CREATE INDEX ix_account_lower ON account (lower(a))")
await op.execute("CREATE INDEX ix_account_n ON account (n)")
await op.execute("CREATE TRIGGER trg_account AFTER INSERT ON account BEGIN SELECT 1; END")
await op.execute("INSERT INTO account (a, n) VALUES ('x', 1), ('y', 2), ('z', 3)")
await op.execute("DELETE FROM account WHERE id = 3")
"""
    upgrade = """
async with op.batch_alter_table("Account") as batch:
    await batch.alter_column("n", type_=sa.BigInteger)
"""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=setup), Rev("b2", "a1", upgrade=upgrade)
    )
    await amigrate.upgrade(project.config())
    names = await query(sqlite_url, "SELECT type, name FROM sqlite_master ORDER BY type, name")
    assert [n for n in names if "account" in n[1].lower()] == [
        ("index", "ix_account_lower"),
        ("index", "ix_account_n"),
        ("table", "account"),
        ("trigger", "trg_account"),
    ]
    await query(sqlite_url, "INSERT INTO account (a, n) VALUES ('w', 4)")
    assert await query(sqlite_url, "SELECT id FROM account WHERE a = 'w'") == [(4,)]


async def test_sqlite_batch_in_an_attached_schema(sqlite_url: str, tmp_path: Path) -> None:
    """The indexes and triggers of a table in an attached database are made again there
    (they were made in main, on a table of the same name there)."""
    other = tmp_path / "other.db"
    setup = """
await op.execute("CREATE TABLE other.t (id INTEGER PRIMARY KEY, a TEXT, n INT)")
await op.execute("CREATE INDEX other.ix_a ON t (a)")
await op.execute(
    "CREATE TRIGGER other.trg AFTER INSERT ON t BEGIN UPDATE t SET n = 1 WHERE id = new.id; END"
)
await op.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, n INT)")
"""
    upgrade = """
async with op.batch_alter_table("t", schema="other") as batch:
    await batch.alter_column("n", type_=sa.BigInteger)
"""
    project = make_project(
        tmp_path, sqlite_url, Rev("a1", None, upgrade=setup), Rev("b2", "a1", upgrade=upgrade)
    )
    project.env(
        f"""
        import sqlalchemy as sa

        async def on_connect(connection, config):
            await connection.execute(sa.text("ATTACH DATABASE '{other}' AS other"))
        """
    )
    await amigrate.upgrade(project.config())
    engine = create_async_engine(sqlite_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f"ATTACH DATABASE '{other}' AS other")
            main = await conn.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE tbl_name = 't' ORDER BY name"
            )
            attached = await conn.exec_driver_sql(
                "SELECT type, name FROM other.sqlite_master WHERE tbl_name = 't' ORDER BY name"
            )
            assert [tuple(r) for r in main] == [("table", "t")]
            assert [tuple(r) for r in attached] == [
                ("index", "ix_a"),
                ("table", "t"),
                ("trigger", "trg"),
            ]
    finally:
        await engine.dispose()


async def test_sqlite_batch_in_place_with_an_expression_index(
    sqlite_url: str, tmp_path: Path
) -> None:
    setup = SIMPLE + '\nawait op.create_index("ix_item_lower", "item", [sa.text("lower(name)")])'
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
    await batch.drop_index("ix_item_lower")
    await batch.alter_column("name", new_column_name="title")
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.alter_column("title", new_column_name="name")
    await batch.create_index("ix_item_lower", [sa.text("lower(name)")])
    await batch.drop_column("extra")
"""
    _, after = await op_roundtrip(
        tmp_path, sqlite_url, setup=setup, upgrade=upgrade, downgrade=downgrade
    )
    assert [c[0] for c in after["tables"]["item"]["columns"]][-1] == "extra"
    assert "ix_item_lower" not in dict(after["tables"]["item"]["indexes"])


async def test_sqlite_batch_recreates_a_table_with_generated_columns(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Their values are computed in the new table (copying them in failed: "cannot INSERT
    into generated column"), and a column renamed there is renamed in their expressions."""
    setup = """
await op.create_table(
    "g",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a", sa.Integer),
    sa.Column("b", sa.Integer, sa.Computed("a * 2", persisted=True)),
    sa.Column("v", sa.Integer, sa.Computed("a + 1")),
)
await op.execute("INSERT INTO g (id, a) VALUES (1, 5)")
"""
    upgrade = """
async with op.batch_alter_table("g", recreate="always") as batch:
    await batch.add_column(sa.Column("z", sa.Integer))
    await batch.alter_column("a", new_column_name="c")
"""
    downgrade = """
async with op.batch_alter_table("g", recreate="always") as batch:
    await batch.alter_column("c", new_column_name="a")
    await batch.drop_column("z")
"""

    async def check() -> None:
        assert await query(sqlite_url, "SELECT id, c, b, v, z FROM g") == [(1, 5, 10, 6, None)]
        await query(sqlite_url, "UPDATE g SET c = 7")
        assert await query(sqlite_url, "SELECT b, v FROM g") == [(14, 8)]

    await op_roundtrip(
        tmp_path, sqlite_url, setup=setup, upgrade=upgrade, downgrade=downgrade, check=check
    )


async def test_sqlite_batch_reads_generated_expressions_from_the_stored_sql(
    sqlite_url: str, tmp_path: Path
) -> None:
    """SQLAlchemy's reflection finds a generated column's expression by a pattern: it
    took subtotal's for total, and on one line ran past the closing parenthesis."""
    setup = """
await op.execute(
    "CREATE TABLE g (id INTEGER PRIMARY KEY, price INTEGER, qty INTEGER, "
    "subtotal INTEGER GENERATED ALWAYS AS (price * qty), "
    "total INTEGER GENERATED ALWAYS AS (price * qty + 5) STORED, "
    "b VARCHAR(5), v TEXT AS (upper(b) || ')'))"
)
await op.execute("INSERT INTO g (id, price, qty, b) VALUES (1, 10, 2, 'x')")
"""
    upgrade = """
async with op.batch_alter_table("g", recreate="always") as batch:
    await batch.add_column(sa.Column("note", sa.Text))
    await batch.alter_column("b", type_=sa.Text)
"""

    async def check() -> None:
        rows = await query(sqlite_url, "SELECT subtotal, total, v FROM g")
        assert rows == [(20, 25, "X)")]

    await op_roundtrip(
        tmp_path,
        sqlite_url,
        setup=setup,
        upgrade=upgrade,
        downgrade="""
async with op.batch_alter_table("g", recreate="always") as batch:
    await batch.drop_column("note")
    await batch.alter_column("b", type_=sa.String(5))
""",
        check=check,
    )


async def test_sqlite_batch_keeps_autoincrement_inline_unique_and_collation(
    sqlite_url: str, tmp_path: Path
) -> None:
    # SQLAlchemy's reflection misses all three; the recreated table must keep them.
    setup = """
await op.create_table(
    "c",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("v", sa.String(10)),
    sqlite_autoincrement=True,
)
await op.execute("INSERT INTO c (v) VALUES ('a'), ('b'), ('c')")
await op.execute("DELETE FROM c WHERE id = 3")
await op.execute(
    "CREATE TABLE u (id integer primary key, code varchar(10) unique, "
    "name varchar(10) collate nocase, w int, "
    "z numeric(5, 2) constraint uq_u_z unique, CONSTRAINT uq_u_w_z UNIQUE (w, z))"
)
await op.execute("INSERT INTO u (id, code, name, w, z) VALUES (1, 'A', 'Ann', 1, 1)")
"""
    upgrade = """
async with op.batch_alter_table("c") as batch:
    await batch.alter_column("v", type_=sa.String(20))
async with op.batch_alter_table("u") as batch:
    await batch.alter_column("w", type_=sa.BigInteger)
"""
    downgrade = """
async with op.batch_alter_table("u") as batch:
    await batch.alter_column("w", type_=sa.Integer)
async with op.batch_alter_table("c") as batch:
    await batch.alter_column("v", type_=sa.String(10))
"""

    async def check() -> None:
        # AUTOINCREMENT, and its counter: the deleted id 3 is not reused.
        ((sql,),) = await query(sqlite_url, "SELECT sql FROM sqlite_master WHERE name = 'c'")
        assert "AUTOINCREMENT" in sql
        await query(sqlite_url, "INSERT INTO c (v) VALUES ('d')")
        ids = [r[0] for r in await query(sqlite_url, "SELECT id FROM c ORDER BY id")]
        assert ids[:2] == [1, 2]
        assert ids[-1] > 3
        assert len(ids) == 3
        await query(sqlite_url, f"DELETE FROM c WHERE id = {ids[-1]}")
        # COLLATE NOCASE still decides comparisons.
        assert await query(sqlite_url, "SELECT id FROM u WHERE name = 'ANN'") == [(1,)]
        # The inline UNIQUE constraints (one named) and the table's own still hold.
        for bad in (
            "INSERT INTO u (id, code) VALUES (2, 'A')",
            "INSERT INTO u (id, z) VALUES (2, 1)",
            "INSERT INTO u (id, w, z) VALUES (2, 1, 1)",
        ):
            with pytest.raises(sa.exc.IntegrityError):
                await query(sqlite_url, bad)

    # (Not op_roundtrip: the recreated table writes the inline UNIQUEs as table
    # constraints, which reflection then sees, so the schemas read differently.)
    project = make_project(
        tmp_path,
        sqlite_url,
        Rev("a1", None, upgrade=setup),
        Rev("b2", "a1", upgrade=upgrade, downgrade=downgrade),
    )
    await amigrate.upgrade(project.config(), "b2")
    await check()
    await amigrate.downgrade(project.config(), "a1")
    await check()
    uniques = (await describe(sqlite_url))["tables"]["u"]["uniques"]
    assert uniques == [("", ("code",)), ("uq_u_w_z", ("w", "z")), ("uq_u_z", ("z",))]


async def test_sqlite_batch_keeps_the_actions_of_inline_references(
    sqlite_url: str, tmp_path: Path
) -> None:
    # Reflection finds an inline REFERENCES but not its ON DELETE / ON UPDATE or
    # DEFERRABLE: the recreated table must keep them (or cascades stop cascading).
    setup = """
await op.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY, k INTEGER UNIQUE)")
await op.execute(
    "CREATE TABLE child (id INTEGER PRIMARY KEY, "
    "parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE NOT NULL, "
    "k INTEGER CONSTRAINT fk_k REFERENCES \\"parent\\" (k) ON DELETE SET NULL ON UPDATE CASCADE, "
    "p3 INTEGER REFERENCES parent DEFERRABLE INITIALLY DEFERRED, note TEXT)"
)
await op.execute("INSERT INTO parent VALUES (1, 10), (2, 20)")
await op.execute("INSERT INTO child VALUES (1, 1, 10, NULL, 'a'), (2, 2, 20, NULL, 'b')")
"""
    upgrade = """
async with op.batch_alter_table("child") as batch:
    await batch.alter_column("note", type_=sa.String(50))
"""
    project = make_project(tmp_path, sqlite_url, Rev("a1", None, upgrade=setup))
    project.add(Rev("b2", "a1", upgrade=upgrade))
    await amigrate.upgrade(project.config(), "head")

    keys = await query(sqlite_url, "SELECT * FROM pragma_foreign_key_list('child') ORDER BY id")
    actions = sorted((r[3], r[5], r[6]) for r in keys)  # from, on_update, on_delete
    assert actions == [
        ("k", "CASCADE", "SET NULL"),
        ("p3", "NO ACTION", "NO ACTION"),
        ("parent_id", "NO ACTION", "CASCADE"),
    ]
    ((sql,),) = await query(sqlite_url, "SELECT sql FROM sqlite_master WHERE name = 'child'")
    assert "DEFERRABLE INITIALLY DEFERRED" in sql
    engine = create_async_engine(sqlite_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA foreign_keys = ON")  # (before the transaction)
            await conn.exec_driver_sql("UPDATE parent SET k = 21 WHERE id = 2")
            await conn.exec_driver_sql("DELETE FROM parent WHERE id = 1")
            await conn.commit()
    finally:
        await engine.dispose()
    rows = await query(sqlite_url, "SELECT id, parent_id, k FROM child")
    assert rows == [(2, 2, 21)]


async def test_sqlite_batch_refuses_a_collation_it_cannot_keep(
    sqlite_url: str, tmp_path: Path
) -> None:
    setup = """
await op.execute("CREATE TABLE u (id integer primary key, w int collate nocase, v int)")
await op.execute("INSERT INTO u (id, w) VALUES (1, 1)")
"""
    upgrade = """
async with op.batch_alter_table("u") as batch:
    await batch.alter_column("v", type_=sa.BigInteger)
"""
    await expect_failure(
        tmp_path,
        sqlite_url,
        setup=setup,
        upgrade=upgrade,
        error=ScriptError,
        match="column 'w' has COLLATE nocase on a type that is not text",
    )
    assert await query(sqlite_url, "SELECT id, w FROM u") == [(1, 1)]


CONFLICTS = """
await op.execute(
    "CREATE TABLE k (id integer PRIMARY KEY ON CONFLICT REPLACE, "
    "a int NOT NULL ON CONFLICT IGNORE, b int UNIQUE ON CONFLICT REPLACE, "
    "c int, d varchar(5), e int, "
    "CONSTRAINT [uq cd] UNIQUE (c DESC, d) ON CONFLICT REPLACE, "
    "CONSTRAINT `uq_de` UNIQUE (d, e))"
)
await op.execute("INSERT INTO k VALUES (1, 1, 1, 1, 'x', 1), (2, 2, 2, 2, 'y', 2)")
"""


async def test_sqlite_batch_keeps_on_conflict_clauses_and_constraint_names(
    sqlite_url: str, tmp_path: Path
) -> None:
    # Reflection misses ON CONFLICT, and the names of constraints written as
    # CONSTRAINT [name] or with DESC in their column list: the rebuild reads them back.
    upgrade = """
async with op.batch_alter_table("k") as batch:
    await batch.add_column(sa.Column("f", sa.Integer))
    await batch.alter_column("a", type_=sa.BigInteger)
    await batch.drop_column("e")
"""
    downgrade = """
async with op.batch_alter_table("k") as batch:
    await batch.drop_column("f")
    await batch.alter_column("a", type_=sa.Integer)
    await batch.add_column(sa.Column("e", sa.Integer))
"""

    async def check() -> None:
        ((sql,),) = await query(sqlite_url, "SELECT sql FROM sqlite_master WHERE name = 'k'")
        flat = " ".join(sql.split())
        for clause in (
            "NOT NULL ON CONFLICT IGNORE",
            "PRIMARY KEY (id) ON CONFLICT REPLACE",
            "UNIQUE (b) ON CONFLICT REPLACE",
            'CONSTRAINT "uq cd" UNIQUE (c, d) ON CONFLICT REPLACE',
        ):
            assert clause in flat, flat
        # The same behaviour: a NULL a is skipped, a duplicate id, b or (c, d) replaces.
        await query(sqlite_url, "INSERT INTO k (id, a, b) VALUES (3, NULL, 3)")
        await query(sqlite_url, "INSERT INTO k (id, a, b) VALUES (1, 10, 10)")
        await query(sqlite_url, "INSERT INTO k (id, a, b) VALUES (4, 40, 10)")
        await query(sqlite_url, "INSERT INTO k (id, a, b, c, d) VALUES (5, 50, 50, 2, 'y')")
        assert await query(sqlite_url, "SELECT id, a, b, c, d FROM k ORDER BY id") == [
            (4, 40, 10, None, None),
            (5, 50, 50, 2, "y"),
        ]
        await query(sqlite_url, "DELETE FROM k")
        await query(
            sqlite_url, "INSERT INTO k (id, a, b, c, d) VALUES (1, 1, 1, 1, 'x'), (2, 2, 2, 2, 'y')"
        )

    project = make_project(
        tmp_path,
        sqlite_url,
        Rev("a1", None, upgrade=CONFLICTS),
        Rev("b2", "a1", upgrade=upgrade, downgrade=downgrade),
    )
    await amigrate.upgrade(project.config(), "b2")
    await check()
    uniques = (await describe(sqlite_url))["tables"]["k"]["uniques"]
    assert uniques == [("", ("b",)), ("uq cd", ("c", "d"))]  # uq_de went with e
    await amigrate.downgrade(project.config(), "a1")
    await check()  # and the second rebuild keeps them too
    assert (await describe(sqlite_url))["tables"]["k"]["uniques"] == uniques


async def test_sqlite_batch_refuses_a_collated_key_it_cannot_keep(
    sqlite_url: str, tmp_path: Path
) -> None:
    setup = """
await op.execute(
    "CREATE TABLE u (id integer primary key, code varchar(5), v int, "
    "CONSTRAINT uq_code UNIQUE (code COLLATE nocase))"
)
await op.execute("INSERT INTO u (id, code) VALUES (1, 'A')")
"""
    upgrade = """
async with op.batch_alter_table("u") as batch:
    await batch.alter_column("v", type_=sa.BigInteger)
"""
    err = await expect_failure(
        tmp_path,
        sqlite_url,
        setup=setup,
        upgrade=upgrade,
        error=ScriptError,
        match="its unique constraint 'uq_code' on code has a COLLATE in its column list",
    )
    assert "drop it in this batch" in (getattr(err, "hint", None) or "")
    # Dropped in the same batch, it has nothing to keep: the batch runs.
    upgrade = """
async with op.batch_alter_table("u") as batch:
    await batch.alter_column("v", type_=sa.BigInteger)
    await batch.drop_constraint("uq_code", type_="unique")
await op.create_index("ix_u_code", "u", [sa.text("code COLLATE nocase")], unique=True)
"""
    downgrade = """
await op.drop_index("ix_u_code", "u")
"""
    url = sqlite_url.replace("test.db", "again.db")
    project = make_project(
        tmp_path / "again",
        url,
        Rev("a1", None, upgrade=setup),
        Rev("c3", "a1", upgrade=upgrade, downgrade=downgrade),
    )
    await amigrate.upgrade(project.config(), "c3")
    with pytest.raises(sa.exc.IntegrityError):
        await query(url, "INSERT INTO u (id, code) VALUES (2, 'a')")


def docs_revisions() -> list[tuple[str, str]]:
    """The revision files docs/operations.md writes, as (file name, source)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    found = re.findall(r'write_revision\(\n\s+"(\w+)",\n\s+\'\'\'(.*?)\'\'\',\n\)', text, re.S)
    return [(f"{name}.py", textwrap.dedent(source)) for name, source in found]


async def test_the_docs_revisions_run_on_every_backend(db_url: str, tmp_path: Path) -> None:
    # tests/test_docs.py runs docs/operations.md on SQLite; its batch example promises
    # the same block runs as plain ALTERs on PostgreSQL and MySQL.
    project = make_project(tmp_path, db_url)
    revisions = docs_revisions()
    assert len(revisions) == 3
    for name, source in revisions:
        (project.versions / name).write_text(source)
    config = project.config()
    # (The third, widening a column, is shown offline for MySQL and PostgreSQL only.)
    target = "2b3c4d5e6f70" if backend(db_url) == "sqlite" else "head"
    await amigrate.upgrade(config, target)
    assert await query(db_url, "SELECT id, email, age, full_name FROM account") == [
        (1, "ann@example.com", None, "n/a")
    ]
    await amigrate.downgrade(config, "1a2b3c4d5e6f")
    assert await query(db_url, "SELECT id, email, full_name FROM account") == [
        (1, "ann@example.com", "n/a")
    ]
    await amigrate.downgrade(config, "base")
    assert (await describe(db_url))["tables"] == {}


async def test_batch_places_a_new_column_where_the_dialect_can(db_url: str, tmp_path: Path) -> None:
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
    await batch.add_column(sa.Column("first", sa.Integer), insert_before="id")
    await batch.add_column(sa.Column("second", sa.Integer), insert_after="code")
    await batch.add_column(sa.Column("third", sa.Integer), insert_before="qty")
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    for name in ("first", "second", "third", "extra"):
        await batch.drop_column(name)
"""
    if backend(db_url) == "postgresql":
        # PostgreSQL only appends columns: refused before the first ALTER runs.
        await expect_failure(
            tmp_path,
            db_url,
            setup=SIMPLE,
            upgrade=upgrade,
            match="PostgreSQL's ALTER TABLE only appends columns",
        )
        return
    _, after = await op_roundtrip(
        tmp_path, db_url, setup=SIMPLE, upgrade=upgrade, downgrade=downgrade
    )
    assert [c[0] for c in after["tables"]["item"]["columns"]] == [
        "first", "id", "code", "second", "name", "third", "qty", "legacy", "extra"
    ]  # fmt: skip


async def test_batch_moves_a_column_where_the_dialect_can(db_url: str, tmp_path: Path) -> None:
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.alter_column("qty", insert_before="code")
    await batch.alter_column("id", insert_after="legacy", existing_type=sa.Integer)
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.alter_column("id", insert_before="qty")
    await batch.alter_column("qty", insert_after="name")
"""
    if backend(db_url) == "postgresql":
        # PostgreSQL cannot reorder columns: refused before the first ALTER runs.
        err = await expect_failure(
            tmp_path,
            db_url,
            setup=SIMPLE,
            upgrade=upgrade,
            match="alter_column('item', 'qty'): insert_before/insert_after: PostgreSQL "
            "cannot move an existing column",
        )
        hint = getattr(err, "hint", None) or ""
        assert "leave insert_before/insert_after out on PostgreSQL" in hint
        assert "create a new table with the columns in the order you want" in hint
        return

    async def check() -> None:
        assert await query(db_url, "SELECT qty, code, name, legacy, id FROM item") == [
            (1, "A", "Apple", "x", 1)
        ]

    before, after = await op_roundtrip(
        tmp_path, db_url, setup=SIMPLE, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert [c[0] for c in after["tables"]["item"]["columns"]] == [
        "qty", "code", "name", "legacy", "id"
    ]  # fmt: skip
    # Moved, not changed: each column reads as it did.
    assert sorted(after["tables"]["item"]["columns"]) == sorted(before["tables"]["item"]["columns"])


async def test_batch_checks_placement_names_before_anything_runs(
    db_url: str, tmp_path: Path
) -> None:
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
    await batch.add_column(sa.Column("more", sa.Integer), insert_after="nmae")
"""
    await expect_failure(
        tmp_path, db_url, setup=SIMPLE, upgrade=upgrade, error=ScriptError, match="no column 'nmae'"
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ('alter_column("qty", insert_after="qty")', "insert_after='qty' names the column itself"),
        ('alter_column("qty", insert_before="qty")', "insert_before='qty' names the column"),
        (
            'alter_column("qty", new_column_name="amount", insert_after="amount")',
            "insert_after='amount' names the column itself",
        ),
        (
            'alter_column("qty", insert_before="id", insert_after="code")',
            "give insert_before or insert_after, not both",
        ),
        (
            'add_column(sa.Column("more", sa.Integer), insert_before="id", insert_after="qty")',
            "give insert_before or insert_after, not both",
        ),
    ],
)
async def test_batch_refuses_a_placement_that_names_no_place(
    sqlite_url: str, mysql_url: str, tmp_path: Path, call: str, match: str
) -> None:
    # Refused where the call is made, whatever the dialect (MySQL took "AFTER qty" of qty).
    upgrade = f"""
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.Integer))
    await batch.{call}
"""
    for n, url in enumerate((sqlite_url, mysql_url)):
        await expect_failure(
            tmp_path / str(n), url, setup=SIMPLE, upgrade=upgrade, error=ScriptError, match=match
        )


async def test_batch_execute_runs_in_its_place(db_url: str, tmp_path: Path) -> None:
    # Fill a new column, then make it NOT NULL: the UPDATE must run between the two
    # (on SQLite the second recreates the table, after the UPDATE).
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.add_column(sa.Column("extra", sa.String(10)))
    await batch.execute("UPDATE item SET extra = 'z'")
    await batch.alter_column("extra", existing_type=sa.String(10), nullable=False)
    await batch.create_unique_constraint(batch.f("uq_item_extra"), ["extra"])
    await batch.execute(
        sa.update(sa.table("item", sa.column("qty"))).values(qty=batch.inline_literal(5))
    )
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.drop_constraint("uq_item_extra", type_="unique")
    await batch.drop_column("extra")
"""

    async def check() -> None:
        assert await query(db_url, "SELECT id, extra, qty FROM item") == [(1, "z", 5)]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=SIMPLE, upgrade=upgrade, downgrade=downgrade, check=check
    )
    columns = {c[0]: c for c in after["tables"]["item"]["columns"]}
    assert columns["extra"][2] is False  # NOT NULL
    assert ("uq_item_extra", ("extra",)) in after["tables"]["item"]["uniques"]


async def test_batch_execute_sees_the_changes_written_before_it(
    db_url: str, tmp_path: Path
) -> None:
    # docs/operations.md: unlike Alembic's batch_op.execute(), which runs at once
    # (before the whole batch), amigrate's runs in its place: the first UPDATE still
    # sees 'legacy', the second already sees the renamed column.
    upgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.execute("UPDATE item SET code = legacy")
    await batch.drop_column("legacy")
    await batch.alter_column("name", new_column_name="title")
    await batch.execute("UPDATE item SET title = lower(code)")
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.alter_column("title", new_column_name="name")
    await batch.add_column(sa.Column("legacy", sa.String(10)))
"""

    async def check() -> None:
        assert await query(db_url, "SELECT id, code, title FROM item") == [(1, "x", "x")]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=SIMPLE, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert [c[0] for c in after["tables"]["item"]["columns"]] == ["id", "code", "title", "qty"]
