"""Inspection commands that read the revision files: heads, branches, history, show, edit."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from amigrate.cli.output import emit_json
from amigrate.cli.state import CliState, json_option, pass_state

if TYPE_CHECKING:
    from amigrate.revisions import RevisionGraph, Target
    from amigrate.scripts.directory import ScriptDirectory

__all__ = ["branches", "edit", "heads", "history", "show"]

verbose_option = click.option("--verbose", "-v", "verbose", is_flag=True, help="Show details.")


def _scripts(state: CliState) -> ScriptDirectory:
    from amigrate.scripts.directory import ScriptDirectory

    return ScriptDirectory.from_config(state.load_config())


@click.command()
@verbose_option
@click.option(
    "--resolve-dependencies",
    is_flag=True,
    help="Leave out heads that other revisions depend on (the 'heads' target).",
)
@json_option
@pass_state
def heads(state: CliState, verbose: bool, resolve_dependencies: bool, json_output: bool) -> None:
    """Show the heads of the revision history."""
    from amigrate.cli.describe import as_json, one_line, verbose_block

    scripts = _scripts(state)
    graph = scripts.graph
    ids = graph.effective_heads if resolve_dependencies else graph.heads
    if state.json or json_output:
        emit_json([as_json(graph, scripts.script(rid)) for rid in ids])
        return
    for rid in ids:
        script = scripts.script(rid)
        if verbose:
            click.echo(verbose_block(graph, script))
        else:
            click.echo(one_line(graph, script, parents=False, message=False))


@click.command()
@verbose_option
@json_option
@pass_state
def branches(state: CliState, verbose: bool, json_output: bool) -> None:
    """Show the branch points of the history and the revisions they branch into."""
    from amigrate.cli.describe import as_json, one_line, verbose_block

    scripts = _scripts(state)
    graph = scripts.graph
    points = [rid for rid in reversed(graph.ids) if graph.is_branch_point(rid)]
    if state.json or json_output:
        data = []
        for rid in points:
            entry = as_json(graph, scripts.script(rid))
            entry["branches_into"] = list(graph.children(rid))
            data.append(entry)
        emit_json(data)
        return
    # As Alembic prints it: the branch point, each revision it branches into (with its
    # message when verbose); a blank line between branch points.
    for index, rid in enumerate(points):
        if index:
            click.echo()
        script = scripts.script(rid)
        if verbose:
            click.echo(verbose_block(graph, script))
        else:
            click.echo(one_line(graph, script, parents=False, message=False, tree=True))
        for child in graph.children(rid):
            child_script = scripts.script(child)
            child_line = one_line(graph, child_script, parents=False, message=verbose, tree=True)
            click.echo(f"{' ' * len(rid)} -> {child_line}")


def _select(graph: RevisionGraph, spec: str | None, current: Sequence[str]) -> list[str]:
    """The ids ``history -r spec`` shows, newest first."""
    from amigrate.revisions import parse_range, parse_target

    order = list(reversed(graph.ids))
    if not spec:
        return order
    lower, upper = parse_range(spec)
    if (
        lower is not None
        and lower.branch
        and (upper is None or (upper.kind in ("head", "heads") and upper.branch is None))
    ):
        upper = parse_target(f"{lower.branch}@heads")  # label@base: is that branch's history
    keep: set[str] | None = None
    tops: tuple[str, ...] = ()
    if upper is not None:
        # As Alembic: a bare +N counts from the lower end (base without one), not from
        # the database ("r3:+1" is r3 and the one above it).
        if _bare_relative(upper):
            if lower is not None and not _bare_relative(lower):
                start = graph.resolve(lower, current)
            else:  # (":-1" counts down from the heads)
                start = graph.heads if (upper.steps or 0) < 0 else ()
            # (from each end it counts from, as the database's heads are not asked)
            tops = graph.sort({t for s0 in start for t in graph.resolve(upper, (s0,))})
            if not start:
                tops = graph.resolve(upper, ())
        else:
            tops = graph.resolve(upper, current)
        keep = set(tops).union(*(graph.ancestors(t) for t in tops))
    if lower is not None and _bare_relative(lower):
        # ... and a bare -N from the upper end: from each of its heads, N below it and
        # up to it ("-2:" is the newest three of each branch).
        keep = set()
        for top in tops if upper is not None else graph.heads:
            span = {top} | graph.ancestors(top)
            bottom = graph.resolve(lower, (top,))  # () when it reaches base
            if bottom:
                span &= set(bottom).union(*(graph.descendants(b) for b in bottom))
            keep |= span
    elif lower is not None:
        bottoms = graph.resolve(lower, current)
        if keep is not None:
            _check_range(graph, spec, bottoms, tops, keep)
        if bottoms:  # "base" as the lower end leaves everything in
            above = set(bottoms).union(*(graph.descendants(b) for b in bottoms))
            keep = above if keep is None else keep & above
    return order if keep is None else [rid for rid in order if rid in keep]


def _check_range(
    graph: RevisionGraph,
    spec: str,
    bottoms: Sequence[str],
    tops: Sequence[str],
    below_tops: set[str],
) -> None:
    """Refuse a range whose lower end is not below its upper end (Alembic refuses it too)."""
    from amigrate.errors import ResolutionError

    outside = [bottom for bottom in bottoms if bottom not in below_tops]
    if not outside:
        return
    lower, _, upper = spec.strip().partition(":")
    if not tops:
        hint = f"the upper end {upper!r} names no revision (nothing applied yet?)"
    elif any(graph.is_ancestor(top, outside[0]) for top in tops):
        hint = f"write the older revision first: -r {upper}:{lower}"
    else:
        hint = (
            "the two ends are on different branches; 'amigrate history' lists every "
            "revision and 'amigrate branches' shows where the history forks"
        )
    raise ResolutionError(
        f"range {spec!r} does not go from an ancestor up to a descendant on one branch: "
        f"{outside[0]} is not below {', '.join(tops) or 'base'}",
        hint=hint,
    )


def _bare_relative(end: Target) -> bool:
    """``+N`` / ``-N`` alone: in a range it counts from the range's other end."""
    text = (end.text or "").strip().lower()
    return (
        end.kind == "current"
        and end.is_relative
        and not end.branch
        and not text.startswith("current")
    )


