"""``amigrate check``: do the models and the database agree? Exit 3 when they do not.

The comparison is autogenerate's (``amigrate revision --autogenerate`` writes
the revision these differences call for). Shared with ``revision``:
:func:`compare_databases` runs it on the project's database, or on each
database of a multidb project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from amigrate.cli.output import emit_json
from amigrate.cli.state import CliState, json_option, pass_state

if TYPE_CHECKING:
    from amigrate.autogenerate.diff import SchemaDiff

__all__ = ["check", "compare_databases", "print_changes"]


def compare_databases(state: CliState, *, one: bool = False) -> list[SchemaDiff]:
    """The differences on the selected database(s), each at head (else an error).

    *one*: a project of many targets (tenants) must select exactly one with
    ``-d`` (a revision is written from one database's schema).
    """
    from amigrate.api import fan_out
    from amigrate.cli.fanout import fanout_selection
    from amigrate.cli.run import run_async
    from amigrate.errors import CommandError
    from amigrate.migrator import Migrator

    selection = fanout_selection(state)
    if selection is None:

        async def single() -> list[SchemaDiff]:
            config = state.load_config()
            env = state.env_hooks()  # loaded once, shared with the rendering
            async with Migrator(config, url=state.url, x_args=state.x_args, env=env) as m:
                return [await m.compare()]

        return run_async(single)
    if one and "targets" in selection and len(state.databases) != 1:
        raise CommandError(
            "this project migrates many targets with the same revisions; autogenerate "
            "compares the models with one of them",
            hint="choose the target to compare with: amigrate -d NAME revision --autogenerate",
        )

    async def action(m: Migrator) -> SchemaDiff:
        return await m.compare()

    async def many() -> list[SchemaDiff]:
        config = state.load_config()
        results = await fan_out(config, action, x_args=state.x_args, **selection)
        diffs = []
        for result in results:
            if result.error is not None:
                raise result.error
            assert result.value is not None
            diffs.append(result.value)
        return diffs

    return run_async(many)


def print_changes(state: CliState, diffs: list[SchemaDiff], *, prefix: str = "") -> None:
    """One line per difference (``name: ...`` per database of several), notes on stderr."""
    from amigrate.autogenerate.writer import describe

    if state.verbosity < 0:
        return
    for line in describe(diffs):
        click.echo(f"{prefix}{line}")
    for diff in diffs:
        where = f"{diff.database}: " if diff.database else ""
        for note in diff.notes:
            click.echo(f"note: {where}{note}", err=True)


def diffs_json(diffs: list[SchemaDiff]) -> dict[str, Any]:
    """``{"ok": ..., "changes": [...], "notes": [...]}``; changes name their database."""
    return {
        "ok": all(d.is_empty for d in diffs),
        "changes": [
            {"database": d.database, **change.as_dict()} if d.database else change.as_dict()
            for d in diffs
            for change in d.changes
        ],
        "notes": [note for d in diffs for note in d.notes],
    }


@click.command()
@json_option
@pass_state
def check(state: CliState, json_output: bool) -> None:
    """Compare the models (env.py's target_metadata) with the database; exit 3 if they differ.

    The database must be at head. Differences are listed as 'revision
    --autogenerate' would write them.
    """
    from amigrate.errors import CheckFailed

    diffs = compare_databases(state)
    count = sum(len(d) for d in diffs)
    notes = sum(len(d.notes) for d in diffs)
    if state.json or json_output:
        emit_json({**diffs_json(diffs), "ok": not count and not notes})
    else:
        print_changes(state, diffs)
        if not count and not notes and state.verbosity >= 0:
            click.echo("No differences between the models and the database.")
    if count:
        raise CheckFailed(
            f"the models and the database differ: {count} change{'s' if count > 1 else ''}"
            + (f" and {notes} to handle by hand (the notes)" if notes else ""),
            hint="write a revision for them with 'amigrate revision --autogenerate -m MESSAGE'",
        )
    if notes:  # differences autogenerate cannot write are differences: a CI gate must fail
        raise CheckFailed(
            f"the models and the database differ in {notes} way{'s' if notes > 1 else ''} "
            "autogenerate cannot write (the notes above)",
            hint="change the database by hand in a revision (each note says how), or the models",
        )
