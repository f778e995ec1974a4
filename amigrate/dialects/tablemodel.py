"""A table as a batch sees it: columns, and constraints kept by column *name*.

:class:`TableModel` reads a ``Table`` (reflected, or a batch's ``copy_from``) into
plain plans — each column with where its values come from, each constraint
with the names of its columns — so that a batch can rename and drop columns
and have the constraints follow (:mod:`amigrate.dialects.rebuild`). Unnamed
constraints get names from the batch's naming convention, computed with the
table's real name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.base import SchemaEventTarget
from sqlalchemy.sql.elements import conv
from sqlalchemy.types import TypeEngine

from amigrate.errors import ScriptError
from amigrate.operations.ops import CreateIndexOp

__all__ = [
    "CANNOT_KEEP",
    "ColumnPlan",
    "ConstraintPlan",
    "TableModel",
    "copy_type",
    "plain_name",
]

#: The ``Constraint.info`` key under which reading a table notes why a recreated
#: table could not keep that constraint as it is.
CANNOT_KEEP = "amigrate_cannot_keep"


def plain_name(name: Any) -> str | None:
    # SQLAlchemy marks "no name yet" with a sentinel that is not a str.
    return name if isinstance(name, str) else None


def copy_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    # A type that emits events (Enum, Boolean) must not be shared by two tables.
    return type_.copy() if isinstance(type_, SchemaEventTarget) else type_


def _on_conflict(constraint: sa.Constraint, column_key: str) -> dict[str, Any]:
    """SQLite's ``ON CONFLICT`` of a key, as the constraint's keyword (written on the
    constraint, or for a one-column key on its column)."""
    resolution = constraint.dialect_kwargs.get("sqlite_on_conflict")
    columns = list(getattr(constraint, "columns", ()))
    if resolution is None and len(columns) == 1:
        resolution = columns[0].dialect_kwargs.get(column_key)
    return {} if resolution is None else {"sqlite_on_conflict": resolution}


def _copy_default(default: Any) -> Any:
    if isinstance(default, sa.DefaultClause):
        return sa.DefaultClause(default.arg, for_update=default.for_update)
    if isinstance(default, sa.Computed | sa.Identity):
        return default._copy()
    return default


@dataclass
class ColumnPlan:
    """A column of the new table; ``source`` is its name in the old one (None if new)."""

    name: str
    type_: TypeEngine[Any]
    nullable: bool
    server_default: Any
    comment: str | None
    autoincrement: Any
    source: str | None
    old_type: TypeEngine[Any] | None = None
    on_conflict_not_null: str | None = None  # SQLite's NOT NULL ON CONFLICT <resolution>

    @classmethod
    def of(cls, column: sa.Column[Any], *, source: str | None) -> ColumnPlan:
        return cls(
            column.name,
            copy_type(column.type),
            bool(column.nullable),
            _copy_default(column.server_default),
            column.comment,
            column.autoincrement,
            source,
            column.type if source is not None else None,
            column.dialect_kwargs.get("sqlite_on_conflict_not_null"),
        )

    def build(self) -> sa.Column[Any]:
        kw: dict[str, Any] = {}
        if self.on_conflict_not_null is not None:
            kw["sqlite_on_conflict_not_null"] = self.on_conflict_not_null
        return sa.Column(
            self.name,
            self.type_,
            nullable=self.nullable,
            server_default=self.server_default,
            comment=self.comment,
            autoincrement=self.autoincrement,
            **kw,
        )

    def copy_expression(self, old: sa.Table) -> sa.ColumnElement[Any]:
        assert self.source is not None
        expr: sa.ColumnElement[Any] = old.c[self.source]
        old_type, new_type = self.old_type, self.type_
        if (
            old_type is not None
            and old_type._type_affinity is not new_type._type_affinity
            and not isinstance(new_type, sa.JSON)
        ):
            expr = sa.cast(expr, new_type)
        return expr


@dataclass
class ConstraintPlan:
    """A constraint by column names: primary, unique, check or foreignkey."""

    kind: str
    name: str | None
    columns: list[str]
    sqltext: str | None = None
    referent: tuple[str | None, str, list[str]] | None = None  # schema, table, columns
    options: dict[str, Any] = field(default_factory=dict)
    # Why the new table could not keep it as it is (a recreated table refuses then).
    problem: str | None = None


class TableModel:
    """The definition of one table, by names (see the module docstring)."""

    def __init__(
        self,
        table_name: str,
        schema: str | None,
        dialect: Dialect,
        naming_convention: dict[str, str] | None = None,
    ) -> None:
        self.table_name = table_name
        self.schema = schema
        self.dialect = dialect
        self.naming_convention = naming_convention
        self.columns: dict[str, ColumnPlan] = {}
        self.primary_key: ConstraintPlan | None = None
        self.constraints: list[ConstraintPlan] = []
        self.indexes: dict[str, str] = {}  # name -> CREATE INDEX SQL
        self.new_indexes: list[CreateIndexOp] = []
        self.triggers: list[str] = []
        self.comment: str | None = None
        self.kwargs: dict[str, Any] = {}

    # -- the table as it is --------------------------------------------------------------

    @classmethod
    def from_table(
        cls,
        table: sa.Table,
        dialect: Dialect,
        *,
        naming_convention: dict[str, str] | None = None,
        stored_indexes: dict[str, str] | None = None,
        triggers: list[str] | None = None,
    ) -> Self:
        """Start from *table*; *stored_indexes* is the index SQL the database kept, if read."""
        rebuild = cls(table.name, table.schema, dialect, naming_convention)
        for column in table.columns:
            rebuild.columns[column.name] = ColumnPlan.of(column, source=column.name)
        rebuild._harvest(table)
        if stored_indexes is not None:
            rebuild.indexes = dict(stored_indexes)
        else:
            for index in table.indexes:
                if plain_name(index.name) is not None:
                    sql = str(CreateIndex(index).compile(dialect=dialect))
                    rebuild.indexes[str(index.name)] = sql.strip()
        rebuild.triggers = list(triggers or [])
        rebuild.comment = table.comment
        rebuild.kwargs = {k: v for k, v in table.kwargs.items() if k != "autoload_with"}
        return rebuild

    def _harvest(self, table: sa.Table) -> None:
        """The constraints of *table* (and its columns) into the model."""
        pk = table.primary_key
        if pk is not None and len(pk.columns):
            cols = [c.name for c in pk.columns]
            self.primary_key = ConstraintPlan(
                "primary",
                self._named("primary", plain_name(pk.name), cols),
                cols,
                options=_on_conflict(pk, "sqlite_on_conflict_primary_key"),
                problem=pk.info.get(CANNOT_KEEP),
            )
        found: list[sa.Constraint] = [
            c for c in table.constraints if not isinstance(c, sa.PrimaryKeyConstraint)
        ]
        for column in table.columns:
            found += [c for c in column.constraints if c not in found]
        for constraint in sorted(found, key=lambda c: (type(c).__name__, str(c.name))):
            if getattr(constraint, "_type_bound", False):
                continue  # the column's type (Boolean, Enum) makes it again
            self.constraints.append(self._model(constraint))

    def _model(self, constraint: sa.Constraint) -> ConstraintPlan:
        name = plain_name(constraint.name)
        if isinstance(constraint, sa.ForeignKeyConstraint):
            cols = [e.parent.name for e in constraint.elements]
            parts = constraint.elements[0].target_fullname.split(".")
            referent = (
                ".".join(parts[:-2]) or None,
                parts[-2],
                [e.target_fullname.split(".")[-1] for e in constraint.elements],
            )
            options = {
                k: getattr(constraint, k)
                for k in ("ondelete", "onupdate", "deferrable", "initially", "match")
                if getattr(constraint, k) is not None
            }
            model = ConstraintPlan("foreignkey", name, cols, referent=referent, options=options)
        elif isinstance(constraint, sa.CheckConstraint):
            model = ConstraintPlan("check", name, [], sqltext=self._sql(constraint.sqltext))
        elif isinstance(constraint, sa.UniqueConstraint):
            options = {
                k: getattr(constraint, k)
                for k in ("deferrable", "initially")
                if getattr(constraint, k) is not None
            }
            options.update(_on_conflict(constraint, "sqlite_on_conflict_unique"))
            model = ConstraintPlan(
                "unique", name, [c.name for c in constraint.columns], options=options
            )
        else:
            raise ScriptError(
                f"batch_alter_table({self.table_name!r}): cannot carry over a "
                f"{type(constraint).__name__}",
                hint="drop it before the batch and create it again after",
            )
        model.name = self._named(model.kind, model.name, model.columns, model)
        model.problem = constraint.info.get(CANNOT_KEEP)
        return model

    def _sql(self, clause: Any) -> str:
        if isinstance(clause, sa.TextClause):
            return clause.text
        compiled = clause.compile(
            dialect=self.dialect, compile_kwargs={"include_table": False, "literal_binds": True}
        )
        return str(compiled)

    def _named(
        self, kind: str, name: str | None, columns: list[str], model: ConstraintPlan | None = None
    ) -> str | None:
        """*name*, or the name the batch's naming convention gives an unnamed constraint."""
        if name is not None or not self.naming_convention:
            return name
        metadata = sa.MetaData(naming_convention=dict(self.naming_convention))
        table = sa.Table(
            self.table_name,
            metadata,
            *(sa.Column(c, sa.types.NullType()) for c in dict.fromkeys(columns)),
            schema=self.schema,
        )
        constraint: sa.Constraint
        if kind == "primary":
            constraint = sa.PrimaryKeyConstraint(*columns)
        elif kind == "unique":
            constraint = sa.UniqueConstraint(*columns)
        elif kind == "check":
            constraint = sa.CheckConstraint(
                sa.text(model.sqltext if model and model.sqltext else "1")
            )
        else:
            assert model is not None
            assert model.referent is not None
            ref_schema, ref_table, ref_cols = model.referent
            if (ref_schema, ref_table) != (self.schema, self.table_name):
                sa.Table(
                    ref_table,
                    metadata,
                    *(sa.Column(c, sa.types.NullType()) for c in dict.fromkeys(ref_cols)),
                    schema=ref_schema,
                )
            prefix = f"{ref_schema}." if ref_schema else ""
            constraint = sa.ForeignKeyConstraint(
                columns, [f"{prefix}{ref_table}.{c}" for c in ref_cols]
            )
        try:
            table.append_constraint(constraint)
        except sa.exc.InvalidRequestError:  # the convention needs an explicit name
            return None
        return plain_name(constraint.name)

    def build_constraint(self, model: ConstraintPlan, metadata: sa.MetaData) -> sa.Constraint:
        """The SQLAlchemy constraint of a plan, in *metadata* (named as planned, finally)."""
        name = conv(model.name) if model.name else None
        if model.kind == "primary":
            return sa.PrimaryKeyConstraint(*model.columns, name=name, **model.options)
        if model.kind == "unique":
            return sa.UniqueConstraint(*model.columns, name=name, **model.options)
        if model.kind == "check":
            assert model.sqltext is not None
            return sa.CheckConstraint(sa.text(model.sqltext), name=name)
        assert model.referent is not None
        schema, table_name, ref_cols = model.referent
        key = f"{schema}.{table_name}" if schema else table_name
        # A self-referential key names the final table, which exists again after the rename.
        referent = metadata.tables.get(key)
        if referent is None:
            referent = sa.Table(table_name, metadata, schema=schema)
        for c in ref_cols:
            if c not in referent.c:
                referent.append_column(sa.Column(c, sa.types.NullType()))
        prefix = f"{schema}." if schema else ""
        return sa.ForeignKeyConstraint(
            model.columns,
            [f"{prefix}{table_name}.{c}" for c in ref_cols],
            name=name,
            **model.options,
        )
