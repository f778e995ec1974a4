"""The core loop: run each planned step and record it, one transaction per step.

The caller (``Migrator``) has already locked, re-read the heads, planned, and
loaded and checked every revision function; this module only applies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from sqlalchemy.exc import DBAPIError

from amigrate.errors import AmigrateError, MigrationFailed, ScriptError
from amigrate.operations import Operations
from amigrate.revisions import Plan, Step
from amigrate.runtime.context import MigrationContext, OfflineContext, OnlineContext
from amigrate.runtime.direct import Write
from amigrate.runtime.history import HistoryTable
from amigrate.runtime.versions import VersionTable

__all__ = ["StepResult", "apply_plan"]

log = logging.getLogger("amigrate.runtime")

_VERBS = {"up": "upgrade", "down": "downgrade", "stamp": "stamp"}

RevisionFunction = Callable[[Operations], Any]
StepCallback = Callable[["StepEvent"], None]


@dataclass(frozen=True)
class StepResult:
    """One applied step: the revision, its direction, the version ends, and its duration."""

    revision: str
    direction: Literal["up", "down", "stamp"]
    from_revisions: tuple[str, ...]
    to_revisions: tuple[str, ...]
    message: str
    duration: float

    def __str__(self) -> str:
        verb = _VERBS[self.direction]
        ends = f"{_side(self.from_revisions)} -> {_side(self.to_revisions)}"
        return f"{verb} {ends}, {self.message}" if self.message else f"{verb} {ends}"


@dataclass(frozen=True)
class StepEvent:
    """A step starting (``result`` None) or finished (``result`` set), for progress output."""

    step: Step
    message: str
    result: StepResult | None = None


@dataclass(frozen=True)
class Recorder:
    """Builds each step's history row, to be written in the step's transaction."""

    table: HistoryTable
    run_id: str
    db_user: str | None
    os_user: str
    checksums: Mapping[str, str]

    def write(
        self,
        step: Step,
        message: str,
        duration: float,
        *,
        status: str = "applied",
        error: str | None = None,
    ) -> Write:
        """The history row of *step*, as a statement to run in the step's transaction."""
        return Write(
            self.table.insert,
            self.table.row(
                run_id=self.run_id,
                revision=step.revision,
                direction=step_direction(step),
                from_revisions=step.from_revisions,
                to_revisions=step.to_revisions,
                message=message,
                checksum=self.checksums.get(step.revision),
                duration=duration,
                db_user=self.db_user,
                os_user=self.os_user,
                status=status,
                error=error,
            ),
        )


def step_direction(step: Step) -> Literal["up", "down", "stamp"]:
    """``stamp`` for a stamp step, else the step's direction."""
    return "stamp" if step.is_stamp else step.direction


def _driver_message(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig) or type(exc.orig).__name__
        name = type(exc.orig).__name__
    else:
        text, name = str(exc), type(exc).__name__
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{name}: {first}" if first else name


async def _run_step(
    ctx: MigrationContext,
    versions: VersionTable,
    step: Step,
    functions: Mapping[str, RevisionFunction],
    recorder: Recorder | None,
    message: str,
    started: float,
    *,
    commit: bool,
    reopen: bool = False,
) -> None:
    ctx.revision = step.revision
    ctx.statements_run = 0
    if not step.is_stamp:
        op = Operations(ctx)
        await functions[step.revision](op)
        for call in op.unawaited():
            raise ScriptError(
                f"revision {step.revision}: op.{call.description} at {call.filename}:{call.lineno} "
                "was never awaited, so it did not run",
                hint=f"write 'await op.{call.description.split('(')[0]}(...)'",
            )
    if isinstance(ctx, OnlineContext):
        # The version write, the history row, COMMIT (and the next step's BEGIN): one trip
        # where the driver allows.
        writes = versions.writes(step.change)
        if recorder is not None:
            writes.append(recorder.write(step, message, time.perf_counter() - started))
        await ctx.finish(writes, commit=commit, reopen=reopen)
    else:
        for statement in versions.statements(step.change):
            await ctx.execute(statement)
        if commit:
            await ctx.commit()


