"""Commands that touch the database: upgrade, downgrade, current, stamp, ensure-version."""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

import click

from amigrate.cli.output import emit_json
from amigrate.cli.run import migrator, run_async
from amigrate.cli.state import CliState, json_option, pass_state

if TYPE_CHECKING:
    from amigrate.fanout import FanoutResult
    from amigrate.migrator import Migrator, RunResult
    from amigrate.revisions import Plan, RevisionGraph
    from amigrate.runtime.history import HistoryEntry
    from amigrate.runtime.runner import StepEvent

__all__ = ["current", "downgrade", "ensure_version", "stamp", "upgrade"]


def _ends(heads: tuple[str, ...]) -> str:
    return ", ".join(heads) or "<base>"


def _progress(state: CliState) -> Any:
    # Written straight to stderr: click.echo asks the terminal about colours on every
    # call (a system call), a cost of its own at a thousand steps. The lines are plain
    # text, and stderr is line-buffered, so each line still appears as its step starts.
    stream = sys.stderr

    def on_step(event: StepEvent) -> None:
        if event.result is None:
            step = event.step
            verb = (
                "stamp" if step.is_stamp else ("upgrade" if step.direction == "up" else "downgrade")
            )
            line = f"Running {verb} {_ends(step.from_revisions)} -> {_ends(step.to_revisions)}"
            stream.write(line + (f", {event.message}\n" if event.message else "\n"))
            stream.flush()
        elif state.verbosity > 0:
            stream.write(f"  done in {event.result.duration * 1000:.0f} ms\n")
            stream.flush()

    return on_step if state.verbosity >= 0 and not state.json else None


def _plan_json(plan: Plan, database: str) -> dict[str, Any]:
    return {
        "database": database,
        "direction": plan.direction,
        "from_heads": list(plan.from_heads),
        "to_heads": list(plan.to_heads),
        "steps": [
            {
                "revision": s.revision,
                "direction": "stamp" if s.is_stamp else s.direction,
                "from_revisions": list(s.from_revisions),
                "to_revisions": list(s.to_revisions),
                "version_change": {
                    "kind": s.change.kind,
                    "remove": list(s.change.remove),
                    "add": list(s.change.add),
                },
            }
            for s in plan.steps
        ],
    }


def _result_json(result: RunResult) -> dict[str, Any]:
    data = asdict(result)
    data["from_heads"] = list(result.from_heads)
    data["to_heads"] = list(result.to_heads)
    if data["sql"] is None:
        del data["sql"]
    return data


def _print_plan(state: CliState, plan: Plan, database: str, messages: dict[str, str]) -> None:
    if state.json:
        emit_json(_plan_json(plan, database))
        return
    if not plan.steps:
        click.echo(f"Nothing to do: {database} is at {_ends(plan.from_heads)}.")
        return
    count = len(plan.steps)
    click.echo(
        f"Plan for {database}: {_ends(plan.from_heads)} -> {_ends(plan.to_heads)} "
        f"({count} step{'s' if count != 1 else ''})"
    )
    for step in plan.steps:
        verb = "stamp" if step.is_stamp else ("upgrade" if step.direction == "up" else "downgrade")
        message = messages.get(step.revision, "")
        text = f"  {verb} {_ends(step.from_revisions)} -> {_ends(step.to_revisions)}"
        click.echo(f"{text}{', ' + message if message else ''}  [{step.change}]")


def _report(state: CliState, result: RunResult) -> None:
    if state.json:
        emit_json(_result_json(result))
        return
    if result.sql is not None:
        click.echo(result.sql, nl=False)
        return
    if state.verbosity < 0:
        return
    if not result.steps and result.resolved:
        click.echo(
            f"Recorded that the failure of {result.resolved} is resolved; the database is at "
            f"{_ends(result.to_heads)}.",
            err=True,
        )
        return
    if not result.steps and result.from_heads != result.to_heads:  # stamp --purge base
        click.echo(
            f"{_ends(result.from_heads)} -> {_ends(result.to_heads)}: the version table was "
            "emptied",
            err=True,
        )
        return
    if not result.steps:
        click.echo(f"Nothing to do: the database is at {_ends(result.to_heads)}.", err=True)
        return
    count = len(result.steps)
    click.echo(
        f"{_ends(result.from_heads)} -> {_ends(result.to_heads)}: {count} "
        f"step{'s' if count != 1 else ''} in {result.duration:.2f} s",
        err=True,
    )


