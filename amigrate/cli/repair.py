"""``amigrate repair``: accept the files of applied revisions as they are now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from amigrate.cli.output import emit_json
from amigrate.cli.run import migrator, run_async
from amigrate.cli.state import CliState, json_option, pass_state

if TYPE_CHECKING:
    from amigrate.fanout import FanoutResult
    from amigrate.migrator import Migrator
    from amigrate.runtime.repair import RepairResult

__all__ = ["repair"]


@click.command()
@click.argument("revisions", nargs=-1)
@click.option("--sql", is_flag=True, hidden=True)  # refused below, with the reason
@json_option
@pass_state
def repair(state: CliState, revisions: tuple[str, ...], sql: bool, json_output: bool) -> None:
    """Accept the files of applied REVISIONS as they are now (default: every changed one).

    Records each file's checksum in the history, so that 'validate' passes again;
    the schema and the version table are not touched.
    """
    from amigrate.cli.fanout import fanout_selection, raise_for_failures, run_fanout
    from amigrate.errors import CommandError

    if sql:
        raise CommandError(
            "repair has no --sql: it writes only the history table, which offline SQL "
            "scripts do not keep",
            hint="run 'amigrate repair' with a connection to the database",
        )
    selection = fanout_selection(state)
    outcomes: dict[str, RepairResult] = {}
    results: FanoutResult[RepairResult] | None = None
    if selection is None:

        async def go() -> RepairResult:
            async with migrator(state) as m:
                return await m.repair(revisions)

        outcomes[""] = run_async(go)
    else:

        async def repair_one(m: Migrator) -> RepairResult:
            return await m.repair(revisions)

        results = run_fanout(state, repair_one, selection, progress=False)
        if len(results) == 1:
            raise_for_failures(results, "repaired")
        outcomes = {r.target.name: r.value for r in results if r.value is not None}
    if state.json or json_output:
        data: dict[str, Any] = {name: outcome.as_dict() for name, outcome in outcomes.items()}
        for r in results or ():
            if not r.ok:
                data[r.target.name] = {"database": r.target.display_url, "error": r.message}
        emit_json(data[""] if selection is None else data)
    else:
        for name, outcome in outcomes.items():
            _print(f"{name}: " if name else "", outcome)
    if results is not None:
        raise_for_failures(results, "repaired")  # after the others' output


def _print(prefix: str, outcome: RepairResult) -> None:
    for done in outcome.repaired:
        click.echo(f"{prefix}repaired: {done.revision}: {done.path} accepted as it is now")
    for revision in outcome.unchanged:
        click.echo(f"{prefix}unchanged: {revision}: already matches its file")
    for problem in outcome.remaining:
        click.echo(f"{prefix}not repaired: {problem.kind}: {problem.revision}: {problem.detail}")
    if not (outcome.repaired or outcome.unchanged or outcome.remaining):
        click.echo(
            f"{prefix}Nothing to repair: no applied revision's file differs from the checksum "
            "recorded for it."
        )
