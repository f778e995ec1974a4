"""The "move and copy" model of a SQLite batch, and the stored-SQL rewriting it relies on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from amigrate.dialects.batch import check_names, needs_recreate
from amigrate.dialects.rebuild import TableRebuild
from amigrate.dialects.sqltext import (
    identifiers,
    rename_identifier,
    split_index_sql,
    table_clauses,
)
from amigrate.dialects.tablemodel import CANNOT_KEEP
from amigrate.errors import ScriptError, UnsupportedOperation
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    ExecuteOp,
    MigrateOp,
)

DIALECT = sqlite.dialect()


def quote(name: str) -> str:
    return str(DIALECT.identifier_preparer.quote(name))


def test_identifiers_skip_string_literals() -> None:
    assert identifiers("name <> 'code' AND \"Qty\" > 0") == {"name", "and", "qty"}
    assert rename_identifier("lower(name) = 'name'", "NAME", "title", quote) == (
        "lower(title) = 'name'"
    )
    assert rename_identifier('"name" || [name] || `name`', "name", "order", quote) == (
        '"order" || "order" || "order"'
    )


def test_a_function_is_not_the_column_of_its_name() -> None:
    """date(created) calls date(): dropping or renaming a column called date must leave
    it be (a CHECK and an index on created were dropped, or rewritten to day(created))."""
    assert identifiers("date(created) IS NOT NULL") == {"created", "is", "not", "null"}
    assert identifiers("date /* a call */ (created)") == {"created"}
    assert rename_identifier("date(created) > date", "date", "day", quote) == (
        "date(created) > day"
    )


def test_split_index_sql() -> None:
    head, body = split_index_sql('CREATE INDEX "on" ON item (lower(name)) WHERE qty > 0')
    assert head == 'CREATE INDEX "on" ON item '
    assert body == "(lower(name)) WHERE qty > 0"


def test_column_clauses_read_what_reflection_misses() -> None:
    sql = (
        "CREATE TABLE u (id integer primary key autoincrement, code varchar(10) unique, "
        '"Name" varchar(10) collate nocase, -- a comment, (with parentheses\n'
        "w int check (w collate binary > 0) default (1), "
        "z numeric(5, 2) constraint uq_z unique, CONSTRAINT ck CHECK (w < 9), UNIQUE (w, z))"
    )
    found = {c.name: c for c in table_clauses(sql).columns}
    assert list(found) == ["id", "code", "Name", "w", "z"]
    assert found["id"].autoincrement
    assert not found["code"].autoincrement
    assert found["code"].unique
    assert found["code"].unique_name is None
    assert found["Name"].collation == "nocase"
    assert found["w"].collation is None
    assert not found["w"].unique
    assert found["z"].unique_name == "uq_z"


def test_table_clauses_read_on_conflict_and_key_constraints() -> None:
    sql = (
        "CREATE TABLE t (id integer PRIMARY KEY ON CONFLICT REPLACE autoincrement, "
        "a int NOT NULL on conflict ignore, b int CONSTRAINT uq_b UNIQUE ON CONFLICT FAIL, "
        "c int REFERENCES o (id) ON DELETE CASCADE NOT NULL, d text, e int, "
        'CONSTRAINT [uq cd] UNIQUE (c DESC, "D") ON CONFLICT ROLLBACK, '
        "UNIQUE (d COLLATE nocase, e), CONSTRAINT `pk` PRIMARY KEY (a, b) ON CONFLICT ABORT, "
        "UNIQUE (lower(d)), CONSTRAINT ck CHECK (a > 0), FOREIGN KEY (c) REFERENCES o (id))"
    )
    found = table_clauses(sql)
    columns = {c.name: c for c in found.columns}
    assert list(columns) == ["id", "a", "b", "c", "d", "e"]
    assert columns["id"].on_conflict == {"primary_key": "REPLACE"}
    assert columns["id"].autoincrement
    assert columns["a"].on_conflict == {"not_null": "IGNORE"}
    assert columns["b"].on_conflict == {"unique": "FAIL"}
    assert columns["b"].unique_name == "uq_b"
    assert columns["c"].on_conflict == {}  # ON DELETE is the foreign key's
    assert [(c.kind, c.name, c.columns, c.collated, c.on_conflict) for c in found.constraints] == [
        ("unique", "uq cd", ["c", "D"], False, "ROLLBACK"),
        ("unique", None, ["d", "e"], True, None),
        ("primary", "pk", ["a", "b"], False, "ABORT"),
        ("unique", None, [None], False, None),
    ]


def test_on_conflict_clauses_are_kept_through_a_rebuild() -> None:
    copy = sa.Table(
        "k",
        sa.MetaData(),
        sa.Column("id", sa.Integer, sqlite_on_conflict_primary_key="REPLACE"),
        sa.Column("a", sa.Integer, nullable=False, sqlite_on_conflict_not_null="IGNORE"),
        sa.Column("b", sa.Integer, unique=True, sqlite_on_conflict_unique="FAIL"),
        sa.Column("c", sa.Integer),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("a", "c", name="uq_ac", sqlite_on_conflict="REPLACE"),
    )
    for autoincrement in (False, True):
        copy.dialect_options["sqlite"]["autoincrement"] = autoincrement
        model = TableRebuild.from_table(copy, DIALECT)
        model.apply(AlterColumnOp("k", "a", new_column_name="aa", type_=sa.BigInteger()))
        model.apply(DropColumnOp("k", "c"))
        statement = model.statements()[0]
        assert isinstance(statement, sa.sql.ClauseElement)
        create = " ".join(str(statement.compile(dialect=DIALECT)).split())
        assert "aa BIGINT NOT NULL ON CONFLICT IGNORE" in create
        assert "UNIQUE (b) ON CONFLICT FAIL" in create
        assert "uq_ac" not in create  # went with c
        if autoincrement:
            assert "id INTEGER NOT NULL PRIMARY KEY ON CONFLICT REPLACE AUTOINCREMENT" in create
        else:
            assert "PRIMARY KEY (id) ON CONFLICT REPLACE" in create


def test_a_constraint_that_cannot_be_kept_is_refused_unless_the_batch_drops_it() -> None:
    copy = table()
    (unique,) = [c for c in copy.constraints if c.name == "uq_code"]
    unique.info[CANNOT_KEEP] = "has a COLLATE in its column list"
    with pytest.raises(ScriptError, match="its unique constraint 'uq_code' on code has a COLLATE"):
        TableRebuild.from_table(copy, DIALECT).statements()
    model = TableRebuild.from_table(copy, DIALECT)
    model.apply(DropConstraintOp("uq_code", "item", "unique"))
    assert "uq_code" not in str(model.statements()[0].compile(dialect=DIALECT))  # type: ignore[attr-defined]


def test_an_autoincrement_table_keeps_its_counter() -> None:
    copy = sa.Table(
        "c",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("v", sa.String(10)),
        sqlite_autoincrement=True,
    )
    rebuild = TableRebuild.from_table(copy, DIALECT)
    sql = [str(s.compile(dialect=DIALECT)) for s in rebuild.statements()]  # type: ignore[attr-defined]
    assert "PRIMARY KEY AUTOINCREMENT" in sql[0]
    assert sql[2].startswith("UPDATE sqlite_sequence SET seq = max(seq, coalesce(")
    assert sql[3].startswith("INSERT INTO sqlite_sequence (name, seq)")
    assert sql[4].startswith("\nDROP TABLE c")


def table() -> sa.Table:
    metadata = sa.MetaData()
    sa.Table("owner", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "item",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(50), server_default="n/a"),
        sa.Column("qty", sa.Integer, sa.CheckConstraint("qty >= 0", name="ck_qty")),
        sa.Column("owner_id", sa.Integer),
        sa.Column("parent_id", sa.Integer),
        sa.UniqueConstraint("code", name="uq_code"),
        sa.UniqueConstraint("name", "code"),
        sa.CheckConstraint("length(name) > 0"),
        sa.ForeignKeyConstraint(["owner_id"], ["owner.id"], name="fk_owner", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["item.id"]),
        sa.Index("ix_name", "name"),
    )


STORED = {
    "ix_name": "CREATE INDEX ix_name ON item (name)",
    "ix_lower": "CREATE INDEX ix_lower ON item (lower(name)) WHERE qty > 0",
    "ix_qty": "CREATE INDEX ix_qty ON item (qty DESC)",
}


def rebuild(*ops: MigrateOp, **kw: object) -> list[str]:
    model = TableRebuild.from_table(
        table(),
        DIALECT,
        stored_indexes=dict(STORED),
        triggers=["CREATE TRIGGER tr ..."],
        **kw,  # type: ignore[arg-type]
    )
    for op in ops:
        model.apply(op)
    out = []
    for statement in model.statements():
        assert isinstance(statement, sa.sql.ClauseElement)
        out.append(" ".join(str(statement.compile(dialect=DIALECT)).split()))
    return out


def test_rename_follows_into_constraints_indexes_and_keys() -> None:
    statements = rebuild(
        AlterColumnOp("item", "name", new_column_name="title", type_=sa.String(100)),
        AlterColumnOp("item", "id", new_column_name="pk"),
    )
    create, copy, drop, legacy_on, rename, legacy_off, *rest = statements
    assert create == (
        "CREATE TABLE _amigrate_tmp_item ( pk INTEGER NOT NULL, code VARCHAR(20) NOT NULL, "
        "title VARCHAR(100) DEFAULT 'n/a', qty INTEGER, owner_id INTEGER, parent_id INTEGER, "
        "PRIMARY KEY (pk), CHECK (length(title) > 0), CONSTRAINT ck_qty CHECK (qty >= 0), "
        "FOREIGN KEY(parent_id) REFERENCES item (pk), "
        "CONSTRAINT fk_owner FOREIGN KEY(owner_id) REFERENCES owner (id) ON DELETE CASCADE, "
        "UNIQUE (title, code), CONSTRAINT uq_code UNIQUE (code) )"
    )
    assert copy == (
        "INSERT INTO _amigrate_tmp_item (pk, code, title, qty, owner_id, parent_id) "
        "SELECT item.id, item.code, item.name, item.qty, item.owner_id, item.parent_id FROM item"
    )
    assert (drop, legacy_on, rename, legacy_off) == (
        "DROP TABLE item",
        "PRAGMA legacy_alter_table = ON",
        "ALTER TABLE _amigrate_tmp_item RENAME TO item",
        "PRAGMA legacy_alter_table = OFF",
    )
    assert rest == [
        "CREATE INDEX ix_name ON item (title)",
        "CREATE INDEX ix_lower ON item (lower(title)) WHERE qty > 0",
        "CREATE INDEX ix_qty ON item (qty DESC)",
        "CREATE TRIGGER tr ...",
    ]


def test_type_changes_cast_when_the_kind_of_value_changes() -> None:
    statements = rebuild(
        AlterColumnOp("item", "code", type_=sa.Integer()),
        AlterColumnOp("item", "qty", type_=sa.BigInteger(), nullable=False),
    )
    assert "CAST(item.code AS INTEGER)" in statements[1]
    assert "item.qty," in statements[1]  # integer to integer: no cast
    assert "qty BIGINT NOT NULL CONSTRAINT" not in statements[0]


def test_dropping_a_column_drops_what_uses_it() -> None:
    statements = rebuild(DropColumnOp("item", "name"), DropColumnOp("item", "owner_id"))
    create = statements[0]
    assert "name" not in create
    assert "fk_owner" not in create
    assert "length(" not in create
    assert "CONSTRAINT uq_code UNIQUE (code)" in create
    assert [s for s in statements if s.startswith("CREATE INDEX")] == [
        "CREATE INDEX ix_qty ON item (qty DESC)"
    ]


def test_add_place_and_new_constraints() -> None:
    statements = rebuild(
        AddColumnOp("item", sa.Column("price", sa.Integer, index=True), insert_after="code"),
        AddColumnOp("item", sa.Column("first", sa.Integer), insert_before="id"),
        CreateCheckConstraintOp("ck_price", "item", "price > 0"),
        CreateForeignKeyOp("fk_parent2", "item", "item", ("price",), ("id",)),
        CreatePrimaryKeyOp("pk_item", "item", ("id", "code")),
        DropConstraintOp("uq_code", "item", "unique"),
        DropIndexOp("ix_qty", "item"),
        CreateIndexOp("ix_code", "item", ("code",), unique=True),
    )
    create = statements[0]
    assert create.startswith(
        "CREATE TABLE _amigrate_tmp_item ( first INTEGER, id INTEGER NOT NULL, "
        "code VARCHAR(20) NOT NULL, price INTEGER, name"
    )
    assert "CONSTRAINT pk_item PRIMARY KEY (id, code)" in create
    assert "CONSTRAINT ck_price CHECK (price > 0)" in create
    assert "CONSTRAINT fk_parent2 FOREIGN KEY(price) REFERENCES item (id)" in create
    assert "uq_code" not in create
    assert statements[-3:] == [
        "CREATE INDEX ix_item_price ON item (price)",
        "CREATE UNIQUE INDEX ix_code ON item (code)",
        "CREATE TRIGGER tr ...",
    ]


def test_naming_convention_names_unnamed_constraints() -> None:
    convention = {
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
    }
    statements = rebuild(
        DropConstraintOp("fk_item_parent_id", "item", "foreignkey"),
        naming_convention=convention,
    )
    assert "CONSTRAINT uq_item_name UNIQUE (name, code)" in statements[0]
    assert "REFERENCES item" not in statements[0]


@pytest.mark.parametrize(
    ("op", "match"),
    [
        (DropColumnOp("item", "nope"), "drop_column('item', 'nope'): 'item' has no column 'nope'"),
        (AlterColumnOp("item", "nope", nullable=True), "'item' has no column 'nope'"),
        (AlterColumnOp("item", "code", new_column_name="name"), "already has a column 'name'"),
        (AddColumnOp("item", sa.Column("code", sa.Integer)), "already has a column 'code'"),
        (
            AddColumnOp("item", sa.Column("x", sa.Integer), insert_after="nope"),
            "has no column 'nope'",
        ),
        (DropIndexOp("ix_nope", "item"), "'item' has no index 'ix_nope'"),
        (DropConstraintOp("nope", "item"), "'item' has no constraint named 'nope'"),
        (CreateIndexOp("ix", "item", ("nope",)), "has no column 'nope'"),
        (ExecuteOp("SELECT 1"), "this op cannot be part of a batch"),
    ],
)
def test_argument_errors(op: MigrateOp, match: str) -> None:
    with pytest.raises(ScriptError) as info:
        rebuild(op)
    assert str(info.value).startswith("batch_alter_table('item'): ")
    assert match in str(info.value)


def test_if_exists_and_if_not_exists_skip_quietly() -> None:
    plain = rebuild()
    assert (
        rebuild(
            DropColumnOp("item", "nope", if_exists=True),
            AddColumnOp("item", sa.Column("code", sa.Integer), if_not_exists=True),
            DropIndexOp("ix_nope", "item", if_exists=True),
        )
        == plain
    )


def batch(*ops: MigrateOp, recreate: str = "auto") -> BatchAlterTableOp:
    return BatchAlterTableOp("item", ops, recreate=recreate)  # type: ignore[arg-type]


def test_when_sqlite_recreates() -> None:
    simple = (
        AddColumnOp("item", sa.Column("x", sa.Integer)),
        CreateIndexOp("ix", "item", ("x",)),
        AlterColumnOp("item", "x", new_column_name="y"),
    )
    assert not needs_recreate(batch(*simple), DIALECT)
    assert needs_recreate(batch(*simple, recreate="always"), DIALECT)
    assert needs_recreate(batch(DropColumnOp("item", "x")), DIALECT)
    assert needs_recreate(
        batch(AddColumnOp("item", sa.Column("x", sa.Integer, unique=True))), DIALECT
    )
    assert not needs_recreate(batch(DropColumnOp("item", "x"), recreate="never"), DIALECT)
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]
    assert not needs_recreate(batch(DropColumnOp("item", "x")), pg)
    with pytest.raises(UnsupportedOperation, match="recreate='always' is for SQLite"):
        needs_recreate(batch(recreate="always"), pg)


def test_check_names_follows_the_batch() -> None:
    names = {"columns": {"id", "name"}, "indexes": {"ix_name"}, "constraints": {"uq"}}
    check_names(
        batch(
            AlterColumnOp("item", "name", new_column_name="title"),
            DropColumnOp("item", "title"),
            AddColumnOp("item", sa.Column("x", sa.Integer)),
            DropColumnOp("item", "x"),
            DropIndexOp("ix_name", "item"),
            DropConstraintOp("uq", "item"),
        ),
        names,
    )
    with pytest.raises(ScriptError, match="'item' has no column 'name'") as info:
        check_names(
            batch(AlterColumnOp("item", "name", new_column_name="t"), DropColumnOp("item", "name")),
            names,
        )
    assert info.value.hint == "its columns are: id, t"
