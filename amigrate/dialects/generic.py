"""The compilers every dialect starts from (registered for dialect ``None``).

They produce standard SQL through SQLAlchemy's DDL constructs and ours
(``amigrate.dialects.ddl``); the dialect modules register their own compiler
for an op where a dialect differs, often calling the generic one and adjusting.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateSchema,
    CreateSequence,
    CreateTable,
    DropColumnComment,
    DropConstraint,
    DropIndex,
    DropSchema,
    DropSequence,
    DropTable,
    DropTableComment,
    SetColumnComment,
    SetTableComment,
)
from sqlalchemy.sql.expression import Executable

from amigrate.dialects.common import (
    add_referents,
    created_on,
    dialect_label,
    stand_in,
    type_constraints,
    unsupported,
)
from amigrate.dialects.ddl import (
    AddColumn,
    AlterColumnDefault,
    AlterColumnIdentity,
    AlterColumnNullable,
    AlterColumnType,
    CreatePlainIndex,
    CreateView,
    DropColumn,
    DropView,
    RenameColumn,
    RenameTable,
    identity_changes,
    supports_column_if_exists,
)
from amigrate.dialects.registry import (
    CompiledOp,
    Executor,
    register,
    register_applier,
    run_compiled,
)
from amigrate.errors import ScriptError
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BulkInsertOp,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateSchemaOp,
    CreateSequenceOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    CreateViewOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropSchemaOp,
    DropSequenceOp,
    DropTableCommentOp,
    DropTableOp,
    DropViewOp,
    ExecuteOp,
    RenameTableOp,
)

__all__ = [
    "add_column_statements",
    "alter_column",
    "alter_column_table",
    "check_alter_column",
    "comments_after_create",
    "create_index",
    "create_sequence",
    "create_table",
    "drop_column",
    "drop_index",
    "drop_sequence",
    "drop_table",
    "placement_problem",
]


@register(ExecuteOp)
def _execute(op: ExecuteOp, dialect: Dialect) -> CompiledOp:
    statement = sa.text(op.sqltext) if isinstance(op.sqltext, str) else op.sqltext
    return CompiledOp([statement], execution_options=dict(op.execution_options or {}))


@register(BulkInsertOp)
def _bulk_insert(op: BulkInsertOp, dialect: Dialect) -> CompiledOp:
    """One INSERT per row with its values in it (what offline SQL shows)."""
    columns = set(op.table.c.keys())
    for number, row in enumerate(op.rows, 1):
        if not isinstance(row, dict | sa.util.immutabledict) and not hasattr(row, "keys"):
            raise ScriptError(
                f"{op.describe()}: row {number} is a {type(row).__name__}, not a dict",
                hint="give each row as a dict keyed by column name",
            )
        unknown = sorted(set(row) - columns)
        if unknown:
            raise ScriptError(
                f"{op.describe()}: row {number} has "
                f"{'keys' if len(unknown) > 1 else 'a key'} that {op.table.name!r} has no "
                f"column for: {', '.join(map(repr, unknown))}",
                hint=f"the columns are: {', '.join(sorted(columns))}",
            )
    return CompiledOp([op.table.insert().values(_typed(op.table, row)) for row in op.rows])


def _typed(table: sa.Table | sa.TableClause, row: Any) -> dict[str, Any]:
    # An untyped sa.column() cannot render a literal offline; the value's own type can.
    return {
        key: sa.literal(value)
        if isinstance(table.c[key].type, sa.types.NullType)
        and not isinstance(value, sa.sql.ClauseElement)
        else value
        for key, value in row.items()
    }


@register_applier(BulkInsertOp)
async def _apply_bulk_insert(op: BulkInsertOp, executor: Executor) -> None:
    compiled = _bulk_insert(op, executor.dialect)  # checks the rows either way
    if executor.as_sql or not op.multiinsert or not op.rows:
        await run_compiled(compiled, executor)
        return
    # An executemany takes its columns from the first row; rows with other keys
    # start a new one (consecutive runs, so the rows keep their order).
    runs: list[list[dict[str, Any]]] = []
    for row in op.rows:
        if runs and set(runs[-1][0]) == set(row):
            runs[-1].append(dict(row))
        else:
            runs.append([dict(row)])
    for run in runs:
        await executor.execute(op.table.insert(), None, run)


# -- tables ------------------------------------------------------------------------------


def comments_after_create(table: sa.Table, dialect: Dialect) -> list[Executable]:
    """COMMENT statements for dialects that do not write comments into CREATE TABLE."""
    if not dialect.supports_comments or dialect.inline_comments:
        return []
    statements: list[Executable] = []
    if table.comment is not None:
        statements.append(SetTableComment(table))
    statements += [SetColumnComment(c) for c in table.columns if c.comment is not None]
    return statements


@register(CreateTableOp)
def create_table(op: CreateTableOp, dialect: Dialect) -> CompiledOp:
    table = op.to_table()
    add_referents(table)
    statements: list[Executable] = [CreateTable(table, if_not_exists=op.if_not_exists)]
    # Indexes declared on the columns (index=True) or as Index objects come with the table.
    statements += [
        CreateIndex(index, if_not_exists=op.if_not_exists)
        for index in sorted(table.indexes, key=lambda i: i.name or "")
    ]
    statements += comments_after_create(table, dialect)
    return CompiledOp(statements, result=table)


@register(DropTableOp)
def drop_table(op: DropTableOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([DropTable(stand_in(op.table_name, op.schema), if_exists=op.if_exists)])


@register(RenameTableOp)
def _rename_table(op: RenameTableOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([RenameTable(stand_in(op.table_name, op.schema), op.new_table_name)])


@register(CreateTableCommentOp)
def _create_table_comment(op: CreateTableCommentOp, dialect: Dialect) -> CompiledOp:
    table = sa.Table(op.table_name, sa.MetaData(), schema=op.schema, comment=op.comment)
    return CompiledOp([SetTableComment(table)])


@register(DropTableCommentOp)
def _drop_table_comment(op: DropTableCommentOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([DropTableComment(stand_in(op.table_name, op.schema))])


# -- columns -----------------------------------------------------------------------------


def placement_problem(op: AddColumnOp | AlterColumnOp, dialect: Dialect) -> tuple[str, str] | None:
    """Why *dialect* cannot honour the op's ``insert_before``/``insert_after``, and what
    to do instead (None when it can, or the op places nothing).

    MySQL and MariaDB place a new column and move an existing one (``AFTER``,
    ``FIRST``); SQLite does either only when a batch recreates the table;
    PostgreSQL neither: its columns keep the order they were added in.
    """
    if op.insert_before is None and op.insert_after is None:
        return None
    if dialect.name in ("mysql", "mariadb"):
        return None
    if dialect.name == "sqlite":
        return (
            "SQLite places a column only when a batch recreates the table",
            "do it in op.batch_alter_table(...) with recreate='auto' (the default) or 'always'",
        )
    label = dialect_label(dialect)
    if isinstance(op, AddColumnOp):
        why = f"{label}'s ALTER TABLE only appends columns"
    else:
        why = f"{label} cannot move an existing column: columns keep the order they were added in"
    return why, (
        f"leave insert_before/insert_after out on {label} (guard with op.dialect.name); "
        "to change the order, create a new table with the columns in the order you want "
        "and copy the rows into it"
    )


def _check_placement(op: AddColumnOp | AlterColumnOp, dialect: Dialect) -> None:
    problem = placement_problem(op, dialect)
    if problem is not None:
        raise unsupported(op, dialect, f"insert_before/insert_after: {problem[0]}", problem[1])


def add_column_statements(op: AddColumnOp, dialect: Dialect) -> tuple[sa.Table, list[Executable]]:
    """ADD COLUMN, then the column's foreign key, unique constraint, index and comment."""
    _check_placement(op, dialect)
    if op.if_not_exists and not supports_column_if_exists(dialect):
        raise unsupported(
            op,
            dialect,
            "its ALTER TABLE has no ADD COLUMN IF NOT EXISTS",
            "leave if_not_exists out here (PostgreSQL and MariaDB have it)",
        )
    column = op.column._copy()
    table = stand_in(op.table_name, op.schema, column)
    add_referents(table)
    add = AddColumn(table, column.name, flag=op.if_not_exists)
    add.inline_primary_key = bool(op.inline_primary_key)
    inline: sa.Constraint | None = None
    if op.inline_references and _inline_references_work(dialect):
        fks = list(column.foreign_keys)
        if len(fks) == 1 and fks[0].constraint is not None and len(fks[0].constraint.columns) == 1:
            inline = fks[0].constraint
            add.inline_references = True
    statements: list[Executable] = [add]
    # As in Alembic, a primary key is not added with a column (unless inline_primary_key).
    statements += [
        AddConstraint(c)
        for c in sorted(table.constraints, key=lambda c: str(c.name or ""))
        if not isinstance(c, sa.PrimaryKeyConstraint) and c is not inline and created_on(c, dialect)
    ]
    statements += [CreateIndex(i) for i in sorted(table.indexes, key=lambda i: i.name or "")]
    if column.comment is not None and dialect.supports_comments and not dialect.inline_comments:
        statements.append(SetColumnComment(column))
    return table, statements


