"""compare_metadata without a database: models against hand-written snapshots.

Each case is what a database reports (a Snapshot) for a situation that is
easy to get wrong: names the database gave, MySQL's twin unique indexes and
foreign key indexes, unnamed constraints, filters, schemas, ordering.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from amigrate.autogenerate import AutogenerateOptions, SchemaDiff, compare_metadata
from amigrate.autogenerate.snapshot import (
    ColumnInfo,
    ForeignKeyInfo,
    IndexInfo,
    PrimaryKeyInfo,
    Snapshot,
    TableInfo,
    UniqueInfo,
)
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableOp,
)

PG: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
MYSQL: Dialect = mysql.dialect()
SQLITE: Dialect = sqlite.dialect()


def col(name: str, type_: Any = None, *, nullable: bool = True, **kw: Any) -> ColumnInfo:
    return ColumnInfo(name, type_ if type_ is not None else sa.INTEGER(), nullable, **kw)


def table(name: str, *columns: ColumnInfo, pk: tuple[str, ...] = ("id",), **kw: Any) -> TableInfo:
    id_col = col("id", nullable=False)
    return TableInfo(None, name, (id_col, *columns), PrimaryKeyInfo(None, pk), **kw)


def snapshot(dialect: Dialect, *tables: TableInfo, comments: bool = True) -> Snapshot:
    return Snapshot(
        dialect.name,
        {t.key: t for t in tables},
        default_schema="public",
        supports_comments=comments,
    )


def diff(metadata: sa.MetaData, snap: Snapshot, dialect: Dialect, **options: Any) -> SchemaDiff:
    return compare_metadata(metadata, snap, dialect, AutogenerateOptions(**options))


def descriptions(found: SchemaDiff) -> list[str]:
    return [c.description for c in found]


def test_matching_models_and_database() -> None:
    md = sa.MetaData()
    sa.Table(
        "item",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, unique=True),
        sa.Column("owner_id", sa.ForeignKey("owner.id"), index=True),
    )
    sa.Table("owner", md, sa.Column("id", sa.Integer, primary_key=True))
    snap = snapshot(
        PG,
        table(
            "item",
            col("name", sa.VARCHAR(50), nullable=False),
            col("owner_id"),
            indexes=(IndexInfo("ix_item_owner_id", ("owner_id",), False),),
            uniques=(UniqueInfo("item_name_key", ("name",)),),  # named by PostgreSQL
            foreign_keys=(
                ForeignKeyInfo("item_owner_id_fkey", ("owner_id",), None, "owner", ("id",)),
            ),
        ),
        table("owner"),
    )
    assert diff(md, snap, PG).is_empty


def test_tables_are_created_in_dependency_order_and_dropped_in_reverse() -> None:
    md = sa.MetaData()
    sa.Table(
        "child",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("p", sa.ForeignKey("parent.id")),
    )
    sa.Table("parent", md, sa.Column("id", sa.Integer, primary_key=True))
    found = diff(md, snapshot(PG), PG)
    assert [type(op).__name__ for op in found.upgrade_ops()] == ["CreateTableOp"] * 2
    assert [op.table_name for op in found.upgrade_ops()] == ["parent", "child"]  # type: ignore[attr-defined]
    assert [op.table_name for op in found.downgrade_ops()] == ["child", "parent"]  # type: ignore[attr-defined]

    gone = snapshot(
        PG,
        table("parent"),
        table(
            "child", col("p"), foreign_keys=(ForeignKeyInfo("fk", ("p",), None, "parent", ("id",)),)
        ),
    )
    dropped = diff(sa.MetaData(), gone, PG)
    assert [op.table_name for op in dropped.upgrade_ops()] == ["child", "parent"]  # type: ignore[attr-defined]
    downgrade = dropped.downgrade_ops()
    assert [type(op) for op in downgrade] == [CreateTableOp, CreateTableOp]
    assert [op.table_name for op in downgrade] == ["parent", "child"]  # type: ignore[attr-defined]


def test_a_new_tables_description_names_its_indexes() -> None:
    md = sa.MetaData()
    sa.Table("plain", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "one",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer, index=True),
    )
    sa.Table(
        "two",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer),
        sa.Index("ix_two_b", "id", "a"),
        sa.Index("ix_two_a", "a", unique=True),
    )
    assert sorted(descriptions(diff(md, snapshot(PG), PG))) == [
        "add table 'one' with index 'ix_one_a'",
        "add table 'plain'",
        "add table 'two' with indexes 'ix_two_a', 'ix_two_b'",
    ]


def test_a_dropped_table_comes_back_with_its_indexes() -> None:
    gone = snapshot(PG, table("t", col("a"), indexes=(IndexInfo("ix_t_a", ("a",), True),)))
    (change,) = diff(sa.MetaData(), gone, PG)
    assert [type(op) for op in change.upgrade] == [DropTableOp]
    assert [type(op) for op in change.downgrade] == [CreateTableOp, CreateIndexOp]
    create_index = change.downgrade[1]
    assert isinstance(create_index, CreateIndexOp)
    assert (create_index.index_name, create_index.columns, create_index.unique) == (
        "ix_t_a",
        ("a",),
        True,
    )


def test_column_changes_carry_what_the_database_had() -> None:
    md = sa.MetaData()
    sa.Table(
        "t",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.String(100), nullable=False, server_default="x", comment="new"),
        sa.Column("added", sa.Integer),
    )
    snap = snapshot(
        PG,
        table(
            "t",
            col("a", sa.VARCHAR(50), default="'y'::character varying", comment="old"),
            col("gone", sa.TEXT(), nullable=False, default="'z'"),
        ),
    )
    found = diff(md, snap, PG, compare_server_default=True)
    assert descriptions(found) == [
        "add column 't.added'",
        "modify column 't.a': NULL -> NOT NULL; type VARCHAR(50) -> VARCHAR(100); "
        "server default 'y'::character varying -> 'x'; comment 'old' -> 'new'",
        "remove column 't.gone'",
    ]
    add, alter, drop = (c.upgrade[0] for c in found)
    assert isinstance(add, AddColumnOp)
    assert isinstance(drop, DropColumnOp)
    assert isinstance(alter, AlterColumnOp)
    assert alter.changes == ("type", "nullable", "default", "comment")
    assert alter.existing_comment == "old"
    undo = found.changes[1].downgrade[0]
    assert isinstance(undo, AlterColumnOp)
    assert (undo.nullable, undo.comment) == (True, "old")
    restored = found.changes[2].downgrade[0]
    assert isinstance(restored, AddColumnOp)
    assert restored.column.nullable is False
    assert str(restored.column.server_default.arg) == "'z'"  # type: ignore[union-attr]


def test_comments_are_not_compared_where_the_database_keeps_none() -> None:
    md = sa.MetaData()
    sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True, comment="c"), comment="t")
    assert diff(md, snapshot(SQLITE, table("t"), comments=False), SQLITE).is_empty


def test_mysql_twins_and_foreign_key_indexes_are_not_differences() -> None:
    md = sa.MetaData()
    sa.Table(
        "t",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10)),
        sa.Column("owner_id", sa.ForeignKey("owner.id", name="fk_t_owner")),
        sa.Index("ix_t_code", "code", unique=True),
    )
    sa.Table("owner", md, sa.Column("id", sa.Integer, primary_key=True))
    fk = ForeignKeyInfo("fk_t_owner", ("owner_id",), None, "owner", ("id",))
    snap = snapshot(
        MYSQL,
        table(
            "t",
            col("code", mysql.VARCHAR(length=10)),
            col("owner_id"),
            # MySQL reports a unique index both ways, and indexes each foreign key itself.
            indexes=(
                IndexInfo("ix_t_code", ("code",), True),
                IndexInfo("fk_t_owner", ("owner_id",), False),
            ),
            uniques=(UniqueInfo("ix_t_code", ("code",)),),
            foreign_keys=(fk,),
        ),
        table("owner"),
    )
    assert diff(md, snap, MYSQL).is_empty


def test_mysql_drops_and_restores_a_foreign_key_s_own_index_with_it() -> None:
    md = sa.MetaData()
    sa.Table(
        "t", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner_id", sa.Integer)
    )
    sa.Table("owner", md, sa.Column("id", sa.Integer, primary_key=True))
    snap = snapshot(
        MYSQL,
        table(
            "t",
            col("owner_id"),
            indexes=(IndexInfo("fk_t_owner", ("owner_id",), False),),
            foreign_keys=(ForeignKeyInfo("fk_t_owner", ("owner_id",), None, "owner", ("id",)),),
        ),
        table("owner"),
    )
    (change,) = diff(md, snap, MYSQL)
    assert [type(op) for op in change.upgrade] == [DropConstraintOp, DropIndexOp]
    assert [type(op) for op in change.downgrade] == [CreateIndexOp, CreateForeignKeyOp]

    md2 = sa.MetaData()
    sa.Table(
        "t",
        md2,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.ForeignKey("owner.id")),
    )
    sa.Table("owner", md2, sa.Column("id", sa.Integer, primary_key=True))
    plain = snapshot(MYSQL, table("t", col("owner_id")), table("owner"))
    (added,) = diff(md2, plain, MYSQL)
    create = added.upgrade[0]
    assert isinstance(create, CreateForeignKeyOp)
    assert create.constraint_name == "fk_t_owner_id_owner"  # unnamed in the model
    assert [type(op) for op in added.downgrade] == [DropConstraintOp, DropIndexOp]


def test_unnamed_unique_constraints() -> None:
    md = sa.MetaData()
    sa.Table(
        "t",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer, unique=True),
    )
    (added,) = diff(md, snapshot(PG, table("t", col("a"))), PG)
    op = added.upgrade[0]
    assert isinstance(op, CreateUniqueConstraintOp)
    assert op.constraint_name == "uq_t_a"
    # SQLite reports a unique constraint without a name: it cannot be dropped by name.
    gone = snapshot(
        SQLITE, table("t", col("a"), uniques=(UniqueInfo(None, ("a",)),)), comments=False
    )
    md2 = sa.MetaData()
    sa.Table("t", md2, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.Integer))
    found = diff(md2, gone, SQLITE)
    assert found.is_empty
    assert found.notes == (
        "the unique constraint on t (a) is not in the models, but it has no name "
        "to drop it by; drop it by hand (SQLite: recreate the table in a batch)",
    )


def test_changed_indexes_and_foreign_keys_are_dropped_and_created() -> None:
    md = sa.MetaData()
    sa.Table(
        "t",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer),
        sa.Column("b", sa.ForeignKey("t.id", name="fk_t_b", ondelete="CASCADE")),
        sa.Index("ix_t", "a", "b"),
        sa.Index("ix_expr", sa.func.lower(sa.text("a"))),
    )
    snap = snapshot(
        PG,
        table(
            "t",
            col("a"),
            col("b"),
            indexes=(
                IndexInfo("ix_t", ("a",), False),
                IndexInfo("ix_expr", (), False, expressions=("lower((a)::text)",)),
            ),
            foreign_keys=(ForeignKeyInfo("fk_t_b", ("b",), None, "t", ("id",)),),
        ),
    )
    assert [c.kind for c in diff(md, snap, PG)] == [
        "remove_foreign_key",
        "remove_index",
        "add_index",
        "add_foreign_key",
    ]
    ordered = [type(op).__name__ for op in diff(md, snap, PG).upgrade_ops()]
    assert ordered == ["DropConstraintOp", "DropIndexOp", "CreateIndexOp", "CreateForeignKeyOp"]


def test_batches_gather_the_changes_to_each_table() -> None:
    md = sa.MetaData()
    sa.Table(
        "t",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.String(9)),
        sa.Index("ix_t_a", "a"),
    )
    sa.Table("new", md, sa.Column("id", sa.Integer, primary_key=True))
    snap = snapshot(
        SQLITE, table("t", col("a", sa.INTEGER()), col("old")), table("gone"), comments=False
    )
    found = diff(md, snap, SQLITE)
    up = found.upgrade_ops(batch=True)
    assert [type(op).__name__ for op in up] == ["CreateTableOp", "BatchAlterTableOp", "DropTableOp"]
    batch = up[1]
    assert isinstance(batch, BatchAlterTableOp)
    assert [type(op).__name__ for op in batch.operations] == [
        "AlterColumnOp",
        "DropColumnOp",
        "CreateIndexOp",
    ]
    down = found.downgrade_ops(batch=True)
    assert [type(op).__name__ for op in down] == [
        "CreateTableOp",
        "BatchAlterTableOp",
        "DropTableOp",
    ]
    undo = down[1]
    assert isinstance(undo, BatchAlterTableOp)
    assert [type(op).__name__ for op in undo.operations] == [
        "DropIndexOp",
        "AddColumnOp",
        "AlterColumnOp",
    ]


def test_filters_and_excluded_tables() -> None:
    md = sa.MetaData()
    sa.Table("keep", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Integer))
    sa.Table("skip_me", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("elsewhere", md, sa.Column("id", sa.Integer, primary_key=True), schema="other")
    snap = snapshot(PG, table("keep"), table("amigrate_version", pk=()))
    found = diff(
        md,
        snap,
        PG,
        include_name=lambda name, type_, parents: not (name or "").startswith("skip_"),
        include_object=lambda obj, name, type_, reflected, compare_to: name != "x",
        exclude_tables=frozenset({(None, "amigrate_version")}),
    )
    assert found.is_empty  # 'elsewhere' is in another schema: include_schemas is off
    with_schemas = diff(
        md, snap, PG, include_schemas=True, exclude_tables=frozenset({(None, "amigrate_version")})
    )
    assert sorted(descriptions(with_schemas)) == [
        "add column 'keep.x'",
        "add table 'other.elsewhere'",
        "add table 'skip_me'",
    ]


def test_compare_type_function_decides() -> None:
    md = sa.MetaData()
    sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.String(9)))
    snap = snapshot(PG, table("t", col("a", sa.VARCHAR(5))))
    calls: list[tuple[str, str]] = []

    def compare_type(
        context: Any, inspected: Any, model: Any, inspected_type: Any, model_type: Any
    ) -> bool | None:
        calls.append((context.dialect.name, inspected.name))
        return None

    assert len(diff(md, snap, PG, compare_type=compare_type)) == 1
    assert ("postgresql", "a") in calls
    assert diff(md, snap, PG, compare_type=lambda *args: False).is_empty
    assert diff(md, snap, PG, compare_type=False).is_empty
