"""``amigrate revision`` and ``amigrate merge``: write new revision files, then run hooks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from amigrate.cli.output import emit_json
from amigrate.cli.state import CliState, json_option, pass_state

if TYPE_CHECKING:
    from amigrate.autogenerate.diff import SchemaDiff
    from amigrate.scripts.directory import ScriptDirectory
    from amigrate.scripts.hooks import HookResult

__all__ = ["merge", "revision"]


def _finish(
    state: CliState, path: Path, json_output: bool, extra: dict[str, Any] | None = None
) -> None:
    """Report the new file, run the post-write hooks, report them (*extra*: more JSON)."""
    from amigrate.errors import HookError
    from amigrate.scripts.hooks import run_hooks
    from amigrate.scripts.reader import read_revision_file

    config = state.load_config()
    rev_id = read_revision_file(path).revision
    as_json = state.json or json_output
    if not as_json and state.verbosity >= 0:
        click.echo(f"Generated {path}")
    results: list[HookResult] = []
    error: HookError | None = None
    try:
        results = run_hooks(config, path)
    except HookError as exc:
        error = exc
        results = list(exc.results)
    if as_json:
        emit_json(
            {
                "revision": rev_id,
                "path": str(path),
                "hooks": [
                    {"name": r.name, "returncode": r.returncode, "output": r.output}
                    for r in results
                ],
                **(extra or {}),
            }
        )
    elif state.verbosity >= 0:
        for result in results:
            status = "done" if result.returncode == 0 else "FAILED"
            click.echo(f"Ran post-write hook {result.name!r} ... {status}")
            if state.verbosity >= 1:  # Alembic shows a hook's output
                for line in result.output.splitlines():
                    click.echo(f"  | {line}")
    if error is not None:
        raise error


def _check_hooks(state: CliState) -> None:
    """The post-write hooks' settings, checked before a file is written (an error after
    it would leave a revision the caller does not know about)."""
    from amigrate.scripts.hooks import hook_specs

    hook_specs(state.load_config())


@click.command()
@click.option(
    "-m",
    "--message",
    default="",
    help="What the revision does (its docstring and slug); default 'empty message'.",
)
@click.option("--head", default="head", show_default=True, help="The revision to build on.")
@click.option("--splice", is_flag=True, help="Allow --head to be a non-head (start a branch).")
@click.option("--branch-label", "branch_labels", multiple=True, help="Label the new branch.")
@click.option(
    "--depends-on", "depends_on", multiple=True, help="A revision this one depends on; repeatable."
)
@click.option("--rev-id", help="Use this id instead of a random one.")
@click.option("--version-path", help="The version folder to write the file into.")
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Fill in upgrade/downgrade from the differences between the models "
    "(env.py's target_metadata) and the database, which must be at head.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="With --autogenerate: write the revision even when nothing differs.",
)
@json_option
@pass_state
def revision(
    state: CliState,
    message: str,
    head: str,
    splice: bool,
    branch_labels: tuple[str, ...],
    depends_on: tuple[str, ...],
    rev_id: str | None,
    version_path: str | None,
    autogenerate: bool,
    allow_empty: bool,
    json_output: bool,
) -> None:
    """Create a new revision file from script.py.mako."""
    from amigrate.scripts.directory import ScriptDirectory

    if allow_empty and not autogenerate:
        raise click.UsageError("--allow-empty goes with --autogenerate")
    scripts = ScriptDirectory.from_config(state.load_config())
    if version_path is not None:
        scripts.will_create(version_path)
    _check_hooks(state)
    options: dict[str, Any] = {
        "head": head,
        "splice": splice,
        "branch_labels": branch_labels,
        "depends_on": depends_on,
        "rev_id": rev_id,
        "version_path": version_path,
    }
    if autogenerate:
        _autogenerate(state, scripts, message, options, allow_empty, state.json or json_output)
        return
    path = scripts.generate_revision(message, **options)
    _finish(state, path, json_output)


def _autogenerate(
    state: CliState,
    scripts: ScriptDirectory,
    message: str,
    options: dict[str, Any],
    allow_empty: bool,
    as_json: bool,
) -> None:
    """Compare, say what differs, and write the revision (or say there is nothing to write)."""
    from amigrate.autogenerate.api import options_for
    from amigrate.autogenerate.writer import render_migration, write_revision
    from amigrate.cli.check import compare_databases, diffs_json, print_changes

    # A broken history, or a --head that cannot take a revision, fails before the
    # database is read.
    scripts.new_revision_parents(options["head"], splice=options["splice"])
    diffs: list[SchemaDiff] = compare_databases(state, one=True)
    report = diffs_json(diffs)
    changes = {"changes": report["changes"], "notes": report["notes"]}
    if not as_json:
        print_changes(state, diffs, prefix="Detected: ")
    if all(d.is_empty for d in diffs) and not allow_empty:
        if as_json:
            emit_json({"revision": None, "path": None, "hooks": [], **changes})
        elif state.verbosity >= 0:
            click.echo(
                "No changes between the models and the database; no revision written "
                "(--allow-empty writes one anyway)"
            )
        return
    settings = options_for(state.env_hooks())
    rendered = {
        diff.database: render_migration(diff, batch=settings.batch_for(diff.dialect))
        for diff in diffs
    }
    path = write_revision(scripts, message, rendered, **options)
    _finish(state, path, as_json, changes)


@click.command()
@click.argument("revisions", nargs=-1, required=True)
@click.option(
    "-m", "--message", default="", help="The merge revision's message; default 'empty message'."
)
@click.option("--branch-label", "branch_labels", multiple=True, help="Label the merged branch.")
@click.option("--rev-id", help="Use this id instead of a random one.")
@json_option
@pass_state
def merge(
    state: CliState,
    revisions: tuple[str, ...],
    message: str,
    branch_labels: tuple[str, ...],
    rev_id: str | None,
    json_output: bool,
) -> None:
    """Create a merge revision joining REVISIONS ('heads' for every head)."""
    from amigrate.scripts.directory import ScriptDirectory

    scripts = ScriptDirectory.from_config(state.load_config())
    _check_hooks(state)
    path = scripts.generate_merge(revisions, message, branch_labels=branch_labels, rev_id=rev_id)
    _finish(state, path, json_output)
