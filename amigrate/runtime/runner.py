"""The core loop: run each planned step and record it, one transaction per step.

The caller (``Migrator``) has already locked, re-read the heads, planned, and
loaded and checked every revision function; this module only applies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from amigrate.errors import (
    AmigrateError,
    MigrationError,
    MigrationFailed,
    MigrationInterrupted,
    ScriptError,
)
from amigrate.operations import Operations
from amigrate.revisions import Plan, Step
from amigrate.runtime.context import MigrationContext, OfflineContext, OnlineContext
from amigrate.runtime.direct import Write
from amigrate.runtime.history import RUNNING, HistoryTable
from amigrate.runtime.versions import VersionTable

__all__ = ["StepResult", "apply_plan", "interruption", "mark_interrupted"]

log = logging.getLogger("amigrate.runtime")

_VERBS = {"up": "upgrade", "down": "downgrade", "stamp": "stamp"}

#: The history message of a version row that ``stamp --purge`` removed.
PURGED = "purged from the version table"

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
        return Write(self.table.insert, self._row(step, message, duration, status, error))

    def marker(self, step: Step, message: str) -> Write:
        """The ``running`` row of *step*, written before the step may commit part of its
        work (see :mod:`amigrate.runtime.history`)."""
        return self.write(step, message, 0.0, status=RUNNING)

    def ending(
        self,
        step: Step,
        message: str,
        duration: float,
        *,
        status: str = "applied",
        error: str | None = None,
        missing: Callable[[int], Exception] | None = None,
    ) -> Write:
        """*step*'s ``running`` row made its final one (applied, or failed), which must
        change that one row (*missing* makes the error when it does not)."""
        params = self.table.ending(self._row(step, message, duration, status, error))
        return Write(self.table.end, params, 1, missing or partial(_marker_gone, step))

    def unmark(self, step: Step) -> Write:
        """The DELETE of *step*'s ``running`` row (a step rolled back after it committed)."""
        params = self.table.ending(self._row(step, "", 0.0, RUNNING, None))
        return Write(self.table.unmark, {k: v for k, v in params.items() if k.startswith("m_")})

    def statement(self, step: Step, message: str, dialect: Dialect) -> Executable:
        """The history row of *step* in an offline script (which nobody times: duration 0)."""
        return self.table.offline_insert(self._row(step, message, 0.0, "applied", None), dialect)

    def purged(self, versions: sa.Table, dialect: Dialect) -> Executable:
        """``stamp --purge`` with no step, in a script: a history row for each version
        row it deletes, as online (which knows them), from the table as the script finds it."""
        row = self.table.row(
            run_id=self.run_id,
            revision="",  # each: the version row's
            direction="stamp",
            from_revisions=(),  # each: the version row's
            to_revisions=(),
            message=PURGED,
            checksum=None,
            duration=0.0,
            db_user=None,
            os_user=self.os_user,
        )
        version = versions.c.version_num
        return self.table.offline_copy(
            row, {"revision": version, "from_revisions": version}, dialect
        )

    def _row(
        self, step: Step, message: str, duration: float, status: str, error: str | None
    ) -> dict[str, Any]:
        return self.table.row(
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
        )


