"""Helpers the dialect modules share: stand-in tables and the UnsupportedOperation error."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from amigrate.dialects.tablemodel import copy_type
from amigrate.errors import UnsupportedOperation
from amigrate.operations.base import MigrateOp, new_metadata

__all__ = [
    "BATCH_HINT",
    "add_referents",
    "created_on",
    "dialect_label",
    "referent_stand_in",
    "stand_in",
    "type_constraints",
    "unsupported",
]

BATCH_HINT = "use 'async with op.batch_alter_table(...)', which recreates the table on SQLite"


def stand_in(table_name: str, schema: str | None, *columns: sa.Column[Any]) -> sa.Table:
    """A table that only names the real one (and holds the columns a statement needs)."""
    return sa.Table(table_name, new_metadata(), *columns, schema=schema)


def created_on(constraint: sa.Constraint, dialect: Dialect) -> bool:
    """Whether CREATE TABLE on *dialect* writes *constraint*: a non-native Boolean's or
    Enum's CHECK only where the type is not native (and only on its variant's dialect)."""
    rule = constraint._create_rule
    return rule is None or bool(rule(dialect.ddl_compiler(dialect, None)))  # type: ignore[arg-type]


def type_constraints(
    table_name: str, schema: str | None, column_name: str, type_: Any, dialect: Dialect
) -> list[sa.Constraint]:
    """The constraints a column of *type_* gets on *dialect* (``Boolean(create_constraint=
    True)``'s CHECK, a non-native Enum's), as CREATE TABLE would write them."""
    if not isinstance(type_, sa.types.SchemaType | sa.TypeDecorator) and not getattr(
        type_, "_variant_mapping", None
    ):
        return []  # only these make constraints
    table = stand_in(table_name, schema, sa.Column(column_name, copy_type(type_)))
    return [
        c
        for c in sorted(table.constraints, key=lambda c: str(c.name or ""))
        if not isinstance(c, sa.PrimaryKeyConstraint) and created_on(c, dialect)
    ]


def referent_stand_in(metadata: sa.MetaData, fk: sa.ForeignKey) -> None:
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


def add_referents(table: sa.Table) -> None:
    """Stand-ins for every table *table*'s foreign keys point at."""
    for fk in table.foreign_keys:
        referent_stand_in(table.metadata, fk)


def dialect_label(dialect: Dialect) -> str:
    """``PostgreSQL``, ``SQLite``, ``MySQL`` or ``MariaDB``, for messages."""
    if getattr(dialect, "is_mariadb", False):
        return "MariaDB"
    return {"postgresql": "PostgreSQL", "sqlite": "SQLite", "mysql": "MySQL"}.get(
        dialect.name, dialect.name
    )


def unsupported(op: MigrateOp, dialect: Dialect, why: str, hint: str) -> UnsupportedOperation:
    """``op.describe() is not supported on <dialect>: <why>`` with a hint."""
    return UnsupportedOperation(
        f"{op.describe()} is not supported on {dialect_label(dialect)}: {why}", hint=hint
    )
