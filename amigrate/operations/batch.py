"""Batch mode: ``async with op.batch_alter_table("t") as batch:``.

The block collects the changes made through ``batch`` (each call awaited, as
everywhere in amigrate) and, on leaving the block, hands them to the runtime as
one :class:`BatchAlterTableOp`. That is what lets SQLite, whose ``ALTER TABLE``
can do little, apply them by recreating the table once ("move and copy"); other
dialects apply the same changes as plain ALTERs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause, conv
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine

from amigrate.errors import ScriptError
from amigrate.operations.base import MigrateOp, names
from amigrate.operations.calls import CallRecorder, OpCall, OpContext
from amigrate.operations.columns import (
    AddColumnOp,
    AlterColumnOp,
    DropColumnOp,
    ServerDefault,
    check_alter_kw,
    check_placement,
)
from amigrate.operations.constraints import (
    ConstraintType,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
)
from amigrate.operations.data import ExecuteOp, f, inline_literal
from amigrate.operations.indexes import CreateIndexOp, DropIndexOp, IndexElement
from amigrate.operations.tables import CreateTableCommentOp, DropTableCommentOp

__all__ = ["BatchAlterTableOp", "BatchBlock", "BatchOperations", "Recreate"]

Recreate = Literal["auto", "always", "never"]
_RECREATE = ("auto", "always", "never")


@dataclass(frozen=True, eq=False)
class BatchAlterTableOp(MigrateOp):
    """Changes to one table, applied together (see ``Operations.batch_alter_table``).

    ``operations`` are ordinary ops on ``table_name``. ``copy_from`` is the table
    as it is, given instead of reflecting it (offline SQL needs it to recreate);
    ``table_args`` / ``table_kwargs`` are extra ``Table`` arguments for the new
    table; ``reflect_args`` (e.g. ``sa.Column("flag", sa.Boolean)``) override
    reflected columns; ``naming_convention`` names unnamed reflected constraints.
    """

    table_name: str
    operations: tuple[MigrateOp, ...]
    schema: str | None = None
    recreate: Recreate = "auto"
    partial_reordering: tuple[tuple[str, ...], ...] = ()
    copy_from: sa.Table | None = None
    table_args: tuple[Any, ...] = ()
    table_kwargs: Mapping[str, Any] = field(default_factory=dict)
    reflect_args: tuple[Any, ...] = ()
    reflect_kwargs: Mapping[str, Any] = field(default_factory=dict)
    naming_convention: Mapping[str, str] | None = None

    def reverse(self) -> BatchAlterTableOp:
        undo = tuple(op.reverse() for op in reversed(self.operations))
        return BatchAlterTableOp(
            self.table_name,
            undo,
            schema=self.schema,
            recreate=self.recreate,
            naming_convention=self.naming_convention,
        )

    def describe(self) -> str:
        return f"batch_alter_table({self.table_name!r})"


class BatchOperations(CallRecorder):
    """The ``batch`` of ``async with op.batch_alter_table("t") as batch:``.

    Its methods are those of ``op`` without the table name; each returns a call
    to await, which adds the change to the batch (nothing runs until the block
    ends).
    """

    def __init__(self, table_name: str, schema: str | None) -> None:
        super().__init__()
        self.table_name = table_name
        self.schema = schema
        self.collected: list[MigrateOp] = []

    async def _collect(self, op: MigrateOp) -> None:
        self.collected.append(op)

    def add_column(
        self,
        column: sa.Column[Any],
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        if_not_exists: bool = False,
        inline_references: bool | None = None,
        inline_primary_key: bool | None = None,
    ) -> OpCall[None]:
        """Add a column; ``insert_before``/``insert_after`` place it (SQLite, MySQL)."""
        what = f"add_column({self.table_name!r}, {column.name!r})"
        check_placement(what, (column.name,), insert_before, insert_after)
        op = AddColumnOp(
            self.table_name,
            column,
            schema=self.schema,
            if_not_exists=if_not_exists,
            insert_before=insert_before,
            insert_after=insert_after,
            inline_references=inline_references,
            inline_primary_key=inline_primary_key,
        )
        return self._call(op, self._collect)

    def alter_column(
        self,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | Literal[False] | None = False,
        server_default: ServerDefault | Literal[False] = False,
        new_column_name: str | None = None,
        type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_type: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_server_default: ServerDefault | Literal[False] = False,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        insert_before: str | None = None,
        insert_after: str | None = None,
        autoincrement: bool | None = None,
        existing_autoincrement: bool | None = None,
        postgresql_using: str | None = None,
        **kw: Any,
    ) -> OpCall[None]:
        """Change a column (see ``Operations.alter_column``); on SQLite the table is recreated.

        ``insert_before``/``insert_after`` move it: SQLite recreates the table, MySQL
        and MariaDB restate it (``MODIFY ... AFTER``/``FIRST``); PostgreSQL cannot.
        """
        check_alter_kw(self.table_name, column_name, kw)
        what = f"alter_column({self.table_name!r}, {column_name!r})"
        check_placement(what, (column_name, new_column_name), insert_before, insert_after)
        op = AlterColumnOp(
            self.table_name,
            column_name,
            schema=self.schema,
            nullable=nullable,
            type_=None if type_ is None else sa.types.to_instance(type_),
            server_default=server_default,
            new_column_name=new_column_name,
            comment=comment,
            autoincrement=autoincrement,
            existing_type=None if existing_type is None else sa.types.to_instance(existing_type),
            existing_nullable=existing_nullable,
            existing_server_default=existing_server_default,
            existing_comment=existing_comment,
            existing_autoincrement=existing_autoincrement,
            postgresql_using=postgresql_using,
            insert_before=insert_before,
            insert_after=insert_after,
            kw=kw,
        )
        return self._call(op, self._collect)

    def drop_column(self, column_name: str, *, if_exists: bool = False) -> OpCall[None]:
        """Drop a column, with the indexes and constraints that use it."""
        op = DropColumnOp(self.table_name, column_name, schema=self.schema, if_exists=if_exists)
        return self._call(op, self._collect)

    def create_index(
        self,
        index_name: str | None,
        columns: IndexElement | Sequence[IndexElement],
        *,
        unique: bool = False,
        **kw: Any,
    ) -> OpCall[None]:
        """Create an index on the table."""
        cols = tuple(columns) if isinstance(columns, list | tuple) else (columns,)
        op = CreateIndexOp(
            index_name, self.table_name, cols, schema=self.schema, unique=unique, kw=kw
        )
        return self._call(op, self._collect)

    def drop_index(self, index_name: str, **kw: Any) -> OpCall[None]:
        """Drop an index of the table."""
        op = DropIndexOp(index_name, self.table_name, schema=self.schema, kw=kw)
        return self._call(op, self._collect)

    def create_primary_key(
        self, constraint_name: str | None, columns: Sequence[str]
    ) -> OpCall[None]:
        """Add (or, when recreating, replace) the primary key."""
        op = CreatePrimaryKeyOp(constraint_name, self.table_name, names(columns), self.schema)
        return self._call(op, self._collect)

    def create_unique_constraint(
        self, constraint_name: str | None, columns: Sequence[str], **kw: Any
    ) -> OpCall[None]:
        """Add a unique constraint."""
        op = CreateUniqueConstraintOp(
            constraint_name, self.table_name, names(columns), self.schema, kw
        )
        return self._call(op, self._collect)

    def create_foreign_key(
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        referent_schema: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        **dialect_kw: Any,
    ) -> OpCall[None]:
        """Add a foreign key from this table to *referent_table*."""
        op = CreateForeignKeyOp(
            constraint_name,
            self.table_name,
            referent_table,
            names(local_cols),
            names(remote_cols),
            onupdate=onupdate,
            ondelete=ondelete,
            deferrable=deferrable,
            initially=initially,
            match=match,
            source_schema=self.schema,
            referent_schema=referent_schema,
            kw=dialect_kw,
        )
        return self._call(op, self._collect)

    def create_check_constraint(
        self,
        constraint_name: str | None,
        condition: str | TextClause | ColumnElement[bool],
        **kw: Any,
    ) -> OpCall[None]:
        """Add a check constraint."""
        op = CreateCheckConstraintOp(constraint_name, self.table_name, condition, self.schema, kw)
        return self._call(op, self._collect)

    def create_exclude_constraint(
        self,
        constraint_name: str | None,
        *elements: tuple[Any, str],
        where: str | TextClause | ColumnElement[bool] | None = None,
        **kw: Any,
    ) -> OpCall[None]:
        """Add a PostgreSQL ``EXCLUDE`` constraint (see ``op.create_exclude_constraint``)."""
        op = CreateExcludeConstraintOp(
            constraint_name, self.table_name, tuple(elements), where, self.schema, kw
        )
        return self._call(op, self._collect)

    def drop_constraint(
        self, constraint_name: str, type_: ConstraintType | None = None
    ) -> OpCall[None]:
        """Drop a constraint by name (``type_`` as for ``op.drop_constraint``)."""
        op = DropConstraintOp(constraint_name, self.table_name, type_, self.schema)
        return self._call(op, self._collect)

    def create_table_comment(
        self, comment: str, *, existing_comment: str | None = None
    ) -> OpCall[None]:
        """Set the table's comment (SQLite keeps none: ignored there)."""
        op = CreateTableCommentOp(self.table_name, comment, self.schema, existing_comment)
        return self._call(op, self._collect)

    def drop_table_comment(self, *, existing_comment: str | None = None) -> OpCall[None]:
        """Remove the table's comment (ignored on SQLite)."""
        op = DropTableCommentOp(self.table_name, self.schema, existing_comment)
        return self._call(op, self._collect)

    def execute(
        self,
        sqltext: str | Executable,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> OpCall[None]:
        """Execute SQL in its place among the batch's changes, when the block ends.

        The changes before it are applied first (on SQLite, the table is recreated
        with them), the ones after it afterwards; nothing is returned. (Alembic's
        ``batch_op.execute()`` runs at once, before all of the batch's changes.)
        """
        return self._call(ExecuteOp(sqltext, execution_options), self._collect)

    inline_literal = staticmethod(inline_literal)

    @staticmethod
    def f(name: str) -> conv:
        """Mark *name* as final: a naming convention will not be applied to it again."""
        return f(name)


class BatchBlock:
    """``op.batch_alter_table(...)``: an async context manager yielding :class:`BatchOperations`.

    Leaving the block without an error applies the collected changes as one
    :class:`BatchAlterTableOp`; an error inside the block applies nothing.
    """

    def __init__(
        self,
        context: OpContext,
        table_name: str,
        *,
        schema: str | None,
        recreate: str,
        partial_reordering: Sequence[Sequence[str]] | None,
        copy_from: sa.Table | None,
        table_args: Sequence[Any],
        table_kwargs: Mapping[str, Any] | None,
        reflect_args: Sequence[Any],
        reflect_kwargs: Mapping[str, Any] | None,
        naming_convention: Mapping[str, str] | None,
    ) -> None:
        if recreate not in _RECREATE:
            raise ScriptError(
                f"batch_alter_table({table_name!r}): recreate={recreate!r} is not one of "
                + ", ".join(repr(r) for r in _RECREATE),
                hint="use recreate='auto' (the default), 'always' or 'never'",
            )
        self._context = context
        self._batch = BatchOperations(table_name, schema)
        self._template = BatchAlterTableOp(
            table_name,
            (),
            schema=schema,
            recreate=recreate,  # type: ignore[arg-type]  # checked above
            partial_reordering=tuple(tuple(p) for p in partial_reordering or ()),
            copy_from=copy_from,
            table_args=tuple(table_args),
            table_kwargs=dict(table_kwargs or {}),
            reflect_args=tuple(reflect_args),
            reflect_kwargs=dict(reflect_kwargs or {}),
            naming_convention=naming_convention,
        )

    def __enter__(self) -> BatchOperations:
        raise ScriptError(
            f"op.batch_alter_table({self._batch.table_name!r}) was used with 'with'",
            hint="write 'async with op.batch_alter_table(...) as batch:'",
        )

    def __exit__(self, *exc: object) -> None:  # pragma: no cover - __enter__ always raises
        return None

    async def __aenter__(self) -> BatchOperations:
        return self._batch

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            return  # the block failed: apply nothing, let its error through
        for call in self._batch.unawaited():
            raise ScriptError(
                f"batch.{call.description} at {call.filename}:{call.lineno} was never awaited, "
                "so it is not part of the batch",
                hint=f"write 'await batch.{call.description.split('(')[0]}(...)'",
            )
        if not self._batch.collected and self._template.recreate != "always":
            return  # (recreate="always" with no change still rebuilds: table_args, say)
        op = replace(self._template, operations=tuple(self._batch.collected))
        await self._context.run_op(op)
