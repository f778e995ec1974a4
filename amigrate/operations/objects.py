"""Schema objects other than tables: sequences, schemas and views."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.expression import Executable

from amigrate.operations.base import MigrateOp

__all__ = [
    "CreateSchemaOp",
    "CreateSequenceOp",
    "CreateViewOp",
    "DropSchemaOp",
    "DropSequenceOp",
    "DropViewOp",
]


@dataclass(frozen=True, eq=False)
class CreateSequenceOp(MigrateOp):
    """Create a sequence (PostgreSQL, MariaDB)."""

    sequence_name: str
    schema: str | None = None
    start: int | None = None
    increment: int | None = None
    minvalue: int | None = None
    maxvalue: int | None = None
    cycle: bool | None = None
    cache: int | None = None
    if_not_exists: bool = False

    def to_sequence(self) -> sa.Sequence:
        """The ``Sequence`` this op creates."""
        return sa.Sequence(
            self.sequence_name,
            start=self.start,
            increment=self.increment,
            minvalue=self.minvalue,
            maxvalue=self.maxvalue,
            cycle=self.cycle,
            cache=self.cache,
            schema=self.schema,
        )

    def reverse(self) -> DropSequenceOp:
        return DropSequenceOp(self.sequence_name, schema=self.schema)

    def describe(self) -> str:
        return f"create_sequence({self.sequence_name!r})"


@dataclass(frozen=True, eq=False)
class DropSequenceOp(MigrateOp):
    """Drop a sequence."""

    sequence_name: str
    schema: str | None = None
    if_exists: bool = False

    def describe(self) -> str:
        return f"drop_sequence({self.sequence_name!r})"


@dataclass(frozen=True, eq=False)
class CreateSchemaOp(MigrateOp):
    """Create a schema (PostgreSQL)."""

    schema_name: str
    if_not_exists: bool = False

    def reverse(self) -> DropSchemaOp:
        return DropSchemaOp(self.schema_name)

    def describe(self) -> str:
        return f"create_schema({self.schema_name!r})"


@dataclass(frozen=True, eq=False)
class DropSchemaOp(MigrateOp):
    """Drop a schema (PostgreSQL); ``cascade`` drops what it contains too."""

    schema_name: str
    if_exists: bool = False
    cascade: bool = False

    def describe(self) -> str:
        return f"drop_schema({self.schema_name!r})"


@dataclass(frozen=True, eq=False)
class CreateViewOp(MigrateOp):
    """Create a view from a SELECT (SQL text or a Core ``select()``).

    With ``or_replace`` an existing view of that name is replaced
    (``CREATE OR REPLACE VIEW``; on SQLite, ``DROP VIEW IF EXISTS`` first).
    """

    view_name: str
    definition: str | Executable
    schema: str | None = None
    or_replace: bool = False

    def reverse(self) -> DropViewOp:
        return DropViewOp(self.view_name, schema=self.schema)

    def describe(self) -> str:
        return f"create_view({self.view_name!r})"


@dataclass(frozen=True, eq=False)
class DropViewOp(MigrateOp):
    """Drop a view."""

    view_name: str
    schema: str | None = None
    if_exists: bool = False

    def describe(self) -> str:
        return f"drop_view({self.view_name!r})"