def _marker_gone(step: Step, rowcount: int) -> MigrationError:
    return MigrationError(
        f"the history row amigrate wrote when revision {step.revision} started is gone "
        f"({rowcount} rows match): another process changed the history table during the run",
        hint="find out what else writes to amigrate's history table",
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
    last: bool = True,
) -> bool:
    """Run one step; return True when it committed (with its version row)."""
    ctx.begin_step(step.revision)
    blocks = ctx.autocommit_blocks
    if recorder is not None and not step.is_stamp and isinstance(ctx, OnlineContext):
        # Written where the step may commit part of its work before its end: at once on
        # MySQL (its first DDL commits it), at an autocommit block elsewhere.
        ctx.step_marker = partial(recorder.marker, step, message)
        if not ctx.transactional_ddl:
            await ctx.write_marker()
    if not step.is_stamp:
        op = Operations(ctx)
        await functions[step.revision](op)
        for call in op.unawaited():
            raise ScriptError(
                f"revision {step.revision}: op.{call.description} at {call.filename}:{call.lineno} "
                "was never awaited, so it did not run",
                hint=f"write 'await op.{call.description.split('(')[0]}(...)'",
            )
        await ctx.end_revision()
    if isinstance(ctx, OnlineContext) and await ctx.transaction_lost():
        raise ScriptError(
            f"revision {step.revision} ended the transaction amigrate runs it in (a COMMIT "
            "or ROLLBACK through op.connection?), so its version row cannot commit with its "
            "work",
            hint="for statements that cannot run in a transaction, use "
            "'async with op.autocommit_block():'",
        )
    if isinstance(ctx, OnlineContext):
        # The version write, the history row, COMMIT (and the next step's BEGIN): one trip
        # where the driver allows.
        writes = versions.writes(step.change)
        fallback: list[Write] = []
        if recorder is not None:
            duration = time.perf_counter() - started
            if ctx.marker_written:
                # The revision may have rolled its transaction back (MySQL: op.connection,
                # an ORM session) before anything committed the row: then it is written now.
                writes.append(recorder.ending(step, message, duration, missing=_no_marker))
                fallback.append(recorder.write(step, message, duration))
            else:
                writes.append(recorder.write(step, message, duration))
        # One transaction for the run, but this step committed work of its own (an
        # autocommit block, MySQL's DDL): commit its version row with it, so that the
        # database never holds the work of a step without the row that records it.
        early = ctx.autocommit_blocks != blocks or ctx.partly_committed
        ctx.committing = commit or early
        if not commit and early:
            await _finish_step(ctx, writes, fallback, commit=True)
            ctx.committing = False
            if not last:
                await ctx.begin()
            return True
        await _finish_step(ctx, writes, fallback, commit=commit, reopen=reopen)
        ctx.committing = False
        return commit
    # Offline: as online, a step that committed work of its own commits its version row.
    early = ctx.autocommit_blocks != blocks or ctx.partly_committed
    for statement in versions.statements(step.change):
        await ctx.execute(statement)
    if recorder is not None:
        await ctx.execute(recorder.statement(step, message, ctx.dialect))
    if commit or early:
        await ctx.commit()
        if not commit and not last:
            await ctx.begin()
    return commit or early