def _needs_database(spec: str | None, indicate_current: bool) -> bool:
    if indicate_current:
        return True
    if not spec:
        return False
    # label@+N / label@-N count from the database's heads (+N / -N from the other end).
    return "current" in spec or any(
        "@+" in part or "@-" in part for part in spec.replace(":", " ").split()
    )


@click.command()
@click.option("-r", "--rev-range", "rev_range", metavar="RANGE", help="e.g. base:head, -3:current.")
@verbose_option
@click.option("-i", "--indicate-current", is_flag=True, help="Mark the database's current heads.")
@json_option
@pass_state
def history(
    state: CliState,
    rev_range: str | None,
    verbose: bool,
    indicate_current: bool,
    json_output: bool,
) -> None:
    """List revisions, newest first (Alembic's 'history')."""
    from amigrate.cli.describe import as_json, one_line, verbose_block

    scripts = _scripts(state)
    graph = scripts.graph
    current: tuple[str, ...] | dict[str, list[str]] = ()
    if _needs_database(rev_range, indicate_current):
        from amigrate.cli.run import current_heads

        current = current_heads(state, scripts)
    if isinstance(current, dict) and rev_range and ("current" in rev_range):
        from amigrate.errors import CommandError

        raise CommandError(
            "'current' in a range needs one database; this project has several",
            hint="choose one with -d NAME",
        )
    ids = _select(graph, rev_range, tuple(current))
    marks = current if indicate_current else ()
    if state.json or json_output:
        emit_json(
            [
                as_json(graph, scripts.script(rid), current if indicate_current else None)
                for rid in ids
            ]
        )
        return
    for rid in ids:
        script = scripts.script(rid)
        click.echo(
            verbose_block(graph, script, marks) if verbose else one_line(graph, script, marks)
        )


def _resolve_all(state: CliState, scripts: ScriptDirectory, targets: Sequence[str]) -> list[str]:
    """The revision ids *targets* name, in order, each once.

    ``current`` (and ``+N``/``-N``) need the database's heads: they are read
    read-only, as ``amigrate current`` reads them, and only when a target asks.
    """
    from amigrate.errors import CommandError
    from amigrate.revisions import parse_target

    graph = scripts.graph
    parsed = [parse_target(t) for t in targets]
    current: tuple[str, ...] = ()
    if any(t.kind == "current" for t in parsed):
        from amigrate.cli.run import current_heads

        heads = current_heads(state, scripts)
        if isinstance(heads, dict) and any(t.is_relative or t.branch for t in parsed):
            raise CommandError(
                "a relative target needs one database; this project has several",
                hint="choose one with -d NAME",
            )
        current = tuple(heads)
    ids: list[str] = []
    for target in parsed:
        ids += [rid for rid in graph.resolve(target, current) if rid not in ids]
    return ids


@click.command()
@click.argument("revisions", nargs=-1, required=True)
@json_option
@pass_state
def show(state: CliState, revisions: tuple[str, ...], json_output: bool) -> None:
    """Show one or more revisions in full (an id prefix, a label, 'heads', 'current')."""
    from amigrate.cli.describe import as_json, verbose_block

    scripts = _scripts(state)
    graph = scripts.graph
    ids = _resolve_all(state, scripts, revisions)
    if state.json or json_output:
        emit_json([as_json(graph, scripts.script(rid)) for rid in ids])
        return
    if not ids and state.verbosity >= 0:
        at_base = " (the database is at base)" if any("current" in r for r in revisions) else ""
        click.echo(f"{' '.join(revisions)} names no revision{at_base}", err=True)
    for rid in ids:
        click.echo(verbose_block(graph, scripts.script(rid)))


@click.command()
@click.argument("revision")
@pass_state
def edit(state: CliState, revision: str) -> None:
    """Open the file(s) of a revision in $EDITOR (or $VISUAL); 'current' needs the database."""
    from amigrate.errors import CommandError

    scripts = _scripts(state)
    ids = _resolve_all(state, scripts, [revision])
    if not ids:
        raise CommandError(
            f"no revision file is indicated by {revision!r}"
            + (": the database is at base" if "current" in revision else ""),
            hint="run 'amigrate upgrade' first, or name a revision ('amigrate history' lists them)"
            if "current" in revision
            else "name a revision ('amigrate history' lists them)",
        )
    # Alembic tries EDITOR first, then VISUAL.
    editor = os.environ.get("EDITOR") or os.environ.get("VISUAL")
    if not editor:
        raise CommandError(
            "no editor: $EDITOR and $VISUAL are not set",
            hint="export EDITOR=vim (or nano, 'code --wait', ...)",
        )
    for rid in ids:  # one after the other, as Alembic opens them
        path = scripts.script(rid).path
        try:
            code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
        except OSError as exc:
            raise CommandError(
                f"cannot start the editor {editor!r}: {exc.strerror}", hint="check $EDITOR"
            ) from exc
        if code != 0:
            raise CommandError(f"the editor {editor!r} exited with status {code} on {path}")
