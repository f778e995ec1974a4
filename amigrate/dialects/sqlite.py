"""SQLite: what its ALTER TABLE cannot do, and what a batch needs to know about a table.

SQLite's ALTER TABLE adds, drops and renames columns and renames tables; every
other change (types, nullability, defaults, constraints) means recreating the
table, which ``batch_alter_table`` does. The plain ops that would need it raise
``UnsupportedOperation`` pointing there, before anything runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import NoSuchTableError, SAWarning

from amigrate.dialects import generic
from amigrate.dialects.common import BATCH_HINT, unsupported
from amigrate.dialects.ddl import CreateView, DropView, RenameColumn
from amigrate.dialects.registry import (
    CompiledOp,
    Executor,
    compile_op,
    register,
    register_applier,
    run_compiled,
)
from amigrate.dialects.sqltext import (
    ConstraintClauses,
    TableClauses,
    table_clauses,
)
from amigrate.dialects.tablemodel import CANNOT_KEEP
from amigrate.errors import ScriptError
from amigrate.operations.base import MigrateOp
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreatePrimaryKeyOp,
    CreateSchemaOp,
    CreateSequenceOp,
    CreateTableCommentOp,
    CreateUniqueConstraintOp,
    CreateViewOp,
    DropColumnOp,
    DropConstraintOp,
    DropSchemaOp,
    DropSequenceOp,
    DropTableCommentOp,
)

__all__ = ["SQLiteTable", "add_column_problem", "reflect_table"]

_CONSTANT_TIME = {"CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"}


def add_column_problem(column: sa.Column[Any], dialect: Dialect) -> str | None:
    """Why SQLite's ``ADD COLUMN`` cannot add *column* (None when it can).

    SQLite refuses a PRIMARY KEY or UNIQUE column, a non-constant default, a
    stored generated column, and NOT NULL without a default.
    """
    copy = column._copy()
    table = sa.Table("_", sa.MetaData(), copy)
    if copy.primary_key:
        return "it cannot add a PRIMARY KEY column"
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            return "it cannot add a UNIQUE column"
        if isinstance(constraint, sa.CheckConstraint):
            return "it cannot add a table CHECK constraint with a column"
    if isinstance(copy.server_default, sa.Computed) and copy.server_default.persisted:
        return "it cannot add a STORED generated column"
    default = dialect.ddl_compiler(dialect, cast(Any, None)).get_column_default_string(copy)
    if default is not None:
        text = default.strip()
        if text.startswith("(") or text.upper() in _CONSTANT_TIME:
            return "it cannot add a column whose default is an expression"
    elif not copy.nullable and not isinstance(copy.server_default, sa.Computed):
        return "it cannot add a NOT NULL column without a default"
    return None


@register(AddColumnOp, "sqlite")
def _add_column(op: AddColumnOp, dialect: Dialect) -> CompiledOp:
    problem = add_column_problem(op.column, dialect)
    if problem is not None:
        raise unsupported(op, dialect, problem, BATCH_HINT)
    _, statements = generic.add_column_statements(op, dialect)
    # Foreign keys are written inline by AddColumn: SQLite cannot add constraints later.
    return CompiledOp([s for s in statements if not isinstance(s, sa.schema.AddConstraint)])


@register_applier(DropColumnOp, "sqlite")
async def _apply_drop_column(op: DropColumnOp, executor: Executor) -> Any:
    """SQLite's DROP COLUMN refuses a column in an index, the primary key or a UNIQUE
    constraint, with an error that does not say what to do: refused first, pointing at a
    batch. (A column's own REFERENCES goes with it.)"""
    compiled = compile_op(op, executor.dialect)
    if not executor.as_sql:
        problem = await executor.run_sync(_drop_column_problem, op)
        if problem is not None:
            raise unsupported(op, executor.dialect, problem, BATCH_HINT)
    return await run_compiled(compiled, executor)


def _drop_column_problem(conn: sa.Connection, op: DropColumnOp) -> str | None:
    quote = conn.dialect.identifier_preparer.quote
    prefix = f"{quote(op.schema)}." if op.schema else ""
    table, column = quote(op.table_name), op.column_name.lower()
    for row in conn.exec_driver_sql(f"PRAGMA {prefix}table_info({table})"):
        if str(row[1]).lower() == column and row[5]:  # (cid, name, type, notnull, dflt, pk)
            return "its DROP COLUMN cannot drop a column of the primary key"
    for row in conn.exec_driver_sql(f"PRAGMA {prefix}index_list({table})"):
        name, origin = row[1], row[3]  # (seq, name, unique, origin 'c' / 'u' / 'pk', partial)
        used = conn.exec_driver_sql(f"PRAGMA {prefix}index_info({quote(name)})")
        if any(str(info[2]).lower() == column for info in used if info[2] is not None):
            what = {"u": "a UNIQUE constraint", "pk": "the primary key"}.get(origin)
            return f"its DROP COLUMN cannot drop a column in {what or f'the index {name!r}'}"
    return None


@register(AlterColumnOp, "sqlite")
def _alter_column(op: AlterColumnOp, dialect: Dialect) -> CompiledOp:
    generic.check_alter_column(op, dialect)
    changes = op.changes
    if changes == ("name",):
        assert op.new_column_name is not None
        table = generic.alter_column_table(op)
        return CompiledOp([RenameColumn(table, op.column_name, op.new_column_name)])
    if changes == ("comment",):
        raise unsupported(op, dialect, "SQLite keeps no comments", _COMMENT_HINT)
    raise unsupported(
        op,
        dialect,
        "its ALTER TABLE can only rename a column, not change its "
        + ", ".join(c for c in changes if c != "name"),
        BATCH_HINT,
    )


_COMMENT_HINT = "leave comments out on SQLite: 'if op.dialect.name != \"sqlite\": ...'"


def _refuse(why: str, hint: str) -> Any:
    def compile_(op: MigrateOp, dialect: Dialect) -> CompiledOp:
        raise unsupported(op, dialect, why, hint)

    return compile_


_op_class: type[MigrateOp]
for _op_class in (
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    CreateForeignKeyOp,
    CreateCheckConstraintOp,
    DropConstraintOp,
):
    register(_op_class, "sqlite")(
        _refuse("its ALTER TABLE cannot add or drop constraints", BATCH_HINT)
    )
for _op_class in (CreateTableCommentOp, DropTableCommentOp):
    register(_op_class, "sqlite")(_refuse("SQLite keeps no comments", _COMMENT_HINT))
for _op_class in (CreateSequenceOp, DropSequenceOp):
    register(_op_class, "sqlite")(
        _refuse("SQLite has no sequences", "use an INTEGER PRIMARY KEY column, which numbers rows")
    )
for _op_class in (CreateSchemaOp, DropSchemaOp):
    register(_op_class, "sqlite")(
        _refuse(
            "SQLite has no schemas (an attached database plays that part)",
            "ATTACH the database outside the migration, or skip this op on SQLite",
        )
    )


@register(CreateViewOp, "sqlite")
def _create_view(op: CreateViewOp, dialect: Dialect) -> CompiledOp:
    view = sa.Table(op.view_name, sa.MetaData(), schema=op.schema)
    create = CreateView(view, op.definition, or_replace=False)
    if not op.or_replace:
        return CompiledOp([create])
    # SQLite has no CREATE OR REPLACE VIEW; dropping first in the same transaction is the same.
    return CompiledOp([DropView(view, if_exists=True), create])


# -- what a batch needs to know (read with a sync connection, through run_sync) ------------


@dataclass
class SQLiteTable:
    """A table as SQLite has it: reflected, plus what reflection leaves out.

    ``indexes`` and ``triggers`` are the SQL SQLite stored for them (reflection
    skips expression indexes and loses DESC and partial-index clauses; the
    stored SQL has everything). ``referenced`` says whether any foreign key
    (another table's, or the table's own) points at it.
    """

    table: sa.Table
    indexes: dict[str, str] = field(default_factory=dict)
    triggers: list[str] = field(default_factory=list)
    foreign_keys_on: bool = False
    legacy_alter_table: bool = False
    referenced: bool = False
    #: Views and triggers (of any table): ``(kind, name, table, sql)``; and the foreign
    #: keys of other tables to this one: ``(table, referred columns)``. A batch that
    #: drops or renames a column they use would leave them broken (see check_dependents).
    dependents: list[tuple[str, str, str, str]] = field(default_factory=list)
    referring: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


def reflect_table(
    conn: sa.Connection,
    table_name: str,
    schema: str | None,
    reflect_args: tuple[Any, ...],
    reflect_kwargs: dict[str, Any],
) -> SQLiteTable:
    """Reflect *table_name* for a batch that recreates it (SQLite's names ignore case:
    ``Account`` is the table stored as ``account``, and is read by that name)."""
    quote = conn.dialect.identifier_preparer.quote
    master = f"{quote(schema)}.sqlite_master" if schema else "sqlite_master"
    stored = conn.exec_driver_sql(
        f"SELECT name FROM {master} WHERE type = 'table' AND lower(name) = lower(?)",
        (table_name,),
    ).scalar()
    table_name = stored if isinstance(stored, str) else table_name
    with warnings.catch_warnings():
        # Expression indexes are read from sqlite_master below instead.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        try:
            table = sa.Table(
                table_name,
                sa.MetaData(),
                *reflect_args,
                schema=schema,
                autoload_with=conn,
                **reflect_kwargs,
            )
        except NoSuchTableError:
            raise ScriptError(
                f"batch_alter_table({table_name!r}): there is no table {table_name!r}",
                hint="check the table name (and schema=)",
            ) from None
    _read_back_what_reflection_misses(conn, table, master)
    rows = conn.exec_driver_sql(
        f"SELECT type, name, sql FROM {master} "
        "WHERE lower(tbl_name) = lower(?) AND type IN ('index', 'trigger') AND sql IS NOT NULL "
        "ORDER BY type, name",
        (table_name,),
    ).all()
    info = SQLiteTable(
        table,
        indexes={name: sql for kind, name, sql in rows if kind == "index"},
        triggers=[sql for kind, _, sql in rows if kind == "trigger"],
        foreign_keys_on=bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar()),
        legacy_alter_table=bool(conn.exec_driver_sql("PRAGMA legacy_alter_table").scalar()),
    )
    info.dependents = [
        (str(kind), str(name), str(owner), str(sql))
        for kind, name, owner, sql in conn.exec_driver_sql(
            f"SELECT type, name, tbl_name, sql FROM {master} "
            "WHERE type IN ('view', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    tables = conn.exec_driver_sql(f"SELECT name FROM {master} WHERE type = 'table'").all()
    prefix = f"{quote(schema)}." if schema else ""
    key = tuple(c.name for c in table.primary_key.columns)
    for (other,) in tables:
        refs = conn.exec_driver_sql(f"PRAGMA {prefix}foreign_key_list({quote(other)})").all()
        # (id, seq, table, from, to, ...): "to" is None where the key names no columns.
        mine = [ref for ref in refs if str(ref[2]).lower() == table_name.lower()]
        info.referenced = info.referenced or bool(mine)
        if mine and str(other).lower() != table_name.lower():
            referred = tuple(str(ref[4]) for ref in mine if ref[4] is not None)
            info.referring.append((str(other), referred or key))
    return info


def check_dependents(source: SQLiteTable, columns: Iterable[tuple[str | None, str]]) -> None:
    """Refuse, before anything runs, a rebuild that drops or renames a column another
    table's foreign key refers to: the key would be left pointing at nothing (SQLite's
    RENAME COLUMN rewrites it; a rebuild cannot). *columns*: each new column's ``(name
    in the old table, name)``. Views and triggers are checked by :func:`probe_dependents`."""
    kept = {old.lower(): new for old, new in columns if old is not None}
    gone = {c.name.lower() for c in source.table.columns} - set(kept)
    renamed = {old for old, new in kept.items() if new.lower() != old}
    for other, referred in source.referring:
        used = sorted({c.lower() for c in referred} & (gone | renamed))
        if used:
            verb = "drops" if used[0] in gone else "renames"
            raise ScriptError(
                f"batch_alter_table({source.table.name!r}): a foreign key of table {other!r} "
                f"refers to column {used[0]!r}, which this batch {verb}; the recreated table "
                "would leave it pointing at nothing",
                hint=f"drop that foreign key first (a batch on {other!r})"
                + (
                    "; or rename the column in a batch of its own (SQLite's RENAME COLUMN "
                    "rewrites what uses it)"
                    if verb == "renames"
                    else ""
                ),
            )


def broken_dependents(conn: sa.Connection, source: SQLiteTable) -> dict[str, str]:
    """The views and triggers that mention the table and do not compile now: what each
    says. SQLite compiles a view, and a table's triggers, when a statement using them is
    prepared: ``EXPLAIN`` prepares one without running it. Run before and after a rebuild
    (:func:`probe_dependents`), in its transaction."""
    quote = conn.dialect.identifier_preparer.quote
    prefix = f"{quote(source.table.schema)}." if source.table.schema else ""
    table = source.table.name.lower()
    probes: dict[str, list[str]] = {}
    # The table's own triggers first: another table's trigger that writes to this table
    # fails with the error of this table's trigger, which names it better.
    ordered = sorted(source.dependents, key=lambda d: d[2].lower() != table)
    for kind, name, owner, sql in ordered:
        if kind == "view" and table in sql.lower():
            probes[f"view {name!r}"] = [f"EXPLAIN SELECT * FROM {prefix}{quote(name)}"]
        elif kind == "trigger" and (owner.lower() == table or table in sql.lower()):
            # Per statement: a view without an INSTEAD OF UPDATE trigger fails its UPDATE
            # probe before and after, and must not hide an INSERT trigger the batch broke.
            target = f"{prefix}{quote(owner)}"
            probes[f"the INSERT triggers of {owner!r}"] = [
                f"EXPLAIN INSERT INTO {target} DEFAULT VALUES"
            ]
            probes[f"the DELETE triggers of {owner!r}"] = [f"EXPLAIN DELETE FROM {target}"]
            try:  # (a view that does not compile has no columns to read)
                info = conn.exec_driver_sql(f"PRAGMA {prefix}table_info({quote(owner)})").all()
            except sa.exc.DBAPIError:
                info = []
            assignments = ", ".join(f"{quote(str(r[1]))} = {quote(str(r[1]))}" for r in info)
            if assignments:
                probes[f"the UPDATE triggers of {owner!r}"] = [
                    f"EXPLAIN UPDATE {target} SET {assignments}"
                ]
    broken: dict[str, str] = {}
    for what, statements in probes.items():
        for statement in statements:
            try:
                conn.exec_driver_sql(statement).all()
            except sa.exc.DBAPIError as exc:
                broken[what] = str(exc.orig).strip().splitlines()[0]
                break
    return broken


def probe_dependents(conn: sa.Connection, source: SQLiteTable, before: dict[str, str]) -> None:
    """Fail a rebuild (its transaction then rolls it back) after which a view or a trigger
    that compiled before no longer does: it dropped or renamed a column they use."""
    for what, error in broken_dependents(conn, source).items():
        if what not in before:
            raise ScriptError(
                f"batch_alter_table({source.table.name!r}): with the table recreated, {what} "
                f"would fail: {error}",
                hint="a column this batch drops or renames is used there: drop it before the "
                "batch and create it again after it, or rename the column in a batch of its "
                "own (SQLite's RENAME COLUMN rewrites what uses it)",
            )


def _read_back_what_reflection_misses(conn: sa.Connection, table: sa.Table, master: str) -> None:
    """Put into *table* what SQLAlchemy's SQLite reflection leaves out of it.

    Reflection misses AUTOINCREMENT, COLLATE, ``ON CONFLICT`` clauses, a column's
    inline UNIQUE after a type with parentheses (``code varchar(10) unique``) and
    the name of a unique constraint it cannot parse (``CONSTRAINT [uq] UNIQUE
    (a DESC, b)``); a recreated table without them would silently reuse deleted
    ids, accept duplicates, resolve conflicts differently and compare text
    differently; and it may misread a generated column's expression. They are read
    from the stored SQL and ``PRAGMA index_list``.
    Whatever cannot be carried over is refused before anything runs.
    """
    sql = conn.exec_driver_sql(
        f"SELECT sql FROM {master} WHERE type = 'table' AND name = ?", (table.name,)
    ).scalar()
    clauses = table_clauses(sql or "")
    columns = {c.name.lower(): c for c in table.columns}
    for clause in clauses.columns:
        column = columns.get(clause.name.lower())
        if column is None:
            continue
        if clause.autoincrement:
            table.dialect_options["sqlite"]["autoincrement"] = True
        computed = column.server_default
        if isinstance(computed, sa.Computed) and clause.generated is not None:
            # Reflection finds the expression by a pattern that can take another
            # column's (``total`` in ``subtotal``) or run past its parenthesis.
            column.server_default = sa.Computed(sa.text(clause.generated), computed.persisted)
        if "not_null" in clause.on_conflict and not column.nullable:
            column.dialect_kwargs["sqlite_on_conflict_not_null"] = clause.on_conflict["not_null"]
        if clause.collation is not None:
            if isinstance(column.type, sa.String):
                if column.type.collation is None:
                    collated = column.type.copy()  # reflect_args' types are the caller's
                    collated.collation = clause.collation
                    column.type = collated
            else:
                raise ScriptError(
                    f"batch_alter_table({table.name!r}): column {column.name!r} has "
                    f"COLLATE {clause.collation} on a type that is not text "
                    f"({column.type!r}), which the recreated table could not keep",
                    hint=f"pass reflect_args=[sa.Column({column.name!r}, "
                    f"sa.String(collation={clause.collation!r}))] to say what it is",
                )
        if clause.references:
            _read_back_reference(table, column, clause.references)
    _read_back_primary_key(table, clauses)
    _read_back_uniques(conn, table, master, clauses)


def _read_back_reference(table: sa.Table, column: sa.Column[Any], options: dict[str, Any]) -> None:
    """A column's inline ``[CONSTRAINT fk] REFERENCES ... ON DELETE CASCADE [DEFERRABLE
    ...]``: reflection finds the key but not its name nor its actions (a recreated table
    would stop cascading, and the key could no longer be dropped by its name)."""
    for fk in table.foreign_key_constraints:
        bare = not (fk.ondelete or fk.onupdate or fk.deferrable is not None or fk.initially)
        if bare and fk.name is None and [c.name for c in fk.columns] == [column.name]:
            for name, value in options.items():
                if name == "name":
                    fk.name = value
                    continue
                for target in (fk, *fk.elements):
                    setattr(target, name, value)
            return


_COLLATED = "has a COLLATE in its column list"


def _read_back_primary_key(table: sa.Table, clauses: TableClauses) -> None:
    resolutions = [
        c.on_conflict["primary_key"] for c in clauses.columns if "primary_key" in c.on_conflict
    ]
    keys = [c for c in clauses.constraints if c.kind == "primary"]
    resolutions += [c.on_conflict for c in keys if c.on_conflict]
    if not len(table.primary_key.columns):
        return
    if resolutions:
        table.primary_key.dialect_kwargs["sqlite_on_conflict"] = resolutions[0]
    if any(c.collated for c in keys):
        table.primary_key.info[CANNOT_KEEP] = _COLLATED


def _read_back_uniques(
    conn: sa.Connection, table: sa.Table, master: str, clauses: TableClauses
) -> None:
    """Unique constraints as SQLite has them (``PRAGMA index_list``, origin 'u'), named
    and with their ON CONFLICT as the stored SQL writes them."""
    written = [
        ConstraintClauses(
            "unique", c.unique_name, [c.name], on_conflict=c.on_conflict.get("unique")
        )
        for c in clauses.columns
        if c.unique
    ]
    written += [c for c in clauses.constraints if c.kind == "unique"]
    reflected = [
        u
        for u in table.constraints
        if isinstance(u, sa.UniqueConstraint) and not isinstance(u, sa.PrimaryKeyConstraint)
    ]
    prefix = master.removesuffix("sqlite_master")
    quote = conn.dialect.identifier_preparer.quote
    for _, index, _, origin, *_ in conn.exec_driver_sql(
        f"PRAGMA {prefix}index_list({quote(table.name)})"
    ).all():
        if origin != "u":
            continue
        names = tuple(
            r[2] for r in conn.exec_driver_sql(f"PRAGMA {prefix}index_info({quote(index)})").all()
        )
        if any(n is None or n not in table.c for n in names):
            raise ScriptError(
                f"batch_alter_table({table.name!r}): its unique constraint {index!r} is on "
                "an expression or a column reflection did not see, and could not be kept",
                hint="drop and recreate the table yourself for this change",
            )
        key = [n.lower() for n in names]
        source = next((w for w in written if [(n or "").lower() for n in w.columns] == key), None)
        if source is not None:
            written.remove(source)
        name = source.name if source else None
        unique = next((u for u in reflected if tuple(c.name for c in u.columns) == names), None)
        if unique is None:
            unique = sa.UniqueConstraint(*names, name=name)
            table.append_constraint(unique)
        else:
            reflected.remove(unique)
            if name is not None:
                unique.name = name
        if source is not None and source.on_conflict is not None:
            unique.dialect_kwargs["sqlite_on_conflict"] = source.on_conflict
        if source is not None and source.collated:
            unique.info[CANNOT_KEEP] = _COLLATED
