"""DDL constructs SQLAlchemy lacks, compiled per dialect with ``sqlalchemy.ext.compiler``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement
from sqlalchemy.sql.compiler import DDLCompiler

__all__ = ["AddColumn", "DropColumn"]

# Dialects whose ALTER TABLE accepts IF [NOT] EXISTS for columns (MariaDB does,
# MySQL does not; SQLAlchemy's mysql dialect knows which one it is talking to).
_COLUMN_IF_EXISTS = frozenset({"postgresql"})


def _supports_column_if_exists(dialect: sa.engine.Dialect) -> bool:
    return dialect.name in _COLUMN_IF_EXISTS or bool(getattr(dialect, "is_mariadb", False))


class _ColumnDDL(ExecutableDDLElement):
    inherit_cache = False

    def __init__(self, table: sa.Table, column_name: str, *, flag: bool = False) -> None:
        self.table = table
        self.column_name = column_name
        self.flag = flag


class AddColumn(_ColumnDDL):
    """``ALTER TABLE t ADD COLUMN spec``; ``flag`` adds IF NOT EXISTS where the dialect has it."""


class DropColumn(_ColumnDDL):
    """``ALTER TABLE t DROP COLUMN c``; ``flag`` adds IF EXISTS where the dialect has it."""


def _table(compiler: DDLCompiler, table: sa.Table) -> str:
    return compiler.preparer.format_table(table)


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    column = element.table.c[element.column_name]
    spec = compiler.get_column_specification(column)
    for constraint in column.constraints:
        if not isinstance(constraint, sa.ForeignKeyConstraint):
            sql = compiler.process(constraint)
            if sql:
                spec += " " + sql
    if compiler.dialect.name == "sqlite":
        # SQLite cannot add a constraint later, but takes REFERENCES inline.
        for fk in column.foreign_keys:
            target = fk.column
            spec += (
                f" REFERENCES {compiler.preparer.format_table(target.table)} "
                f"({compiler.preparer.quote(target.name)})"
            )
            if fk.constraint is not None:
                spec += compiler.define_constraint_cascades(fk.constraint)
    guard = (
        "IF NOT EXISTS " if element.flag and _supports_column_if_exists(compiler.dialect) else ""
    )
    return f"ALTER TABLE {_table(compiler, element.table)} ADD COLUMN {guard}{spec}"


@compiles(DropColumn)
def _drop_column(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    guard = "IF EXISTS " if element.flag and _supports_column_if_exists(compiler.dialect) else ""
    name = compiler.preparer.quote(element.column_name)
    return f"ALTER TABLE {_table(compiler, element.table)} DROP COLUMN {guard}{name}"