async def _finish_step(
    ctx: OnlineContext, writes: list[Write], fallback: list[Write], **options: Any
) -> None:
    try:
        await ctx.finish(writes, **options)
    except _NoMarker:
        if not fallback:
            raise
        await ctx.finish(fallback, **options)


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
    lock_held: Callable[[], bool] | None = None,
) -> list[StepResult]:
    """Apply every step of *plan*; return the results, or raise MigrationFailed.

    With *per_migration* each step's DDL and version write commit together;
    otherwise the whole run is one transaction, except that a step with an
    ``op.autocommit_block()`` commits (the block committed the run so far) and MySQL
    commits before each DDL statement. A failure rolls back the open transaction
    (shielded, so that a cancelled caller still leaves a clean connection) and raises
    :class:`MigrationFailed` with the driver error as ``__cause__``; its ``applied``
    are the steps that stay committed. A step that committed part of its work before
    failing (or being cancelled) is recorded in the history as ``failed``. A
    cancellation goes through as it is, with a note (and :func:`interruption`) saying
    what it left behind. With a transaction per step, a step does not start once
    *lock_held* says the migration lock was lost (another migrator could start).
    """
    results: list[StepResult] = []
    offline = isinstance(ctx, OfflineContext)
    if not per_migration and plan.steps:
        await ctx.begin()
    last = len(plan.steps) - 1
    # The steps known to be committed: all of them with a transaction per step; in one
    # transaction, those finished before something committed early (an autocommit block,
    # MySQL's implicit COMMIT before DDL).
    durable = 0
    for index, step in enumerate(plan.steps):
        message = messages.get(step.revision, "")
        if per_migration and index and lock_held is not None and not lock_held():
            raise MigrationFailed(
                f"stopped before {_VERBS[step_direction(step)]} {_ends(step)}: the session "
                "holding the migration lock ended (closed by the server, an administrator "
                "or a proxy), and another migrator may start now",
                applied=results,
                failed=step,
                hint="the steps before it are applied; run the command again to continue",
            )
        if on_step is not None:
            on_step(StepEvent(step, message))
        log.info("Running %s", step)
        if offline:
            assert isinstance(ctx, OfflineContext)
            ctx.comment(f"Running {_VERBS[step_direction(step)]} {_ends(step)}")
        started = time.perf_counter()
        commits = ctx.early_commits, ctx.autocommit_blocks
        try:
            if per_migration:
                await ctx.begin()
            committed = await _run_step(
                ctx,
                versions,
                step,
                functions,
                recorder,
                message,
                started,
                commit=per_migration,
                reopen=per_migration and index < last,
                last=index == last,
            )
        except BaseException as exc:
            ctx.cleaning_up = True
            statement = ctx.current_statement
            if isinstance(exc, Exception) and isinstance(ctx, OnlineContext):
                with anyio.CancelScope(shield=True):
                    await ctx.transaction_lost()  # then the step is partly applied
            if not isinstance(exc, Exception) and isinstance(ctx, OnlineContext):
                with anyio.CancelScope(shield=True):  # before the lock is released
                    await ctx.stop_running_statement()
            rollback_error = await _rollback(ctx)
            if offline and (not isinstance(exc, Exception) or isinstance(exc, AmigrateError)):
                raise  # nothing ran: the error itself says what to change
            if offline:
                raise _offline_failure(step, message, exc) from exc
            if (
                not isinstance(exc, Exception)
                and ctx.committing
                and isinstance(ctx, OnlineContext)
                and await _landed(ctx, versions, step)
            ):
                # Interrupted while its COMMIT was on its way, and the COMMIT landed: the
                # step is applied (its version row says so), not partly.
                results.append(_step_result(step, message, started))
                done = MigrationInterrupted(
                    f"interrupted after {_VERBS[step_direction(step)]} {_ends(step)} committed: "
                    "it is applied",
                    applied=results if per_migration else results[:durable] + results[-1:],
                    hint="run the command again to continue",
                )
                mark_interrupted(exc, done)
                raise
            if (ctx.early_commits, ctx.autocommit_blocks) != commits:
                durable = len(results)
            applied = results if per_migration else results[:durable]
            rolled_back = [] if per_migration else results[durable:]
            if isinstance(ctx, OnlineContext) and ctx.external_transaction:
                applied, rolled_back = [], []  # (nothing is committed: the caller's to end)
            failure = _failure(
                ctx,
                step,
                message,
                exc,
                statement,
                applied,
                rolled_back,
                one_transaction=not per_migration,
                used_block=ctx.autocommit_blocks != commits[1],
            )
            if rollback_error is not None and not _closed(ctx):
                failure.add_note(f"rolling back failed too: {_driver_message(rollback_error)}")
            if recorder is not None and isinstance(ctx, OnlineContext):
                await _record_failure(ctx, recorder, step, message, started, failure)
            if not isinstance(exc, Exception):
                # Cancellation and exit go through as they are (the caller's task must see
                # its cancellation), saying what they left behind.
                mark_interrupted(exc, failure)
                raise
            raise failure from exc
        result = _step_result(step, message, started)
        results.append(result)
        if committed:
            durable = len(results)
        elif (ctx.early_commits, ctx.autocommit_blocks) != commits:
            # Committed early during this step: the steps before it are applied; after an
            # autocommit block this one too (its version row was committed with it).
            blocked = ctx.autocommit_blocks != commits[1]
            durable = len(results) if blocked else len(results) - 1
        if on_step is not None:
            on_step(StepEvent(step, message, result))
    if not per_migration and plan.steps:
        await _commit_run(ctx, results, durable)
    return results


async def _landed(ctx: OnlineContext, versions: VersionTable, step: Step) -> bool:
    """Whether *step*'s version change is in the database (read on a connection of its
    own: the step's may be gone with the interrupt)."""
    with anyio.CancelScope(shield=True):
        try:
            async with ctx.fresh_connection() as conn:
                heads = set(await versions.read(conn))
        except Exception:
            return False  # cannot tell: say what may be the case
    gone = set(step.from_revisions) - set(step.to_revisions)
    return set(step.to_revisions) <= heads and not gone & heads


async def _commit_run(ctx: MigrationContext, results: list[StepResult], durable: int) -> None:
    """The COMMIT of a run in one transaction; a failure (a deferred constraint, a
    serialization failure) or an interrupt there says which steps it concerns."""
    lost = results[durable:]
    names = ", ".join(r.revision for r in lost)
    ctx.committing = True
    try:
        await ctx.commit()
    except BaseException as exc:
        await _rollback(ctx)
        if isinstance(ctx, OfflineContext):
            raise
        if not isinstance(exc, Exception):
            interrupted = MigrationInterrupted(
                f"interrupted while committing the run: its steps since the last commit "
                f"({names}) may or may not be applied",
                applied=results[:durable],
                hint="run 'amigrate current' to see where the database is, then run the "
                "command again",
            )
            mark_interrupted(exc, interrupted)
            raise
        raise MigrationFailed(
            f"committing the run failed: {_driver_message(exc)}",
            applied=results[:durable],
            hint=f"the run's steps since the last commit were rolled back ({names}; one "
            "transaction); fix the cause and run the command again",
        ) from exc
    finally:
        ctx.committing = False


