"""Compare model tables with a :class:`Snapshot`: tables, columns and table comments.

:func:`compare_metadata` is pure — models and plain reflected data in, a
:class:`SchemaDiff` out — so it runs without a database. Indexes, unique
constraints and foreign keys are compared in ``constraints.py``.

What is compared: tables added and dropped; columns added and dropped; a
column's nullability, type (``compare_type``), server default
(``compare_server_default``, off by default) and comment; table comments.
Not compared: primary keys, check constraints, column order, autoincrement /
identity / computed settings, and anything that is not a table (views,
sequences, enum types on their own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from amigrate.autogenerate.constraints import (
    compare_constraints,
    db_indexes,
    index_op,
    reflected_index_op,
)
from amigrate.autogenerate.diff import Change, Phase, SchemaDiff
from amigrate.autogenerate.objects import (
    model_column,
    model_table_items,
    reflected_column,
    reflected_table,
)
from amigrate.autogenerate.options import AutogenerateOptions, CompareContext, MetadataSet
from amigrate.autogenerate.snapshot import ColumnInfo, Snapshot, TableInfo, TableKey
from amigrate.autogenerate.types import default_sql, defaults_differ, type_sql, types_differ
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    CreateTableOp,
    DropColumnOp,
    DropTableCommentOp,
    DropTableOp,
)

__all__ = ["Comparison", "compare_metadata", "qualified"]


def qualified(schema: str | None, name: str) -> str:
    """``schema.name`` or ``name``."""
    return f"{schema}.{name}" if schema else name


@dataclass
class Comparison:
    """The state of one comparison: its inputs, and the changes found so far."""

    snapshot: Snapshot
    dialect: Dialect
    options: AutogenerateOptions
    context: CompareContext
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _reflected: dict[TableKey, sa.Table] = field(default_factory=dict)
    _metadata: sa.MetaData = field(default_factory=sa.MetaData)

    def reflected(self, info: TableInfo) -> sa.Table:
        """The reflected table as a ``Table`` (built once), for filters and downgrades."""
        table = self._reflected.get(info.key)
        if table is None:
            table = self._reflected[info.key] = reflected_table(info, self._metadata, indexes=True)
        return table

    def add(self, change: Change) -> None:
        """Record a change."""
        self.changes.append(change)

    def type_text(self, type_: Any) -> str:
        """A type as the database writes it, for descriptions."""
        return type_sql(type_, self.dialect) or repr(type_)


def _key(table: sa.Table, default_schema: str | None) -> TableKey:
    return (None if table.schema == default_schema else table.schema, table.name)


def _model_tables(metadata: MetadataSet, cmp: Comparison) -> dict[TableKey, sa.Table]:
    options, snapshot = cmp.options, cmp.snapshot
    found: dict[TableKey, sa.Table] = {}
    for md in metadata:
        for table in md.sorted_tables:  # dependency order: referred tables first
            key = _key(table, snapshot.default_schema)
            schema, name = key
            if key in options.exclude_tables:
                continue
            if schema is not None and not (
                options.include_schemas and options.name_included(schema, "schema")
            ):
                continue
            if options.name_included(name, "table", {"schema_name": schema}):
                found.setdefault(key, table)
    return found


def _dependency_order(tables: Sequence[TableInfo]) -> list[TableInfo]:
    """Reflected tables, each after the tables its foreign keys refer to."""
    by_key = {t.key: t for t in tables}
    done: dict[TableKey, TableInfo] = {}

    def visit(info: TableInfo, path: tuple[TableKey, ...]) -> None:
        if info.key in done or info.key in path:
            return  # done, or a cycle: any order will do
        for fk in info.foreign_keys:
            target = (fk.referred_schema if fk.referred_schema else info.schema, fk.referred_table)
            if target in by_key and target != info.key:
                visit(by_key[target], (*path, info.key))
        done[info.key] = info

    for info in sorted(tables, key=lambda t: (t.schema or "", t.name)):
        visit(info, ())
    return list(done.values())


def compare_metadata(
    metadata: sa.MetaData | Iterable[sa.MetaData],
    snapshot: Snapshot,
    dialect: Dialect,
    options: AutogenerateOptions | None = None,
    context: CompareContext | None = None,
) -> SchemaDiff:
    """The differences between the models in *metadata* and the reflected *snapshot*."""
    models = (metadata,) if isinstance(metadata, sa.MetaData) else tuple(metadata)
    options = options or AutogenerateOptions()
    cmp = Comparison(snapshot, dialect, options, context or CompareContext(dialect))
    model_tables = _model_tables(models, cmp)
    db_tables = {k: t for k, t in snapshot.tables.items() if k not in options.exclude_tables}
    for key, table in model_tables.items():
        info = db_tables.get(key)
        compare_to = cmp.reflected(info) if info is not None else None
        if not options.object_included(table, key[1], "table", False, compare_to):
            continue
        if info is None:
            _add_table(cmp, key, table)
        else:
            _compare_table(cmp, key, table, info)
    dropped = [
        info
        for key, info in db_tables.items()
        if key not in model_tables
        and options.object_included(cmp.reflected(info), key[1], "table", True, None)
    ]
    for info in reversed(_dependency_order(dropped)):
        _drop_table(cmp, info)
    return SchemaDiff(
        tuple(cmp.changes),
        snapshot.dialect,
        tuple(cmp.notes),
        context.database if context else None,
        dialect,
    )


def _included_indexes(cmp: Comparison, table: sa.Table, schema: str | None) -> list[sa.Index]:
    parents = {"table_name": table.name, "schema_name": schema}
    return sorted(
        (
            index
            for index in table.indexes
            if index.name is not None
            and cmp.options.name_included(str(index.name), "index", parents)
            and cmp.options.object_included(index, str(index.name), "index", False, None)
        ),
        key=lambda i: str(i.name),
    )


def _add_table(cmp: Comparison, key: TableKey, table: sa.Table) -> None:
    schema, name = key
    kw: dict[str, Any] = dict(table.dialect_kwargs)
    if table.comment is not None:
        kw["comment"] = table.comment
    create = CreateTableOp(name, model_table_items(table, cmp.dialect), schema=schema, kw=kw)
    # A new table's indexes come with it (and go with it: no DROP INDEX before the
    # DROP TABLE, which MySQL refuses for an index a foreign key uses).
    included = _included_indexes(cmp, table, schema)
    indexes = [index_op(cmp, index, schema) for index in included]
    description = f"add table {qualified(schema, name)!r}"
    if included:
        names = ", ".join(repr(str(index.name)) for index in included)
        description += f" with index{'es' if len(included) > 1 else ''} {names}"
    cmp.add(
        Change(
            "add_table",
            description,
            (create, *indexes),
            (create.reverse(),),
            Phase.CREATE_TABLE,
            name,
            schema,
        )
    )


def _drop_table(cmp: Comparison, info: TableInfo) -> None:
    drop = DropTableOp(info.name, schema=info.schema, definition=reflected_table(info))
    indexes = [
        reflected_index_op(cmp, info, index)
        for index in db_indexes(cmp, info, model_names=set()).values()
    ]
    cmp.add(
        Change(
            "remove_table",
            f"remove table {qualified(info.schema, info.name)!r}",
            (drop,),
            (drop.reverse(), *indexes),
            Phase.DROP_TABLE,
            info.name,
            info.schema,
        )
    )


def _compare_table(cmp: Comparison, key: TableKey, table: sa.Table, info: TableInfo) -> None:
    schema, name = key
    parents = {"table_name": name, "schema_name": schema}
    options = cmp.options
    model_columns = {
        c.name: c
        for c in table.columns
        if not c.system and options.name_included(c.name, "column", parents)
    }
    db_columns = {
        c.name: c for c in info.columns if options.name_included(c.name, "column", parents)
    }
    reflected = cmp.reflected(info)
    where = qualified(schema, name)
    for column_name, column in model_columns.items():
        if column_name in db_columns:
            conn_column = reflected.c[column_name]
            if options.object_included(column, column_name, "column", False, conn_column):
                _compare_column(cmp, key, column, db_columns[column_name], info)
        elif options.object_included(column, column_name, "column", False, None):
            add = AddColumnOp(name, model_column(column, cmp.dialect), schema=schema)
            cmp.add(
                Change(
                    "add_column",
                    f"add column '{where}.{column_name}'",
                    (add,),
                    (add.reverse(),),
                    Phase.ADD_COLUMN,
                    name,
                    schema,
                    column_name,
                )
            )
    for column_name, db_column in db_columns.items():
        if column_name in model_columns:
            continue
        if not options.object_included(reflected.c[column_name], column_name, "column", True, None):
            continue
        cmp.add(
            Change(
                "remove_column",
                f"remove column '{where}.{column_name}'",
                (DropColumnOp(name, column_name, schema=schema),),
                (
                    AddColumnOp(
                        name,
                        reflected_column(
                            db_column, in_primary_key=column_name in info.primary_key.columns
                        ),
                        schema=schema,
                    ),
                ),
                Phase.DROP_COLUMN,
                name,
                schema,
                column_name,
            )
        )
    compare_constraints(cmp, table, info)
    _compare_table_comment(cmp, key, table, info)


def _user_says(hook: Any, *args: Any) -> bool | None:
    if not callable(hook):
        return None
    result = hook(*args)
    return None if result is None else bool(result)


def _compare_column(
    cmp: Comparison, key: TableKey, column: sa.Column[Any], db: ColumnInfo, info: TableInfo
) -> None:
    schema, name = key
    options, dialect = cmp.options, cmp.dialect
    conn_column = cmp.reflected(info).c[db.name]
    found: list[str] = []
    kw: dict[str, Any] = {}
    in_pk = column.primary_key or db.name in info.primary_key.columns
    if not in_pk and bool(column.nullable) != db.nullable:
        kw["nullable"] = bool(column.nullable)
        found.append("NULL -> NOT NULL" if db.nullable else "NOT NULL -> NULL")
    if options.compare_type is not False:
        differs = _user_says(
            options.compare_type, cmp.context, conn_column, column, db.type, column.type
        )
        if differs is None:
            differs = types_differ(db.type, column.type, dialect)
        if differs:
            kw["type_"] = column.type.copy()
            found.append(f"type {cmp.type_text(db.type)} -> {cmp.type_text(column.type)}")
    if options.compare_server_default is not False:
        _compare_default(cmp, column, db, conn_column, kw, found)
    if cmp.snapshot.supports_comments and (column.comment or None) != (db.comment or None):
        kw["comment"] = column.comment
        found.append(f"comment {db.comment!r} -> {column.comment!r}")
    if not found:
        return
    alter = AlterColumnOp(
        name,
        db.name,
        schema=schema,
        existing_type=db.type,
        existing_nullable=db.nullable,
        existing_server_default=sa.text(db.default) if db.default is not None else None,
        existing_comment=db.comment,
        **kw,
    )
    cmp.add(
        Change(
            "modify_column",
            f"modify column '{qualified(schema, name)}.{db.name}': {'; '.join(found)}",
            (alter,),
            (alter.reverse(),),
            Phase.ALTER_COLUMN,
            name,
            schema,
            db.name,
        )
    )


def _compare_default(
    cmp: Comparison,
    column: sa.Column[Any],
    db: ColumnInfo,
    conn_column: sa.Column[Any],
    kw: dict[str, Any],
    found: list[str],
) -> None:
    model_default = column.server_default
    if isinstance(model_default, sa.Identity | sa.Computed) or db.identity or db.computed:
        return  # generated values are not defaults to compare
    if model_default is not None and not isinstance(model_default, sa.DefaultClause):
        return  # FetchedValue: the database decides
    rendered = default_sql(model_default, cmp.dialect)
    differs = _user_says(
        cmp.options.compare_server_default,
        cmp.context,
        conn_column,
        column,
        db.default,
        model_default,
        rendered,
    )
    if differs is None:
        affinity = getattr(column.type, "_type_affinity", None)  # a TypeDecorator's impl's
        textual = isinstance(column.type, sa.String) or (  # (an Enum is one: its values)
            isinstance(affinity, type) and issubclass(affinity, sa.String)
        )
        differs = defaults_differ(db.default, rendered, textual=textual)
    if differs:
        kw["server_default"] = model_default.arg if model_default is not None else None
        found.append(f"server default {db.default} -> {rendered}")


def _compare_table_comment(
    cmp: Comparison, key: TableKey, table: sa.Table, info: TableInfo
) -> None:
    schema, name = key
    if not cmp.snapshot.supports_comments or (table.comment or None) == (info.comment or None):
        return
    op: CreateTableCommentOp | DropTableCommentOp
    if table.comment is None:
        op = DropTableCommentOp(name, schema, existing_comment=info.comment)
    else:
        op = CreateTableCommentOp(name, table.comment, schema, existing_comment=info.comment)
    cmp.add(
        Change(
            "modify_table_comment",
            f"modify comment of table {qualified(schema, name)!r}: "
            f"{info.comment!r} -> {table.comment!r}",
            (op,),
            (op.reverse(),),
            Phase.TABLE_COMMENT,
            name,
            schema,
        )
    )
