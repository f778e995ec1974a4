"""Index operations: create and drop an index."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause

from amigrate.operations.base import MigrateOp, new_metadata

__all__ = ["CreateIndexOp", "DropIndexOp", "IndexElement"]

#: An index element: a column name, or an expression (``sa.text("lower(email)")``).
IndexElement = str | TextClause | ColumnElement[Any]


@dataclass(frozen=True, eq=False)
class CreateIndexOp(MigrateOp):
    """Create an index on columns and/or expressions.

    ``kw`` holds dialect options: ``postgresql_where``, ``postgresql_include``,
    ``postgresql_using``, ``postgresql_concurrently``, ``mysql_length``, ...
    """

    index_name: str | None
    table_name: str
    columns: tuple[IndexElement, ...]
    schema: str | None = None
    unique: bool = False
    if_not_exists: bool = False
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_index(self, metadata: sa.MetaData | None = None) -> sa.Index:
        """The ``Index``, on a stand-in table that has the named columns."""
        metadata = metadata if metadata is not None else new_metadata()
        names = [c for c in self.columns if isinstance(c, str)]
        # postgresql_include names columns too; the compiler looks them up on the table.
        names += [c for c in self.kw.get("postgresql_include") or () if isinstance(c, str)]
        table = sa.Table(
            self.table_name,
            metadata,
            *(sa.Column(n, sa.types.NullType()) for n in dict.fromkeys(names)),
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
    """Drop an index (MySQL/MariaDB need its table's name)."""

    index_name: str | None
    table_name: str | None = None
    schema: str | None = None
    if_exists: bool = False
    kw: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"drop_index({self.index_name!r})"