_INTERRUPTION = "amigrate_interruption"


def _step_result(step: Step, message: str, started: float) -> StepResult:
    return StepResult(
        step.revision,
        step_direction(step),
        step.from_revisions,
        step.to_revisions,
        message,
        time.perf_counter() - started,
    )


def mark_interrupted(exc: BaseException, failure: MigrationFailed) -> None:
    """Say on a cancellation (or exit) what it left behind; :func:`interruption` finds it."""
    exc.add_note(f"{failure}; {failure.hint}" if failure.hint else str(failure))
    setattr(exc, _INTERRUPTION, failure)


def interruption(exc: BaseException) -> MigrationInterrupted | None:
    """What a run that *exc* (a cancellation, KeyboardInterrupt) interrupted left behind."""
    found = getattr(exc, _INTERRUPTION, None)
    return found if isinstance(found, MigrationInterrupted) else None


async def _rollback(ctx: MigrationContext) -> Exception | None:
    """Roll back the open transaction, shielded from cancellation; return what went wrong.

    A cancellation can close the connection in the middle of a statement (asyncpg does);
    the server then rolled back itself, and the ROLLBACK that fails is no news.
    """
    with anyio.CancelScope(shield=True):
        try:
            await ctx.rollback()
        except Exception as error:
            return error
    return None


def _closed(ctx: MigrationContext) -> bool:
    if not isinstance(ctx, OnlineContext):
        return False
    return ctx.closed


class _NoMarker(Exception):
    """The step's ``running`` row is not in the database (rolled back with the step)."""


async def _record_failure(
    ctx: OnlineContext,
    recorder: Recorder,
    step: Step,
    message: str,
    started: float,
    failure: MigrationFailed,
) -> None:
    """Record a failed step in the history: as ``failed`` when it committed part of its
    work; when it did not, its ``running`` row (which an early commit before the failing
    statement may have committed) goes.

    The next run refuses to go over a ``failed`` row until the user says where the
    database is (``stamp``, or ``--force``). Shielded, so an interrupted run records it
    too; on a fresh connection when the step's connection did not survive.
    """
    duration = time.perf_counter() - started
    if failure.partial:
        error = failure.message  # names the statement that failed
        rows = [recorder.write(step, message, duration, status="failed", error=error)]
        if ctx.marker_written:  # that row made the failed one, else a new one
            ending = recorder.ending(
                step, message, duration, status="failed", error=error, missing=_no_marker
            )
            rows.insert(0, ending)
        what = "record the failure in its history"
    elif ctx.marker_written:
        rows = [recorder.unmark(step)]
        what = (
            f"remove the 'running' history row of revision {step.revision}, so the next run "
            "refuses over it until 'amigrate stamp'"
        )
    else:
        return
    with anyio.CancelScope(shield=True), anyio.move_on_after(_RECORD_TIMEOUT) as scope:
        try:
            if ctx.closed:
                raise ConnectionError("the connection was closed")
            await _first_that_lands(partial(_on_step_connection, ctx), rows)
            return
        except Exception:
            await _rollback(ctx)
        try:
            await _first_that_lands(partial(record_elsewhere, ctx), rows)
            return
        except Exception as exc:  # the original failure matters more; say this one too
            failure.add_note(f"amigrate could not {what}: {exc}")
    if scope.cancelled_caught:
        failure.add_note(f"amigrate could not {what}: timed out")


def _no_marker(rowcount: int) -> Exception:
    return _NoMarker(rowcount)


async def _first_that_lands(write: Callable[[Write], Awaitable[None]], rows: list[Write]) -> None:
    """Write the first of *rows* whose target is there (the ``running`` row to end)."""
    for row in rows[:-1]:
        try:
            await write(row)
            return
        except _NoMarker:
            pass
    await write(rows[-1])


async def _on_step_connection(ctx: OnlineContext, row: Write) -> None:
    await ctx.begin()
    try:
        await ctx.finish([row], commit=True)
    except _NoMarker:
        await _rollback(ctx)
        raise


#: Seconds recording a failure may take (it is shielded from cancellation).
_RECORD_TIMEOUT = 30


async def record_elsewhere(ctx: OnlineContext, row: Write) -> None:
    """Write *row* on a connection of its own (the step's one is gone)."""
    async with ctx.fresh_connection() as conn:
        result = await conn.execute(row.statement, dict(row.params))
        row.check(result.rowcount)
        await conn.commit()


