"""``Operations``: the ``op`` a revision's ``upgrade(op)`` / ``downgrade(op)`` receives.

Every schema method builds an operation (``amigrate.operations.ops``) and returns
an :class:`OpCall`, which runs it when awaited. A call that is never awaited
would otherwise vanish silently (Alembic records such a revision as applied), so
the runtime asks :meth:`Operations.unawaited` after the revision returns and
fails the step, naming the call and its line.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.expression import Executable

from amigrate.operations.ops import (
    AddColumnOp,
    CreateIndexOp,
    CreateTableOp,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    ExecuteOp,
    MigrateOp,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection

    from amigrate.config import Config

T = TypeVar("T")

__all__ = ["OpCall", "OpContext", "Operations"]


class OpContext(Protocol):
    """What the runtime gives :class:`Operations` (implemented by ``amigrate.runtime``)."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def connection(self) -> AsyncConnection: ...

    @property
    def config(self) -> Config: ...

    @property
    def x_args(self) -> Mapping[str, str]: ...

    async def run_op(self, op: MigrateOp) -> Any: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def autocommit_block(self) -> AbstractAsyncContextManager[None]: ...


class OpCall(Generic[T]):
    """An operation waiting to be awaited; it runs when (and only when) it is awaited."""

    __slots__ = ("_start", "awaited", "description", "filename", "lineno")

    def __init__(
        self, start: Callable[[], Awaitable[T]], description: str, filename: str, lineno: int
    ) -> None:
        self._start = start
        self.awaited = False
        self.description = description
        self.filename = filename
        self.lineno = lineno

    def __await__(self) -> Generator[Any, None, T]:
        if self.awaited:
            raise RuntimeError(f"op.{self.description} was awaited twice")
        self.awaited = True
        return self._start().__await__()

    def __repr__(self) -> str:
        state = "awaited" if self.awaited else "not awaited"
        return f"<OpCall op.{self.description} ({state}) at {self.filename}:{self.lineno}>"


class Operations:
    """The schema operations a revision can await, plus escape hatches to SQLAlchemy.

    ``op.connection`` is the ``AsyncConnection`` (for data migrations),
    ``await op.run_sync(fn)`` runs sync SQLAlchemy code (ORM Session, reflection),
    ``async with op.autocommit_block():`` runs statements outside a transaction
    (``CREATE INDEX CONCURRENTLY``), ``op.x_args`` holds the ``-x`` values.
    """

    def __init__(self, context: OpContext) -> None:
        self._context = context
        self._calls: list[OpCall[Any]] = []

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
        return await self._context.run_sync(fn, *args, **kwargs)

    def autocommit_block(self) -> AbstractAsyncContextManager[None]:
        """Commit, run the block's statements outside a transaction, then resume one.

        For statements that refuse to run in a transaction, such as PostgreSQL's
        ``CREATE INDEX CONCURRENTLY`` or ``ALTER TYPE ... ADD VALUE`` (before 12).
        """
        return self._context.autocommit_block()

    # -- bookkeeping -------------------------------------------------------------------

    def invoke(self, op: MigrateOp) -> OpCall[Any]:
        """Run any operation object when awaited (what every method below does)."""
        return self._call(op, self._context.run_op)

    def _call(self, op: MigrateOp, run: Callable[[MigrateOp], Awaitable[T]]) -> OpCall[T]:
        # The revision's own frame: the caller of the public method that called us.
        frame = sys._getframe(2)
        call = OpCall(lambda: run(op), op.describe(), frame.f_code.co_filename, frame.f_lineno)
        self._calls.append(call)
        return call

    def unawaited(self) -> list[OpCall[Any]]:
        """The calls made so far that were never awaited."""
        return [call for call in self._calls if not call.awaited]

    # -- data --------------------------------------------------------------------------

    def execute(
        self,
        sqltext: str | Executable,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> OpCall[Any]:
        """Execute SQL: a string, ``sa.text()``, or a Core statement (``sa.update(...)``).

        Returns the ``CursorResult`` online (``None`` with ``--sql``).
        """
        return self._call(ExecuteOp(sqltext, execution_options), self._context.run_op)

    # -- tables ------------------------------------------------------------------------

    def create_table(
        self, table_name: str, *columns: sa.schema.SchemaItem, schema: str | None = None, **kw: Any
    ) -> OpCall[sa.Table]:
        """Create a table; the awaited call returns the ``Table`` (for ``bulk_insert``)."""
        return self._call(
            CreateTableOp(table_name, tuple(columns), schema=schema, kw=kw), self._context.run_op
        )

    def drop_table(
        self, table_name: str, *, schema: str | None = None, if_exists: bool = False
    ) -> OpCall[None]:
        """Drop a table."""
        return self._call(
            DropTableOp(table_name, schema=schema, if_exists=if_exists), self._context.run_op
        )

    # -- columns -----------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: sa.Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
    ) -> OpCall[None]:
        """Add a column to a table."""
        return self._call(
            AddColumnOp(table_name, column, schema=schema, if_not_exists=if_not_exists),
            self._context.run_op,
        )

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> OpCall[None]:
        """Drop a column from a table."""
        return self._call(
            DropColumnOp(table_name, column_name, schema=schema, if_exists=if_exists),
            self._context.run_op,
        )

    # -- indexes -----------------------------------------------------------------------

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: str | TextClause | ColumnElement[Any] | list[Any] | tuple[Any, ...],
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool = False,
        **kw: Any,
    ) -> OpCall[None]:
        """Create an index on column names and/or expressions (``sa.text("lower(email)")``)."""
        cols = tuple(columns) if isinstance(columns, list | tuple) else (columns,)
        return self._call(
            CreateIndexOp(
                index_name,
                table_name,
                cols,
                schema=schema,
                unique=unique,
                if_not_exists=if_not_exists,
                kw=kw,
            ),
            self._context.run_op,
        )

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        **kw: Any,
    ) -> OpCall[None]:
        """Drop an index (``table_name`` is needed on MySQL/MariaDB)."""
        return self._call(
            DropIndexOp(index_name, table_name, schema=schema, if_exists=if_exists, kw=kw),
            self._context.run_op,
        )
