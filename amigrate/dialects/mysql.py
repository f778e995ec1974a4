"""MySQL and MariaDB: whole-column ALTERs, typed constraint drops, and what they lack.

MySQL changes a column's type, nullability or comment only by restating the
whole column (``MODIFY`` / ``CHANGE``), so whatever the statement leaves out is
lost. Alembic asks the revision for every ``existing_*`` value; amigrate reads
the ones not given from the database when it runs online, and offline needs at
least ``existing_type``. A rename alone is ``RENAME COLUMN`` and a default alone
is ``ALTER COLUMN ... SET DEFAULT``: neither restates the column.

``add_column`` takes ``insert_after`` (``ADD COLUMN ... AFTER c``) and, online,
``insert_before`` (``FIRST``, or ``AFTER`` the column before).

MySQL drops each kind of constraint with its own words, so ``drop_constraint``
needs ``type_``. MariaDB has sequences (since 10.3) and ``IF [NOT] EXISTS`` on
more statements; MySQL has neither. Schemas are databases there: not a
migration's business, so ``create_schema`` is refused.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.types import TypeEngine

from amigrate.dialects import generic
from amigrate.dialects.common import dialect_label, stand_in, unsupported
from amigrate.dialects.ddl import (
    AddColumn,
    AlterColumnDefault,
    ColumnDDL,
    RenameColumn,
    RenameTable,
    TableDDL,
    format_default,
)
from amigrate.dialects.registry import (
    CompiledOp,
    Executor,
    compile_op,
    register,
    register_applier,
    run_compiled,
)
from amigrate.errors import ScriptError
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateIndexOp,
    CreateSchemaOp,
    CreateSequenceOp,
    DropConstraintOp,
    DropIndexOp,
    DropSchemaOp,
    DropSequenceOp,
)

__all__ = ["ModifyColumn", "needs_column_spec"]


def _is_mariadb(dialect: Dialect) -> bool:
    return bool(getattr(dialect, "is_mariadb", False))


@compiles(RenameTable, "mysql", "mariadb")
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    # Without a schema MySQL would move the table to the current database.
    new = sa.Table(element.new_name, sa.MetaData(), schema=element.table.schema)
    return (
        f"ALTER TABLE {compiler.preparer.format_table(element.table)} "
        f"RENAME TO {compiler.preparer.format_table(new)}"
    )


# -- add_column: MySQL places a new column (FIRST, AFTER c) ------------------------------


def _add_column_at(
    op: AddColumnOp, dialect: Dialect, *, first: bool, after: str | None
) -> CompiledOp:
    _, statements = generic.add_column_statements(
        replace(op, insert_before=None, insert_after=None), dialect
    )
    add = statements[0]
    assert isinstance(add, AddColumn)
    add.first, add.after = first, after
    return CompiledOp(statements)


@register(AddColumnOp, "mysql")
def _add_column(op: AddColumnOp, dialect: Dialect) -> CompiledOp:
    if op.insert_before is not None:
        raise unsupported(
            op,
            dialect,
            "insert_before needs the table's column order, which offline SQL cannot read",
            "use insert_after=... (ADD COLUMN ... AFTER), or run it online",
        )
    return _add_column_at(op, dialect, first=False, after=op.insert_after)


def _column_names(conn: sa.Connection, table: str, schema: str | None) -> list[str]:
    return [c["name"] for c in sa.inspect(conn).get_columns(table, schema=schema)]


@register_applier(AddColumnOp, "mysql")
async def _apply_add_column(op: AddColumnOp, executor: Executor) -> Any:
    """Online, ``insert_before=c`` becomes ``FIRST`` or ``AFTER`` the column before *c*."""
    if op.insert_before is None or executor.as_sql:
        return await run_compiled(compile_op(op, executor.dialect), executor)
    order = await executor.run_sync(_column_names, op.table_name, op.schema)
    if op.insert_before not in order:
        raise ScriptError(
            f"{op.describe()}: {op.table_name!r} has no column {op.insert_before!r}",
            hint=f"its columns are: {', '.join(order) or '(none)'}",
        )
    at = order.index(op.insert_before)
    compiled = _add_column_at(
        op, executor.dialect, first=at == 0, after=order[at - 1] if at else None
    )
    return await run_compiled(compiled, executor)


# -- alter_column ------------------------------------------------------------------------


class ModifyColumn(ColumnDDL):
    """``ALTER TABLE t MODIFY c spec``, or ``CHANGE c new spec`` when it renames."""

    def __init__(
        self,
        table: sa.Table,
        column_name: str,
        *,
        new_name: str | None,
        type_: TypeEngine[Any],
        nullable: bool,
        default: Any,
        autoincrement: bool,
        comment: str | None,
    ) -> None:
        super().__init__(table, column_name)
        self.new_name = new_name
        self.type_ = type_
        self.nullable = nullable
        self.default = default
        self.autoincrement = autoincrement
        self.comment = comment


@compiles(ModifyColumn, "mysql", "mariadb")
def _modify_column(element: ModifyColumn, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    spec = [compiler.dialect.type_compiler_instance.process(element.type_)]
    spec.append("NULL" if element.nullable else "NOT NULL")
    if element.autoincrement:
        spec.append("AUTO_INCREMENT")
    if element.default is not None:
        spec.append(f"DEFAULT {format_default(compiler, element.default)}")
    if element.comment is not None:
        literal = compiler.sql_compiler.render_literal_value(element.comment, sa.String())
        spec.append(f"COMMENT {literal}")
    table = compiler.preparer.format_table(element.table)
    if element.new_name is not None:
        target = f"CHANGE {quote(element.column_name)} {quote(element.new_name)}"
    else:
        target = f"MODIFY {quote(element.column_name)}"
    return f"ALTER TABLE {table} {target} {' '.join(spec)}"


def needs_column_spec(op: AlterColumnOp) -> bool:
    """Whether the change restates the whole column (type, nullability, comment...)."""
    return bool(set(op.changes) - {"name", "default"})


@register(AlterColumnOp, "mysql")
def _alter_column(op: AlterColumnOp, dialect: Dialect) -> CompiledOp:
    generic.check_alter_column(op, dialect)
    if op.postgresql_using is not None:
        raise ScriptError(
            f"{op.describe()}: postgresql_using is for PostgreSQL",
            hint="leave it out on MySQL/MariaDB (guard with op.dialect.name)",
        )
    table = generic.alter_column_table(op)
    changes = op.changes
    if not needs_column_spec(op):
        statements: list[Any] = []
        if "default" in changes:
            statements.append(AlterColumnDefault(table, op.column_name, op.server_default))
        if "name" in changes:
            assert op.new_column_name is not None
            statements.append(RenameColumn(table, op.column_name, op.new_column_name))
        return CompiledOp(statements)
    type_ = op.type_ if op.type_ is not None else op.existing_type
    if type_ is None:
        raise unsupported(
            op,
            dialect,
            "it restates the whole column (MODIFY), so it needs the column's type",
            "pass existing_type=... (and existing_nullable, existing_server_default, "
            "existing_comment, which MODIFY would otherwise reset), or run it online",
        )
    nullable = op.nullable if op.nullable is not None else op.existing_nullable
    default = op.server_default if op.server_default is not False else op.existing_server_default
    autoincrement = op.autoincrement if op.autoincrement is not None else op.existing_autoincrement
    return CompiledOp(
        [
            ModifyColumn(
                table,
                op.column_name,
                new_name=op.new_column_name if "name" in changes else None,
                type_=type_,
                nullable=True if nullable is None else nullable,
                default=None if default is False else default,
                autoincrement=bool(autoincrement),
                comment=op.comment if op.comment is not False else op.existing_comment,
            )
        ]
    )


def _reflect_column(
    conn: sa.Connection, table: str, schema: str | None, column: str
) -> dict[str, Any] | None:
    for info in sa.inspect(conn).get_columns(table, schema=schema):
        if info["name"] == column:
            return dict(info)
    return None


@register_applier(AlterColumnOp, "mysql")
async def _apply_alter_column(op: AlterColumnOp, executor: Executor) -> Any:
    """Online, fill in the ``existing_*`` values MODIFY would otherwise reset."""
    if executor.as_sql or not needs_column_spec(op):
        return await run_compiled(compile_op(op, executor.dialect), executor)
    info = await executor.run_sync(_reflect_column, op.table_name, op.schema, op.column_name)
    if info is None:
        raise ScriptError(
            f"{op.describe()}: {op.table_name!r} has no column {op.column_name!r}",
            hint="check the table and column names",
        )
    default = info.get("default")
    if default is not None and str(default).upper() == "NULL":
        default = None
    filled = replace(
        op,
        existing_type=op.existing_type if op.existing_type is not None else info["type"],
        existing_nullable=(
            op.existing_nullable if op.existing_nullable is not None else info["nullable"]
        ),
        existing_server_default=(
            op.existing_server_default
            if op.existing_server_default is not False
            else (None if default is None else sa.text(str(default)))
        ),
        existing_comment=(
            op.existing_comment if op.existing_comment is not None else info.get("comment")
        ),
        existing_autoincrement=(
            op.existing_autoincrement
            if op.existing_autoincrement is not None
            else info.get("autoincrement") is True
        ),
    )
    return await run_compiled(compile_op(filled, executor.dialect), executor)


# -- constraints, indexes ----------------------------------------------------------------


class DropTypedConstraint(TableDDL):
    """Drop a constraint the way MySQL/MariaDB spell it for its kind."""

    def __init__(self, table: sa.Table, name: str, kind: str, *, if_exists: bool) -> None:
        super().__init__(table)
        self.name = name
        self.kind = kind
        self.if_exists = if_exists


@compiles(DropTypedConstraint, "mysql", "mariadb")
def _drop_typed_constraint(element: DropTypedConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.table)
    if element.kind == "primary":
        return f"ALTER TABLE {table} DROP PRIMARY KEY"
    guard = "IF EXISTS " if element.if_exists else ""
    name = compiler.preparer.quote(element.name)
    words = {
        "foreignkey": "FOREIGN KEY",
        "unique": "INDEX",  # a unique constraint is a unique index here
        "check": "CONSTRAINT" if _is_mariadb(compiler.dialect) else "CHECK",
    }[element.kind]
    return f"ALTER TABLE {table} DROP {words} {guard}{name}"


@register(DropConstraintOp, "mysql")
def _drop_constraint(op: DropConstraintOp, dialect: Dialect) -> CompiledOp:
    if op.type_ is None:
        raise unsupported(
            op,
            dialect,
            "it drops each kind of constraint differently, so it needs type_",
            f"write op.drop_constraint({op.constraint_name!r}, {op.table_name!r}, "
            "type_='foreignkey' | 'unique' | 'check' | 'primary')",
        )
    if op.if_exists and not _is_mariadb(dialect):
        raise unsupported(
            op, dialect, "MySQL has no DROP ... IF EXISTS for constraints", "drop if_exists"
        )
    if not op.constraint_name and op.type_ != "primary":
        raise ScriptError(
            f"{op.describe()}: a constraint is dropped by its name", hint="name the constraint"
        )
    table = stand_in(op.table_name, op.schema)
    return CompiledOp(
        [DropTypedConstraint(table, op.constraint_name or "", op.type_, if_exists=op.if_exists)]
    )


@register(DropIndexOp, "mysql")
def _drop_index(op: DropIndexOp, dialect: Dialect) -> CompiledOp:
    if op.table_name is None:
        raise unsupported(
            op,
            dialect,
            "an index is dropped from its table, so it needs table_name",
            f"write op.drop_index({op.index_name!r}, table_name='...')",
        )
    return generic.drop_index(op, dialect)


@register(CreateIndexOp, "mysql")
def _create_index(op: CreateIndexOp, dialect: Dialect) -> CompiledOp:
    if _is_mariadb(dialect) and not all(isinstance(c, str) for c in op.columns):
        raise unsupported(
            op,
            dialect,
            "MariaDB indexes hold columns, not expressions",
            "index a generated column (sa.Computed) that holds the expression",
        )
    # MySQL takes an expression key part only in its own parentheses: ((lower(email))).
    columns = tuple(c if isinstance(c, str) else sa.sql.elements.Grouping(c) for c in op.columns)
    kw = dict(op.kw)
    if dialect.name == "mariadb":  # MariaDB's own dialect reads mariadb_* options
        kw = {("mariadb_" + k[6:] if k.startswith("mysql_") else k): v for k, v in kw.items()}
    return generic.create_index(replace(op, columns=columns, kw=kw), dialect)


# -- sequences and schemas ---------------------------------------------------------------


def _sequences(op: CreateSequenceOp | DropSequenceOp, dialect: Dialect) -> CompiledOp:
    if not _is_mariadb(dialect):
        raise unsupported(
            op,
            dialect,
            "MySQL has no sequences (MariaDB has)",
            "use an AUTO_INCREMENT column; with MariaDB offline, use a mariadb:// URL",
        )
    if isinstance(op, CreateSequenceOp):
        return generic.create_sequence(op, dialect)
    return generic.drop_sequence(op, dialect)


register(CreateSequenceOp, "mysql")(_sequences)
register(DropSequenceOp, "mysql")(_sequences)


def _schemas(op: CreateSchemaOp | DropSchemaOp, dialect: Dialect) -> CompiledOp:
    raise unsupported(
        op,
        dialect,
        f"a schema is a whole database on {dialect_label(dialect)}",
        "create the database outside the migrations; schema= on ops names one",
    )


register(CreateSchemaOp, "mysql")(_schemas)
register(DropSchemaOp, "mysql")(_schemas)
