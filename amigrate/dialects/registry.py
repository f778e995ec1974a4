"""Compile operations into SQLAlchemy statements for one dialect.

``compile_op(op, dialect)`` looks up the compiler registered for the op's class
and the dialect's name, falling back to the generic one (dialect ``None``).
Per-dialect variance lives in small registered functions, so offline SQL,
online execution and (later) autogenerate share one path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable, DropIndex, DropTable
from sqlalchemy.sql.expression import Executable

from amigrate.dialects.ddl import AddColumn, DropColumn
from amigrate.errors import UnsupportedOperation
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

__all__ = ["CompiledOp", "compile_op", "register"]

OpT = TypeVar("OpT", bound=MigrateOp)


@dataclass
class CompiledOp:
    """The statements that perform an op, and what awaiting the op returns."""

    statements: list[Executable] = field(default_factory=list)
    result: Any = None
    execution_options: dict[str, Any] = field(default_factory=dict)


Compiler = Callable[[Any, Dialect], CompiledOp]
_REGISTRY: dict[tuple[type[MigrateOp], str | None], Compiler] = {}


def register(
    op_class: type[OpT], dialect: str | None = None
) -> Callable[[Callable[[OpT, Dialect], CompiledOp]], Callable[[OpT, Dialect], CompiledOp]]:
    """Register the compiler of *op_class* for *dialect* (None: every dialect)."""

    def decorate(fn: Callable[[OpT, Dialect], CompiledOp]) -> Callable[[OpT, Dialect], CompiledOp]:
        _REGISTRY[(op_class, dialect)] = fn
        return fn

    return decorate


def compile_op(op: MigrateOp, dialect: Dialect) -> CompiledOp:
    """The statements that perform *op* on *dialect*."""
    for cls in type(op).__mro__:
        for key in ((cls, dialect.name), (cls, None)):
            if key in _REGISTRY:
                return _REGISTRY[key](op, dialect)
    raise NotImplementedError(f"no compiler for {type(op).__name__}")  # a programming error


def _stand_in(table_name: str, schema: str | None, *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(table_name, sa.MetaData(), *columns, schema=schema)


@register(ExecuteOp)
def _execute(op: ExecuteOp, dialect: Dialect) -> CompiledOp:
    statement = sa.text(op.sqltext) if isinstance(op.sqltext, str) else op.sqltext
    return CompiledOp([statement], execution_options=dict(op.execution_options or {}))


@register(CreateTableOp)
def _create_table(op: CreateTableOp, dialect: Dialect) -> CompiledOp:
    table = op.to_table()
    for fk in table.foreign_keys:
        _referent_stand_in(table.metadata, fk)
    statements: list[Executable] = [CreateTable(table)]
    # Indexes declared on the columns (index=True) or as Index objects come with the table.
    statements += [
        CreateIndex(index) for index in sorted(table.indexes, key=lambda i: i.name or "")
    ]
    return CompiledOp(statements, result=table)


@register(DropTableOp)
def _drop_table(op: DropTableOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([DropTable(_stand_in(op.table_name, op.schema), if_exists=op.if_exists)])


@register(CreateIndexOp)
def _create_index(op: CreateIndexOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([CreateIndex(op.to_index(), if_not_exists=op.if_not_exists)])


@register(DropIndexOp)
def _drop_index(op: DropIndexOp, dialect: Dialect) -> CompiledOp:
    if op.table_name is None and dialect.name == "mysql":
        raise UnsupportedOperation(
            f"drop_index({op.index_name!r}) needs table_name on MySQL/MariaDB",
            hint=f"write op.drop_index({op.index_name!r}, table_name='...')",
        )
    # PostgreSQL qualifies the index with the table's schema; a stand-in table carries it.
    table = _stand_in(op.table_name or "_", op.schema)
    index = sa.Index(op.index_name, _table=table, **op.kw)
    return CompiledOp([DropIndex(index, if_exists=op.if_exists)])


@register(AddColumnOp)
def _add_column(op: AddColumnOp, dialect: Dialect) -> CompiledOp:
    column = op.column._copy()
    table = _stand_in(op.table_name, op.schema, column)
    for fk in column.foreign_keys:
        _referent_stand_in(table.metadata, fk)
    statements: list[Executable] = [AddColumn(table, column.name, flag=op.if_not_exists)]
    if dialect.name != "sqlite":  # SQLite takes the references inline (see ddl.AddColumn)
        statements += [
            AddConstraint(fk.constraint) for fk in column.foreign_keys if fk.constraint is not None
        ]
    return CompiledOp(statements)


def _referent_stand_in(metadata: sa.MetaData, fk: sa.ForeignKey) -> None:
    """A table for the FK's target, so the FK compiles without reflecting the database."""
    parts = fk.target_fullname.split(".")
    schema = ".".join(parts[:-2]) or None
    table_name, column_name = parts[-2], parts[-1]
    key = f"{schema}.{table_name}" if schema else table_name
    table = metadata.tables.get(key)
    if table is None:
        table = sa.Table(table_name, metadata, schema=schema)
    if column_name not in table.c:
        table.append_column(sa.Column(column_name, sa.types.NullType()))


@register(DropColumnOp)
def _drop_column(op: DropColumnOp, dialect: Dialect) -> CompiledOp:
    table = _stand_in(op.table_name, op.schema)
    return CompiledOp([DropColumn(table, op.column_name, flag=op.if_exists)])
