"""SQLAlchemy objects for the ops autogenerate emits, built from either side.

Ops hold detached objects (a ``Column`` on no table, a loose constraint) that
say exactly what the rendered revision will say: a model column is copied
without its ``index=`` / ``unique=`` / foreign key (those are ops of their
own), and a reflected column becomes a ``Column`` with the type and default
the database reported, for the downgrade that puts it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import conv

from amigrate.autogenerate.snapshot import ColumnInfo, ForeignKeyInfo, IndexInfo, TableInfo
from amigrate.operations.indexes import IndexElement

__all__ = [
    "constraint_name",
    "fk_target",
    "index_elements",
    "model_column",
    "model_table_items",
    "reflected_column",
    "reflected_index_elements",
    "reflected_table",
    "sql_text",
    "unique_options",
]


def constraint_name(item: sa.Constraint | sa.Index) -> str | None:
    """The name of a constraint or index, naming conventions applied; None when unnamed.
    (A convention's result stays a ``conv``: the revision writes it ``op.f(...)``.)"""
    name = item.name
    return name if isinstance(name, str) else None


def sql_text(element: Any, dialect: Dialect) -> str:
    """An expression as SQL text for *dialect*, literals inlined, columns unqualified."""
    if isinstance(element, str):
        return element
    if isinstance(element, sa.TextClause):
        return element.text
    compiled = element.compile(
        dialect=dialect, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    return str(compiled)


def model_column(column: sa.Column[Any], checks_for: Dialect | None = None) -> sa.Column[Any]:
    """A detached copy of a model column: type, nullability, server default, comment;
    with *checks_for* a dialect, the column's own ``CheckConstraint`` too (as that
    dialect writes its SQL), for a column added to an existing table.

    ``primary_key``, foreign keys, ``index=`` and ``unique=`` are left out:
    autogenerate emits those as constraints and indexes of their own.
    """
    extra: list[Any] = []
    if checks_for is not None:
        extra += [
            sa.CheckConstraint(sa.text(sql_text(c.sqltext, checks_for)), name=constraint_name(c))
            for c in column.constraints
            if isinstance(c, sa.CheckConstraint)
        ]
    default = column.server_default
    server_default: Any = None
    if isinstance(default, sa.Computed | sa.Identity):
        extra.append(default._copy())
    elif isinstance(default, sa.DefaultClause):
        server_default = default.arg
    return sa.Column(
        column.name,
        column.type.copy(),  # a SchemaType (Enum) attaches to its column: leave the model's be
        *extra,
        nullable=column.nullable,
        server_default=server_default,
        comment=column.comment,
        autoincrement=column.autoincrement,
    )


def reflected_column(info: ColumnInfo, *, in_primary_key: bool = False) -> sa.Column[Any]:
    """A ``Column`` as the database reported it (the default as ``text()``).

    Autoincrement is kept only where it changes what SQLAlchemy would do: a
    primary key column the database does not number itself.
    """
    extra: list[Any] = []
    if info.computed:
        extra.append(
            sa.Computed(str(info.computed["sqltext"]), persisted=info.computed.get("persisted"))
        )
    elif info.identity:
        known = ("always", "start", "increment", "minvalue", "maxvalue", "cycle", "cache")
        extra.append(sa.Identity(**{k: info.identity[k] for k in known if k in info.identity}))
    default = None
    if info.default is not None and not info.computed and not info.identity:
        default = sa.text(info.default)
    autoincrement: Any = "auto"
    if in_primary_key and info.autoincrement is False:
        autoincrement = False
    return sa.Column(
        info.name,
        info.type,
        *extra,
        nullable=info.nullable,
        server_default=default,
        comment=info.comment,
        autoincrement=autoincrement,
    )


def fk_target(fk: sa.ForeignKeyConstraint) -> tuple[str | None, str]:
    """``(schema, table)`` a model foreign key refers to (schema None: no schema given).

    ``ForeignKey("owner.id")`` names the table whose key is ``owner``, in no
    schema, whatever the schema of the table holding the key.
    """
    spec = fk.elements[0].target_fullname
    parts = spec.split(".")
    if len(parts) >= 3:
        return (".".join(parts[:-2]), parts[-2])
    return (None, parts[0])


def _fk_from_model(fk: sa.ForeignKeyConstraint) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [c.name for c in fk.columns] or list(fk.column_keys),
        [e.target_fullname for e in fk.elements],
        name=constraint_name(fk),
        ondelete=fk.ondelete,
        onupdate=fk.onupdate,
        deferrable=fk.deferrable,
        initially=fk.initially,
        match=fk.match,
    )


def model_table_items(table: sa.Table, dialect: Dialect) -> tuple[sa.schema.SchemaItem, ...]:
    """Columns and constraints of a model table, detached, for ``CreateTableOp``.

    Indexes are left out (each is a ``CreateIndexOp``); so are the check
    constraints that ``Enum`` / ``Boolean`` types add themselves. A column's own
    ``CheckConstraint`` (``Column(..., CheckConstraint(...))``) becomes one of the
    table's: the same rule, and written so on every database (MariaDB refuses a
    named check on a column).
    """
    items: list[sa.schema.SchemaItem] = [model_column(c) for c in table.columns if not c.system]
    pk = table.primary_key
    if pk.columns:
        items.append(sa.PrimaryKeyConstraint(*pk.columns.keys(), name=constraint_name(pk)))
    column_checks = [c for column in table.columns for c in column.constraints]
    for constraint in _sorted_constraints([*table.constraints, *column_checks]):
        if isinstance(constraint, sa.ForeignKeyConstraint):
            items.append(_fk_from_model(constraint))
        elif isinstance(constraint, sa.UniqueConstraint):
            items.append(
                sa.UniqueConstraint(
                    *constraint.columns.keys(),
                    name=constraint_name(constraint),
                    **unique_options(constraint, dialect),
                )
            )
        elif isinstance(constraint, sa.CheckConstraint) and not getattr(
            constraint, "_type_bound", False
        ):
            items.append(
                sa.CheckConstraint(
                    sa.text(sql_text(constraint.sqltext, dialect)),
                    name=constraint_name(constraint),
                )
            )
    return tuple(items)


def unique_options(constraint: sa.UniqueConstraint, dialect: Dialect) -> dict[str, Any]:
    """A model unique constraint's ``deferrable``, ``initially`` and dialect options
    (``postgresql_nulls_not_distinct``), as keywords for the op that creates it. Only
    PostgreSQL defers a unique constraint: elsewhere (SQLite, MySQL refuse the words)
    the two are left out, as the database could not keep them."""
    options: dict[str, Any] = {}
    if dialect.name == "postgresql":
        pairs = (("deferrable", constraint.deferrable), ("initially", constraint.initially))
        options = {k: v for k, v in pairs if v is not None}
    return {**options, **constraint.dialect_kwargs}


def _sorted_constraints(constraints: Iterable[sa.Constraint]) -> list[sa.Constraint]:
    order = {sa.ForeignKeyConstraint: 0, sa.UniqueConstraint: 1, sa.CheckConstraint: 2}

    def key(c: sa.Constraint) -> tuple[int, str, str]:
        columns = ",".join(getattr(c, "columns", {}).keys()) if hasattr(c, "columns") else ""
        return (order.get(type(c), 3), constraint_name(c) or "", columns)

    return sorted((c for c in constraints if not isinstance(c, sa.PrimaryKeyConstraint)), key=key)


def index_elements(index: sa.Index, dialect: Dialect) -> tuple[IndexElement, ...]:
    """A model index's elements: column names, and ``text()`` for expressions."""
    elements: list[IndexElement] = []
    for expr in index.expressions:
        if isinstance(expr, sa.Column):
            elements.append(expr.name)
        else:
            elements.append(sa.text(sql_text(expr, dialect)))
    return tuple(elements)


def reflected_index_elements(info: IndexInfo) -> tuple[IndexElement, ...]:
    """A reflected index's elements (expressions as ``text()``)."""
    if info.expressions:
        return tuple(name if name in info.columns else sa.text(name) for name in info.expressions)
    return info.columns


def _fk_from_info(info: ForeignKeyInfo) -> sa.ForeignKeyConstraint:
    prefix = f"{info.referred_schema}." if info.referred_schema else ""
    return sa.ForeignKeyConstraint(
        list(info.columns),
        [f"{prefix}{info.referred_table}.{c}" for c in info.referred_columns],
        name=_final(info.name),
        ondelete=info.ondelete,
        onupdate=info.onupdate,
        deferrable=info.deferrable,
        initially=info.initially,
    )


def reflected_table(
    info: TableInfo, metadata: sa.MetaData | None = None, *, indexes: bool = False
) -> sa.Table:
    """A ``Table`` as the database has it: columns, keys, unique and check constraints,
    comment.

    With *indexes*, its indexes too (the table ``include_object`` is shown);
    without, they are left out: autogenerate handles each as an op of its own.
    """
    pk = set(info.primary_key.columns)
    items: list[sa.schema.SchemaItem] = [
        reflected_column(c, in_primary_key=c.name in pk) for c in info.columns
    ]
    if info.primary_key.columns:
        name = _final(info.primary_key.name)
        items.append(sa.PrimaryKeyConstraint(*info.primary_key.columns, name=name))
    items += [_fk_from_info(fk) for fk in info.foreign_keys]
    items += [sa.UniqueConstraint(*u.columns, name=_final(u.name)) for u in info.uniques]
    items += [sa.CheckConstraint(sa.text(c.sqltext), name=_final(c.name)) for c in info.checks]
    table = sa.Table(
        info.name,
        metadata if metadata is not None else sa.MetaData(),
        *items,
        schema=info.schema,
        comment=info.comment,
    )
    for index in info.indexes if indexes else ():
        elements = [
            table.c[e] if isinstance(e, str) else e for e in reflected_index_elements(index)
        ]
        sa.Index(_final(index.name), *elements, unique=index.unique, _table=table)
    return table


def _final(name: str | None) -> str | None:
    """A name the database has: final, never converted by a naming convention (a revision
    that recreates or drops the object must name it as it is)."""
    return conv(name) if name is not None else None
