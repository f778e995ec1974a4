"""``Operations``: the ``op`` a revision's ``upgrade(op)`` / ``downgrade(op)`` receives.

Every schema method builds an operation (``amigrate.operations.ops``) and returns
an :class:`OpCall` that runs it when awaited (see ``amigrate.operations.calls``).
The methods and their arguments are Alembic's; constraint and index methods live
in :class:`ConstraintMethods`, batch mode in ``amigrate.operations.batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import conv
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine

from amigrate.operations.base import MigrateOp
from amigrate.operations.batch import BatchBlock, Recreate
from amigrate.operations.calls import OpCall, OpContext
from amigrate.operations.columns import (
    AddColumnOp,
    AlterColumnOp,
    DropColumnOp,
    ServerDefault,
    check_alter_kw,
)
from amigrate.operations.constraint_methods import ConstraintMethods
from amigrate.operations.data import BulkInsertOp, ExecuteOp, f, inline_literal
from amigrate.operations.objects import (
    CreateSchemaOp,
    CreateSequenceOp,
    CreateViewOp,
    DropSchemaOp,
    DropSequenceOp,
    DropViewOp,
)
from amigrate.operations.tables import (
    CreateTableCommentOp,
    CreateTableOp,
    DropTableCommentOp,
    DropTableOp,
    RenameTableOp,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection

    from amigrate.config import Config

T = TypeVar("T")

__all__ = ["Operations"]


#: What a revision converted from Alembic uses instead of Alembic's op attributes.
_ALEMBIC_NAMES = {
    "get_bind": "use 'op.connection' (an AsyncConnection: 'await op.connection.execute(...)'), "
    "or 'await op.run_sync(fn)' to run sync code with a Connection",
    "get_context": "use 'op.connection', 'op.dialect', 'op.config' or 'op.x_args'",
    "context": "use 'op.connection', 'op.dialect', 'op.config' or 'op.x_args'",
    "run_async": "the revision is a coroutine already: await the async code directly",
    "implementation_for": "custom operations are not supported; run the SQL with 'op.execute'",
    "register_operation": "custom operations are not supported; run the SQL with 'op.execute'",
}


class Operations(ConstraintMethods):
    """The schema operations a revision can await, plus escape hatches to SQLAlchemy.

    ``op.connection`` is the ``AsyncConnection`` (for data migrations),
    ``await op.run_sync(fn)`` runs sync SQLAlchemy code (ORM Session, reflection),
    ``async with op.autocommit_block():`` runs statements outside a transaction
    (``CREATE INDEX CONCURRENTLY``), ``op.x_args`` holds the ``-x`` values.
    """

    def __init__(self, context: OpContext) -> None:
        super().__init__()
        self._context = context

    def _run(self, op: MigrateOp) -> Any:
        return self._context.run_op(op)

    def __getattr__(self, name: str) -> Any:
        # (only for names the class does not have) Alembic's, in a converted revision.
        instead = _ALEMBIC_NAMES.get(name)
        if instead is None:
            raise AttributeError(f"'Operations' object has no attribute {name!r}")
        raise AttributeError(f"op.{name} is Alembic's; amigrate's op has no {name}: {instead}")

    # -- escape hatches ----------------------------------------------------------------

    @property
    def connection(self) -> AsyncConnection:
        """The ``AsyncConnection`` the revision runs on (not available with ``--sql``)."""
        return self._context.connection

    @property
    def dialect(self) -> Dialect:
        """The SQLAlchemy dialect (``op.dialect.name`` is e.g. ``"postgresql"``)."""
        return self._context.dialect

    @property
    def config(self) -> Config:
        """The amigrate configuration."""
        return self._context.config

    @property
    def x_args(self) -> Mapping[str, str]:
        """The ``-x key=value`` pairs of the command line (or ``x_args=`` of the API)."""
        return self._context.x_args

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(sync_connection, *args, **kwargs)`` with a sync ``Connection``.

        For ORM sessions, reflection and legacy sync helpers; not available with ``--sql``.
        """
        return await self._context.run_revision_sync(fn, *args, **kwargs)

    def autocommit_block(self) -> AbstractAsyncContextManager[None]:
        """Commit, run the block's statements outside a transaction, then resume one.

        For statements that refuse to run in a transaction, such as PostgreSQL's
        ``CREATE INDEX CONCURRENTLY`` or ``ALTER TYPE ... ADD VALUE`` (before 12).
        """
        return self._context.autocommit_block()

    def invoke(self, op: MigrateOp) -> OpCall[Any]:
        """Run any operation object when awaited (what every method below does)."""
        return self._call(op, self._run)

    inline_literal = staticmethod(inline_literal)

    @staticmethod
    def f(name: str) -> conv:
        """Mark *name* as final: a naming convention will not be applied to it again."""
        return f(name)

    # -- data --------------------------------------------------------------------------

    def execute(
        self,
        sqltext: str | Executable,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> OpCall[Any]:
        """Execute SQL: a string, ``sa.text()``, or a Core statement (``sa.update(...)``).

        Returns the ``CursorResult`` online. With ``--sql`` the statement goes to the
        script and the result is ``None``; for a query it is an object that fails the
        render, naming the revision, if the revision looks at it (there are no rows).
        """
        return self._call(ExecuteOp(sqltext, execution_options), self._run)

    def bulk_insert(
        self,
        table: sa.Table | sa.TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> OpCall[None]:
        """Insert *rows* (dicts keyed by column name) into *table*.

        *table* is a ``Table`` (``create_table`` returns one) or a lightweight
        ``sa.table("t", sa.column("id", sa.Integer), ...)``. Offline, each row is an
        ``INSERT`` with literal values. Keys that are not columns fail the step.
        """
        return self._call(BulkInsertOp(table, tuple(rows), multiinsert), self._run)

    # -- tables ------------------------------------------------------------------------

    def create_table(
        self,
        table_name: str,
        *columns: sa.schema.SchemaItem,
        schema: str | None = None,
        if_not_exists: bool = False,
        **kw: Any,
    ) -> OpCall[sa.Table]:
        """Create a table; the awaited call returns the ``Table`` (for ``bulk_insert``).

        *columns* are ``Column``, constraint and ``Index`` objects; *kw* are ``Table``
        keywords (``comment=``, ``mysql_engine=``, ...). On PostgreSQL the enum
        types of its columns are created with it.
        """
        op = CreateTableOp(table_name, columns, schema=schema, if_not_exists=if_not_exists, kw=kw)
        return self._call(op, self._run)

    def drop_table(
        self, table_name: str, *, schema: str | None = None, if_exists: bool = False
    ) -> OpCall[None]:
        """Drop a table (on PostgreSQL, with the enum types nothing else uses any more)."""
        return self._call(DropTableOp(table_name, schema=schema, if_exists=if_exists), self._run)

    def rename_table(
        self, old_table_name: str, new_table_name: str, *, schema: str | None = None
    ) -> OpCall[None]:
        """Rename a table within its schema."""
        return self._call(RenameTableOp(old_table_name, new_table_name, schema), self._run)

    def create_table_comment(
        self,
        table_name: str,
        comment: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> OpCall[None]:
        """Set a table's comment (not on SQLite, which keeps no comments)."""
        op = CreateTableCommentOp(table_name, comment, schema, existing_comment)
        return self._call(op, self._run)

    def drop_table_comment(
        self,
        table_name: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> OpCall[None]:
        """Remove a table's comment (not on SQLite)."""
        return self._call(DropTableCommentOp(table_name, schema, existing_comment), self._run)

    # -- columns -----------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: sa.Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
        inline_references: bool | None = None,
        inline_primary_key: bool | None = None,
    ) -> OpCall[None]:
        """Add a column, with its foreign key, unique constraint, index and comment.

        ``inline_references=True`` writes a single-column foreign key as ``REFERENCES``
        inside the ``ADD COLUMN``; ``inline_primary_key=True`` writes ``PRIMARY KEY``
        there for a ``primary_key=True`` column (otherwise no key is added, as in Alembic).
        """
        op = AddColumnOp(
            table_name,
            column,
            schema=schema,
            if_not_exists=if_not_exists,
            inline_references=inline_references,
            inline_primary_key=inline_primary_key,
        )
        return self._call(op, self._run)

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> OpCall[None]:
        """Drop a column."""
        op = DropColumnOp(table_name, column_name, schema=schema, if_exists=if_exists)
        return self._call(op, self._run)

    def alter_column(
        self,
        table_name: str,
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
        schema: str | None = None,
        autoincrement: bool | None = None,
        existing_autoincrement: bool | None = None,
        postgresql_using: str | None = None,
        **kw: Any,
    ) -> OpCall[None]:
        """Change a column's type, nullability, server default, comment or name.

        ``server_default=None`` / ``comment=None`` remove them. MySQL/MariaDB
        redefine the whole column: online amigrate restates it as the database has
        it, changing only what is asked; offline SQL needs ``existing_type`` (and
        the other ``existing_*`` values you want kept). SQLite can only rename a
        column this way; anything else needs ``batch_alter_table`` (which also
        moves a column: ``insert_before`` / ``insert_after``).
        """
        check_alter_kw(table_name, column_name, kw)
        op = AlterColumnOp(
            table_name,
            column_name,
            schema=schema,
            nullable=nullable,
            type_=_type(type_),
            server_default=server_default,
            new_column_name=new_column_name,
            comment=comment,
            autoincrement=autoincrement,
            existing_type=_type(existing_type),
            existing_nullable=existing_nullable,
            existing_server_default=existing_server_default,
            existing_comment=existing_comment,
            existing_autoincrement=existing_autoincrement,
            postgresql_using=postgresql_using,
            kw=kw,
        )
        return self._call(op, self._run)

    # -- sequences, schemas, views -----------------------------------------------------

    def create_sequence(
        self,
        sequence_name: str,
        *,
        schema: str | None = None,
        start: int | None = None,
        increment: int | None = None,
        minvalue: int | None = None,
        maxvalue: int | None = None,
        cycle: bool | None = None,
        cache: int | None = None,
        if_not_exists: bool = False,
    ) -> OpCall[None]:
        """Create a sequence (PostgreSQL, MariaDB; SQLite and MySQL have none)."""
        op = CreateSequenceOp(
            sequence_name, schema, start, increment, minvalue, maxvalue, cycle, cache, if_not_exists
        )
        return self._call(op, self._run)

    def drop_sequence(
        self, sequence_name: str, *, schema: str | None = None, if_exists: bool = False
    ) -> OpCall[None]:
        """Drop a sequence."""
        return self._call(DropSequenceOp(sequence_name, schema, if_exists), self._run)

    def create_schema(self, schema_name: str, *, if_not_exists: bool = False) -> OpCall[None]:
        """Create a schema (PostgreSQL only: on MySQL a schema is a whole database)."""
        return self._call(CreateSchemaOp(schema_name, if_not_exists), self._run)

    def drop_schema(
        self, schema_name: str, *, if_exists: bool = False, cascade: bool = False
    ) -> OpCall[None]:
        """Drop a schema (PostgreSQL only); ``cascade=True`` drops its contents too."""
        return self._call(DropSchemaOp(schema_name, if_exists, cascade), self._run)

    def create_view(
        self,
        view_name: str,
        definition: str | Executable,
        *,
        schema: str | None = None,
        or_replace: bool = False,
    ) -> OpCall[None]:
        """Create a view from a SELECT (SQL text or ``sa.select(...)``).

        ``or_replace=True`` replaces a view of that name if there is one.
        """
        return self._call(CreateViewOp(view_name, definition, schema, or_replace), self._run)

    def drop_view(
        self, view_name: str, *, schema: str | None = None, if_exists: bool = False
    ) -> OpCall[None]:
        """Drop a view."""
        return self._call(DropViewOp(view_name, schema, if_exists), self._run)

    # -- batch -------------------------------------------------------------------------

    def batch_alter_table(
        self,
        table_name: str,
        *,
        schema: str | None = None,
        recreate: Recreate = "auto",
        partial_reordering: Sequence[Sequence[str]] | None = None,
        copy_from: sa.Table | None = None,
        table_args: Sequence[Any] = (),
        table_kwargs: Mapping[str, Any] | None = None,
        reflect_args: Sequence[Any] = (),
        reflect_kwargs: Mapping[str, Any] | None = None,
        naming_convention: Mapping[str, str] | None = None,
    ) -> BatchBlock:
        """Collect changes to one table and apply them together on leaving the block.

        ``async with op.batch_alter_table("account") as batch:`` then
        ``await batch.alter_column(...)`` and so on. On SQLite, when a change needs
        it (``recreate="auto"``; ``"always"`` forces it), the table is recreated:
        a new table is created, the rows copied, the old table dropped and the new
        one renamed, keeping indexes, named constraints, foreign keys and
        triggers. Elsewhere the block emits plain ALTERs. ``copy_from`` gives the
        table instead of reflecting it (required for offline SQL);
        ``naming_convention`` names unnamed constraints so they can be dropped.
        """
        return BatchBlock(
            self._context,
            table_name,
            schema=schema,
            recreate=recreate,
            partial_reordering=partial_reordering,
            copy_from=copy_from,
            table_args=table_args,
            table_kwargs=table_kwargs,
            reflect_args=reflect_args,
            reflect_kwargs=reflect_kwargs,
            naming_convention=naming_convention,
        )


def _type(type_: TypeEngine[Any] | type[TypeEngine[Any]] | None) -> TypeEngine[Any] | None:
    return None if type_ is None else sa.types.to_instance(type_)
