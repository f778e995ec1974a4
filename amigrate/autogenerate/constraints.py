"""Compare a table's indexes and unique constraints with the database's.

Indexes are matched by name (a model index always has one). Unique
constraints are matched by name when the model names them, else by their
columns — the database names an unnamed one itself (``account_email_key``,
``email``). Foreign keys are compared in ``foreign_keys.py``.

The dialects differ in what they report, and that is absorbed here: MySQL
lists each unique constraint as a unique index too, and creates an index for
each foreign key that has none (that index is not a difference); SQLite
keeps unique constraints without names.

A unique constraint that the models leave unnamed and that must be added to
an existing table is named ``uq_<table>_<columns>``, so that its downgrade
can drop it. Expression indexes are compared by name and uniqueness only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amigrate.autogenerate.diff import Change, Phase
from amigrate.autogenerate.foreign_keys import backs_foreign_key, fk_changes
from amigrate.autogenerate.objects import (
    constraint_name,
    index_elements,
    reflected_index_elements,
    sql_text,
    unique_options,
)
from amigrate.autogenerate.snapshot import IndexInfo, TableInfo, UniqueInfo
from amigrate.operations.ops import (
    CreateIndexOp,
    CreateUniqueConstraintOp,
    DropIndexOp,
)

if TYPE_CHECKING:
    from amigrate.autogenerate.compare import Comparison

__all__ = ["compare_constraints", "db_indexes", "index_op", "reflected_index_op"]

_MAX_NAME = 60


def _where(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _cols(columns: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(columns) + ")"


def _generated(prefix: str, table: str, *parts: str) -> str:
    return "_".join((prefix, table, *parts))[:_MAX_NAME]


# -- indexes ------------------------------------------------------------------------------


def index_op(cmp: Comparison, index: sa.Index, schema: str | None) -> CreateIndexOp:
    """The ``CreateIndexOp`` of a model index (dialect options that are SQL become ``text()``)."""
    kw: dict[str, Any] = {}
    for key, value in index.dialect_kwargs.items():
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, sa.sql.ClauseElement):
            value = sa.text(sql_text(value, cmp.dialect))
        kw[key] = value
    assert index.table is not None
    return CreateIndexOp(
        index.name if isinstance(index.name, str) else str(index.name),  # (a conv stays one)
        index.table.name,
        index_elements(index, cmp.dialect),
        schema=schema,
        unique=bool(index.unique),
        kw=kw,
    )


def reflected_index_op(cmp: Comparison, info: TableInfo, index: IndexInfo) -> CreateIndexOp:
    """The ``CreateIndexOp`` that puts a reflected index back."""
    prefixes = (f"{cmp.dialect.name}_", f"{cmp.snapshot.dialect}_")
    kw = {
        key: sa.text(value) if key.endswith("_where") and isinstance(value, str) else value
        for key, value in index.dialect_options.items()
        if key.startswith(prefixes)
    }
    return CreateIndexOp(
        index.name,
        info.name,
        reflected_index_elements(index),
        schema=info.schema,
        unique=index.unique,
        kw=kw,
    )


def db_indexes(cmp: Comparison, info: TableInfo, model_names: set[str]) -> dict[str, IndexInfo]:
    """The reflected indexes that are indexes in their own right, by name."""
    mysql = cmp.snapshot.dialect == "mysql"
    unique_names = {u.name for u in info.uniques if u.name}
    parents = {"table_name": info.name, "schema_name": info.schema}
    found: dict[str, IndexInfo] = {}
    for index in info.indexes:
        if mysql and index.name in unique_names:
            continue  # the same object as a unique constraint: compared as one
        if mysql and index.name not in model_names and backs_foreign_key(index, info.foreign_keys):
            continue
        if cmp.options.name_included(index.name, "index", parents):
            found[index.name] = index
    return found


def _model_indexes(cmp: Comparison, table: sa.Table, schema: str | None) -> dict[str, sa.Index]:
    parents = {"table_name": table.name, "schema_name": schema}
    return {
        str(index.name): index
        for index in sorted(table.indexes, key=lambda i: str(i.name))
        if index.name is not None and cmp.options.name_included(str(index.name), "index", parents)
    }


def _same_index(model: sa.Index, db: IndexInfo, cmp: Comparison) -> bool:
    if bool(model.unique) != db.unique:
        return False
    elements = index_elements(model, cmp.dialect)
    if db.is_expression or not all(isinstance(e, str) for e in elements):
        return True  # expressions are spelled differently by each database: name only
    return tuple(elements) == db.columns


def _index_changes(
    cmp: Comparison, table: sa.Table, info: TableInfo, consumed_uniques: set[str]
) -> None:
    schema, name = info.schema, info.name
    models = _model_indexes(cmp, table, schema)
    dbs = db_indexes(cmp, info, set(models))
    mysql_uniques = (
        {u.name: u for u in info.uniques if u.name} if cmp.snapshot.dialect == "mysql" else {}
    )
    reflected = cmp.reflected(info)
    for index_name, index in models.items():
        db = dbs.get(index_name)
        twin = mysql_uniques.get(index_name) if db is None and index.unique else None
        if twin is not None and twin.columns == tuple(index_elements(index, cmp.dialect)):
            consumed_uniques.add(index_name)  # MySQL: a unique index is a unique constraint
            continue
        if not cmp.options.object_included(index, index_name, "index", False, None):
            continue
        if db is not None and _same_index(index, db, cmp):
            continue
        if db is not None:
            _remove_index(cmp, info, db, reflected)
        create = index_op(cmp, index, schema)
        what = "unique index" if index.unique else "index"
        cmp.add(
            Change(
                "add_index",
                f"add {what} {index_name!r} on {_where(schema, name)} "
                f"{_cols([str(e) if isinstance(e, str) else e.text for e in create.columns])}",
                (create,),
                (DropIndexOp(index_name, name, schema=schema),),
                Phase.CREATE_INDEX,
                name,
                schema,
                index_name,
            )
        )
    for index_name, db in dbs.items():
        if index_name not in models:
            _remove_index(cmp, info, db, reflected)


def _remove_index(cmp: Comparison, info: TableInfo, db: IndexInfo, reflected: sa.Table) -> None:
    found = [i for i in reflected.indexes if i.name == db.name]
    if not cmp.options.object_included(found[0] if found else None, db.name, "index", True, None):
        return
    cmp.add(
        Change(
            "remove_index",
            f"remove index {db.name!r} on {_where(info.schema, info.name)}",
            (DropIndexOp(db.name, info.name, schema=info.schema),),
            (reflected_index_op(cmp, info, db),),
            Phase.DROP_INDEX,
            info.name,
            info.schema,
            db.name,
        )
    )


# -- unique constraints -------------------------------------------------------------------


def _unique_changes(cmp: Comparison, table: sa.Table, info: TableInfo, consumed: set[str]) -> None:
    schema, name = info.schema, info.name
    parents = {"table_name": name, "schema_name": schema}
    options = cmp.options
    remaining = [
        u
        for u in info.uniques
        if (u.name is None or u.name not in consumed)
        and (u.name is None or options.name_included(u.name, "unique_constraint", parents))
    ]
    models = sorted(
        (c for c in table.constraints if type(c) is sa.UniqueConstraint),
        key=lambda c: (constraint_name(c) or "", tuple(c.columns.keys())),
    )
    for model in models:
        uq_name = constraint_name(model)
        columns = tuple(model.columns.keys())
        if uq_name is not None and not options.name_included(uq_name, "unique_constraint", parents):
            continue
        match = next((u for u in remaining if uq_name and u.name == uq_name), None)
        if match is None:
            match = next(
                (u for u in remaining if u.columns == columns and (u.name is None or not uq_name)),
                None,
            )
        if match is not None:
            remaining.remove(match)
        if not options.object_included(model, uq_name, "unique_constraint", False, None):
            continue
        if match is not None and match.columns == columns:
            continue
        if match is not None:
            _remove_unique(cmp, table, info, match)
        final = uq_name or _generated("uq", name, *columns)
        create = CreateUniqueConstraintOp(
            final, name, columns, schema, unique_options(model, cmp.dialect)
        )
        cmp.add(
            Change(
                "add_unique",
                f"add unique constraint {final!r} on {_where(schema, name)} {_cols(columns)}",
                (create,),
                (create.reverse(),),
                Phase.CREATE_INDEX,
                name,
                schema,
                final,
            )
        )
    for unique in remaining:
        _remove_unique(cmp, table, info, unique)


def _remove_unique(cmp: Comparison, table: sa.Table, info: TableInfo, unique: UniqueInfo) -> None:
    where = _where(info.schema, info.name)
    found = [
        c
        for c in cmp.reflected(info).constraints
        if isinstance(c, sa.UniqueConstraint)
        and c.name == unique.name
        and tuple(c.columns.keys()) == unique.columns
    ]
    compare_to = found[0] if found else None
    if not cmp.options.object_included(compare_to, unique.name, "unique_constraint", True, None):
        return
    if unique.name is None:
        if dropped_columns(table, info) & set(unique.columns):
            return  # it goes with its column

        cmp.notes.append(
            f"the unique constraint on {where} {_cols(unique.columns)} is not in the models, "
            "but it has no name to drop it by; drop it by hand (SQLite: recreate the table "
            "in a batch)"
        )
        return
    create = CreateUniqueConstraintOp(unique.name, info.name, unique.columns, info.schema)
    cmp.add(
        Change(
            "remove_unique",
            f"remove unique constraint {unique.name!r} on {where} {_cols(unique.columns)}",
            (create.reverse(),),
            (create,),
            Phase.DROP_INDEX,
            info.name,
            info.schema,
            unique.name,
        )
    )


def dropped_columns(table: sa.Table, info: TableInfo) -> set[str]:
    """The columns the database has and the model table does not."""
    return {c.name for c in info.columns} - {c.name for c in table.columns}


def compare_constraints(cmp: Comparison, table: sa.Table, info: TableInfo) -> None:
    """Record the index, unique constraint and foreign key changes of one table."""
    consumed: set[str] = set()
    _index_changes(cmp, table, info, consumed)
    _unique_changes(cmp, table, info, consumed)
    fk_changes(cmp, table, info)
