"""``amigrate log`` and ``amigrate validate``: the audit history and checksum checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from amigrate.cli.output import emit_json
from amigrate.cli.run import migrator, run_async
from amigrate.cli.state import CliState, json_option, pass_state

if TYPE_CHECKING:
    from amigrate.fanout import FanoutResult
    from amigrate.migrator import Migrator

__all__ = ["log", "validate"]


@click.command()
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--revision", "-r", "revisions", multiple=True, help="Only this revision (any target)."
)
@click.option("--all", "show_all", is_flag=True, help="Every row (no --limit).")
@json_option
@pass_state
def log(
    state: CliState, limit: int, revisions: tuple[str, ...], show_all: bool, json_output: bool
) -> None:
    """Show who applied what and when, newest first (the history table)."""
    from amigrate.runtime.history import HistoryEntry

    async def read() -> tuple[list[HistoryEntry], Migrator]:
        async with migrator(state) as m:
            wanted = await _wanted(m, revisions)
            return await m.log(limit=None if show_all else limit, revisions=wanted), m

    from amigrate.cli.fanout import fanout_selection, raise_for_failures, run_fanout

    selection = fanout_selection(state)
    rows: list[tuple[str, HistoryEntry]]
    results: FanoutResult[list[HistoryEntry]] | None = None
    if selection is None:
        entries, m = run_async(read)
        rows = [("", e) for e in entries]
        where = m.database
    else:

        async def read_one(m: Migrator) -> list[HistoryEntry]:
            wanted = await _wanted(m, revisions)
            return await m.log(limit=None if show_all else limit, revisions=wanted)

        rows = []
        results = run_fanout(state, read_one, selection, progress=False)
        if len(results) == 1:
            raise_for_failures(results, "read")
        for result in results:
            rows += [(result.target.name, e) for e in result.value or []]
        rows.sort(key=lambda pair: pair[1].applied_at, reverse=True)
        rows = rows if show_all else rows[:limit]
        where = "any database"
    if state.json or json_output:
        emit_json([{"target": t, **e.as_dict()} if t else e.as_dict() for t, e in rows])
    elif not rows:
        readable = results is None or all(r.ok for r in results)
        where = where if readable else "the databases that could be read"
        if revisions:
            click.echo(f"No history rows for {', '.join(revisions)} in {where}.", err=True)
        else:
            click.echo(f"No history in {where} yet.", err=True)
    for name, e in [] if state.json or json_output else rows:
        ends = f"{e.from_revisions or '<base>'} -> {e.to_revisions or '<base>'}"
        status = "" if e.status == "applied" else f"  [{e.status.upper()}: {e.error}]"
        if e.status == "running":
            status = "  [RUNNING: started, not finished (running now, or its migrator stopped)]"
        click.echo(
            (f"{name}: " if name else "")
            + f"{e.applied_at:%Y-%m-%d %H:%M:%S} UTC  {e.direction:<6} {ends}"
            f"{', ' + e.message if e.message else ''}"
            f"  by {e.os_user}{' as ' + e.db_user if e.db_user else ''}"
            f"  ({e.duration * 1000:.0f} ms, run {e.run_id[:8]}){status}"
        )
    if results is not None:
        raise_for_failures(results, "read")  # after the others' rows


async def _wanted(m: Migrator, revisions: tuple[str, ...]) -> list[str] | None:
    """The revisions -r names, resolved as upgrade would resolve them (``current``, ``-1``
    and ``label@-1`` count from the database's heads)."""
    if not revisions:
        return None
    heads = await m.current()
    return [r for target in revisions for r in m.graph.resolve(target, heads)]


@click.command()
@json_option
@pass_state
def validate(state: CliState, json_output: bool) -> None:
    """Check applied revisions against their files (exit 3 when something changed)."""
    from amigrate.errors import CheckFailed
    from amigrate.runtime.validation import ValidationReport

    async def check() -> tuple[ValidationReport, str]:
        async with migrator(state) as m:
            return await m.validate(), m.database

    from amigrate.cli.fanout import fanout_selection, raise_for_failures, run_fanout

    selection = fanout_selection(state)
    reports: dict[str, tuple[ValidationReport, str]] = {}
    results: FanoutResult[tuple[ValidationReport, str]] | None = None
    if selection is None:
        reports[""] = run_async(check)
    else:

        async def check_one(m: Migrator) -> tuple[ValidationReport, str]:
            return await m.validate(), m.database

        results = run_fanout(state, check_one, selection, progress=False)
        if len(results) == 1:
            raise_for_failures(results, "checked")
        for result in results:
            if result.value is not None:
                reports[result.target.name] = result.value
    data = {
        name: {
            "database": database,
            "ok": report.ok,
            "checked": report.checked,
            "unchecked": report.unchecked,
            "problems": [p.as_dict() for p in report.problems],
        }
        for name, (report, database) in reports.items()
    }
    for r in results or ():
        if not r.ok:
            data[r.target.name] = {"database": r.target.display_url, "error": r.message}
    if state.json or json_output:
        emit_json(data[""] if selection is None else data)
    else:
        for name, (report, _) in reports.items():
            prefix = f"{name}: " if name else ""
            for problem in report.problems:
                click.echo(f"{prefix}{problem.kind}: {problem.revision}: {problem.detail}")
            if report.ok and (report.checked or not report.unchecked):
                n = report.checked
                what = (
                    "applied revision matches its file"
                    if n == 1
                    else "applied revisions match their files"
                )
                click.echo(f"{prefix}{n} {what}.")
            if report.unchecked:
                n = report.unchecked
                click.echo(
                    f"{prefix}{n} applied revision{'s' if n != 1 else ''} "
                    f"{'has' if n == 1 else 'have'} no checksum recorded (applied by Alembic, "
                    "below a stamp, or before amigrate recorded checksums), so not checked: "
                    "'amigrate repair <revision>' records its file as it is now"
                )
    if results is not None:
        raise_for_failures(results, "checked")  # after the others' findings
    count = sum(len(report.problems) for report, _ in reports.values())
    if count:
        raise CheckFailed(
            f"{count} problem{'s' if count != 1 else ''} found",
            hint="restore the files as they were applied, or accept intended edits "
            "with 'amigrate repair'",
        )