def _migrate(
    state: CliState,
    direction: Literal["up", "down"],
    target: str,
    sql: bool,
    plan_only: bool,
    force: bool = False,
    fanout: dict[str, Any] | None = None,
) -> None:
    from amigrate.cli.fanout import fanout_selection

    selection = fanout_selection(state)
    if selection is not None and (sql or plan_only):

        async def preview(m: Migrator) -> Any:
            if sql:
                return await m.sql(direction, target)  # no connection
            plan = await m.plan(target, direction=direction, force=force)
            return plan, {s.revision: m.graph[s.revision].message for s in plan.steps}

        _preview_many(state, selection, preview, sql=sql)
        return
    if selection is not None:
        _migrate_many(state, direction, target, force, selection, fanout or {})
        return
    if plan_only and selection is None and _quick_plan(state, direction, target):
        return

    async def go() -> None:
        async with migrator(state, on_step=None if plan_only or sql else _progress(state)) as m:
            if sql:
                _report(state, await m.sql(direction, target))
            elif plan_only:
                plan = await m.plan(target, direction=direction, force=force)
                messages = {s.revision: m.graph[s.revision].message for s in plan.steps}
                _print_plan(state, plan, m.database, messages)
            elif direction == "up":
                _report(state, await m.upgrade(target, force=force))
            else:
                _report(state, await m.downgrade(target, force=force))

    run_async(go)


def _preview_many(
    state: CliState,
    selection: dict[str, Any],
    preview: Callable[[Migrator], Awaitable[Any]],
    *,
    sql: bool,
) -> None:
    """``--plan`` or ``--sql`` for each selected database of a multi-database project.

    *preview* returns a database's offline :class:`RunResult` (*sql*), or its plan
    and the messages of the plan's revisions.
    """
    from amigrate.cli.fanout import raise_for_failures, run_fanout

    async def with_name(m: Migrator) -> tuple[str, Any]:
        return m.database, await preview(m)

    results = run_fanout(state, with_name, selection, progress=False)
    if len(results) == 1:
        raise_for_failures(results, "")  # one database chosen: its own error, as without -d
    rendered: dict[str, Any] = {}
    for index, r in enumerate(r for r in results if r.value is not None):
        database, value = r.value
        name = r.target.name
        if sql and state.json:
            rendered[name] = _result_json(value)
        elif sql:
            click.echo(("\n" if index else "") + f"-- database {name} ({database})\n")
            click.echo(value.sql or "", nl=False)
        elif state.json:
            rendered[name] = _plan_json(value[0], database)
        else:
            _print_plan(state, value[0], f"{name} ({database})", value[1])
    if state.json:
        emit_json(rendered)
    raise_for_failures(results, "rendered" if sql else "planned")


def _quick_plan(state: CliState, direction: Literal["up", "down"], target: str) -> bool:
    """``--plan`` from the files and a direct read of the version table, if possible."""
    from amigrate.cli.run import quick_heads
    from amigrate.config import mask_url
    from amigrate.revisions import plan_downgrade, plan_upgrade
    from amigrate.scripts.directory import ScriptDirectory

    heads = quick_heads(state)
    if heads is None:
        return False
    config = state.load_config()
    graph = ScriptDirectory.from_config(config).graph
    planner = plan_upgrade if direction == "up" else plan_downgrade
    plan = planner(graph, heads, target)
    messages = {s.revision: graph[s.revision].message for s in plan.steps if s.revision in graph}
    _print_plan(state, plan, mask_url(config.url), messages)
    return True


