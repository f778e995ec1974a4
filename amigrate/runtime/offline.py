"""Offline SQL (``--sql``): a plan rendered as a script, with no connection.

The dialect comes from the URL. Each revision (or the run) is between ``BEGIN``
and ``COMMIT``, as online: on MySQL too, whose DDL commits as it runs but whose
row changes commit with the version row; a revision that committed work of its
own (an autocommit block, MySQL's DDL) commits its version row with it even when
the run is one transaction. An upgrade or a stamp from base starts with
the version table's ``CREATE TABLE IF NOT EXISTS``, and a script with steps
with the history table's where it is missing: each step writes its history
row, as online; on MySQL, after a step's DDL (which
commits) its row changes begin a transaction again. The
script does what the online run does, so a downgrade to base keeps the (empty)
version table, as online (Alembic's offline SQL drops it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy.schema import CreateTable

from amigrate.errors import InvalidTarget
from amigrate.revisions import Plan, RevisionGraph
from amigrate.revisions.targets import Target, parse_range, parse_target
from amigrate.runtime.context import OfflineContext, schema_search_path
from amigrate.runtime.engine import dialect_for
from amigrate.runtime.history import HistoryTable
from amigrate.runtime.runner import Recorder, RevisionFunction, StepResult, apply_plan
from amigrate.runtime.versions import VersionTable

if TYPE_CHECKING:
    from amigrate.config import Config

__all__ = ["offline_ends", "render_plan", "render_version_table"]


def _names_current(end: Target) -> bool:
    """``current`` or ``current+N`` as written (a bare ``+N`` counts from base offline)."""
    return end.steps is None or (end.text or "").strip().lower().startswith("current")


def refuse_current(spec: str, example: str = "'upgrade <revision>:head --sql'") -> None:
    """Refuse ``current`` in an offline target: resolved without a database it would be
    base, and the script one from scratch."""
    given = parse_range(spec) if ":" in spec else (parse_target(spec),)
    if any(end is not None and end.kind == "current" and _names_current(end) for end in given):
        raise InvalidTarget(
            f"offline SQL has no database to read 'current' from, in {spec!r}",
            hint=f"name the revision the database is at ('amigrate current' shows it), "
            f"e.g. {example}",
        )


def offline_ends(graph: RevisionGraph, direction: str, spec: str) -> tuple[tuple[str, ...], str]:
    """Where an offline run starts (heads) and its target, from a target or ``from:to``."""
    refuse_current(spec)
    if ":" in spec:
        lower, upper = parse_range(spec)
        if direction == "up":
            start = graph.resolve(lower) if lower else ()
            if upper is not None:
                ends = graph.resolve(str(upper), start)
                backwards = [e for e in ends for s in start if graph.is_ancestor(e, s)]
                if backwards:
                    raise InvalidTarget(
                        f"the range {spec!r} runs backwards: {backwards[0]} is below {lower}",
                        hint=f"write it lower:upper, or 'amigrate downgrade {spec} --sql' "
                        "for the SQL that undoes them",
                    )
            return start, str(upper) if upper else "heads"
        if lower is None or upper is None:
            raise InvalidTarget(
                f"offline downgrade needs both ends of the range, not {spec!r}",
                hint="e.g. 'amigrate downgrade head:base --sql'",
            )
        return graph.resolve(lower), str(upper)
    if direction == "down":
        raise InvalidTarget(
            f"offline downgrade needs a range 'from:to', not {spec!r}",
            hint="offline there is no database to start from: e.g. 'downgrade head:base --sql'",
        )
    return (), spec


async def _create_tables(
    ctx: OfflineContext, versions: VersionTable | None, history: HistoryTable | None
) -> None:
    # IF NOT EXISTS, as online: a database that was downgraded to base (online, or with
    # this SQL) still has the version table; the history table is there after any run.
    await ctx.begin()
    if versions is not None:
        await ctx.execute(CreateTable(versions.table_for(ctx.dialect), if_not_exists=True))
    if history is not None:
        for statement in history.create_script(ctx.dialect):
            ctx.emit_text(statement)
    await ctx.commit()


def _context(
    config: Config, url: str, x_args: Mapping[str, str], schema: str | None
) -> OfflineContext:
    """A context for *url*'s dialect; for a schema target, the script starts in its schema."""
    ctx = OfflineContext(config, dialect_for(url), x_args)
    if schema is not None:
        # As online: the schema is created if missing, and unqualified names land there.
        search_path = schema_search_path(ctx.dialect, schema)
        quoted = ctx.dialect.identifier_preparer.quote_schema(schema)
        ctx.emit_text(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
        ctx.emit_text(search_path)
    return ctx


def _script(ctx: OfflineContext, schema: str | None) -> str:
    if schema is not None:
        ctx.emit_text("RESET search_path")  # a script for another target may follow
    return ctx.sql


async def render_version_table(
    config: Config,
    url: str,
    versions: VersionTable,
    x_args: Mapping[str, str],
    *,
    schema: str | None = None,
) -> str:
    """``CREATE TABLE`` of the version table, as a script (in the schema target *schema*)."""
    ctx = _context(config, url, x_args, schema)
    await _create_tables(ctx, versions, None)
    return _script(ctx, schema)


async def render_plan(
    plan: Plan,
    *,
    config: Config,
    url: str,
    versions: VersionTable,
    recorder: Recorder,
    functions: Mapping[str, RevisionFunction],
    messages: Mapping[str, str],
    x_args: Mapping[str, str],
    schema: str | None = None,
) -> tuple[str, list[StepResult]]:
    """The script of *plan* and its (rendered, not run) steps (in the schema target *schema*).

    As online, each step writes its row of the history (*recorder*'s), with the time
    and the database user of the session that runs the script.
    """
    ctx = _context(config, url, x_args, schema)
    starts = not plan.from_heads and plan.direction != "down"
    # The history table where it is missing (a database Alembic migrated has none), on
    # every database: on MySQL a step's DDL commits before its history row is written.
    records = bool(plan.steps) or plan.purge
    if starts or records:
        await _create_tables(ctx, versions if starts else None, recorder.table if records else None)
    if plan.purge:  # stamp --purge: the steps start from an empty table, as online
        await ctx.begin()
        if not plan.steps:
            await ctx.execute(recorder.purged(versions.table, ctx.dialect))
        await ctx.execute(versions.table.delete())
        await ctx.commit()
    steps = await apply_plan(
        ctx,
        versions,
        plan,
        functions,
        messages,
        per_migration=config.transaction_per_migration,
        recorder=recorder,
    )
    return _script(ctx, schema), steps