async def apply_plan(
    ctx: MigrationContext,
    versions: VersionTable,
    plan: Plan,
    functions: Mapping[str, RevisionFunction],
    messages: Mapping[str, str],
    *,
    per_migration: bool = True,
    on_step: StepCallback | None = None,
    recorder: Recorder | None = None,
) -> list[StepResult]:
    """Apply every step of *plan*; return the results, or raise MigrationFailed.

    With *per_migration* each step's DDL and version write commit together;
    otherwise the whole run is one transaction. A failure rolls back the open
    transaction (shielded, so that a cancelled caller still leaves a clean
    connection) and raises :class:`MigrationFailed` with the driver error as
    ``__cause__``.
    """
    results: list[StepResult] = []
    offline = isinstance(ctx, OfflineContext)
    if not per_migration and plan.steps:
        await ctx.begin()
    last = len(plan.steps) - 1
    for index, step in enumerate(plan.steps):
        message = messages.get(step.revision, "")
        if on_step is not None:
            on_step(StepEvent(step, message))
        log.info("Running %s", step)
        if offline:
            assert isinstance(ctx, OfflineContext)
            ctx.comment(f"Running {_VERBS[step_direction(step)]} {_ends(step)}")
        started = time.perf_counter()
        try:
            if per_migration:
                await ctx.begin()
            await _run_step(
                ctx,
                versions,
                step,
                functions,
                recorder,
                message,
                started,
                commit=per_migration,
                reopen=per_migration and index < last,
            )
        except BaseException as exc:
            statement = ctx.current_statement
            with anyio.CancelScope(shield=True):
                await ctx.rollback()
            if not isinstance(exc, Exception):
                raise  # cancellation and exit: rolled back, let it through
            if offline and isinstance(exc, AmigrateError):
                raise  # nothing ran: the error itself says what to change
            failure = _failure(ctx, step, message, exc, statement, results, per_migration)
            if recorder is not None and isinstance(ctx, OnlineContext):
                await _record_partial(ctx, recorder, step, message, started, failure)
            raise failure from exc
        result = StepResult(
            step.revision,
            step_direction(step),
            step.from_revisions,
            step.to_revisions,
            message,
            time.perf_counter() - started,
        )
        results.append(result)
        if on_step is not None:
            on_step(StepEvent(step, message, result))
    if not per_migration and plan.steps:
        await ctx.commit()
    return results


async def _record_partial(
    ctx: OnlineContext,
    recorder: Recorder,
    step: Step,
    message: str,
    started: float,
    failure: MigrationFailed,
) -> None:
    """On a dialect whose DDL commits itself, record a step that changed the schema and failed."""
    if ctx.transactional_ddl or ctx.statements_run == 0:
        return  # rolled back entirely, or nothing had run: there is nothing to warn about
    error = failure.message  # names the statement that failed
    with anyio.CancelScope(shield=True):
        try:
            await ctx.begin()
            duration = time.perf_counter() - started
            row = recorder.write(step, message, duration, status="failed", error=error)
            await ctx.finish([row], commit=True)
        except Exception as exc:  # the original failure matters more; say this one too
            failure.add_note(f"amigrate could not record the failure in its history: {exc}")
            await ctx.rollback()


def _side(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "<base>"


def _ends(step: Step) -> str:
    return f"{_side(step.from_revisions)} -> {_side(step.to_revisions)}"


def _failure(
    ctx: MigrationContext,
    step: Step,
    message: str,
    exc: Exception,
    statement: str | None,
    results: list[StepResult],
    per_migration: bool,
) -> MigrationFailed:
    verb = _VERBS[step_direction(step)]
    what = f"{verb} {_ends(step)}" + (f" ({message})" if message else "")
    reason = str(exc) if isinstance(exc, AmigrateError) else _driver_message(exc)
    text = f"{what} failed: {reason}"
    if statement and not isinstance(exc, AmigrateError):
        text += f" [while running: {statement}]"
    applied = results if per_migration else []
    if ctx.transactional_ddl:
        hint = (
            "the failed revision was rolled back"
            + ("" if per_migration else ", and so were the steps before it (one transaction)")
            + "; fix it and run the command again"
        )
    else:
        hint = (
            f"{ctx.dialect.name} commits DDL as it runs: statements of revision {step.revision} "
            "before the failing one may have been applied and the version table was not updated; "
            "check the schema, undo or finish them by hand, then run the command again"
        )
    if isinstance(exc, AmigrateError) and exc.hint:
        hint = f"{exc.hint}; {hint}"
    return MigrationFailed(text, applied=applied, failed=step, hint=hint)
