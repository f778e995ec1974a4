"""Offline SQL (``--sql``): a plan rendered as a script, with no connection.

The dialect comes from the URL. Transactional dialects get ``BEGIN``/``COMMIT``
around each revision (or the run); an upgrade from base starts with the version
table's ``CREATE TABLE`` and a downgrade to base ends with its ``DROP TABLE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy.schema import CreateTable, DropTable

from amigrate.errors import InvalidTarget
from amigrate.revisions import Plan, RevisionGraph
from amigrate.revisions.targets import parse_range
from amigrate.runtime.context import OfflineContext
from amigrate.runtime.engine import dialect_for
from amigrate.runtime.runner import RevisionFunction, StepResult, apply_plan
from amigrate.runtime.versions import VersionTable

if TYPE_CHECKING:
    from amigrate.config import Config

__all__ = ["offline_ends", "render_plan", "render_version_table"]


def offline_ends(graph: RevisionGraph, direction: str, spec: str) -> tuple[tuple[str, ...], str]:
    """Where an offline run starts (heads) and its target, from a target or ``from:to``."""
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


async def _version_ddl(ctx: OfflineContext, versions: VersionTable, *, create: bool) -> None:
    await ctx.begin()
    await ctx.execute(CreateTable(versions.table) if create else DropTable(versions.table))
    await ctx.commit()


async def render_version_table(
    config: Config, url: str, versions: VersionTable, x_args: Mapping[str, str]
) -> str:
    """``CREATE TABLE`` of the version table, as a script."""
    ctx = OfflineContext(config, dialect_for(url), x_args)
    await _version_ddl(ctx, versions, create=True)
    return ctx.sql


async def render_plan(
    plan: Plan,
    *,
    config: Config,
    url: str,
    versions: VersionTable,
    functions: Mapping[str, RevisionFunction],
    messages: Mapping[str, str],
    x_args: Mapping[str, str],
) -> tuple[str, list[StepResult]]:
    """The script of *plan* and its (rendered, not run) steps."""
    ctx = OfflineContext(config, dialect_for(url), x_args)
    if not plan.from_heads and plan.direction != "down":
        await _version_ddl(ctx, versions, create=True)
    steps = await apply_plan(
        ctx,
        versions,
        plan,
        functions,
        messages,
        per_migration=config.transaction_per_migration,
    )
    if plan.direction == "down" and not plan.to_heads:
        await _version_ddl(ctx, versions, create=False)
    return ctx.sql, steps
