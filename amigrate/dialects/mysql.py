"""MySQL and MariaDB: whole-column ALTERs, typed constraint drops, and what they lack.

MySQL changes a column's type, nullability or comment, or moves it, only by
restating the whole column (``MODIFY`` / ``CHANGE``), so whatever the statement
leaves out is lost. Alembic asks the revision for every ``existing_*`` value;
amigrate, online, restates the column as ``SHOW CREATE TABLE`` has it with only
the op's changes made (:mod:`amigrate.dialects.mysqlcolumn`), and offline writes
it from the ``existing_*`` values (``existing_type`` at least; a move needs
``existing_nullable`` and ``existing_server_default`` too). A rename alone is
``RENAME COLUMN`` and a default alone is ``ALTER COLUMN ... SET DEFAULT``:
neither restates the column.

``add_column`` and ``alter_column`` take ``insert_after`` (``AFTER c``) and,
online, ``insert_before`` (``FIRST``, or ``AFTER`` the column before).

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
from amigrate.dialects.mysqlcolumn import ColumnDefinition, read_columns
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
    CreateTableOp,
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


# -- create_table: MariaDB takes no name on a column's CHECK --------------------------------


@register(CreateTableOp, "mysql")
def _create_table(op: CreateTableOp, dialect: Dialect) -> CompiledOp:
    """On MariaDB a column's named CHECK (``CONSTRAINT ck CHECK (...)`` after the column,
    a syntax error there) is written as one of the table's: the same rule, the same name."""
    if not _is_mariadb(dialect) or not any(
        _named_checks(item) for item in op.columns if isinstance(item, sa.Column)
    ):
        return generic.create_table(op, dialect)
    items: list[sa.schema.SchemaItem] = []
    moved: list[sa.schema.SchemaItem] = []
    for item in op.columns:
        checks = _named_checks(item) if isinstance(item, sa.Column) else []
        if not checks:
            items.append(item)
            continue
        assert isinstance(item, sa.Column)
        column = item._copy()
        column.constraints = {c for c in column.constraints if not _is_named_check(c)}
        items.append(column)
        moved += [sa.CheckConstraint(c.sqltext, name=c.name) for c in checks]
    return generic.create_table(replace(op, columns=(*items, *moved)), dialect)


def _named_checks(column: sa.Column[Any]) -> list[sa.CheckConstraint]:
    return [c for c in column.constraints if isinstance(c, sa.CheckConstraint) and c.name]


def _is_named_check(constraint: Any) -> bool:
    return isinstance(constraint, sa.CheckConstraint) and constraint.name is not None


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


def _offline_placement(op: AddColumnOp | AlterColumnOp, dialect: Dialect) -> None:
    if op.insert_before is not None:
        raise unsupported(
            op,
            dialect,
            "insert_before needs the table's column order, which offline SQL cannot read",
            "use insert_after=... (AFTER the column before it), or run it online",
        )


@register(AddColumnOp, "mysql")
def _add_column(op: AddColumnOp, dialect: Dialect) -> CompiledOp:
    _offline_placement(op, dialect)
    return _add_column_at(op, dialect, first=False, after=op.insert_after)


def _before(
    op: AddColumnOp | AlterColumnOp, order: list[str], before: str
) -> tuple[bool, str | None]:
    """``insert_before=c`` as MySQL says it (it has no BEFORE): FIRST, or AFTER the
    column before *c* in *order*."""
    lowered = [name.lower() for name in order]  # MySQL's column names ignore case
    if before.lower() not in lowered:
        raise ScriptError(
            f"{op.describe()}: {op.table_name!r} has no column {before!r}",
            hint=f"its columns are: {', '.join(order) or '(none)'}",
        )
    at = lowered.index(before.lower())
    return at == 0, order[at - 1] if at else None


