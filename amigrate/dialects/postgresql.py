"""PostgreSQL: named types (enums, domains) created and dropped with their tables.

SQLAlchemy creates a table's ENUM types with the table and drops them with it
(``Table.create()`` / ``Table.drop()``); amigrate does the same for
``create_table`` / ``drop_table``, ``add_column`` / ``drop_column``, and an
``alter_column`` to a new enum type (created first, the values cast through text:
``USING col::text::type``; the old enum dropped when nothing uses it). Online it
looks at the catalog: a type that already exists is not created again, and a
type is dropped only when no other column still uses it. Offline SQL cannot
look, so it creates the types of a new table or column and drops only those a
``drop_table`` op knows (its ``definition``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

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
        impl = column.type.dialect_impl(dialect)
        if isinstance(impl, sa.ARRAY):  # an array of enums needs the enum
            impl = impl.item_type.dialect_impl(dialect)
        if isinstance(impl, ENUM | DOMAIN) and impl.create_type:
            assert impl.name is not None
            found.setdefault((impl.schema, impl.name), impl)
    return list(found.values())


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


def _with_enum_cast(op: AlterColumnOp, enum: ENUM, dialect: Dialect) -> AlterColumnOp:
    """No implicit cast turns text (or another enum) into an enum: cast through text,
    unless the revision gave its own ``postgresql_using``."""
    if op.postgresql_using is not None:
        return op
    preparer = dialect.identifier_preparer
    assert enum.name is not None
    target = preparer.quote(enum.name)
    if enum.schema:
        target = f"{preparer.quote_schema(enum.schema)}.{target}"
    using = f"{preparer.quote(op.column_name)}::text::{target}"
    return dataclasses.replace(op, postgresql_using=using)


@register(AlterColumnOp, "postgresql")
def _alter_column(op: AlterColumnOp, dialect: Dialect) -> CompiledOp:
    enum = _new_enum(op, dialect)
    if enum is None:
        return generic.alter_column(op, dialect)
    compiled = generic.alter_column(_with_enum_cast(op, enum, dialect), dialect)
    return CompiledOp([_create_type(enum), *compiled.statements])


# -- online: look at the catalog ---------------------------------------------------------

_TYPE_EXISTS = sa.text(
    "SELECT 1 FROM pg_catalog.pg_type t "
    "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "WHERE t.typname = :name AND n.nspname = coalesce(:schema, current_schema())"
)

# The enum types a table's columns (or one column) use, directly or as arrays.
_ENUMS_OF_TABLE = sa.text(
    "SELECT DISTINCT t.oid, t.typarray, tn.nspname, t.typname, "
    "tn.nspname = current_schema() AS in_current "
    "FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace "
    "JOIN pg_catalog.pg_type at ON at.oid = a.atttypid "
    "JOIN pg_catalog.pg_type t ON t.oid = "
    "  CASE WHEN at.typelem <> 0 AND at.typlen = -1 THEN at.typelem ELSE at.oid END "
    "JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace "
    "WHERE c.relname = :table AND cn.nspname = coalesce(:schema, current_schema()) "
    "AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e' "
)

# Whether the database has any enum type at all (one small table, planned quickly).
_ANY_ENUM = sa.text("SELECT 1 FROM pg_catalog.pg_type WHERE typtype = 'e' LIMIT 1")

# Whether anything but the type's own array type still depends on it (columns,
# functions, other types): then it stays.
_TYPE_IN_USE = sa.text(
    "SELECT count(*) FROM pg_catalog.pg_depend d "
    "WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype <> 'i' "
    "AND d.refobjid IN (:oid, :array_oid)"
)


async def _create_missing_types(executor: Executor, types: list[ENUM | DOMAIN]) -> None:
    for named in types:
        found = await executor.execute(
            _TYPE_EXISTS.bindparams(
                sa.bindparam("schema", type_=sa.String), name=named.name, schema=named.schema
            )
        )
        if found.first() is None:
            await executor.execute(_create_type(named))


@register_applier(CreateTableOp, "postgresql")
async def _apply_create_table(op: CreateTableOp, executor: Executor) -> Any:
    if executor.as_sql:
        return await run_compiled(compile_op(op, executor.dialect), executor)
    compiled = generic.create_table(op, executor.dialect)
    await _create_missing_types(executor, named_types(compiled.result.columns, executor.dialect))
    return await run_compiled(compiled, executor)


@register_applier(AddColumnOp, "postgresql")
async def _apply_add_column(op: AddColumnOp, executor: Executor) -> Any:
    if executor.as_sql:
        return await run_compiled(compile_op(op, executor.dialect), executor)
    table, statements = generic.add_column_statements(op, executor.dialect)
    await _create_missing_types(executor, named_types(table.columns, executor.dialect))
    return await run_compiled(CompiledOp(statements), executor)


async def _drop_unused_enums(executor: Executor, found: list[Any]) -> None:
    for oid, array_oid, schema, name, in_current in found:
        users = await executor.execute(_TYPE_IN_USE.bindparams(oid=oid, array_oid=array_oid))
        if users.scalar() == 0:
            enum = ENUM(name=name, schema=None if in_current else schema)
            await executor.execute(DropEnumType(enum))


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
    sql = _ENUMS_OF_TABLE.text
    params: dict[str, Any] = {"table": table, "schema": schema}
    if column is not None:
        sql += "AND a.attname = :column "
        params["column"] = column
    query = sa.text(sql + "ORDER BY tn.nspname, t.typname").bindparams(
        sa.bindparam("schema", type_=sa.String), **params
    )
    result = await executor.execute(query)
    return result.all()


@register_applier(DropTableOp, "postgresql")
async def _apply_drop_table(op: DropTableOp, executor: Executor) -> None:
    if executor.as_sql:
        await run_compiled(compile_op(op, executor.dialect), executor)
        return
    found = await _enums_of(executor, op.table_name, op.schema, None)
    await run_compiled(generic.drop_table(op, executor.dialect), executor)
    await _drop_unused_enums(executor, found)


@register_applier(DropColumnOp, "postgresql")
async def _apply_drop_column(op: DropColumnOp, executor: Executor) -> None:
    if executor.as_sql:
        await run_compiled(compile_op(op, executor.dialect), executor)
        return
    found = await _enums_of(executor, op.table_name, op.schema, op.column_name)
    await run_compiled(generic.drop_column(op, executor.dialect), executor)
    await _drop_unused_enums(executor, found)


@register_applier(AlterColumnOp, "postgresql")
async def _apply_alter_column(op: AlterColumnOp, executor: Executor) -> None:
    enum = _new_enum(op, executor.dialect)
    if executor.as_sql or (enum is None and op.type_ is None):
        await run_compiled(compile_op(op, executor.dialect), executor)
        return
    # The column's enum now, dropped after the change if nothing else uses it.
    found = await _enums_of(executor, op.table_name, op.schema, op.column_name)
    if enum is not None:
        await _create_missing_types(executor, [enum])
        op = _with_enum_cast(op, enum, executor.dialect)
    await run_compiled(generic.alter_column(op, executor.dialect), executor)
    await _drop_unused_enums(executor, found)
