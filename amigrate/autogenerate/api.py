"""Compare the models with a live database: on a connection, or through a Migrator.

:func:`compare_database` reflects the database on an ``AsyncConnection``
(``run_sync`` around SQLAlchemy's inspector) and compares. ``Migrator.compare``
and :func:`compare` add what the commands need: env.py's settings and
``target_metadata``, amigrate's own tables left out, and a refusal when the
database is not at head (a revision written against an older schema would
repeat the changes that are still to be applied).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from amigrate.autogenerate.compare import compare_metadata
from amigrate.autogenerate.diff import SchemaDiff
from amigrate.autogenerate.options import AutogenerateOptions, CompareContext, resolve_metadata
from amigrate.autogenerate.snapshot import Snapshot, reflect, schema_names
from amigrate.errors import CommandError

if TYPE_CHECKING:
    from amigrate.config import Config
    from amigrate.revisions import RevisionGraph
    from amigrate.scripts.loader import EnvHooks

__all__ = ["check_at_head", "compare", "compare_database", "options_for"]


async def compare_database(
    connection: AsyncConnection,
    metadata: sa.MetaData | Iterable[sa.MetaData],
    options: AutogenerateOptions | None = None,
    *,
    context: CompareContext | None = None,
) -> SchemaDiff:
    """The differences between *metadata* and the database *connection* is on.

    Reads only (one reflection pass, no transaction is committed). *options*
    default to Alembic's defaults: types compared, server defaults not, the
    default schema only.
    """
    settings: AutogenerateOptions = options if options is not None else AutogenerateOptions()

    def read(conn: sa.Connection) -> tuple[Snapshot, frozenset[tuple[str | None, str]]]:
        default = sa.inspect(conn).default_schema_name
        # The excluded tables as reflection keys them (the default schema is None).
        excluded = frozenset(
            (None if schema == default else schema, name)
            for schema, name in settings.exclude_tables
        )
        schemas: list[str | None] = [None]
        if settings.include_schemas:
            schemas = [
                s for s in schema_names(conn) if s is None or settings.name_included(s, "schema")
            ]

        def include(schema: str | None, name: str) -> bool:
            if (schema, name) in excluded:
                return False
            return settings.name_included(name, "table", {"schema_name": schema})

        return reflect(conn, schemas, include_table=include), excluded

    snapshot, excluded = await connection.run_sync(read)
    context = context or CompareContext(connection.dialect)
    final = replace(settings, exclude_tables=excluded)
    return compare_metadata(metadata, snapshot, connection.dialect, final, context)


def options_for(env: EnvHooks, **overrides: Any) -> AutogenerateOptions:
    """The autogenerate settings env.py defines, with *overrides* on top."""
    return AutogenerateOptions.from_env(env.module, **overrides)


def check_at_head(heads: Sequence[str], graph: RevisionGraph, database: str | None) -> None:
    """Refuse, with a clear error, unless the database's heads are the history's heads."""
    if graph.is_fully_applied(heads):
        return
    expected = graph.effective_heads
    where = f"database {database!r}" if database else "the database"
    at = ", ".join(heads) or "<base>"
    raise CommandError(
        f"{where} is at {at}, not at the head {', '.join(expected)}: "
        "the models can only be compared with a database that has every revision applied",
        hint="run 'amigrate upgrade heads' first",
    )


async def compare_migrator(
    connection: AsyncConnection,
    heads: Sequence[str],
    *,
    graph: RevisionGraph,
    config: Config,
    env: EnvHooks,
    exclude: Iterable[tuple[str | None, str]],
    metadata: Any = None,
    database: str | None = None,
    check_heads: bool = True,
) -> SchemaDiff:
    """What ``Migrator.compare`` does once it has a connection and the database's heads."""
    if check_heads:
        check_at_head(heads, graph, database)
    models = resolve_metadata(env.target_metadata if metadata is None else metadata, database)
    options = options_for(env, exclude_tables=frozenset(exclude))
    context = CompareContext(connection.dialect, config, database)
    diff = await compare_database(connection, models, options, context=context)
    return replace(diff, database=database)


async def compare(
    config: Config | str | os.PathLike[str],
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    x_args: Mapping[str, str] | None = None,
    metadata: Any = None,
) -> SchemaDiff:
    """Compare env.py's ``target_metadata`` (or *metadata*) with the database, at head.

    The awaitable form of ``amigrate check``: an empty result means the
    models and the database match.
    """
    from amigrate.migrator import Migrator

    async with Migrator(
        config, engine=engine, connection=connection, url=url, x_args=x_args
    ) as migrator:
        return await migrator.compare(metadata)