@register_applier(AddColumnOp, "mysql")
async def _apply_add_column(op: AddColumnOp, executor: Executor) -> Any:
    """Online, ``insert_before=c`` becomes ``FIRST`` or ``AFTER`` the column before *c*."""
    if op.insert_before is None or executor.as_sql:
        return await run_compiled(compile_op(op, executor.dialect), executor)
    columns = await executor.run_sync(read_columns, op.table_name, op.schema)
    first, after = _before(op, [c.name for c in columns], op.insert_before)
    return await run_compiled(
        _add_column_at(op, executor.dialect, first=first, after=after), executor
    )


# -- alter_column ------------------------------------------------------------------------


class ModifyColumn(ColumnDDL):
    """``ALTER TABLE t MODIFY c spec``, or ``CHANGE c new spec`` when it renames;
    ``first`` / ``after`` move the column (``FIRST``, ``AFTER c``).

    With ``definition`` (the column as the database has it, read online) the op's
    changes are made to it and every other clause is kept; without it (offline) the
    column is written from the op's changes and its ``existing_*`` values.
    """

    def __init__(
        self,
        table: sa.Table,
        op: AlterColumnOp,
        *,
        definition: ColumnDefinition | None = None,
        first: bool = False,
        after: str | None = None,
    ) -> None:
        super().__init__(table, op.column_name)
        self.op = op
        self.definition = definition
        self.first = first
        self.after = after


def _type_sql(compiler: DDLCompiler, type_: TypeEngine[Any]) -> str:
    return str(compiler.dialect.type_compiler_instance.process(type_))


def _comment_sql(compiler: DDLCompiler, comment: str) -> str:
    return str(compiler.sql_compiler.render_literal_value(comment, sa.String()))


