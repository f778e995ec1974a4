"""PostgreSQL: named types (enums, domains) created and dropped with their tables.

SQLAlchemy creates a table's ENUM types with the table and drops them with it
(``Table.create()`` / ``Table.drop()``); amigrate does the same for
``create_table`` / ``drop_table``, ``add_column`` / ``drop_column``, and an
``alter_column`` to a new enum type (created first, the values cast through text:
``USING col::text::type``; the old enum dropped when nothing uses it). Online it
looks at the catalog: a type that already exists is not created again, and a
type is dropped only when no other column still uses it. Offline SQL looks when
the script runs: the same catalog queries in a ``DO`` block (PL/pgSQL) around
the statements, so that the script does what the online run does. (``compile_op``
alone, which sees no catalog, creates the types of a new table or column and
drops only those a ``drop_table`` op knows: its ``definition``.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.named_types import (
    DOMAIN,
    ENUM,
    CreateDomainType,
    CreateEnumType,
    DropEnumType,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from amigrate.dialects import generic
from amigrate.dialects.ddl import RawDDL, format_default
from amigrate.dialects.registry import (
    CompiledOp,
    Executor,
    compile_op,
    register,
    register_applier,
    run_compiled,
)
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableOp,
    DropColumnOp,
    DropTableOp,
)

__all__ = ["named_types"]


def named_types(columns: Iterable[sa.Column[Any]], dialect: Dialect) -> list[ENUM | DOMAIN]:
    """The named types (ENUM, DOMAIN) of *columns* that are created with their table."""
    found: dict[tuple[str | None, str], ENUM | DOMAIN] = {}
    for column in columns:
        impl = _element_type(column, dialect)
        if isinstance(impl, ENUM | DOMAIN) and impl.create_type:
            assert impl.name is not None
            found.setdefault((impl.schema, impl.name), impl)
    return list(found.values())


def _uses_enum(columns: Iterable[sa.Column[Any]], dialect: Dialect) -> bool:
    """Whether any of *columns* is of an enum type (or an array of one)."""
    return any(isinstance(_element_type(column, dialect), ENUM) for column in columns)


def _element_type(column: sa.Column[Any], dialect: Dialect) -> Any:
    """The column's type on *dialect*; of an array, its items' (an array of enums needs
    the enum); of a TypeDecorator, the type it stores as (as SQLAlchemy's create_all
    creates the enum a decorator wraps)."""
    impl = _stored_type(column.type, dialect)
    if isinstance(impl, sa.ARRAY):
        impl = _stored_type(impl.item_type, dialect)
    return impl


def _stored_type(type_: Any, dialect: Dialect) -> Any:
    if not isinstance(type_, _MAY_BE_NAMED) and not type_._variant_mapping:
        return type_  # no need to adapt it to the dialect (a millisecond per ten columns)
    impl = type_.dialect_impl(dialect)
    while isinstance(impl, sa.TypeDecorator):  # a decorator over a decorator...
        impl = impl.impl_instance.dialect_impl(dialect)
    return impl


#: The types whose dialect implementation may be a named type (or an array of one).
_MAY_BE_NAMED = (sa.types.SchemaType, sa.ARRAY, sa.TypeDecorator)


def _create_type(named: ENUM | DOMAIN) -> Executable:
    if isinstance(named, DOMAIN):
        return CreateDomainType(named)
    return CreateEnumType(named)


@register(CreateTableOp, "postgresql")
def _create_table(op: CreateTableOp, dialect: Dialect) -> CompiledOp:
    compiled = generic.create_table(op, dialect)
    table: sa.Table = compiled.result
    types = [_create_type(t) for t in named_types(table.columns, dialect)]
    return CompiledOp(types + compiled.statements, result=table)


@register(AddColumnOp, "postgresql")
def _add_column(op: AddColumnOp, dialect: Dialect) -> CompiledOp:
    table, statements = generic.add_column_statements(op, dialect)
    types = [_create_type(t) for t in named_types(table.columns, dialect)]
    return CompiledOp(types + statements)


@register(DropTableOp, "postgresql")
def _drop_table(op: DropTableOp, dialect: Dialect) -> CompiledOp:
    compiled = generic.drop_table(op, dialect)
    if op.definition is not None:
        for named in named_types(op.definition.columns, dialect):
            if isinstance(named, ENUM):
                compiled.statements.append(DropEnumType(named))
    return compiled


def _new_enum(op: AlterColumnOp, dialect: Dialect) -> ENUM | None:
    """The named enum type an alter_column changes the column to, if any."""
    if op.type_ is None:
        return None
    column: sa.Column[Any] = sa.Column(op.column_name, op.type_)
    found = [t for t in named_types([column], dialect) if isinstance(t, ENUM)]
    return found[0] if found else None


def _through_text(enum: ENUM, type_: Any, dialect: Dialect) -> str:
    """``::text::mood``: the cast that takes text (or another enum) to *enum*; for an array
    of it (*type_*), ``::text[]::mood[]`` (any number of dimensions)."""
    preparer = dialect.identifier_preparer
    assert enum.name is not None
    target = preparer.quote(enum.name)
    if enum.schema:
        target = f"{preparer.quote_schema(enum.schema)}.{target}"
    dims = "[]" if isinstance(_stored_type(type_, dialect), sa.ARRAY) else ""
    return f"::text{dims}::{target}{dims}"


def _with_enum_cast(op: AlterColumnOp, enum: ENUM, dialect: Dialect) -> AlterColumnOp:
    """No implicit cast turns text (or another enum) into an enum: cast through text,
    unless the revision gave its own ``postgresql_using``."""
    if op.postgresql_using is not None:
        return op
    cast = _through_text(enum, op.type_, dialect)
    using = f"{dialect.identifier_preparer.quote(op.column_name)}{cast}"
    return dataclasses.replace(op, postgresql_using=using)


def _keeping_default(
    op: AlterColumnOp, enum: ENUM, dialect: Dialect, current: str | None
) -> AlterColumnOp:
    """A default the op leaves as it is (*current*: its SQL, read from the catalog, or the
    op's ``existing_server_default``) cannot be cast to the enum by PostgreSQL: it is
    dropped before the type changes and set again after, cast through text."""
    if op.server_default is not False:
        return op  # (changed: generic.alter_column drops it first and sets the new one)
    existing = op.existing_server_default
    if current is None and isinstance(existing, str | sa.sql.ClauseElement):
        current = format_default(dialect.ddl_compiler(dialect, cast(Any, None)), existing)
    if current is None:
        return op
    default = sa.text(f"({current}){_through_text(enum, op.type_, dialect)}")
    return dataclasses.replace(op, server_default=default)


@register(AlterColumnOp, "postgresql")
def _alter_column(op: AlterColumnOp, dialect: Dialect) -> CompiledOp:
    enum = _new_enum(op, dialect)
    if enum is None:
        return generic.alter_column(op, dialect)
    changed = _keeping_default(_with_enum_cast(op, enum, dialect), enum, dialect, None)
    compiled = generic.alter_column(changed, dialect)
    return CompiledOp([_create_type(enum), *compiled.statements])


async def _column_default(
    executor: Executor, table: str, schema: str | None, column: str
) -> str | None:
    """The column's default as PostgreSQL writes it (None: it has none)."""
    found = await executor.execute(
        sa.text(
            "SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d\n"
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum\n"
            "JOIN pg_catalog.pg_class c ON c.oid = d.adrelid\n"
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "WHERE c.relname = :table AND a.attname = :column\n"
            "AND n.nspname = coalesce(:schema, current_schema())"
        ).bindparams(table=table, column=column, schema=schema)
    )
    value = found.scalar()
    return str(value) if value is not None else None


# -- the catalog queries (online they run as they are; offline inside a DO block) ---------

_TYPE_EXISTS = sa.text(
    "SELECT t.oid FROM pg_catalog.pg_type t\n"
    "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace\n"
    "WHERE t.typname = :name AND n.nspname = coalesce(:schema, current_schema())"
)

# The enum types a table's columns (or one column) use, directly or as arrays.
_ENUMS_OF_TABLE = sa.text(
    "SELECT DISTINCT t.oid, t.typarray, tn.nspname, t.typname,\n"
    "    tn.nspname = current_schema() AS in_current\n"
    "FROM pg_catalog.pg_attribute a\n"
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid\n"
    "JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace\n"
    "JOIN pg_catalog.pg_type at ON at.oid = a.atttypid\n"
    "JOIN pg_catalog.pg_type t ON t.oid =\n"
    "    CASE WHEN at.typelem <> 0 AND at.typlen = -1 THEN at.typelem ELSE at.oid END\n"
    "JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace\n"
    "WHERE c.relname = :table AND cn.nspname = coalesce(:schema, current_schema())\n"
    "AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e'\n"
)

# A type by its oid (None: it is gone), and whether it is in the current schema.
_TYPE_BY_OID = sa.text(
    "SELECT t.typarray, n.nspname, t.typname, n.nspname = current_schema() AS in_current\n"
    "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace\n"
    "WHERE t.oid = :oid"
)

# Whether the database has any enum type at all (one small table, planned quickly).
_ANY_ENUM = sa.text("SELECT 1 FROM pg_catalog.pg_type WHERE typtype = 'e' LIMIT 1")

# Whether anything but the type's own array type still depends on it (columns,
# functions, other types): then it stays.
_TYPE_IN_USE_SQL = (
    "SELECT count(*) FROM pg_catalog.pg_depend d\n"
    "WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype <> 'i'\n"
    "AND d.refobjid IN ({oid}, {array_oid})"
)
_TYPE_IN_USE = sa.text(_TYPE_IN_USE_SQL.format(oid=":oid", array_oid=":array_oid"))


def _enums_query(
    table: str, schema: str | None, column: str | None, *, indent: int = 0
) -> sa.TextClause:
    """The enum types the table's columns (or *column*) use, ordered by schema and name
    (its lines after the first *indent*-ed, for a DO block)."""
    sql = _ENUMS_OF_TABLE.text
    params = {"table": table, "schema": schema}
    if column is not None:
        sql += "AND a.attname = :column\n"
        params["column"] = column
    sql = _indented(sql + "ORDER BY tn.nspname, t.typname", indent)
    return sa.text(sql).bindparams(*_strings(params))


def _type_exists_query(named: ENUM | DOMAIN, *, indent: int = 0) -> sa.TextClause:
    sql = _indented(_TYPE_EXISTS.text, indent)
    return sa.text(sql).bindparams(*_strings({"name": named.name, "schema": named.schema}))


def _strings(values: dict[str, str | None]) -> list[sa.BindParameter[str]]:
    # Typed, so that offline SQL can render them (None as NULL).
    return [sa.bindparam(key, value, type_=sa.String) for key, value in values.items()]


# -- offline: the same look, when the script runs ------------------------------------------

#: PL/pgSQL variables of the blocks below (named so that no column is taken for them).
_FOUND, _ROW = "amigrate_enums", "amigrate_enum"


def _sql(statement: Executable, dialect: Dialect) -> str:
    """*statement* with its values written in (not re-indented: a value may hold a newline)."""
    assert isinstance(statement, sa.sql.ClauseElement)
    text = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(text).strip()


def _indented(text: str, indent: int) -> str:
    """amigrate's own SQL *text* with its lines after the first indented (before any value
    is written into it)."""
    return text.replace("\n", "\n" + " " * indent)


def _do_block(lines: list[str]) -> RawDDL:
    """``DO $$ ... $$``: a PL/pgSQL block of *lines*, dollar-quoted with a tag they lack."""
    body = "\n".join(lines)
    tag, number = "$$", 0
    while tag in body:
        number += 1
        tag = f"$amigrate{number}$"
    return RawDDL(f"DO {tag}\n{body}\n{tag}")


#: The session setting where an offline script notes the enum types to drop at the end
#: of the revision (oids, comma-separated): online, ``revision_state``.
_SETTING = "amigrate.drop_types"
_NOTED = f"pg_catalog.string_to_array(pg_catalog.current_setting('{_SETTING}', true), ',')::oid[]"


def _create_if_missing(named: ENUM | DOMAIN, dialect: Dialect, replacing: bool) -> list[str]:
    """PL/pgSQL lines that create *named* unless it exists (online: ``_create_missing_types``);
    *replacing*: an unused type of the name noted to drop is dropped first."""
    lines = []
    if replacing and isinstance(named, ENUM):
        unused = _TYPE_IN_USE_SQL.format(oid="t.oid", array_oid="t.typarray")
        sql = f"{_TYPE_EXISTS.text}\nAND t.oid = ANY ({_NOTED})\nAND ({unused}) = 0"
        noted = sa.text(_indented(sql, 15)).bindparams(
            *_strings({"name": named.name, "schema": named.schema})
        )
        lines += [
            f"    IF EXISTS ({_sql(noted, dialect)}) THEN",
            f"        {_sql(DropEnumType(named), dialect)};",
            "    END IF;",
        ]
    return [
        *lines,
        f"    IF NOT EXISTS ({_sql(_type_exists_query(named, indent=19), dialect)}) THEN",
        f"        {_sql(_create_type(named), dialect)};",
        "    END IF;",
    ]


def _offline_creating(
    types: list[ENUM | DOMAIN], statements: list[Executable], executor: Executor
) -> CompiledOp:
    """The named types created where missing, then *statements*."""
    if not types:
        return CompiledOp(statements)
    lines = ["BEGIN"]
    replacing = _PENDING_DROPS in executor.revision_state
    for named in types:
        lines += _create_if_missing(named, executor.dialect, replacing)
    return CompiledOp([_do_block([*lines, "END;"]), *statements])


def _offline_dropping(
    op: DropTableOp | DropColumnOp | AlterColumnOp,
    column: str | None,
    statements: list[Executable],
    executor: Executor,
    create: ENUM | None = None,
) -> CompiledOp:
    """*statements* in a block that, as online, first notes the enum types the table (or
    *column*) uses, creates *create* if missing, and after them notes those types (in a
    session setting) to drop at the end of the revision if nothing uses them then."""
    dialect = executor.dialect
    replacing = _PENDING_DROPS in executor.revision_state
    found = _sql(_enums_query(op.table_name, op.schema, column, indent=8), dialect)
    lines = [
        "DECLARE",
        f"    {_FOUND} oid[] := ARRAY(SELECT q.oid FROM (",
        f"        {found}",
        "    ) AS q);",
        "BEGIN",
        *(_create_if_missing(create, dialect, replacing) if create is not None else []),
        *(f"    {_sql(statement, dialect)};" for statement in statements),
        f"    PERFORM pg_catalog.set_config('{_SETTING}', concat_ws(',',",
        f"        nullif(pg_catalog.current_setting('{_SETTING}', true), ''),",
        f"        nullif(array_to_string({_FOUND}, ','), '')), false);",
        "END;",
    ]
    executor.revision_state[_PENDING_DROPS] = {}

    async def drop() -> None:
        await run_compiled(CompiledOp([_offline_drop_noted()]), executor)

    executor.after_revision(_PENDING_DROPS, drop)
    return CompiledOp([_do_block(lines)])


def _offline_drop_noted() -> RawDDL:
    """The block that drops, at the end of the revision, the noted types nothing uses."""
    in_use = _TYPE_IN_USE_SQL.format(oid=f"{_ROW}.oid", array_oid=f"{_ROW}.typarray")
    return _do_block(
        [
            "DECLARE",
            f"    {_ROW} record;",
            "BEGIN",
            f"    FOR {_ROW} IN SELECT t.oid, t.typarray, n.nspname, t.typname",
            "        FROM pg_catalog.pg_type t",
            "        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace",
            f"        WHERE t.oid = ANY ({_NOTED})",
            "        ORDER BY n.nspname, t.typname",
            "    LOOP",
            f"        IF ({_indented(in_use, 12)}) = 0 THEN",
            f"            EXECUTE format('DROP TYPE %I.%I', {_ROW}.nspname, {_ROW}.typname);",
            "        END IF;",
            "    END LOOP;",
            f"    PERFORM pg_catalog.set_config('{_SETTING}', '', false);",
            "END;",
        ]
    )


# -- online: look at the catalog ---------------------------------------------------------


async def _create_missing_types(executor: Executor, types: list[ENUM | DOMAIN]) -> None:
    pending: dict[int, Any] = executor.revision_state.get(_PENDING_DROPS, {})
    for named in types:
        found = (await executor.execute(_type_exists_query(named))).first()
        if found is not None and found[0] in pending and await _drop_if_unused(executor, found[0]):
            # A type of this name that the revision left unused (it dropped its table):
            # the new definition replaces it, as if it had been dropped at once.
            del pending[found[0]]
            found = None
        if found is None:
            await executor.execute(_create_type(named))


#: The enum types a revision's drop_table / drop_column / alter_column left unused.
_PENDING_DROPS = "postgresql.enum_drops"


def _drop_when_unused(executor: Executor, found: list[Any]) -> None:
    """Drop the enum types *found* at the end of the revision, those that nothing uses then.

    Not at once: a revision written for Alembic (which never drops them) does it itself
    (``op.execute("DROP TYPE mood")`` after ``drop_table``), or gives a column the type
    again (``create_type=False``); by its end, what it meant is clear. A type is known by
    its oid: one the revision dropped, or dropped and created anew, is left alone.
    """
    if not found:
        return
    pending: dict[int, Any] = executor.revision_state.setdefault(_PENDING_DROPS, {})
    for row in found:
        pending.setdefault(row[0], row)

    async def drop() -> None:
        for oid in executor.revision_state.pop(_PENDING_DROPS, {}):
            await _drop_if_unused(executor, oid)

    executor.after_revision(_PENDING_DROPS, drop)


async def _drop_if_unused(executor: Executor, oid: int) -> bool:
    """Drop the type *oid* if it exists and nothing uses it; return whether it was dropped."""
    found = (await executor.execute(_TYPE_BY_OID.bindparams(oid=oid))).first()
    if found is None:
        return False  # the revision dropped it itself
    array_oid, schema, name, in_current = found
    users = await executor.execute(_TYPE_IN_USE.bindparams(oid=oid, array_oid=array_oid))
    if users.scalar() != 0:
        return False
    await executor.execute(DropEnumType(ENUM(name=name, schema=None if in_current else schema)))
    return True


@register_applier(CreateTableOp, "postgresql")
async def _apply_create_table(op: CreateTableOp, executor: Executor) -> Any:
    dialect = executor.dialect
    compiled = generic.create_table(op, dialect)
    types = named_types(compiled.result.columns, dialect)
    if executor.as_sql:
        await run_compiled(_offline_creating(types, compiled.statements, executor), executor)
        return compiled.result
    await _create_missing_types(executor, types)
    return await run_compiled(compiled, executor)


@register_applier(AddColumnOp, "postgresql")
async def _apply_add_column(op: AddColumnOp, executor: Executor) -> Any:
    dialect = executor.dialect
    table, statements = generic.add_column_statements(op, dialect)
    types = named_types(table.columns, dialect)
    if executor.as_sql:
        return await run_compiled(_offline_creating(types, statements, executor), executor)
    await _create_missing_types(executor, types)
    return await run_compiled(CompiledOp(statements), executor)


async def _enums_of(executor: Executor, table: str, schema: str | None, column: str | None) -> Any:
    # No enum type in the database: skip the join over the catalogs, which is planned
    # anew in every step that has just run DDL (a millisecond or more). Once seen, that
    # holds until the run does something that could create one (see ``catalog``), so
    # dropping a thousand tables asks once.
    if executor.catalog.get("postgresql.no_enums"):
        return []
    if (await executor.execute(_ANY_ENUM)).first() is None:
        executor.catalog["postgresql.no_enums"] = True
        return []
    result = await executor.execute(_enums_query(table, schema, column))
    return result.all()


@register_applier(DropTableOp, "postgresql")
async def _apply_drop_table(op: DropTableOp, executor: Executor) -> None:
    compiled = generic.drop_table(op, executor.dialect)
    if executor.as_sql:
        known = op.definition
        if known is not None and not _uses_enum(known.columns, executor.dialect):
            await run_compiled(compiled, executor)  # no enum type to drop with it
        else:
            offline = _offline_dropping(op, None, compiled.statements, executor)
            await run_compiled(offline, executor)
        return
    found = await _enums_of(executor, op.table_name, op.schema, None)
    await run_compiled(compiled, executor)
    _drop_when_unused(executor, found)


@register_applier(DropColumnOp, "postgresql")
async def _apply_drop_column(op: DropColumnOp, executor: Executor) -> None:
    compiled = generic.drop_column(op, executor.dialect)
    if executor.as_sql:
        offline = _offline_dropping(op, op.column_name, compiled.statements, executor)
        await run_compiled(offline, executor)
        return
    found = await _enums_of(executor, op.table_name, op.schema, op.column_name)
    await run_compiled(compiled, executor)
    _drop_when_unused(executor, found)


@register_applier(AlterColumnOp, "postgresql")
async def _apply_alter_column(op: AlterColumnOp, executor: Executor) -> None:
    dialect = executor.dialect
    enum = _new_enum(op, dialect)
    if enum is None and op.type_ is None:
        await run_compiled(compile_op(op, dialect), executor)
        return
    changed = op if enum is None else _with_enum_cast(op, enum, dialect)
    if enum is not None and op.server_default is False and not executor.as_sql:
        current = await _column_default(executor, op.table_name, op.schema, op.column_name)
        changed = _keeping_default(changed, enum, dialect, current)
    elif enum is not None:
        changed = _keeping_default(changed, enum, dialect, None)
    compiled = generic.alter_column(changed, dialect)
    # A domain the column now is of is created where missing, as create_table does.
    column: sa.Column[Any] = sa.Column(op.column_name, op.type_)
    domains: list[ENUM | DOMAIN] = [
        t for t in named_types([column], dialect) if isinstance(t, DOMAIN)
    ]
    if executor.as_sql:
        if domains:
            await run_compiled(_offline_creating(domains, [], executor), executor)
        was = op.existing_type
        if enum is None and was is not None and not _uses_enum([sa.Column("c", was)], dialect):
            # Neither type an enum (as the revision says the column is now): no type
            # to create or drop.
            await run_compiled(compiled, executor)
        else:
            offline = _offline_dropping(op, op.column_name, compiled.statements, executor, enum)
            await run_compiled(offline, executor)
        return
    # The column's enum now, dropped after the change if nothing else uses it.
    found = await _enums_of(executor, op.table_name, op.schema, op.column_name)
    await _create_missing_types(executor, [*domains, *([enum] if enum is not None else [])])
    await run_compiled(compiled, executor)
    _drop_when_unused(executor, found)