def _migrate_many(
    state: CliState,
    direction: Literal["up", "down"],
    target: str,
    force: bool,
    selection: dict[str, Any],
    policy: dict[str, Any],
) -> None:
    from amigrate.cli.fanout import run_migrations, shared_exit_code
    from amigrate.errors import MigrationError, MigrationFailed, PartlyApplied

    async def action(m: Migrator) -> RunResult:
        if direction == "up":
            return await m.upgrade(target, force=force)
        return await m.downgrade(target, force=force)

    results = run_migrations(state, action, selection, **policy)
    failed = [r for r in results if not r.ok]
    if failed:
        unstarted = sum(r.status in ("skipped", "cancelled") for r in failed)
        completed = len(results) - len(failed)
        parts = ["error.databases says why" if state.json else "the summary above says why"]
        if unstarted:
            were = "was" if unstarted == 1 else "were"
            parts.append(f"{unstarted} {were} stopped or not started (--fail-fast, --canary)")
        if completed:
            parts.append("the others completed" if not unstarted else f"{completed} completed")
        partial = [
            r
            for r in failed
            if isinstance(r.error, PartlyApplied)
            or (isinstance(r.error, MigrationFailed) and r.error.partial)
        ]
        for r in partial:  # what to do there is not "run it again": it would refuse
            parts.append(f"{r.target.name} is partly changed: {getattr(r.error, 'hint', '')}")
        again = (
            "running the command again only touches what is behind"
            if not partial
            else "running the command again continues the others"
        )
        error = MigrationError(
            f"{len(failed)} of {len(results)} databases did not reach {target}: "
            + ", ".join(f"{r.target.name} ({r.status})" for r in failed),
            hint="; ".join(parts) + "; " + again,
            results=results,
        )
        error.exit_code = shared_exit_code(failed)
        raise error


def fanout_options(fn: Any) -> Any:
    """--concurrency, --fail-fast and --canary, for commands over several databases."""
    fn = click.option(
        "--canary",
        type=click.IntRange(min=0),
        default=0,
        help="Migrate this many databases first; the rest only if they all succeed.",
    )(fn)
    fn = click.option(
        "--fail-fast", is_flag=True, help="Stop at the first failing database (cancel the others)."
    )(fn)
    return click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        help="Databases migrated at once (default 8, or 'concurrency' in the config).",
    )(fn)


sql_option = click.option(
    "--sql", is_flag=True, help="Print the SQL instead of running it (no connection; 'a:b' ranges)."
)
plain_sql_option = click.option(
    "--sql", is_flag=True, help="Print the SQL instead of running it (no connection)."
)
plan_option = click.option(
    "--plan", "plan_only", is_flag=True, help="List the steps without running them."
)
force_option = click.option(
    "--force", is_flag=True, help="Run even over a failed revision recorded in the history."
)


