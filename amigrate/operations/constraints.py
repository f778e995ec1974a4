"""Constraint operations: primary keys, unique, foreign key and check constraints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause

from amigrate.operations.base import MigrateOp, new_metadata

__all__ = [
    "ConstraintType",
    "CreateCheckConstraintOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreatePrimaryKeyOp",
    "CreateUniqueConstraintOp",
    "DropConstraintOp",
]

#: ``type_`` of ``drop_constraint``, as Alembic spells it.
ConstraintType = Literal["foreignkey", "primary", "unique", "check"]


def _stand_in(table_name: str, schema: str | None, columns: tuple[str, ...]) -> sa.Table:
    return sa.Table(
        table_name,
        new_metadata(),
        *(sa.Column(c, sa.types.NullType()) for c in dict.fromkeys(columns)),
        schema=schema,
    )


@dataclass(frozen=True, eq=False)
class CreatePrimaryKeyOp(MigrateOp):
    """Add a primary key on existing columns."""

    constraint_name: str | None
    table_name: str
    columns: tuple[str, ...]
    schema: str | None = None

    def to_constraint(self) -> sa.PrimaryKeyConstraint:
        """The constraint, on a stand-in table that has the named columns."""
        table = _stand_in(self.table_name, self.schema, self.columns)
        constraint = sa.PrimaryKeyConstraint(*self.columns, name=self.constraint_name)
        table.append_constraint(constraint)
        return constraint

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(self.constraint_name, self.table_name, "primary", self.schema)

    def describe(self) -> str:
        return f"create_primary_key({self.constraint_name!r}, {self.table_name!r})"


@dataclass(frozen=True, eq=False)
class CreateUniqueConstraintOp(MigrateOp):
    """Add a unique constraint; ``kw`` holds ``deferrable``, ``initially`` and dialect options."""

    constraint_name: str | None
    table_name: str
    columns: tuple[str, ...]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_constraint(self) -> sa.UniqueConstraint:
        """The constraint, on a stand-in table that has the named columns."""
        # (postgresql_include names columns of the table too: the stand-in needs them)
        included = tuple(c for c in self.kw.get("postgresql_include") or () if isinstance(c, str))
        table = _stand_in(self.table_name, self.schema, (*self.columns, *included))
        constraint = sa.UniqueConstraint(*self.columns, name=self.constraint_name, **self.kw)
        table.append_constraint(constraint)
        return constraint

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(self.constraint_name, self.table_name, "unique", self.schema)

    def describe(self) -> str:
        return f"create_unique_constraint({self.constraint_name!r}, {self.table_name!r})"


@dataclass(frozen=True, eq=False)
class CreateForeignKeyOp(MigrateOp):
    """Add a foreign key from ``source_table(local_cols)`` to ``referent_table(remote_cols)``."""

    constraint_name: str | None
    source_table: str
    referent_table: str
    local_cols: tuple[str, ...]
    remote_cols: tuple[str, ...]
    onupdate: str | None = None
    ondelete: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None
    source_schema: str | None = None
    referent_schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_constraint(self) -> sa.ForeignKeyConstraint:
        """The constraint, between stand-in tables that have the named columns."""
        source = _stand_in(self.source_table, self.source_schema, self.local_cols)
        metadata = source.metadata
        same = (self.referent_table, self.referent_schema) == (
            self.source_table,
            self.source_schema,
        )
        if same:  # self-referential: one table holds both column lists
            for name in self.remote_cols:
                if name not in source.c:
                    source.append_column(sa.Column(name, sa.types.NullType()))
        else:
            sa.Table(
                self.referent_table,
                metadata,
                *(sa.Column(c, sa.types.NullType()) for c in dict.fromkeys(self.remote_cols)),
                schema=self.referent_schema,
            )
        prefix = f"{self.referent_schema}." if self.referent_schema else ""
        constraint = sa.ForeignKeyConstraint(
            list(self.local_cols),
            [f"{prefix}{self.referent_table}.{c}" for c in self.remote_cols],
            name=self.constraint_name,
            onupdate=self.onupdate,
            ondelete=self.ondelete,
            deferrable=self.deferrable,
            initially=self.initially,
            match=self.match,
            **self.kw,
        )
        source.append_constraint(constraint)
        return constraint

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(
            self.constraint_name, self.source_table, "foreignkey", self.source_schema
        )

    def describe(self) -> str:
        return f"create_foreign_key({self.constraint_name!r}, {self.source_table!r})"


@dataclass(frozen=True, eq=False)
class CreateCheckConstraintOp(MigrateOp):
    """Add a check constraint; ``condition`` is SQL text or a SQL expression."""

    constraint_name: str | None
    table_name: str
    condition: str | TextClause | ColumnElement[bool]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_constraint(self) -> sa.CheckConstraint:
        """The constraint, on a stand-in table."""
        table = _stand_in(self.table_name, self.schema, ())
        condition = sa.text(self.condition) if isinstance(self.condition, str) else self.condition
        constraint = sa.CheckConstraint(condition, name=self.constraint_name, **self.kw)
        table.append_constraint(constraint)
        return constraint

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(self.constraint_name, self.table_name, "check", self.schema)

    def describe(self) -> str:
        return f"create_check_constraint({self.constraint_name!r}, {self.table_name!r})"


@dataclass(frozen=True, eq=False)
class CreateExcludeConstraintOp(MigrateOp):
    """Add a PostgreSQL ``EXCLUDE`` constraint (Alembic's ``create_exclude_constraint``).

    ``elements`` are ``(column or expression, operator)`` pairs, as for
    ``postgresql.ExcludeConstraint``; ``where`` is SQL text or an expression;
    ``kw`` holds ``using``, ``deferrable`` and ``initially``.
    """

    constraint_name: str | None
    table_name: str
    elements: tuple[tuple[Any, str], ...]
    where: str | TextClause | ColumnElement[bool] | None = None
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_constraint(self) -> sa.Constraint:
        """The constraint, on a stand-in table that has the columns it names."""
        from sqlalchemy.dialects.postgresql import ExcludeConstraint

        where = sa.text(self.where) if isinstance(self.where, str) else self.where
        constraint = ExcludeConstraint(
            *self.elements, name=self.constraint_name, where=where, **self.kw
        )
        columns = [name for _, name, _ in constraint._render_exprs if isinstance(name, str)]
        table = _stand_in(self.table_name, self.schema, tuple(columns))
        table.append_constraint(constraint)
        return constraint

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(self.constraint_name, self.table_name, None, self.schema)

    def describe(self) -> str:
        return f"create_exclude_constraint({self.constraint_name!r}, {self.table_name!r})"


@dataclass(frozen=True, eq=False)
class DropConstraintOp(MigrateOp):
    """Drop a constraint by name; ``type_`` is required where the dialect needs it (MySQL)."""

    constraint_name: str | None
    table_name: str
    type_: ConstraintType | None = None
    schema: str | None = None
    if_exists: bool = False

    def to_constraint(self) -> sa.Constraint:
        """A constraint of the right kind and name, on a stand-in table (for DROP)."""
        table = _stand_in(self.table_name, self.schema, ())
        name = self.constraint_name
        constraint: sa.Constraint
        if self.type_ == "foreignkey":
            constraint = sa.ForeignKeyConstraint([], [], name=name)
        elif self.type_ == "primary":
            constraint = sa.PrimaryKeyConstraint(name=name)
        elif self.type_ == "unique":
            constraint = sa.UniqueConstraint(name=name)
        elif self.type_ == "check":
            constraint = sa.CheckConstraint(sa.text(""), name=name)
        else:
            constraint = sa.Constraint(name=name)
        table.append_constraint(constraint)
        return constraint

    def describe(self) -> str:
        return f"drop_constraint({self.constraint_name!r}, {self.table_name!r})"
