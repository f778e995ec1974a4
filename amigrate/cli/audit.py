"""``amigrate log`` and ``amigrate validate``: the audit history and checksum checks."""

from __future__ import annotations

import click

from amigrate.cli.output import emit_json
from amigrate.cli.run import migrator, run_async
from amigrate.cli.state import CliState, pass_state

__all__ = ["log", "validate"]

json_option = click.option("--json", "json_output", is_flag=True, help="Machine-readable output.")


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
    from amigrate.migrator import Migrator
    from amigrate.runtime.history import HistoryEntry

    async def read() -> tuple[list[HistoryEntry], Migrator]:
        async with migrator(state) as m:
            wanted: list[str] | None = None
            if revisions:
                wanted = []
                for target in revisions:
                    wanted += m.graph.resolve(target)
            return await m.log(limit=None if show_all else limit, revisions=wanted), m

    entries, m = run_async(read)
    if state.json or json_output:
        emit_json([e.as_dict() for e in entries])
        return
    if not entries:
        click.echo(f"No history in {m.database} yet.", err=True)
        return
    for e in entries:
        ends = f"{e.from_revisions or '<base>'} -> {e.to_revisions or '<base>'}"
        status = "" if e.status == "applied" else f"  [{e.status.upper()}: {e.error}]"
        click.echo(
            f"{e.applied_at:%Y-%m-%d %H:%M:%S}  {e.direction:<5} {ends}"
            f"{', ' + e.message if e.message else ''}"
            f"  by {e.os_user}{' as ' + e.db_user if e.db_user else ''}"
            f"  ({e.duration * 1000:.0f} ms, run {e.run_id[:8]}){status}"
        )


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

    report, database = run_async(check)
    if state.json or json_output:
        emit_json(
            {
                "database": database,
                "ok": report.ok,
                "checked": report.checked,
                "problems": [p.as_dict() for p in report.problems],
            }
        )
    else:
        for problem in report.problems:
            click.echo(f"{problem.kind}: {problem.revision}: {problem.detail}")
        if report.ok:
            click.echo(f"{report.checked} applied revisions match their files.")
    if not report.ok:
        raise CheckFailed(
            f"{len(report.problems)} problem{'s' if len(report.problems) != 1 else ''} found",
            hint="restore the files of applied revisions, or record the truth with "
            "'amigrate stamp'",
        )