def _holds_text(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    """Whether *type_* is text on *dialect* (its variant, or a TypeDecorator's impl)."""
    impl = type_.dialect_impl(dialect)
    return isinstance(getattr(impl, "impl_instance", impl), sa.String)


def _restated(element: ModifyColumn, compiler: DDLCompiler) -> str:
    """The column as the database has it, with the op's changes."""
    op, definition = element.op, element.definition
    assert definition is not None
    # The definition read from the server is SQL as it runs; what the compiler writes has
    # each '%' doubled for a driver that formats with '%' (asyncmy): the new parts are
    # restated as they run too, and the whole is escaped once.
    doubled = compiler.dialect.paramstyle in ("format", "pyformat")

    def plain(sql: str) -> str:
        return sql.replace("%%", "%") if doubled else sql

    default = op.server_default
    comment = op.comment
    spec = definition.changed(
        type_sql=None if op.type_ is None else plain(_type_sql(compiler, op.type_)),
        text=op.type_ is not None and _holds_text(op.type_, compiler.dialect),
        nullable=op.nullable,
        default=default
        if default is False or default is None
        else plain(format_default(compiler, default)),
        comment=comment
        if comment is False or comment is None
        else plain(_comment_sql(compiler, comment)),
        autoincrement=op.autoincrement,
        new_name=op.new_column_name if "name" in op.changes else None,
        quote=lambda name: plain(compiler.preparer.quote(name)),
    ).sql()
    return spec.replace("%", "%%") if doubled else spec


def _written(op: AlterColumnOp, compiler: DDLCompiler) -> str:
    """The column from the op's changes and ``existing_*`` values (offline)."""
    type_ = op.type_ if op.type_ is not None else op.existing_type
    assert type_ is not None  # checked when compiling
    nullable = op.nullable if op.nullable is not None else op.existing_nullable
    default = op.server_default if op.server_default is not False else op.existing_server_default
    autoincrement = op.autoincrement if op.autoincrement is not None else op.existing_autoincrement
    comment = op.comment if op.comment is not False else op.existing_comment
    spec = [_type_sql(compiler, type_), "NOT NULL" if nullable is False else "NULL"]
    if autoincrement:
        spec.append("AUTO_INCREMENT")
    if default is not None and default is not False:
        spec.append(f"DEFAULT {format_default(compiler, default)}")
    if comment is not None:
        spec.append(f"COMMENT {_comment_sql(compiler, comment)}")
    return " ".join(spec)


@compiles(ModifyColumn, "mysql", "mariadb")
def _modify_column(element: ModifyColumn, compiler: DDLCompiler, **kw: Any) -> str:
    op = element.op
    quote = compiler.preparer.quote
    spec = _restated(element, compiler) if element.definition else _written(op, compiler)
    table = compiler.preparer.format_table(element.table)
    if "name" in op.changes:
        assert op.new_column_name is not None
        target = f"CHANGE {quote(op.column_name)} {quote(op.new_column_name)}"
    else:
        target = f"MODIFY {quote(op.column_name)}"
    sql = f"ALTER TABLE {table} {target} {spec}"
    if element.first:
        sql += " FIRST"
    elif element.after is not None:
        sql += f" AFTER {quote(element.after)}"
    return sql


def needs_column_spec(op: AlterColumnOp) -> bool:
    """Whether the change restates the whole column (type, nullability, comment, a move...)."""
    moves = op.insert_before is not None or op.insert_after is not None
    return moves or bool(set(op.changes) - {"name", "default"})


def _check_alter_column(op: AlterColumnOp, dialect: Dialect) -> None:
    generic.check_alter_column(op, dialect)  # (postgresql_using is PostgreSQL's: left out)


@register(AlterColumnOp, "mysql")
def _alter_column(op: AlterColumnOp, dialect: Dialect) -> CompiledOp:
    """The op as it says itself: offline, and online when the column is not restated."""
    _check_alter_column(op, dialect)
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
    _offline_placement(op, dialect)
    moves = op.insert_after is not None
    missing = [
        name
        for name, needed in (
            ("existing_type", op.type_ is None and op.existing_type is None),
            # MODIFY without NULL/NOT NULL makes the column nullable: never silently.
            ("existing_nullable", op.nullable is None and op.existing_nullable is None),
            (
                "existing_server_default",
                moves and op.server_default is False and op.existing_server_default is False,
            ),
        )
        if needed
    ]
    if missing and moves:
        raise unsupported(
            op,
            dialect,
            "moving a column restates all of it (MODIFY ... AFTER), so offline it needs the "
            f"column as it is: {', '.join(missing)}",
            f"pass {', '.join(missing)} (existing_server_default=None when it has no default), "
            "and existing_comment / existing_autoincrement if it has them; or run it online",
        )
    if missing:
        raise unsupported(
            op,
            dialect,
            "it restates the whole column (MODIFY), so offline it needs the column as it is: "
            f"{', '.join(missing)}",
            f"pass {', '.join(missing)} (and existing_server_default, existing_comment, which "
            "MODIFY would otherwise reset), or run it online",
        )
    drops, adds = generic.type_constraint_changes(op, dialect)
    return CompiledOp([*drops, ModifyColumn(table, op, after=op.insert_after), *adds])


@register_applier(AlterColumnOp, "mysql")
async def _apply_alter_column(op: AlterColumnOp, executor: Executor) -> Any:
    """Online, the column is restated as ``SHOW CREATE TABLE`` has it, with the op's changes."""
    if executor.as_sql or not needs_column_spec(op):
        return await run_compiled(compile_op(op, executor.dialect), executor)
    _check_alter_column(op, executor.dialect)
    columns = await executor.run_sync(read_columns, op.table_name, op.schema)
    definition = next((c for c in columns if c.name.lower() == op.column_name.lower()), None)
    if definition is None:
        raise ScriptError(
            f"{op.describe()}: {op.table_name!r} has no column {op.column_name!r}",
            hint=f"its columns are: {', '.join(c.name for c in columns) or '(none)'}",
        )
    first, after = False, op.insert_after
    if op.insert_before is not None:
        order = [c.name for c in columns if c is not definition]
        first, after = _before(op, order, op.insert_before)
    statement = ModifyColumn(
        generic.alter_column_table(op), op, definition=definition, first=first, after=after
    )
    drops, adds = generic.type_constraint_changes(op, executor.dialect)
    return await run_compiled(CompiledOp([*drops, statement, *adds]), executor)


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
