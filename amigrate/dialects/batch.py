"""Applying a batch (``BatchAlterTableOp``): in place, or by recreating the table.

With ``recreate="auto"`` a batch recreates the table on SQLite when one of its
changes needs it (anything but adding a simple column, indexes, renaming a
column, and comments, which SQLite does not keep); elsewhere the changes are
plain ALTERs. ``"always"`` recreates (SQLite only: on PostgreSQL and MySQL a
recreated table would lose the foreign keys other tables have to it), and
``"never"`` never does.

Recreating happens inside the revision's transaction. On SQLite with
``PRAGMA foreign_keys=ON`` that is refused for a table any foreign key points
at: dropping it would delete or orphan the rows that refer to it, and the
pragma cannot be turned off inside a transaction.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import NoSuchTableError, SAWarning

from amigrate.dialects.common import unsupported
from amigrate.dialects.generic import placement_problem
from amigrate.dialects.rebuild import TableRebuild
from amigrate.dialects.registry import Executor, apply_op, compile_op, register_applier
from amigrate.dialects.sqlite import (
    SQLiteTable,
    add_column_problem,
    broken_dependents,
    check_dependents,
    probe_dependents,
    reflect_table,
)
from amigrate.errors import ScriptError, UnsupportedOperation
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableCommentOp,
    ExecuteOp,
    MigrateOp,
)

__all__ = ["check_names", "check_placement", "needs_recreate", "rebuild_for"]

_COMMENTS = (CreateTableCommentOp, DropTableCommentOp)


def _in_place_on_sqlite(op: MigrateOp, dialect: Dialect) -> bool:
    if isinstance(
        op,
        CreateIndexOp | DropIndexOp | CreateTableCommentOp | DropTableCommentOp | ExecuteOp,
    ):
        return True
    if isinstance(op, AddColumnOp):
        return (
            op.insert_before is None
            and op.insert_after is None
            and add_column_problem(op.column, dialect) is None
        )
    if isinstance(op, AlterColumnOp):
        return op.changes == ("name",) and op.insert_before is None and op.insert_after is None
    return False


def needs_recreate(op: BatchAlterTableOp, dialect: Dialect) -> bool:
    """Whether this batch recreates its table on *dialect*."""
    if op.recreate == "never":
        return False
    if dialect.name != "sqlite":
        if op.recreate == "always":
            raise unsupported(
                op,
                dialect,
                "recreate='always' is for SQLite; a recreated table would lose the foreign "
                "keys other tables have to it",
                "use recreate='auto': the batch's changes are plain ALTERs here",
            )
        return False
    if op.recreate == "always":
        return True
    return not all(_in_place_on_sqlite(sub, dialect) for sub in op.operations)


def rebuild_for(op: BatchAlterTableOp, dialect: Dialect, source: Any) -> TableRebuild:
    """The new definition: *source* (a ``Table``, or what SQLite reflection read) plus the ops."""
    convention = dict(op.naming_convention) if op.naming_convention else None
    if hasattr(source, "triggers"):  # a reflected SQLiteTable
        rebuild = TableRebuild.from_table(
            source.table,
            dialect,
            naming_convention=convention,
            stored_indexes=source.indexes,
            triggers=source.triggers,
        )
    else:
        rebuild = TableRebuild.from_table(source, dialect, naming_convention=convention)
    for sub in op.operations:
        rebuild.apply(sub)
    rebuild.reorder(op.partial_reordering)
    return rebuild


def _names(conn: sa.Connection, op: BatchAlterTableOp) -> dict[str, set[str]]:
    """The table's column, index and constraint names, as the database has them."""
    with warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (and says so); they are read below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        return _read_names(conn, op)