class TargetCommand(click.Command):
    """A command whose target may start with '-' (``downgrade -1``, ``-2:current``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args:
            # (`--concurrency -1` is that option's value, for click to refuse as such)
            valued = {
                name
                for p in self.params
                if isinstance(p, click.Option) and not p.is_flag and not p.count
                for name in p.opts
            }
            relative = [
                i
                for i, a in enumerate(args)
                if re.match(r"-\d", a) and (i == 0 or args[i - 1] not in valued)
            ]
            if relative:
                targets = [args[i] for i in relative]
                args = [a for i, a in enumerate(args) if i not in relative] + ["--", *targets]
        return super().parse_args(ctx, args)


@click.command(cls=TargetCommand)
@click.argument("target", default="head")
@sql_option
@plan_option
@force_option
@fanout_options
@json_option
@pass_state
def upgrade(
    state: CliState,
    target: str,
    sql: bool,
    plan_only: bool,
    force: bool,
    concurrency: int | None,
    fail_fast: bool,
    canary: int,
    json_output: bool,
) -> None:
    """Upgrade to TARGET (default head): head, heads, +2, an id prefix, label@head..."""
    policy = {"concurrency": concurrency, "fail_fast": fail_fast, "canary": canary}
    _migrate(state, "up", target, sql, plan_only, force, policy)


@click.command(cls=TargetCommand)
@click.argument("target")
@sql_option
@plan_option
@force_option
@fanout_options
@json_option
@pass_state
def downgrade(
    state: CliState,
    target: str,
    sql: bool,
    plan_only: bool,
    force: bool,
    concurrency: int | None,
    fail_fast: bool,
    canary: int,
    json_output: bool,
) -> None:
    """Downgrade to TARGET: -1, base, an id prefix, label@-1..."""
    policy = {"concurrency": concurrency, "fail_fast": fail_fast, "canary": canary}
    _migrate(state, "down", target, sql, plan_only, force, policy)


@click.command()
@click.option("--verbose", "-v", "verbose", is_flag=True, help="Show each head in full.")
@click.option(
    "--check-heads", is_flag=True, help="Exit 3 unless the database is at the scripts' heads."
)
@json_option
@pass_state
def current(state: CliState, verbose: bool, check_heads: bool, json_output: bool) -> None:
    """Show the revisions the database is at (read-only; never creates a table)."""
    from amigrate.cli.describe import as_json, one_line, verbose_block
    from amigrate.cli.fanout import fanout_selection, raise_for_failures, run_fanout
    from amigrate.errors import CheckFailed, RevisionError
    from amigrate.scripts.directory import ScriptDirectory

    selection = fanout_selection(state)
    results: FanoutResult[tuple[str, tuple[str, ...], HistoryEntry | None]] | None = None
    per_database: dict[str, tuple[str, tuple[str, ...], HistoryEntry | None]]
    if selection is None:
        from amigrate.cli.run import quick_heads
        from amigrate.config import mask_url

        # (None where the history records a failure: the ordinary path reports it)
        quick = quick_heads(state)
        if quick is not None:
            per_database = {"": (mask_url(state.load_config().url), quick, None)}
        else:

            async def read() -> tuple[str, tuple[str, ...], HistoryEntry | None]:
                async with migrator(state) as m:
                    return m.database, *await m.status()

            per_database = {"": run_async(read)}
    else:

        async def read_one(m: Migrator) -> tuple[str, tuple[str, ...], HistoryEntry | None]:
            return m.database, *await m.status()

        results = run_fanout(state, read_one, selection, progress=False)
        if len(results) == 1:
            raise_for_failures(results, "read")
        per_database = {r.target.name: r.value for r in results if r.value is not None}
    scripts = ScriptDirectory.from_config(state.load_config())
    graph = scripts.graph
    problems: list[str] = []
    unknowns: list[str] = []
    data: dict[str, Any] = {}
    for name, (database, heads, failure) in per_database.items():
        prefix = f"{name}: " if name else ""
        known = [h for h in heads if h in graph]
        unknown = [h for h in heads if h not in graph]
        entries = [as_json(graph, scripts.script(h)) for h in known]
        entries += [{"revision": h, "unknown": True} for h in unknown]
        # What 'upgrade heads' would apply, so a script needs no --check-heads to know.
        applied = set(known).union(*(graph.ancestors(h) for h in known))
        data[name] = {
            "database": database,
            "heads": entries,
            "up_to_date": not unknown and graph.is_fully_applied(heads),
            "pending": None if unknown else len(graph.ids) - len(applied),
            "failed": None if failure is None else _failure_json(failure),
        }
        if failure is not None and not state.json:
            from amigrate.migrator import unresolved_message

            click.echo(
                f"{prefix}warning: {unresolved_message(failure, locked=False)}; upgrade and "
                "downgrade refuse until 'amigrate stamp <revision>' says where it is "
                "('amigrate log' shows it)",
                err=True,
            )
        if not state.json:
            if name and not heads:
                click.echo(f"{prefix}<base>")
            # As Alembic's: also the tip of a branch a current revision depends on.
            for head in graph.effective_current(known):
                script = scripts.script(head)
                if verbose:
                    click.echo(prefix + verbose_block(graph, script))
                else:
                    # Alembic's form: the head and tree marks, no parents or message.
                    line = one_line(graph, script, parents=False, message=False, tree=True)
                    click.echo(prefix + line)
            for head in unknown:
                click.echo(f"{prefix}{head} (unknown revision: no script has it)")
        if unknown:
            unknowns.append(
                f"{prefix}the database is at {', '.join(map(repr, unknown))}, "
                "which no revision file has"
            )
        elif (stale := _stale_rows(graph, heads)) is not None:
            unknowns.append(prefix + stale)  # as upgrade says it
        elif check_heads and not graph.is_fully_applied(heads):
            expected = graph.effective_heads  # what 'upgrade heads' goes to
            problems.append(
                f"{prefix}the database is at {_ends(heads)}, not at the head"
                f"{'s' if len(expected) != 1 else ''} {_ends(expected)}"
            )
    if results is not None:
        for r in results:
            if not r.ok:
                data[r.target.name] = {"database": r.target.display_url, "error": r.message}
    if state.json:
        emit_json(data[""] if selection is None else data)
    if results is not None:
        raise_for_failures(results, "read")  # after the others' heads
    if unknowns:
        # Not a check that failed: the version table and the files disagree (exit 1).
        raise RevisionError(
            "; ".join(unknowns),
            hint="restore the missing file, or repair the version table with "
            "'amigrate stamp --purge <revision>'",
        )
    if problems:
        raise CheckFailed("; ".join(problems), hint="run 'amigrate upgrade heads'")


def _failure_json(failure: HistoryEntry) -> dict[str, Any]:
    return {
        "revision": failure.revision,
        "direction": failure.direction,
        "applied_at": failure.applied_at.isoformat(),
        "error": failure.error,
        "finished": failure.status != "running",
    }


def _stale_rows(graph: RevisionGraph, heads: Sequence[str]) -> str | None:
    """What is wrong with version rows one of which is below another, if that is so."""
    from amigrate.errors import ResolutionError
    from amigrate.revisions.planner import current_heads_of

    try:
        current_heads_of(graph, heads)
    except ResolutionError as exc:
        return exc.message
    return None


@click.command()
@click.argument("revisions", nargs=-1, required=True)
@click.option("--purge", is_flag=True, help="Empty the version table first (repairs bad rows).")
@plain_sql_option
@json_option
@pass_state
def stamp(
    state: CliState, revisions: tuple[str, ...], purge: bool, sql: bool, json_output: bool
) -> None:
    """Record REVISIONS as applied without running them ('base' empties the table)."""
    from amigrate.cli.fanout import fanout_selection, run_migrations
    from amigrate.errors import MigrationError

    targets = list(revisions)  # (one at least: a bare 'stamp' meant 'stamp base')
    selection = fanout_selection(state)
    if selection is not None and sql:

        async def stamp_sql(m: Migrator) -> RunResult:
            return await m.stamp_sql(targets, purge=purge)

        _preview_many(state, selection, stamp_sql, sql=True)
        return
    if selection is not None:

        async def stamp_one(m: Migrator) -> RunResult:
            return await m.stamp(targets, purge=purge)

        results = run_migrations(state, stamp_one, selection)
        failed = [r for r in results if not r.ok]
        if failed:
            from amigrate.cli.fanout import shared_exit_code

            error = MigrationError(
                f"{len(failed)} of {len(results)} databases were not stamped: "
                + ", ".join(f"{r.target.name} ({r.message})" for r in failed),
                results=results,
            )
            error.exit_code = shared_exit_code(failed)
            raise error
        return

    async def go() -> None:
        async with migrator(state) as m:
            if sql:
                _report(state, await m.stamp_sql(targets, purge=purge))
            else:
                _report(state, await m.stamp(targets, purge=purge))

    run_async(go)


@click.command("ensure-version")
@plain_sql_option
@pass_state
def ensure_version(state: CliState, sql: bool) -> None:
    """Create the version table if it does not exist."""

    async def go() -> None:
        async with migrator(state) as m:
            if sql:
                click.echo(await m.ensure_version_sql(), nl=False)
            else:
                await m.ensure_version()

    run_async(go)
