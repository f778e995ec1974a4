"""One-shot awaitables: ``await amigrate.upgrade(config, "head")`` and friends.

Each opens a :class:`~amigrate.migrator.Migrator`, does one thing and closes it.
``config`` is a :class:`~amigrate.config.Config` or the path of a config file.
With ``engine=`` (the application's ``AsyncEngine``) or ``connection=``,
amigrate uses it and leaves it open; otherwise it makes an engine from the URL
and disposes it. Results are returned, never printed, and logging is never
reconfigured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from amigrate.config import Config
from amigrate.migrator import Migrator, RunResult
from amigrate.revisions import Plan
from amigrate.runtime.history import HistoryEntry
from amigrate.runtime.runner import StepCallback
from amigrate.runtime.validation import ValidationReport

__all__ = ["current", "downgrade", "ensure_version", "log", "plan", "stamp", "upgrade", "validate"]

ConfigLike = Config | str | os.PathLike[str]


def _migrator(
    config: ConfigLike,
    engine: AsyncEngine | None,
    connection: AsyncConnection | None,
    url: str | None,
    x_args: Mapping[str, str] | None,
    on_step: StepCallback | None = None,
    lock_timeout: float | None = None,
) -> Migrator:
    return Migrator(
        config,
        engine=engine,
        connection=connection,
        url=url,
        x_args=x_args,
        on_step=on_step,
        lock_timeout=lock_timeout,
    )


async def upgrade(
    config: ConfigLike,
    target: str = "head",
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    x_args: Mapping[str, str] | None = None,
    on_step: StepCallback | None = None,
    lock_timeout: float | None = None,
    force: bool = False,
) -> RunResult:
    """Upgrade the database to *target* (default ``head``) and return what ran.

    Waits for the migration lock (at most *lock_timeout* seconds, default the
    config's ``lock_timeout``), then re-reads the heads, plans and applies.
    *force* runs even over a failure recorded in the history.
    """
    async with _migrator(config, engine, connection, url, x_args, on_step, lock_timeout) as m:
        return await m.upgrade(target, force=force)


async def downgrade(
    config: ConfigLike,
    target: str,
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    x_args: Mapping[str, str] | None = None,
    on_step: StepCallback | None = None,
    lock_timeout: float | None = None,
    force: bool = False,
) -> RunResult:
    """Downgrade the database to *target* (``-1``, ``base``, an id) and return what ran.

    Waits for the migration lock (at most *lock_timeout* seconds, default the
    config's ``lock_timeout``), then re-reads the heads, plans and applies.
    """
    async with _migrator(config, engine, connection, url, x_args, on_step, lock_timeout) as m:
        return await m.downgrade(target, force=force)


async def stamp(
    config: ConfigLike,
    revisions: str | Sequence[str],
    *,
    purge: bool = False,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    lock_timeout: float | None = None,
) -> RunResult:
    """Record *revisions* as the database's heads without running them."""
    async with _migrator(config, engine, connection, url, None, None, lock_timeout) as m:
        return await m.stamp(revisions, purge=purge)


async def current(
    config: ConfigLike,
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
) -> tuple[str, ...]:
    """The heads recorded in the database (read-only)."""
    async with _migrator(config, engine, connection, url, None) as m:
        return await m.current()


async def plan(
    config: ConfigLike,
    target: str = "head",
    *,
    direction: Literal["up", "down"] = "up",
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
) -> Plan:
    """The steps an upgrade (or downgrade) to *target* would run now."""
    async with _migrator(config, engine, connection, url, None) as m:
        return await m.plan(target, direction=direction)


async def ensure_version(
    config: ConfigLike,
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    lock_timeout: float | None = None,
) -> None:
    """Create the version table if it does not exist."""
    async with _migrator(config, engine, connection, url, None, None, lock_timeout) as m:
        await m.ensure_version()


async def log(
    config: ConfigLike,
    *,
    limit: int | None = None,
    revisions: Sequence[str] | None = None,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
) -> list[HistoryEntry]:
    """The audit history, newest first: who applied what, when, how long it took."""
    async with _migrator(config, engine, connection, url, None) as m:
        return await m.log(limit=limit, revisions=revisions)


async def validate(
    config: ConfigLike,
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
) -> ValidationReport:
    """Compare applied revisions' recorded checksums with their files (read-only)."""
    async with _migrator(config, engine, connection, url, None) as m:
        return await m.validate()
