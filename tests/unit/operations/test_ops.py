"""Ops as data: what each ``op`` method builds, ``reverse()``, and the batch block."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from amigrate.errors import ScriptError
from amigrate.operations import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    BulkInsertOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateSchemaOp,
    CreateSequenceOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    CreateViewOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropSchemaOp,
    DropSequenceOp,
    DropTableCommentOp,
    DropTableOp,
    DropViewOp,
    ExecuteOp,
    MigrateOp,
    Operations,
    RenameTableOp,
)

T = TypeVar("T")


class Recorder:
    """An ``OpContext`` that records the ops instead of running them."""

    def __init__(self) -> None:
        self.ops: list[MigrateOp] = []

    @property
    def dialect(self) -> Any:
        return sqlite.dialect()

    @property
    def connection(self) -> Any:
        raise NotImplementedError

    @property
    def config(self) -> Any:
        raise NotImplementedError

    @property
    def x_args(self) -> Mapping[str, str]:
        return {}

    async def run_op(self, op: MigrateOp) -> Any:
        self.ops.append(op)
        return None

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        raise NotImplementedError

    async def run_revision_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        raise NotImplementedError

    @asynccontextmanager
    async def autocommit_block(self) -> AsyncIterator[None]:
        yield


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def op(recorder: Recorder) -> Operations:
    return Operations(recorder)


async def test_every_method_builds_its_op(op: Operations, recorder: Recorder) -> None:
    await op.create_table("t", sa.Column("id", sa.Integer), schema="s", comment="c")
    await op.drop_table("t", if_exists=True)
    await op.rename_table("t", "u")
    await op.create_table_comment("t", "c", existing_comment="old")
    await op.drop_table_comment("t")
    await op.add_column("t", sa.Column("x", sa.Integer), if_not_exists=True)
    await op.drop_column("t", "x", if_exists=True)
    await op.alter_column("t", "x", type_=sa.String, nullable=False, existing_type=sa.Integer)
    await op.create_index("ix", "t", "x", unique=True, postgresql_where=sa.text("x > 0"))
    await op.drop_index("ix", "t", if_exists=True)
    await op.create_primary_key("pk", "t", ["id"])
    await op.create_unique_constraint("uq", "t", ["x"], deferrable=True)
    await op.create_foreign_key("fk", "t", "p", ["x"], ["id"], ondelete="CASCADE")
    await op.create_check_constraint("ck", "t", "x > 0")
    await op.drop_constraint("ck", "t", type_="check", if_exists=True)
    await op.execute("SELECT 1")
    await op.bulk_insert(sa.table("t", sa.column("x")), [{"x": 1}], multiinsert=False)
    await op.create_sequence("seq", start=5)
    await op.drop_sequence("seq", if_exists=True)
    await op.create_schema("s", if_not_exists=True)
    await op.drop_schema("s", cascade=True)
    await op.create_view("v", "SELECT 1", or_replace=True)
    await op.drop_view("v", if_exists=True)
    kinds = [type(o) for o in recorder.ops]
    assert kinds == [
        CreateTableOp,
        DropTableOp,
        RenameTableOp,
        CreateTableCommentOp,
        DropTableCommentOp,
        AddColumnOp,
        DropColumnOp,
        AlterColumnOp,
        CreateIndexOp,
        DropIndexOp,
        CreatePrimaryKeyOp,
        CreateUniqueConstraintOp,
        CreateForeignKeyOp,
        CreateCheckConstraintOp,
        DropConstraintOp,
        ExecuteOp,
        BulkInsertOp,
        CreateSequenceOp,
        DropSequenceOp,
        CreateSchemaOp,
        DropSchemaOp,
        CreateViewOp,
        DropViewOp,
    ]
    create = recorder.ops[0]
    assert isinstance(create, CreateTableOp)
    assert (create.schema, dict(create.kw)) == ("s", {"comment": "c"})
    alter = recorder.ops[7]
    assert isinstance(alter, AlterColumnOp)
    assert isinstance(alter.type_, sa.String)  # a class is made an instance
    assert alter.changes == ("type", "nullable")
    index = recorder.ops[8]
    assert isinstance(index, CreateIndexOp)
    assert index.columns == ("x",)
    assert op.unawaited() == []


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda op: op.create_sequence(sa.Sequence("s", start=5)),
            r"create_sequence\(\): sequence_name must be text \(a name\), not Sequence\('s'",
        ),
        (
            lambda op: op.create_table(sa.Table("t", sa.MetaData()), sa.Column("id", sa.Integer)),
            r"create_table\(\): table_name must be text \(a name\), not Table",
        ),
        (
            lambda op: op.add_column(5, sa.Column("x", sa.Integer)),
            r"add_column\(\): table_name must be text \(a name\), not int 5",
        ),
        (
            lambda op: op.create_index("ix", "t", ["a"], schema=sa.MetaData()),
            r"create_index\(\): schema must be text",
        ),
    ],
)
def test_a_name_that_is_not_text_is_refused_at_the_call(
    op: Operations, recorder: Recorder, call: Callable[[Operations], Any], match: str
) -> None:
    # (It would make an object named after the repr of what was passed.)
    with pytest.raises(TypeError, match=match):
        call(op)
    assert op.unawaited() == []
    assert recorder.ops == []


def test_names_may_be_none_where_optional_and_conv_or_quoted(op: Operations) -> None:
    op.create_index(None, "t", ["a"]).__await__().close()
    op.create_index(op.f("ix_a"), "t", ["a"]).__await__().close()
    op.create_table(sa.sql.quoted_name("T", quote=True)).__await__().close()


def test_an_unawaited_call_is_found(op: Operations) -> None:
    call = op.add_column("t", sa.Column("x", sa.Integer))
    (found,) = op.unawaited()
    assert found is call
    assert found.description == "add_column('t', 'x')"
    assert found.filename == __file__
    assert "not awaited" in repr(found)
    call.__await__().close()  # await it, so the coroutine is not left dangling


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (
            CreateTableOp("t", (sa.Column("id", sa.Integer),)),
            DropTableOp,
        ),
        (RenameTableOp("t", "u", "s"), RenameTableOp("u", "t", "s")),
        (AddColumnOp("t", sa.Column("x", sa.Integer)), DropColumnOp("t", "x")),
        (CreateIndexOp("ix", "t", ("x",)), DropIndexOp("ix", "t")),
        (CreatePrimaryKeyOp("pk", "t", ("id",)), DropConstraintOp("pk", "t", "primary")),
        (CreateUniqueConstraintOp("uq", "t", ("x",)), DropConstraintOp("uq", "t", "unique")),
        (
            CreateForeignKeyOp("fk", "t", "p", ("x",), ("id",), source_schema="s"),
            DropConstraintOp("fk", "t", "foreignkey", "s"),
        ),
        (CreateCheckConstraintOp("ck", "t", "x > 0"), DropConstraintOp("ck", "t", "check")),
        (CreateSequenceOp("seq"), DropSequenceOp("seq")),
        (CreateSchemaOp("s"), DropSchemaOp("s")),
        (CreateViewOp("v", "SELECT 1"), DropViewOp("v")),
        (CreateTableCommentOp("t", "new"), DropTableCommentOp("t", existing_comment="new")),
    ],
)
def test_reverse(forward: MigrateOp, backward: MigrateOp | type[MigrateOp]) -> None:
    undo = forward.reverse()
    if isinstance(backward, type):
        assert isinstance(undo, backward)
    else:
        assert type(undo) is type(backward)
        assert vars(undo) == vars(backward)


def test_create_and_drop_table_reverse_each_other() -> None:
    create = CreateTableOp(
        "t",
        (sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.String(5))),
        kw={"comment": "c"},
    )
    drop = create.reverse()
    assert drop.definition is not None
    again = drop.reverse()
    table = again.to_table()
    assert [c.name for c in table.columns] == ["id", "x"]
    assert table.comment == "c"
    # The op compiles any number of times: one table of its own serves every compilation,
    # and a copy goes into a metadata the caller names.
    assert create.to_table() is create.to_table()
    other = sa.MetaData()
    assert create.to_table(other).metadata is other


def test_alter_column_reverse_needs_what_it_changes_from() -> None:
    op = AlterColumnOp("t", "x", nullable=False, type_=sa.BigInteger())
    with pytest.raises(NotImplementedError, match="existing_type, existing_nullable"):
        op.reverse()
    op = AlterColumnOp(
        "t",
        "x",
        nullable=False,
        type_=sa.BigInteger(),
        new_column_name="y",
        existing_type=sa.Integer(),
        existing_nullable=True,
    )
    undo = op.reverse()
    assert (undo.column_name, undo.new_column_name, undo.nullable) == ("y", "x", True)
    assert isinstance(undo.type_, sa.Integer)
    assert isinstance(undo.existing_type, sa.BigInteger)


def test_ops_that_cannot_be_reversed_say_so() -> None:
    with pytest.raises(NotImplementedError, match="DropColumnOp cannot be reversed"):
        DropColumnOp("t", "x").reverse()
    with pytest.raises(NotImplementedError):
        DropTableOp("t").reverse()


async def test_batch_collects_and_applies_on_exit(op: Operations, recorder: Recorder) -> None:
    async with op.batch_alter_table(
        "t", schema="s", naming_convention={"uq": "uq_%(table_name)s"}
    ) as batch:
        await batch.add_column(sa.Column("x", sa.Integer), insert_after="id")
        await batch.alter_column("x", new_column_name="y")
        await batch.drop_column("z")
        await batch.create_index("ix", ["y"])
        await batch.drop_index("old")
        await batch.create_primary_key("pk", ["id"])
        await batch.create_unique_constraint("uq", ["y"])
        await batch.create_foreign_key("fk", "p", ["y"], ["id"])
        await batch.create_check_constraint("ck", "y > 0")
        await batch.drop_constraint("ck_old", type_="check")
        await batch.create_table_comment("c")
        await batch.drop_table_comment()
        assert recorder.ops == []  # nothing runs inside the block
    (applied,) = recorder.ops
    assert isinstance(applied, BatchAlterTableOp)
    assert (applied.table_name, applied.schema, applied.recreate) == ("t", "s", "auto")
    assert len(applied.operations) == 12
    assert all(getattr(o, "schema", "s") == "s" for o in applied.operations)
    assert applied.naming_convention == {"uq": "uq_%(table_name)s"}
    first = applied.operations[0]
    assert isinstance(first, AddColumnOp)
    assert first.insert_after == "id"


async def test_a_batch_that_fails_applies_nothing(op: Operations, recorder: Recorder) -> None:
    async def revision() -> None:
        async with op.batch_alter_table("t") as batch:
            await batch.drop_column("x")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await revision()
    assert recorder.ops == []


async def test_an_empty_batch_applies_nothing(op: Operations, recorder: Recorder) -> None:
    async with op.batch_alter_table("t"):
        pass
    assert recorder.ops == []


async def test_batch_misuse_is_a_script_error(op: Operations, recorder: Recorder) -> None:
    with pytest.raises(ScriptError, match="recreate='sometimes' is not one of"):
        op.batch_alter_table("t", recreate="sometimes")  # type: ignore[arg-type]
    with (
        pytest.raises(ScriptError, match="was used with 'with'") as info,
        op.batch_alter_table("t"),
    ):
        pass
    assert info.value.hint == "write 'async with op.batch_alter_table(...) as batch:'"
    with pytest.raises(ScriptError, match=r"batch.drop_column\('t', 'x'\) at .* was never awaited"):
        async with op.batch_alter_table("t") as batch:
            call = batch.drop_column("x")
    call.__await__().close()
    assert recorder.ops == []


def test_inline_literal_and_f() -> None:
    statement = sa.select(Operations.inline_literal("it's")).compile(dialect=sqlite.dialect())
    assert str(statement) == "SELECT 'it''s' AS anon_1"
    assert Operations.f("ix_a") == "ix_a"
    assert type(Operations.f("ix_a")).__name__ == "conv"
