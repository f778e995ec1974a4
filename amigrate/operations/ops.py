"""Operations as data: one frozen dataclass per schema operation.

A revision's ``await op.create_table(...)`` builds a :class:`CreateTableOp` and
hands it to the runtime, which compiles it for the connection's dialect
(``amigrate.dialects``) and executes it, or renders it as SQL offline. The same
objects are what autogenerate emits. ``reverse()`` gives the operation that
undoes one, where that is knowable from the operation alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.expression import Executable

__all__ = [
    "AddColumnOp",
    "CreateIndexOp",
    "CreateTableOp",
    "DropColumnOp",
    "DropIndexOp",
    "DropTableOp",
    "ExecuteOp",
    "MigrateOp",
]


class MigrateOp:
    """Base of every operation."""

    def reverse(self) -> MigrateOp:
        """The operation that undoes this one."""
        raise NotImplementedError(f"{type(self).__name__} cannot be reversed automatically")

    def describe(self) -> str:
        """A short description for messages: ``create_table('account')``."""
        return type(self).__name__


@dataclass(frozen=True, eq=False)
class ExecuteOp(MigrateOp):
    """Execute a SQL string, ``text()`` or any executable construct."""

    sqltext: str | Executable
    execution_options: Mapping[str, Any] | None = None

    def describe(self) -> str:
        text = self.sqltext if isinstance(self.sqltext, str) else type(self.sqltext).__name__
        short = " ".join(str(text).split())
        return f"execute({short[:60] + ('...' if len(short) > 60 else '')!r})"


@dataclass(frozen=True, eq=False)
class CreateTableOp(MigrateOp):
    """Create a table from columns and constraints."""

    table_name: str
    columns: tuple[sa.schema.SchemaItem, ...]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_table(self, metadata: sa.MetaData | None = None) -> sa.Table:
        """The ``Table`` this operation creates (columns are copied, so the op can be reused)."""
        items = [c._copy() if isinstance(c, sa.Column) else c for c in self.columns]
        return sa.Table(
            self.table_name, metadata or sa.MetaData(), *items, schema=self.schema, **self.kw
        )

    def reverse(self) -> DropTableOp:
        return DropTableOp(self.table_name, schema=self.schema)

    def describe(self) -> str:
        return f"create_table({self.table_name!r})"


@dataclass(frozen=True, eq=False)
class DropTableOp(MigrateOp):
    """Drop a table."""

    table_name: str
    schema: str | None = None
    if_exists: bool = False

    def describe(self) -> str:
        return f"drop_table({self.table_name!r})"


@dataclass(frozen=True, eq=False)
class CreateIndexOp(MigrateOp):
    """Create an index on columns or expressions."""

    index_name: str | None
    table_name: str
    columns: tuple[str | TextClause | ColumnElement[Any], ...]
    schema: str | None = None
    unique: bool = False
    if_not_exists: bool = False
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_index(self, metadata: sa.MetaData | None = None) -> sa.Index:
        """The ``Index`` this operation creates, on a stand-in table with the named columns."""
        metadata = metadata or sa.MetaData()
        names = [c for c in self.columns if isinstance(c, str)]
        table = sa.Table(
            self.table_name,
            metadata,
            *(sa.Column(n, sa.types.NullType()) for n in names),
            schema=self.schema,
        )
        exprs = [table.c[c] if isinstance(c, str) else c for c in self.columns]
        return sa.Index(self.index_name, *exprs, unique=self.unique, _table=table, **self.kw)

    def reverse(self) -> DropIndexOp:
        return DropIndexOp(self.index_name, self.table_name, schema=self.schema)

    def describe(self) -> str:
        return f"create_index({self.index_name!r}, {self.table_name!r})"


@dataclass(frozen=True, eq=False)
class DropIndexOp(MigrateOp):
    """Drop an index."""

    index_name: str | None
    table_name: str | None = None
    schema: str | None = None
    if_exists: bool = False
    kw: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"drop_index({self.index_name!r})"


@dataclass(frozen=True, eq=False)
class AddColumnOp(MigrateOp):
    """Add a column to an existing table."""

    table_name: str
    column: sa.Column[Any]
    schema: str | None = None
    if_not_exists: bool = False

    def reverse(self) -> DropColumnOp:
        return DropColumnOp(self.table_name, self.column.name, schema=self.schema)

    def describe(self) -> str:
        return f"add_column({self.table_name!r}, {self.column.name!r})"


@dataclass(frozen=True, eq=False)
class DropColumnOp(MigrateOp):
    """Drop a column."""

    table_name: str
    column_name: str
    schema: str | None = None
    if_exists: bool = False

    def describe(self) -> str:
        return f"drop_column({self.table_name!r}, {self.column_name!r})"
