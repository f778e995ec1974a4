"""Compare a table's foreign keys with the database's.

Foreign keys are matched by what they connect (columns, referred table and
columns); then their names (where both sides have one) and ``ondelete`` /
``onupdate`` (and, on PostgreSQL, ``deferrable`` / ``initially``) must agree.
An unnamed model foreign key added to an existing table is named
``fk_<table>_<column>_<referred table>`` so that its downgrade can drop it.

MySQL creates an index for a foreign key that no index covers, and keeps it
when the key is dropped. That index is not a difference of its own; the ops
drop it with its key, and put it back before the key, so that an upgrade
and its downgrade leave the schema as they found it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from amigrate.autogenerate.diff import Change, Phase
from amigrate.autogenerate.objects import constraint_name, fk_target
from amigrate.autogenerate.snapshot import ForeignKeyInfo, IndexInfo, TableInfo
from amigrate.operations.ops import (
    CreateForeignKeyOp,
    CreateIndexOp,
    DropConstraintOp,
    DropIndexOp,
    MigrateOp,
)

if TYPE_CHECKING:
    from amigrate.autogenerate.compare import Comparison

__all__ = ["backs_foreign_key", "fk_changes"]

_MAX_NAME = 60
Signature = tuple[tuple[str, ...], str | None, str, tuple[str, ...]]


def _where(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _cols(columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(columns) + ")"


def backs_foreign_key(index: IndexInfo, fks: tuple[ForeignKeyInfo, ...]) -> bool:
    """MySQL's own index for a foreign key: named after the key or its first column."""
    if index.unique or index.is_expression:
        return False
    return any(
        index.columns[: len(fk.columns)] == fk.columns and index.name in (fk.name, fk.columns[0])
        for fk in fks
    )


def _action(value: str | None, dialect: str) -> str | None:
    if value is None:
        return None
    upper = value.upper()
    defaults = ("NO ACTION", "RESTRICT") if dialect == "mysql" else ("NO ACTION",)
    return None if upper in defaults else upper


def _model_fk(cmp: Comparison, fk: sa.ForeignKeyConstraint) -> ForeignKeyInfo:
    schema, table = fk_target(fk)
    if schema == cmp.snapshot.default_schema:
        schema = None
    return ForeignKeyInfo(
        name=constraint_name(fk),
        columns=tuple(c.name for c in fk.columns) or tuple(fk.column_keys),
        referred_schema=schema,
        referred_table=table,
        referred_columns=tuple(e.target_fullname.split(".")[-1] for e in fk.elements),
        ondelete=fk.ondelete,
        onupdate=fk.onupdate,
        deferrable=fk.deferrable,
        initially=fk.initially,
    )


def _signature(fk: ForeignKeyInfo) -> Signature:
    return (fk.columns, fk.referred_schema, fk.referred_table, fk.referred_columns)


def _same_options(a: ForeignKeyInfo, b: ForeignKeyInfo, dialect: str) -> bool:
    if _action(a.ondelete, dialect) != _action(b.ondelete, dialect):
        return False
    if _action(a.onupdate, dialect) != _action(b.onupdate, dialect):
        return False
    if dialect == "postgresql":
        if bool(a.deferrable) != bool(b.deferrable):
            return False
        if (a.initially or "IMMEDIATE").upper() != (b.initially or "IMMEDIATE").upper():
            return False
    return True


def _describe(fk: ForeignKeyInfo) -> str:
    target = _where(fk.referred_schema, fk.referred_table)
    return f"{_cols(fk.columns)} -> {target} {_cols(fk.referred_columns)}"


def _options(fk: ForeignKeyInfo) -> str:
    return f"ondelete={fk.ondelete!r}, onupdate={fk.onupdate!r}"


def _create(info: TableInfo, fk: ForeignKeyInfo, name: str | None) -> CreateForeignKeyOp:
    return CreateForeignKeyOp(
        name,
        info.name,
        fk.referred_table,
        fk.columns,
        fk.referred_columns,
        onupdate=fk.onupdate,
        ondelete=fk.ondelete,
        deferrable=fk.deferrable,
        initially=fk.initially,
        source_schema=info.schema,
        referent_schema=fk.referred_schema,
    )


def _covered(columns: tuple[str, ...], table: sa.Table) -> bool:
    """Whether a model index, unique constraint or the primary key starts with *columns*."""
    candidates = [tuple(c.name for c in table.primary_key.columns)]
    candidates += [
        tuple(getattr(e, "name", "") for e in index.expressions) for index in table.indexes
    ]
    candidates += [
        tuple(c.name for c in u.columns)
        for u in table.constraints
        if isinstance(u, sa.UniqueConstraint)
    ]
    return any(c[: len(columns)] == columns for c in candidates)