def _read_names(conn: sa.Connection, op: BatchAlterTableOp) -> dict[str, set[str]]:
    inspector = sa.inspect(conn)
    table, schema = op.table_name, op.schema
    try:
        columns = {c["name"] for c in inspector.get_columns(table, schema=schema)}
    except NoSuchTableError:
        raise ScriptError(
            f"{op.describe()}: there is no table {table!r}",
            hint="check the table name (and schema=)",
        ) from None
    if conn.dialect.name == "sqlite":  # reflection skips expression indexes; this does not
        quote = conn.dialect.identifier_preparer.quote
        master = f"{quote(schema)}.sqlite_master" if schema else "sqlite_master"
        rows = conn.exec_driver_sql(
            f"SELECT name FROM {master} WHERE type = 'index' AND tbl_name = ?", (table,)
        )
        indexes = {r[0] for r in rows}
    else:
        indexes = {str(i["name"]) for i in inspector.get_indexes(table, schema=schema)}
    constraints = {
        str(c["name"])
        for kind in ("get_unique_constraints", "get_check_constraints", "get_foreign_keys")
        for c in getattr(inspector, kind)(table, schema=schema)
        if c.get("name")
    }
    pk = inspector.get_pk_constraint(table, schema=schema).get("name")
    if pk:
        constraints.add(pk)
    if conn.dialect.name != "postgresql":
        constraints |= indexes  # a unique constraint is dropped as an index there
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def check_names(op: BatchAlterTableOp, names: dict[str, set[str]]) -> None:
    """Fail, naming the op, if a batch op names a column, index or constraint that is not there.

    Checked before anything runs, so that a batch applied as ALTERs (which MySQL
    commits one by one) does not stop halfway over a typo.
    """
    columns, indexes = set(names["columns"]), set(names["indexes"])
    constraints = set(names["constraints"])

    def missing(sub: MigrateOp, what: str, name: str, known: set[str]) -> ScriptError:
        return ScriptError(
            f"{op.describe()}: {sub.describe()}: {op.table_name!r} has no {what} {name!r}",
            hint=f"its {what}s are: {', '.join(sorted(known)) or '(none)'}",
        )

    for sub in op.operations:
        if isinstance(sub, AddColumnOp | AlterColumnOp):
            for place in (sub.insert_before, sub.insert_after):
                if place is not None and place not in columns:
                    raise missing(sub, "column", place, columns)
        if isinstance(sub, AddColumnOp):
            columns.add(sub.column.name)
        elif isinstance(sub, DropColumnOp):
            if sub.column_name not in columns and not sub.if_exists:
                raise missing(sub, "column", sub.column_name, columns)
            columns.discard(sub.column_name)
        elif isinstance(sub, AlterColumnOp):
            if sub.column_name not in columns:
                raise missing(sub, "column", sub.column_name, columns)
            if sub.new_column_name:
                columns.discard(sub.column_name)
                columns.add(sub.new_column_name)
        elif isinstance(sub, CreateIndexOp) and sub.index_name:
            indexes.add(str(sub.index_name))
        elif isinstance(sub, DropIndexOp):
            if sub.index_name not in indexes and not sub.if_exists:
                raise missing(sub, "index", str(sub.index_name), indexes)
            indexes.discard(str(sub.index_name))
        elif isinstance(
            sub,
            CreateUniqueConstraintOp
            | CreateCheckConstraintOp
            | CreateForeignKeyOp
            | CreatePrimaryKeyOp,
        ):
            if sub.constraint_name:
                constraints.add(str(sub.constraint_name))
        elif isinstance(sub, DropConstraintOp):
            if sub.constraint_name not in constraints and not sub.if_exists:
                raise missing(sub, "constraint", str(sub.constraint_name), constraints)
            constraints.discard(str(sub.constraint_name))


def check_placement(op: BatchAlterTableOp, dialect: Dialect) -> None:
    """Refuse, before anything runs, an ``insert_before``/``insert_after`` this batch's
    ALTERs cannot honour (see :func:`~amigrate.dialects.generic.placement_problem`)."""
    for sub in op.operations:
        if isinstance(sub, AddColumnOp | AlterColumnOp):
            problem = placement_problem(sub, dialect)
            if problem is not None:
                why, hint = problem
                raise UnsupportedOperation(
                    f"{op.describe()}: {sub.describe()}: insert_before/insert_after: {why}",
                    hint=hint,
                )