def _side(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "<base>"


def _ends(step: Step) -> str:
    return f"{_side(step.from_revisions)} -> {_side(step.to_revisions)}"


def _failure(
    ctx: MigrationContext,
    step: Step,
    message: str,
    exc: BaseException,
    statement: str | None,
    applied: list[StepResult],
    rolled_back: list[StepResult],
    *,
    one_transaction: bool,
    used_block: bool,
) -> MigrationFailed:
    verb = _VERBS[step_direction(step)]
    what = f"{verb} {_ends(step)}" + (f" ({message})" if message else "")
    interrupted = not isinstance(exc, Exception)
    partial = ctx.partly_committed
    earlier = ""
    if rolled_back:
        names = ", ".join(r.revision for r in rolled_back)
        earlier = f", and so were the steps before it in this run ({names}; one transaction)"
    if one_transaction and applied:
        # Committed before the run's end: by an autocommit block, or MySQL before DDL.
        names = ", ".join(r.revision for r in applied)
        earlier += f"; the steps before it that were committed stay applied ({names})"
    external = isinstance(ctx, OnlineContext) and ctx.external_transaction
    if partial:
        hint = _partial_hint(ctx, step.revision, earlier, used_block=used_block)
    elif external and not interrupted:
        hint = (
            "amigrate ran inside the connection's transaction and committed nothing: roll "
            "that transaction back (it holds this run's steps so far, and on PostgreSQL the "
            "failure aborted it), fix the revision and run again"
        )
    elif interrupted:
        hint = "run the command again to continue"
    else:
        hint = f"the failed revision was rolled back{earlier}; fix it and run the command again"
    if interrupted and ctx.committing and not partial:
        # The COMMIT was on its way: the server may have applied the step or not. Not
        # partial (no failed row): the version table may well be right. (A step that had
        # committed work of its own is partial whatever the COMMIT did: below.)
        text = f"interrupted while committing {what}: it may or may not be applied"
        hint = "run 'amigrate current' to see where the database is, then run the command again"
        return MigrationInterrupted(text, applied=applied, failed=step, hint=hint)
    if interrupted:
        if partial:
            text = f"interrupted during {what}: the database may be partly changed"
        else:
            text = f"interrupted during {what}: revision {step.revision} rolled back{earlier}"
        return MigrationInterrupted(text, applied=applied, failed=step, hint=hint, partial=partial)
    reason = str(exc) if isinstance(exc, AmigrateError) else _driver_message(exc)
    text = f"{what} failed: {reason}"
    if statement and not isinstance(exc, AmigrateError):
        text += f" [while running: {statement}]"
    if isinstance(exc, AmigrateError) and exc.hint:
        hint = f"{exc.hint}; {hint}"
    return MigrationFailed(text, applied=applied, failed=step, hint=hint, partial=partial)


def _offline_failure(step: Step, message: str, exc: BaseException) -> MigrationFailed:
    """A revision's own exception while rendering: nothing ran, nothing was printed."""
    what = f"{_VERBS[step_direction(step)]} {_ends(step)}" + (f" ({message})" if message else "")
    return MigrationFailed(
        f"{what} cannot be rendered as SQL: {_driver_message(exc)}",
        applied=[],
        failed=step,
        hint="nothing was printed; with --sql nothing runs and nothing can be read: fix "
        "the revision, or run it without --sql",
    )


def _partial_hint(ctx: MigrationContext, revision: str, earlier: str, *, used_block: bool) -> str:
    """What a step that committed part of its work left behind, and what to do about it."""
    reasons = []
    if not ctx.transactional_ddl:
        reasons.append(f"{ctx.dialect.name} commits DDL as it runs")
    if used_block:
        reasons.append("op.autocommit_block() commits what ran before it and what runs inside it")
    count = ctx.committed_statements
    unsure = "what it ran through op.connection, or a statement interrupted as it ran,"
    if count:
        done = f"{count} of its statements committed"
        last = ctx.last_committed_statement
        if last:
            done += f" (the last: {last})"
        if ctx.maybe_committed:
            done += f", and {unsure} may have too"
    else:
        done = f"{unsure} may have committed"
    because = f" ({'; '.join(reasons)})" if reasons else ""
    return (
        f"revision {revision} is partly applied{because}: {done}, and the version table "
        f"does not record it; what else it ran was rolled back{earlier}; finish or undo it "
        "by hand, then record where the database is with 'amigrate stamp <revision>' (or "
        "run again with --force)"
    )