def fk_changes(cmp: Comparison, table: sa.Table, info: TableInfo) -> None:
    """Record the foreign key changes of one table."""
    schema, name = info.schema, info.name
    parents = {"table_name": name, "schema_name": schema}
    options, dialect = cmp.options, cmp.snapshot.dialect
    remaining = [
        f
        for f in info.foreign_keys
        if f.name is None or options.name_included(f.name, "foreign_key_constraint", parents)
    ]
    for model in sorted(table.foreign_key_constraints, key=lambda c: tuple(c.column_keys)):
        fk = _model_fk(cmp, model)
        if fk.name is not None and not options.name_included(
            fk.name, "foreign_key_constraint", parents
        ):
            continue
        match = next(
            (
                f
                for f in remaining
                if _signature(f) == _signature(fk)
                and (fk.name is None or f.name is None or f.name == fk.name)
            ),
            None,
        )
        if match is not None:
            remaining.remove(match)
        if not options.object_included(model, fk.name, "foreign_key_constraint", False, None):
            continue
        if match is not None and _same_options(match, fk, dialect):
            continue
        if match is not None and match.name is None:
            # Adding the model's key would leave two (the old one cannot be dropped
            # without a name) and a downgrade that fails: leave it, and say so.
            cmp.notes.append(
                f"the foreign key on {_where(schema, name)} {_describe(fk)} differs from the "
                f"database's ({_options(match)} there, {_options(fk)} in the model), which "
                "has no name to drop it by, so no "
                "change is written for it; change it by hand (SQLite: a batch_alter_table "
                "with a naming_convention names it, then drop_constraint and "
                "create_foreign_key in the batch)"
            )
            continue
        if match is not None:
            _remove(cmp, table, info, match)
        final = fk.name or (match.name if match is not None else None)
        final = final or f"fk_{name}_{fk.columns[0]}_{fk.referred_table}"[:_MAX_NAME]
        create = _create(info, fk, final)
        undo: tuple[MigrateOp, ...] = (create.reverse(),)
        if dialect == "mysql" and not _covered(fk.columns, table):
            # MySQL will create an index named after the key; drop it with the key.
            undo = (*undo, DropIndexOp(final, name, schema=schema))
        cmp.add(
            Change(
                "add_foreign_key",
                f"add foreign key {final!r} on {_where(schema, name)} {_describe(fk)}",
                (create,),
                undo,
                Phase.CREATE_FOREIGN_KEY,
                name,
                schema,
                final,
            )
        )
    for fk in remaining:
        _remove(cmp, table, info, fk)


def _remove(cmp: Comparison, table: sa.Table, info: TableInfo, fk: ForeignKeyInfo) -> None:
    where = _where(info.schema, info.name)
    found = [
        c
        for c in cmp.reflected(info).foreign_key_constraints
        if c.name == fk.name and tuple(c.column_keys) == fk.columns
    ]
    compare_to = found[0] if found else None
    if not cmp.options.object_included(compare_to, fk.name, "foreign_key_constraint", True, None):
        return
    if fk.name is None:
        if set(fk.columns) & ({c.name for c in info.columns} - set(table.columns.keys())):
            return  # it goes with its column (SQLite: in the batch that drops the column)
        cmp.notes.append(
            f"the foreign key on {where} {_describe(fk)} is not in the models, but it has "
            "no name to drop it by; drop it by hand (SQLite: recreate the table in a batch "
            "with a naming_convention)"
        )
        return
    drop: tuple[MigrateOp, ...] = (DropConstraintOp(fk.name, info.name, "foreignkey", info.schema),)
    restore: tuple[MigrateOp, ...] = (_create(info, fk, fk.name),)
    model_indexes = {str(i.name) for i in table.indexes}
    if cmp.snapshot.dialect == "mysql":
        for index in info.indexes:
            if index.name not in model_indexes and backs_foreign_key(index, (fk,)):
                # MySQL keeps the key's index when the key goes: drop it too, and put
                # it back (under its own name) before the key in the downgrade.
                drop = (*drop, DropIndexOp(index.name, info.name, schema=info.schema))
                restore = (
                    CreateIndexOp(index.name, info.name, index.columns, schema=info.schema),
                    *restore,
                )
    cmp.add(
        Change(
            "remove_foreign_key",
            f"remove foreign key {fk.name!r} on {where} {_describe(fk)}",
            drop,
            restore,
            Phase.DROP_FOREIGN_KEY,
            info.name,
            info.schema,
            fk.name,
        )
    )