@register_applier(BatchAlterTableOp)
async def _apply_batch(op: BatchAlterTableOp, executor: Executor) -> None:
    dialect = executor.dialect
    if not needs_recreate(op, dialect):
        if not executor.as_sql:
            check_names(op, await executor.run_sync(_names, op))
        check_placement(op, dialect)
        for sub in op.operations:
            if isinstance(sub, CreateExcludeConstraintOp):
                compile_op(sub, dialect)  # refused off PostgreSQL, before anything runs
        for sub in op.operations:
            if dialect.name == "sqlite" and isinstance(sub, _COMMENTS):
                continue  # SQLite keeps no comments; a batch written for every dialect goes on
            await apply_op(sub, executor)
        return
    if any(isinstance(sub, ExecuteOp) for sub in op.operations):
        await _apply_in_segments(op, executor)
        return
    for sub in op.operations:
        if isinstance(sub, CreateExcludeConstraintOp):
            compile_op(sub, dialect)  # refused off PostgreSQL, before anything runs
    legacy = False
    if op.copy_from is not None:
        source: Any = op.copy_from
    elif executor.as_sql:
        raise UnsupportedOperation(
            f"{op.describe()} recreates the table, which needs it reflected from a database",
            hint="for --sql, pass copy_from=sa.Table(...) describing the table as it is",
        )
    else:
        source = await executor.run_sync(
            reflect_table, op.table_name, op.schema, op.reflect_args, dict(op.reflect_kwargs)
        )
        if source.foreign_keys_on and source.referenced:
            raise unsupported(
                op,
                dialect,
                "PRAGMA foreign_keys is ON and foreign keys point at this table: dropping it "
                "to recreate it would delete or orphan their rows",
                "run migrations on a connection with foreign keys off (the pragma cannot "
                "change inside a transaction)",
            )
        legacy = source.legacy_alter_table
    rebuild = rebuild_for(op, dialect, source)
    before: dict[str, str] | None = None
    if isinstance(source, SQLiteTable):
        check_dependents(source, [(c.source, c.name) for c in rebuild.columns.values()])
        if source.dependents:
            before = await executor.run_sync(broken_dependents, source)
    statements = rebuild.statements(
        table_args=op.table_args, table_kwargs=dict(op.table_kwargs), legacy_alter_table=legacy
    )
    try:
        for statement in statements:
            await executor.execute(statement)
        if before is not None:
            await executor.run_sync(probe_dependents, source, before)
    except Exception:
        if dialect.name == "sqlite" and not executor.as_sql and not legacy:
            # The pragma is the connection's, not the transaction's: a rollback keeps it.
            # (Reset through run_sync, so the error still names the statement that failed.)
            await executor.run_sync(_legacy_alter_table_off)
        raise


async def _apply_in_segments(op: BatchAlterTableOp, executor: Executor) -> None:
    """A recreating batch with ``batch.execute(...)`` in it: the changes before each
    statement are applied (recreating the table) before it runs, the rest after."""
    segments: list[list[MigrateOp]] = [[]]
    for sub in op.operations:
        if isinstance(sub, ExecuteOp):
            segments += [[sub], []]
        else:
            segments[-1].append(sub)
    changes = [s for s in segments if s and not isinstance(s[0], ExecuteOp)]
    if op.copy_from is not None and len(changes) > 1:
        raise ScriptError(
            f"{op.describe()}: copy_from describes the table before the batch, and "
            "batch.execute() between its changes needs it recreated twice",
            hint="put the execute() calls first or last, or use two batches",
        )
    for segment in segments:
        if segment and isinstance(segment[0], ExecuteOp):
            await apply_op(segment[0], executor)
        elif segment:
            await _apply_batch(replace(op, operations=tuple(segment)), executor)


def _legacy_alter_table_off(conn: sa.Connection) -> None:
    conn.exec_driver_sql("PRAGMA legacy_alter_table = OFF")
