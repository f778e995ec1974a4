"""``amigrate init`` and ``amigrate list-templates``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from .output import emit_json
from .state import CliState, pass_state

__all__ = ["init", "list_templates"]


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "-t", "--template", default="generic", show_default=True, help="See 'amigrate list-templates'."
)
@click.option("--package", is_flag=True, help="Write __init__.py files into the environment.")
@pass_state
def init(state: CliState, directory: str, template: str, package: bool) -> None:
    """Create a migration environment in DIRECTORY, and its config file here."""
    from amigrate.scripts.templates import init_environment

    ini = next((Path(p) for p in state.config_files if not p.endswith(".toml")), None)
    result = init_environment(
        directory,
        template,
        config_dir=ini.parent if ini else None,
        ini_name=ini.name if ini else "amigrate.ini",
        package=package,
    )
    if state.json:
        emit_json(
            {
                "directory": str(result.directory),
                "config_files": [str(p) for p in result.config_files],
                "files": [str(p) for p in result.files],
            }
        )
        return
    if state.verbosity >= 0:
        cwd = Path.cwd()
        for path in result.files:
            click.echo(f"created {_short(path, cwd)}")
        for path in result.config_files:
            verb = "added [tool.amigrate] to" if path in result.extended else "created"
            click.echo(f"{verb} {_short(path, cwd)}")
        config_names = " and ".join(_short(p, cwd) for p in result.config_files)
        # The next command must find the config that was just written.
        options = f"-c {shlex.quote(str(ini))} " if ini else ""
        click.echo(
            f"Edit {config_names} (the database URL, then script settings), "
            f"then run 'amigrate {options}revision -m \"...\"'."
        )


def _short(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd) if path.is_relative_to(cwd) else str(path)
    except ValueError:
        return str(path)


@click.command("list-templates")
@pass_state
def list_templates(state: CliState) -> None:
    """List the environment templates that 'init -t' accepts."""
    from amigrate.scripts.templates import list_templates as available

    templates = available()
    if state.json:
        emit_json([{"name": t.name, "description": t.description} for t in templates])
        return
    width = max(len(t.name) for t in templates)
    click.echo("Available templates:\n")
    for info in templates:
        click.echo(f"  {info.name:<{width}}  {info.description}")
    click.echo("\nUse them with: amigrate init --template <name> ./migrations")