def _inline_references_work(dialect: Dialect) -> bool:
    # MySQL (not MariaDB) parses a column's inline REFERENCES and ignores it: the
    # foreign key would silently be missing, so there it stays a statement of its own.
    return dialect.name != "mysql" or bool(getattr(dialect, "is_mariadb", False))


@register(AddColumnOp)
def _add_column(op: AddColumnOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp(add_column_statements(op, dialect)[1])


@register(DropColumnOp)
def drop_column(op: DropColumnOp, dialect: Dialect) -> CompiledOp:
    if op.if_exists and not supports_column_if_exists(dialect):
        raise unsupported(
            op,
            dialect,
            "its ALTER TABLE has no DROP COLUMN IF EXISTS",
            "leave if_exists out here (PostgreSQL and MariaDB have it)",
        )
    table = stand_in(op.table_name, op.schema)
    return CompiledOp([DropColumn(table, op.column_name, flag=op.if_exists)])


def alter_column_table(op: AlterColumnOp) -> sa.Table:
    """A stand-in table holding the column (named as it is before the op)."""
    return stand_in(op.table_name, op.schema, sa.Column(op.column_name, sa.types.NullType()))


def check_alter_column(op: AlterColumnOp, dialect: Dialect) -> None:
    """What no dialect's alter_column does here (checked before compiling)."""
    if isinstance(op.server_default, sa.Computed) or (
        isinstance(op.server_default, sa.Identity) and dialect.name != "postgresql"
    ):
        raise unsupported(
            op,
            dialect,
            "alter_column does not add, change or remove a generated column, nor an "
            "identity outside PostgreSQL",
            "add a new column and copy the values, or write the ALTER with op.execute()",
        )
    _check_placement(op, dialect)


def type_constraint_changes(
    op: AlterColumnOp, dialect: Dialect
) -> tuple[list[Executable], list[Executable]]:
    """What a type change does to the constraints types make (a non-native Boolean's or
    Enum's CHECK), as Alembic's alter_column: DROP the named ones of ``existing_type``
    first, ADD the new type's after (on the column's new name). One the two types make
    alike stays as it is. Only with ``existing_type``: without it, what the column has
    is unknown, and a CHECK it has already would be added twice."""
    if op.type_ is None or op.existing_type is None:
        return [], []
    new_name = op.new_column_name if op.new_column_name is not None else op.column_name
    new = type_constraints(op.table_name, op.schema, new_name, op.type_, dialect)
    old = type_constraints(op.table_name, op.schema, op.column_name, op.existing_type, dialect)
    kept = {_constraint_sql(c, dialect) for c in old} & {_constraint_sql(c, dialect) for c in new}
    drops: list[Executable] = [
        DropConstraint(c)
        for c in old
        if isinstance(c.name, str) and _constraint_sql(c, dialect) not in kept
    ]
    adds: list[Executable] = [
        AddConstraint(c) for c in new if _constraint_sql(c, dialect) not in kept
    ]
    return drops, adds


def _constraint_sql(constraint: sa.Constraint, dialect: Dialect) -> str:
    return str(AddConstraint(constraint, isolate_from_table=False).compile(dialect=dialect))


def _identity_change(
    op: AlterColumnOp, dialect: Dialect, table: sa.Table
) -> list[Executable] | None:
    """PostgreSQL: the statements of a ``server_default`` that adds, changes or drops an
    identity (``existing_server_default=sa.Identity(...)`` says the column has one); None
    when no identity is involved. (A known plain default the new identity replaces is
    dropped by the caller, before any type change.)"""
    new, old = op.server_default, op.existing_server_default
    name = op.column_name
    if dialect.name != "postgresql":
        return None
    if isinstance(new, sa.Identity):
        if isinstance(old, sa.Identity):
            changed = identity_changes(new, old)
            return [AlterColumnIdentity(table, name, new, old)] if changed else []
        return [AlterColumnIdentity(table, name, new, None)]
    if new is None and isinstance(old, sa.Identity):
        return [AlterColumnIdentity(table, name, None, old)]
    return None


@register(AlterColumnOp)
def alter_column(op: AlterColumnOp, dialect: Dialect) -> CompiledOp:
    """One ALTER per change, the rename last (standard SQL; PostgreSQL's)."""
    check_alter_column(op, dialect)
    if op.postgresql_using is not None and dialect.name == "postgresql" and op.type_ is None:
        raise ScriptError(
            f"{op.describe()}: postgresql_using needs type_",
            hint="give type_=... with postgresql_using, or drop postgresql_using",
        )
    table = alter_column_table(op)
    name = op.column_name
    drops, adds = type_constraint_changes(op, dialect)
    statements: list[Executable] = list(drops)
    identity = _identity_change(op, dialect, table)
    # ADD GENERATED refuses a column that has a default: drop a known plain one first.
    replaced = (
        identity is not None
        and isinstance(op.server_default, sa.Identity)
        and op.existing_server_default not in (None, False)
        and not isinstance(op.existing_server_default, sa.Identity)
    )
    default_first = (
        dialect.name == "postgresql"
        and op.type_ is not None
        and op.server_default is not False
        and (identity is None or replaced)
    )
    if replaced and not default_first:
        statements.append(AlterColumnDefault(table, name, None))
    if default_first:
        # PostgreSQL casts the old default to the new type, and refuses when it cannot
        # ('n/a' to an enum): drop it first, set the new one after.
        statements.append(AlterColumnDefault(table, name, None))
    if op.type_ is not None:
        using = op.postgresql_using if dialect.name == "postgresql" else None
        statements.append(AlterColumnType(table, name, op.type_, using))
    if op.nullable is not None:
        statements.append(AlterColumnNullable(table, name, op.nullable))
    if identity is not None:
        statements += identity
    elif op.server_default is not False and not (default_first and op.server_default is None):
        statements.append(AlterColumnDefault(table, name, op.server_default))
    if op.comment is not False:
        column = table.c[name]
        column.comment = op.comment
        statements.append(
            SetColumnComment(column) if op.comment is not None else DropColumnComment(column)
        )
    if "name" in op.changes:
        assert op.new_column_name is not None
        statements.append(RenameColumn(table, name, op.new_column_name))
    return CompiledOp(statements + adds)


# -- indexes and constraints -------------------------------------------------------------


@register(CreateIndexOp)
def create_index(op: CreateIndexOp, dialect: Dialect) -> CompiledOp:
    if op.index_name and not op.kw and all(type(c) is str for c in op.columns):
        # Plain column names and no options: no stand-in Table needed.
        plain = CreatePlainIndex(
            op.index_name,
            op.table_name,
            op.columns,  # type: ignore[arg-type]
            schema=op.schema,
            unique=op.unique,
            if_not_exists=op.if_not_exists,
        )
        return CompiledOp([plain])
    return CompiledOp([CreateIndex(op.to_index(), if_not_exists=op.if_not_exists)])


@register(DropIndexOp)
def drop_index(op: DropIndexOp, dialect: Dialect) -> CompiledOp:
    # PostgreSQL qualifies the index with the table's schema; a stand-in table carries it.
    table = stand_in(op.table_name or "_", op.schema)
    index = sa.Index(op.index_name, _table=table, **op.kw)
    return CompiledOp([DropIndex(index, if_exists=op.if_exists)])


def _add_constraint(op: Any, dialect: Dialect) -> CompiledOp:
    return CompiledOp([AddConstraint(op.to_constraint())])


for _adds in (
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    CreateForeignKeyOp,
    CreateCheckConstraintOp,
):
    register(_adds)(_add_constraint)


@register(CreateExcludeConstraintOp)
def _create_exclude_constraint(op: CreateExcludeConstraintOp, dialect: Dialect) -> CompiledOp:
    if dialect.name != "postgresql":
        raise unsupported(
            op,
            dialect,
            "EXCLUDE constraints are PostgreSQL's",
            "guard it with 'if op.dialect.name == \"postgresql\":', or use a unique "
            "constraint or a trigger here",
        )
    return _add_constraint(op, dialect)


@register(DropConstraintOp)
def _drop_constraint(op: DropConstraintOp, dialect: Dialect) -> CompiledOp:
    if not op.constraint_name:
        raise ScriptError(
            f"{op.describe()}: a constraint is dropped by its name",
            hint="name the constraint (op.f('name') for a name a convention made)",
        )
    return CompiledOp([DropConstraint(op.to_constraint(), if_exists=op.if_exists)])


# -- sequences, schemas, views -----------------------------------------------------------


@register(CreateSequenceOp)
def create_sequence(op: CreateSequenceOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([CreateSequence(op.to_sequence(), if_not_exists=op.if_not_exists)])


@register(DropSequenceOp)
def drop_sequence(op: DropSequenceOp, dialect: Dialect) -> CompiledOp:
    sequence = sa.Sequence(op.sequence_name, schema=op.schema)
    return CompiledOp([DropSequence(sequence, if_exists=op.if_exists)])


@register(CreateSchemaOp)
def _create_schema(op: CreateSchemaOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([CreateSchema(op.schema_name, if_not_exists=op.if_not_exists)])


@register(DropSchemaOp)
def _drop_schema(op: DropSchemaOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([DropSchema(op.schema_name, cascade=op.cascade, if_exists=op.if_exists)])


@register(CreateViewOp)
def _create_view(op: CreateViewOp, dialect: Dialect) -> CompiledOp:
    view = stand_in(op.view_name, op.schema)
    return CompiledOp([CreateView(view, op.definition, or_replace=op.or_replace)])


@register(DropViewOp)
def _drop_view(op: DropViewOp, dialect: Dialect) -> CompiledOp:
    return CompiledOp([DropView(stand_in(op.view_name, op.schema), if_exists=op.if_exists)])
