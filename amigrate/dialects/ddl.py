"""DDL constructs SQLAlchemy lacks, compiled with ``sqlalchemy.ext.compiler``.

Each construct gets a generic compilation here (standard SQL, which is
PostgreSQL's); the dialect modules register their own where a dialect spells it
differently (``@compiles(Construct, "mysql")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine

__all__ = [
    "AddColumn",
    "AlterColumnDefault",
    "AlterColumnNullable",
    "AlterColumnType",
    "ColumnDDL",
    "CreatePlainIndex",
    "CreateView",
    "DropColumn",
    "DropView",
    "RawDDL",
    "RenameColumn",
    "RenameTable",
    "TableDDL",
    "format_default",
    "supports_column_if_exists",
]


def supports_column_if_exists(dialect: sa.engine.Dialect) -> bool:
    """Whether ALTER TABLE takes IF [NOT] EXISTS for columns (PostgreSQL and MariaDB; not MySQL)."""
    return dialect.name == "postgresql" or bool(getattr(dialect, "is_mariadb", False))


class TableDDL(ExecutableDDLElement):
    """A statement about one table, named through a stand-in ``Table`` (for its schema)."""

    inherit_cache = False

    def __init__(self, table: sa.Table) -> None:
        self.table = table


class ColumnDDL(TableDDL):
    def __init__(self, table: sa.Table, column_name: str, *, flag: bool = False) -> None:
        super().__init__(table)
        self.column_name = column_name
        self.flag = flag


class AddColumn(ColumnDDL):
    """``ALTER TABLE t ADD COLUMN spec``; ``flag`` adds IF NOT EXISTS where the dialect has it.

    ``first`` / ``after`` place the column (MySQL's ``FIRST`` / ``AFTER c``);
    ``inline_references`` / ``inline_primary_key`` write the column's foreign key
    (``REFERENCES``) and ``PRIMARY KEY`` into the statement.
    """

    first: bool = False
    after: str | None = None
    inline_references: bool = False
    inline_primary_key: bool = False


class DropColumn(ColumnDDL):
    """``ALTER TABLE t DROP COLUMN c``; ``flag`` adds IF EXISTS where the dialect has it."""


class RenameColumn(ColumnDDL):
    """``ALTER TABLE t RENAME COLUMN c TO new_name``."""

    def __init__(self, table: sa.Table, column_name: str, new_name: str) -> None:
        super().__init__(table, column_name)
        self.new_name = new_name


class AlterColumnType(ColumnDDL):
    """``ALTER TABLE t ALTER COLUMN c TYPE type [USING expr]``."""

    def __init__(
        self, table: sa.Table, column_name: str, type_: TypeEngine[Any], using: str | None = None
    ) -> None:
        super().__init__(table, column_name)
        self.type_ = type_
        self.using = using


class AlterColumnIdentity(ColumnDDL):
    """PostgreSQL's ``ALTER TABLE t ALTER COLUMN c`` ``ADD GENERATED ... AS IDENTITY``
    (*existing* None), ``DROP IDENTITY`` (*identity* None), or the ``SET ...`` of what
    changed between the two."""

    def __init__(
        self,
        table: sa.Table,
        column_name: str,
        identity: sa.Identity | None,
        existing: sa.Identity | None,
    ) -> None:
        super().__init__(table, column_name)
        self.identity = identity
        self.existing = existing


#: The options of an identity ``SET`` can change, in PostgreSQL's order.
IDENTITY_OPTIONS: tuple[str, ...] = ("increment", "start", "minvalue", "maxvalue")
IDENTITY_OPTIONS += ("nominvalue", "nomaxvalue", "cycle", "cache")


def identity_changes(identity: sa.Identity, existing: sa.Identity) -> list[str]:
    """What differs between two identities: ``always``, then each option's name."""
    changed = ["always"] if bool(identity.always) != bool(existing.always) else []
    return changed + [
        name for name in IDENTITY_OPTIONS if getattr(identity, name) != getattr(existing, name)
    ]


class AlterColumnNullable(ColumnDDL):
    """``ALTER TABLE t ALTER COLUMN c {DROP|SET} NOT NULL``."""

    def __init__(self, table: sa.Table, column_name: str, nullable: bool) -> None:
        super().__init__(table, column_name)
        self.nullable = nullable


class AlterColumnDefault(ColumnDDL):
    """``ALTER TABLE t ALTER COLUMN c {SET DEFAULT x|DROP DEFAULT}``."""

    def __init__(self, table: sa.Table, column_name: str, default: Any) -> None:
        super().__init__(table, column_name)
        self.default = default


class RenameTable(TableDDL):
    """``ALTER TABLE t RENAME TO new_name`` (the table stays in its schema)."""

    def __init__(self, table: sa.Table, new_name: str) -> None:
        super().__init__(table)
        self.new_name = new_name


class CreateView(TableDDL):
    """``CREATE [OR REPLACE] VIEW v AS <select>``; ``table`` names the view."""

    def __init__(self, table: sa.Table, definition: str | Executable, *, or_replace: bool) -> None:
        super().__init__(table)
        self.definition = definition
        self.or_replace = or_replace


class DropView(TableDDL):
    """``DROP VIEW [IF EXISTS] v``."""

    def __init__(self, table: sa.Table, *, if_exists: bool) -> None:
        super().__init__(table)
        self.if_exists = if_exists


class RawDDL(ExecutableDDLElement):
    """A DDL statement kept as the database gave it (SQLite's stored index and trigger SQL).

    Unlike ``sa.text()`` nothing in it is read as a bound parameter, and unlike
    ``sa.DDL()`` a ``%`` is not a format character.
    """

    inherit_cache = False

    def __init__(self, sql: str) -> None:
        self.sql = sql


class CreatePlainIndex(ExecutableDDLElement):
    """``CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns)`` on column names.

    What SQLAlchemy's ``CreateIndex`` renders for an index of plain column names with
    no dialect options, without the stand-in ``Table`` that needs: building one costs
    more than the statement (a migration creating a thousand indexes builds a
    thousand). Names go through the same preparer (quoting, length checks).
    """

    inherit_cache = False

    def __init__(
        self,
        name: str,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool = False,
    ) -> None:
        self.name = name
        self.table = sa.table(table_name, schema=schema)
        self.columns = tuple(columns)
        self.unique = unique
        self.if_not_exists = if_not_exists


def _table(compiler: DDLCompiler, table: sa.TableClause) -> str:
    return compiler.preparer.format_table(table)


def _alter_column(compiler: DDLCompiler, element: ColumnDDL) -> str:
    return (
        f"ALTER TABLE {_table(compiler, element.table)} "
        f"ALTER COLUMN {compiler.preparer.quote(element.column_name)}"
    )


def format_default(compiler: DDLCompiler, default: Any) -> str:
    """The SQL of a ``server_default`` value, as a column definition would write it."""
    text = compiler.get_column_default_string(sa.Column("x", sa.Integer, server_default=default))
    if text is None:
        raise ValueError(f"server_default {default!r} renders no SQL")
    return text


@compiles(CreatePlainIndex)
def _create_plain_index(element: CreatePlainIndex, compiler: DDLCompiler, **kw: Any) -> str:
    preparer = compiler.preparer
    name = preparer.truncate_and_render_index_name(element.name)
    schema = preparer.schema_for_object(element.table)
    if compiler.dialect.name == "sqlite" and schema:
        # SQLite names the schema on the index; the table is in the same one.
        name = f"{preparer.quote_schema(schema)}.{name}"
        table = preparer.format_table(element.table, use_schema=False)
    else:
        table = preparer.format_table(element.table)
    unique = "UNIQUE " if element.unique else ""
    guard = "IF NOT EXISTS " if element.if_not_exists else ""
    columns = ", ".join(preparer.quote(c) for c in element.columns)
    return f"CREATE {unique}INDEX {guard}{name} ON {table} ({columns})"


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    column = element.table.c[element.column_name]
    spec = compiler.get_column_specification(column)
    # MariaDB takes no name on a column's CHECK: a named one is added as the table's,
    # in the same statement.
    mariadb = bool(getattr(compiler.dialect, "is_mariadb", False))
    added: list[str] = []
    for constraint in column.constraints:
        if not isinstance(constraint, sa.ForeignKeyConstraint):
            sql = compiler.process(constraint)
            if sql and mariadb and isinstance(constraint, sa.CheckConstraint) and constraint.name:
                if element.flag:  # (ADD COLUMN IF NOT EXISTS: the check too)
                    sql = sql.replace("CONSTRAINT ", "CONSTRAINT IF NOT EXISTS ", 1)
                added.append(f", ADD {sql}")
            elif sql:
                spec += " " + sql
    if element.inline_primary_key and column.primary_key:
        spec += " PRIMARY KEY"
    if compiler.dialect.name == "sqlite" or element.inline_references:
        # SQLite cannot add a constraint later, but takes REFERENCES inline.
        for fk in column.foreign_keys:
            target = fk.column
            name = None
            if fk.constraint is not None and fk.constraint.name is not None:
                name = compiler.preparer.format_constraint(fk.constraint)  # (convention's)
            if name:
                spec += f" CONSTRAINT {name}"
            spec += (
                f" REFERENCES {compiler.preparer.format_table(target.table)} "
                f"({compiler.preparer.quote(target.name)})"
            )
            if fk.constraint is not None:
                spec += compiler.define_constraint_cascades(fk.constraint)
                spec += compiler.define_constraint_deferrability(fk.constraint)
    flag = element.flag and supports_column_if_exists(compiler.dialect)
    guard = "IF NOT EXISTS " if flag else ""
    if element.first:
        spec += " FIRST"
    elif element.after is not None:
        spec += f" AFTER {compiler.preparer.quote(element.after)}"
    return f"ALTER TABLE {_table(compiler, element.table)} ADD COLUMN {guard}{spec}{''.join(added)}"


@compiles(DropColumn)
def _drop_column(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    flag = element.flag and supports_column_if_exists(compiler.dialect)
    guard = "IF EXISTS " if flag else ""
    name = compiler.preparer.quote(element.column_name)
    return f"ALTER TABLE {_table(compiler, element.table)} DROP COLUMN {guard}{name}"


@compiles(RenameColumn)
def _rename_column(element: RenameColumn, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    return (
        f"ALTER TABLE {_table(compiler, element.table)} "
        f"RENAME COLUMN {quote(element.column_name)} TO {quote(element.new_name)}"
    )


@compiles(AlterColumnType)
def _alter_column_type(element: AlterColumnType, compiler: DDLCompiler, **kw: Any) -> str:
    sql = f"{_alter_column(compiler, element)} TYPE {compiler.type_compiler.process(element.type_)}"
    return f"{sql} USING {element.using}" if element.using else sql


@compiles(AlterColumnIdentity)
def _alter_column_identity(element: AlterColumnIdentity, compiler: DDLCompiler, **kw: Any) -> str:
    start = _alter_column(compiler, element)
    new, old = element.identity, element.existing
    if new is None:
        return f"{start} DROP IDENTITY"
    kind = "ALWAYS" if new.always else "BY DEFAULT"
    if old is None:
        options = compiler.get_identity_options(new)
        return f"{start} ADD GENERATED {kind} AS IDENTITY" + (f" ({options})" if options else "")
    parts = []
    for name in identity_changes(new, old):
        if name == "always":
            parts.append(f"SET GENERATED {kind}")
        else:
            text = compiler.get_identity_options(sa.Identity(**{name: getattr(new, name)}))
            parts.append(f"SET {text}" if text else f"SET {_IDENTITY_RESET[name]}")
    return f"{start} {' '.join(parts)}"


# An option given before and no more: its default again.
_IDENTITY_RESET = {
    "increment": "INCREMENT BY 1",
    "start": "START WITH 1",
    "minvalue": "NO MINVALUE",
    "maxvalue": "NO MAXVALUE",
    "nominvalue": "NO MINVALUE",
    "nomaxvalue": "NO MAXVALUE",
    "cycle": "NO CYCLE",
    "cache": "CACHE 1",
}


@compiles(AlterColumnNullable)
def _alter_column_nullable(element: AlterColumnNullable, compiler: DDLCompiler, **kw: Any) -> str:
    action = "DROP NOT NULL" if element.nullable else "SET NOT NULL"
    return f"{_alter_column(compiler, element)} {action}"


@compiles(AlterColumnDefault)
def _alter_column_default(element: AlterColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    if element.default is None:
        return f"{_alter_column(compiler, element)} DROP DEFAULT"
    default = format_default(compiler, element.default)
    return f"{_alter_column(compiler, element)} SET DEFAULT {default}"


@compiles(RenameTable)
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    # PostgreSQL and SQLite take a bare new name: the table stays in its schema.
    new_name = compiler.preparer.quote(element.new_name)
    return f"ALTER TABLE {_table(compiler, element.table)} RENAME TO {new_name}"


@compiles(CreateView)
def _create_view(element: CreateView, compiler: DDLCompiler, **kw: Any) -> str:
    if isinstance(element.definition, str):
        body = element.definition.strip().rstrip(";")
    else:
        assert isinstance(element.definition, sa.sql.ClauseElement)
        body = str(compiler.sql_compiler.process(element.definition, literal_binds=True))
    verb = "CREATE OR REPLACE VIEW" if element.or_replace else "CREATE VIEW"
    return f"{verb} {_table(compiler, element.table)} AS {body}"


@compiles(DropView)
def _drop_view(element: DropView, compiler: DDLCompiler, **kw: Any) -> str:
    guard = "IF EXISTS " if element.if_exists else ""
    return f"DROP VIEW {guard}{_table(compiler, element.table)}"


@compiles(RawDDL)
def _raw_ddl(element: RawDDL, compiler: DDLCompiler, **kw: Any) -> str:
    return element.sql
