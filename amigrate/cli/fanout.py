"""Commands over many databases: which ones, live progress, and the summary table.

On a terminal a live view shows targets done / total and the revision each
running target is on (rich, imported only here); otherwise each event is one
line. Either way a summary follows: target, from -> to, steps, duration, status.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from amigrate.cli.state import CliState
from amigrate.config import refers_to
from amigrate.errors import ConfigError

if TYPE_CHECKING:
    from amigrate.config import Config
    from amigrate.fanout import FanoutResult, TargetEvent, TargetResult
    from amigrate.migrator import Migrator, RunResult

T = TypeVar("T")

__all__ = [
    "Progress",
    "fanout_selection",
    "raise_for_failures",
    "run_fanout",
    "run_migrations",
    "shared_exit_code",
    "summary_rows",
]


def fanout_selection(state: CliState) -> dict[str, Any] | None:
    """``{"databases": ...}`` or ``{"targets": ...}`` when the project has several, else None.

    ``--url`` names one database: where the config lists several it is refused, rather
    than ignored while the command goes to every one of them. (env.py's ``targets()``
    may read its list from the URL, a catalog database: ``--url`` is that one's.)
    """
    config = state.load_config()
    names: list[str] | str = list(state.databases) or "all"
    listed = ""
    if config.get_list("databases"):
        selection: dict[str, Any] | None = {"databases": names}
        listed = "databases = ..."
    elif config.get_section("targets") or config.get("targets_file"):
        selection, listed = {"targets": names}, "[targets]"
    elif state.databases or state.env_hooks().targets is not None:
        selection = {"targets": names}
    else:
        selection = None
    if listed and state.url:
        raise click.UsageError(
            f"--url names one database, but this project migrates several ({listed}); "
            "choose them with -d NAME (their URLs come from the config), or leave out "
            "the project's databases for a one-database run"
        )
    if listed and os.environ.get("AMIGRATE_URL") and not _mentions_env_url(config):
        raise ConfigError(
            f"$AMIGRATE_URL names one database, but this project migrates several ({listed}), "
            "whose URLs come from the config",
            hint="unset AMIGRATE_URL; choose databases with -d NAME",
        )
    return selection


def _configured_concurrency(config: Config) -> int:
    from amigrate.fanout import DEFAULT_CONCURRENCY

    value = config.get_int("concurrency")
    if value is not None and value < 1:
        raise ConfigError(
            f"concurrency = {value} in the config is below 1",
            hint="give how many databases to migrate at once, 1 or more",
        )
    return value or DEFAULT_CONCURRENCY


def _mentions_env_url(config: Config) -> bool:
    """Whether the config (or its targets_file) refers to ``${AMIGRATE_URL}`` itself."""
    if config.refers_to_env("AMIGRATE_URL"):
        return True
    targets_file = config.get("targets_file")
    if not targets_file:
        return False
    try:
        text = (config.here / targets_file).read_text(encoding="utf-8")  # an absolute one stays
    except OSError:
        return False  # reading the targets reports that
    from amigrate.fanout import target_texts

    values = [line for _, line in target_texts(text.splitlines())]
    return refers_to(values, "AMIGRATE_URL")


def _ends(heads: tuple[str, ...] | list[str]) -> str:
    return ", ".join(heads) or "<base>"


class Progress:
    """Shows fan-out events: a live table on a terminal, one line per event otherwise."""

    def __init__(self, state: CliState, total: int) -> None:
        self.state = state
        self.total = total
        self.done = 0
        self.running: dict[str, str] = {}
        self.live: Any = None
        self._lock = threading.Lock()
        self.quiet = state.json or state.verbosity < 0

    def __enter__(self) -> Progress:
        if not self.quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self._render(), console=Console(stderr=True), refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.__exit__(None, None, None)

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(title=f"{self.done} / {self.total} done", show_edge=False)
        table.add_column("target")
        table.add_column("now")
        for name, what in sorted(self.running.items()):
            table.add_row(name, what)
        return table

    def __call__(self, event: TargetEvent) -> None:
        with self._lock:
            name = event.target.name
            if event.kind == "start":
                self.running[name] = "starting"
                line = f"{name}: started"
            elif event.kind == "step":
                step = event.detail.step
                if event.detail.result is not None:
                    return
                verb = (
                    "stamp"
                    if step.is_stamp
                    else ("upgrade" if step.direction == "up" else "downgrade")
                )
                now = f"{verb} {_ends(step.from_revisions)} -> {_ends(step.to_revisions)}"
                self.running[name] = now
                line = f"{name}: {now}" + (
                    f", {event.detail.message}" if event.detail.message else ""
                )
            else:
                self.running.pop(name, None)
                self.done += 1
                result = event.detail
                line = f"{name}: {'done' if result.ok else 'FAILED: ' + result.message}"
            if self.quiet:
                return
            if self.live is not None:
                self.live.update(self._render())
            else:
                click.echo(line, err=True)


def run_fanout(
    state: CliState,
    action: Callable[[Migrator], Awaitable[T]],
    selection: dict[str, Any],
    *,
    concurrency: int | None = None,
    fail_fast: bool = False,
    canary: int = 0,
    progress: bool = True,
) -> FanoutResult[T]:
    """Run *action* on every selected database with progress output."""
    from amigrate.api import fan_out, targets
    from amigrate.cli.run import run_async

    config = state.load_config()

    async def go() -> FanoutResult[T]:
        chosen = await targets(config, **selection)
        view = Progress(state, len(chosen)) if progress else None
        if view is not None:
            view.__enter__()
        try:
            return await fan_out(
                config,
                action,
                targets=chosen,
                concurrency=concurrency or _configured_concurrency(config),
                fail_fast=fail_fast,
                canary=canary,
                on_event=view,
                x_args=state.x_args,
                lock_timeout=state.lock_timeout,
            )
        finally:
            if view is not None:
                view.__exit__(None)

    return run_async(go)


def run_migrations(
    state: CliState,
    action: Callable[[Migrator], Awaitable[RunResult]],
    selection: dict[str, Any],
    **policy: Any,
) -> FanoutResult[RunResult]:
    """:func:`run_fanout`, then the summary table: also when Ctrl-C interrupted the run
    (then the :class:`~amigrate.errors.MigrationInterrupted` goes on, exit 130).

    With ``--json`` a run that did not complete everywhere prints no rows: the error
    that follows carries them (``"databases"``).
    """
    from amigrate.errors import MigrationInterrupted

    try:
        results = run_fanout(state, action, selection, **policy)
    except MigrationInterrupted as exc:
        if exc.results is not None and not state.json:
            print_summary(state, exc.results)
        raise
    if results.ok or not state.json:
        print_summary(state, results)
    return results


def raise_for_failures(results: FanoutResult[Any], what: str) -> None:
    """After the other databases' output, one error naming each database that failed.

    With one database selected, its own error (as in a one-database project).
    """
    from amigrate.errors import MigrationError

    failed = [r for r in results if not r.ok]
    if not failed:
        return
    if len(results) == 1 and failed[0].error is not None:
        raise failed[0].error
    error = MigrationError(
        f"{len(failed)} of {len(results)} databases could not be {what}: "
        + "; ".join(f"{r.target.name}: {r.message}" for r in failed),
        hint="the output above covers the others",
    )
    error.exit_code = shared_exit_code(failed)
    raise error


def shared_exit_code(failed: Sequence[TargetResult[Any]]) -> int:
    """The exit code of the *failed* databases' errors where they all have the same (all
    timed out on the lock: 4; a check found a problem: 3), else 1. Databases skipped or
    cancelled because of them (--canary, --fail-fast) do not count."""
    codes = {getattr(r.error, "exit_code", 1) for r in failed if r.status == "failed"}
    return codes.pop() if len(codes) == 1 else 1


def summary_rows(results: FanoutResult[Any]) -> list[dict[str, Any]]:
    """One row per target: name, database, from, to, steps, duration, status, error.

    The version ends and steps come from a :class:`RunResult` (a migration); other
    values (a read) leave them empty.
    """
    from amigrate.errors import MigrationFailed
    from amigrate.migrator import RunResult

    rows = []
    for r in results:
        value = r.value if isinstance(r.value, RunResult) else None
        from_heads = list(value.from_heads) if value else None
        to_heads = list(value.to_heads) if value else None
        steps = len(value.steps) if value else 0
        if isinstance(r.error, MigrationFailed) and r.error.applied:
            # Failed after committing some steps: they are applied, say so.
            applied = r.error.applied
            from_heads = list(applied[0].from_revisions)
            to_heads = list(applied[-1].to_revisions)
            steps = len(applied)
        elif isinstance(r.error, MigrationFailed) and r.error.failed is not None:
            # Failed (or interrupted) in its first step: the version table is where it was.
            from_heads = to_heads = list(r.error.failed.from_revisions)
        rows.append(
            {
                "target": r.target.name,
                "database": r.target.display_url,
                "schema": r.target.schema,
                "from_heads": from_heads,
                "to_heads": to_heads,
                "steps": steps,
                "duration": round(r.duration, 3),
                "status": r.status,
                "error": r.message or None,
            }
        )
    return rows


def print_summary(state: CliState, results: FanoutResult[RunResult]) -> None:
    """The summary table (rich on a terminal, aligned text otherwise), or JSON."""
    from amigrate.cli.output import emit_json

    rows = summary_rows(results)
    if state.json:
        emit_json(rows)
        return
    if state.verbosity < 0:
        return
    table = [
        (
            row["target"],
            f"{_ends(row['from_heads'] or [])} -> {_ends(row['to_heads'] or [])}"
            if row["from_heads"] is not None
            else "-",
            str(row["steps"]),
            f"{row['duration']:.2f} s",
            row["status"] + (f": {row['error']}" if row["error"] else ""),
        )
        for row in rows
    ]
    headers = ("target", "from -> to", "steps", "duration", "status")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        rich_table = Table(*headers)
        for line in table:
            rich_table.add_row(*line)
        Console().print(rich_table)
        return
    widths = [max(len(h), *(len(line[i]) for line in table)) for i, h in enumerate(headers)]
    for line in (headers, *table):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
