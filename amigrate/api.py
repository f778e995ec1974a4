"""One-shot awaitables: ``await amigrate.upgrade(config, "head")`` and friends.

Each opens a :class:`~amigrate.migrator.Migrator`, does one thing and closes it.
``config`` is a :class:`~amigrate.config.Config` or the path of a config file.
With ``engine=`` (the application's ``AsyncEngine``) or ``connection=``,
amigrate uses it and leaves it open; otherwise it makes an engine from the URL
and disposes it. Results are returned, never printed, and logging is never
reconfigured.

``upgrade``, ``downgrade``, ``stamp`` and ``current`` also fan out: with
``databases=`` (a multidb project) or ``targets=`` (tenants, shards) they run
on every database concurrently and return a
:class:`~amigrate.fanout.FanoutResult` with one result per database.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from amigrate.config import Config, load_config
from amigrate.fanout import (
    DEFAULT_CONCURRENCY,
    DatabaseSelection,
    DatabaseTarget,
    EventCallback,
    FanoutResult,
    TargetEvent,
    TargetSelection,
    resolve,
    run_many,
)
from amigrate.migrator import Migrator, RunResult
from amigrate.revisions import Plan
from amigrate.runtime.history import HistoryEntry
from amigrate.runtime.repair import RepairResult
from amigrate.runtime.runner import StepCallback, StepEvent
from amigrate.runtime.threads import in_thread
from amigrate.runtime.validation import ValidationReport
from amigrate.scripts.directory import ScriptDirectory
from amigrate.scripts.loader import load_env

__all__ = [
    "current",
    "downgrade",
    "ensure_version",
    "fan_out",
    "log",
    "plan",
    "repair",
    "stamp",
    "targets",
    "upgrade",
    "validate",
]

T = TypeVar("T")
ConfigLike = Config | str | os.PathLike[str]


def _config(config: ConfigLike) -> Config:
    return config if isinstance(config, Config) else load_config(config)


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


async def targets(
    config: ConfigLike,
    *,
    targets: TargetSelection | None = "all",
    databases: DatabaseSelection | None = None,
) -> list[DatabaseTarget]:
    """The databases a fan-out would run on (``databases=`` or ``targets=``, see ``fan_out``)."""
    cfg = _config(config)
    env = await in_thread(lambda: load_env(cfg.script_location, sys_path=cfg.prepend_sys_path))
    return await resolve(cfg, targets=targets, databases=databases, env_targets=env.targets)


async def fan_out(
    config: ConfigLike,
    action: Callable[[Migrator], Awaitable[T]],
    *,
    targets: TargetSelection | None = None,
    databases: DatabaseSelection | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    canary: int = 0,
    on_event: EventCallback | None = None,
    x_args: Mapping[str, str] | None = None,
    lock_timeout: float | None = None,
) -> FanoutResult[T]:
    """Run ``action(migrator)`` on every selected database, concurrently.

    Each database gets its own :class:`Migrator` (its own engine, lock, version
    and history tables); the revision files and env.py are read once. A failure
    in one database never loses the others' results. *concurrency* bounds the
    databases in flight; *fail_fast* stops at the first failure (cancelling the
    running ones: they roll back and release their locks); *canary* K runs K
    databases first and the rest only if those succeeded. *on_event* receives
    :class:`~amigrate.fanout.TargetEvent` progress (``start``, each ``step``,
    ``done``).
    """
    cfg = _config(config)
    scripts = ScriptDirectory.from_config(cfg)

    def load() -> Any:
        scripts.graph  # noqa: B018 - read and validate once, for every database
        return load_env(cfg.script_location, sys_path=cfg.prepend_sys_path)

    env = await in_thread(load)
    chosen = await resolve(cfg, targets=targets, databases=databases, env_targets=env.targets)

    async def run(target: DatabaseTarget) -> T:
        def on_step(event: StepEvent) -> None:
            if on_event is not None:
                on_event(TargetEvent(target, "step", event))

        migrator = Migrator(
            cfg.derive(target.settings, url=target.url),
            url=target.url,
            x_args=x_args,
            on_step=on_step,
            lock_timeout=lock_timeout,
            function_suffix=target.function_suffix,
            schema=target.schema,
            scripts=scripts,
            env=env,
        )
        async with migrator as m:
            return await action(m)

    return await run_many(
        chosen,
        run,
        concurrency=concurrency,
        fail_fast=fail_fast,
        canary=canary,
        on_event=on_event,
    )


@overload
async def upgrade(
    config: ConfigLike,
    target: str = ...,
    *,
    engine: AsyncEngine | None = ...,
    connection: AsyncConnection | None = ...,
    url: str | None = ...,
    x_args: Mapping[str, str] | None = ...,
    on_step: StepCallback | None = ...,
    lock_timeout: float | None = ...,
    force: bool = ...,
    targets: None = None,
    databases: None = None,
) -> RunResult: ...


@overload
async def upgrade(
    config: ConfigLike,
    target: str = ...,
    *,
    x_args: Mapping[str, str] | None = ...,
    lock_timeout: float | None = ...,
    force: bool = ...,
    targets: TargetSelection | None = ...,
    databases: DatabaseSelection | None = ...,
    concurrency: int = ...,
    fail_fast: bool = ...,
    canary: int = ...,
    on_event: EventCallback | None = ...,
) -> FanoutResult[RunResult]: ...


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
    targets: TargetSelection | None = None,
    databases: DatabaseSelection | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    canary: int = 0,
    on_event: EventCallback | None = None,
) -> RunResult | FanoutResult[RunResult]:
    """Upgrade the database to *target* (default ``head``) and return what ran.

    Waits for the migration lock (at most *lock_timeout* seconds, default the
    config's ``lock_timeout``), then re-reads the heads, plans and applies.
    *force* runs even over a failure recorded in the history. With
    ``targets=`` or ``databases=``, every database (see :func:`fan_out`).
    """
    if targets is not None or databases is not None:
        return await fan_out(
            config,
            lambda m: m.upgrade(target, force=force),
            targets=targets,
            databases=databases,
            concurrency=concurrency,
            fail_fast=fail_fast,
            canary=canary,
            on_event=on_event,
            x_args=x_args,
            lock_timeout=lock_timeout,
        )
    async with _migrator(config, engine, connection, url, x_args, on_step, lock_timeout) as m:
        return await m.upgrade(target, force=force)


@overload
async def downgrade(
    config: ConfigLike,
    target: str,
    *,
    engine: AsyncEngine | None = ...,
    connection: AsyncConnection | None = ...,
    url: str | None = ...,
    x_args: Mapping[str, str] | None = ...,
    on_step: StepCallback | None = ...,
    lock_timeout: float | None = ...,
    force: bool = ...,
    targets: None = None,
    databases: None = None,
) -> RunResult: ...


@overload
async def downgrade(
    config: ConfigLike,
    target: str,
    *,
    x_args: Mapping[str, str] | None = ...,
    lock_timeout: float | None = ...,
    force: bool = ...,
    targets: TargetSelection | None = ...,
    databases: DatabaseSelection | None = ...,
    concurrency: int = ...,
    fail_fast: bool = ...,
    canary: int = ...,
    on_event: EventCallback | None = ...,
) -> FanoutResult[RunResult]: ...


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
    targets: TargetSelection | None = None,
    databases: DatabaseSelection | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    canary: int = 0,
    on_event: EventCallback | None = None,
) -> RunResult | FanoutResult[RunResult]:
    """Downgrade the database to *target* (``-1``, ``base``, an id) and return what ran.

    Waits for the migration lock (at most *lock_timeout* seconds, default the
    config's ``lock_timeout``), then re-reads the heads, plans and applies.
    With ``targets=`` or ``databases=``, every database (see :func:`fan_out`).
    """
    if targets is not None or databases is not None:
        return await fan_out(
            config,
            lambda m: m.downgrade(target, force=force),
            targets=targets,
            databases=databases,
            concurrency=concurrency,
            fail_fast=fail_fast,
            canary=canary,
            on_event=on_event,
            x_args=x_args,
            lock_timeout=lock_timeout,
        )
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


@overload
async def current(
    config: ConfigLike,
    *,
    engine: AsyncEngine | None = ...,
    connection: AsyncConnection | None = ...,
    url: str | None = ...,
    targets: None = None,
    databases: None = None,
) -> tuple[str, ...]: ...


@overload
async def current(
    config: ConfigLike,
    *,
    targets: TargetSelection | None = ...,
    databases: DatabaseSelection | None = ...,
    concurrency: int = ...,
) -> FanoutResult[tuple[str, ...]]: ...


async def current(
    config: ConfigLike,
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    targets: TargetSelection | None = None,
    databases: DatabaseSelection | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> tuple[str, ...] | FanoutResult[tuple[str, ...]]:
    """The heads recorded in the database (read-only); per database with a selection."""
    if targets is not None or databases is not None:
        return await fan_out(
            config,
            lambda m: m.current(),
            targets=targets,
            databases=databases,
            concurrency=concurrency,
        )
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
    force: bool = False,
) -> Plan:
    """The steps an upgrade (or downgrade) to *target* would run now.

    Raises :class:`~amigrate.errors.PartlyApplied` where the run would refuse (a failure
    recorded in the history), unless *force*.
    """
    async with _migrator(config, engine, connection, url, None) as m:
        return await m.plan(target, direction=direction, force=force)


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


async def repair(
    config: ConfigLike,
    revisions: str | Sequence[str] = (),
    *,
    engine: AsyncEngine | None = None,
    connection: AsyncConnection | None = None,
    url: str | None = None,
    lock_timeout: float | None = None,
) -> RepairResult:
    """Accept applied revisions' files as they are now, so that ``validate`` passes.

    Records the current checksum of each of *revisions* (default: every applied
    revision whose file changed) in the history; the schema is untouched. For
    several databases: ``fan_out(config, lambda m: m.repair(), databases="all")``.
    """
    async with _migrator(config, engine, connection, url, None, None, lock_timeout) as m:
        return await m.repair(revisions)
