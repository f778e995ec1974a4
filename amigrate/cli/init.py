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

    ini, config_dir = _config_target(state, template)
    result = init_environment(
        directory,
        template,
        config_dir=config_dir,
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
        # The next command must find the config that was just written ($AMIGRATE_CONFIG
        # finds it again; -c must be given again).
        written = result.config_files[0]
        given = bool(state.config_files) and written != Path.cwd() / "amigrate.ini"
        options = f"-c {shlex.quote(_short(written, cwd))} " if given else ""
        click.echo(
            f"Edit {config_names} (the database URL, then script settings), "
            f"then run 'amigrate {options}revision -m \"...\"'."
        )


def _config_target(state: CliState, template: str) -> tuple[Path | None, Path | None]:
    """The ini file to write and the folder of the config files, from ``-c`` or else
    ``$AMIGRATE_CONFIG``, as the other commands will look for them (None: defaults)."""
    from amigrate.errors import CommandError

    given = list(state.config_files)
    if not given and os.environ.get("AMIGRATE_CONFIG"):
        given = [p for p in os.environ["AMIGRATE_CONFIG"].split(os.pathsep) if p]
    paths = [Path(p).expanduser().resolve() for p in given]
    for path in paths:
        if path.is_dir():
            raise CommandError(
                f"config file {path} is a folder",
                hint="name the config file to write, e.g. -c deploy/amigrate.ini",
            )
    ini = next((p for p in paths if p.suffix != ".toml"), None)
    toml = next((p for p in paths if p.suffix == ".toml"), None)
    if toml is not None:
        if template != "pyproject" and ini is None:
            raise CommandError(
                f"the {template} template writes an ini file, and the config named is {toml.name}",
                hint="name an ini file with -c, or use -t pyproject",
            )
        if toml.name != "pyproject.toml" or (ini is not None and ini.parent != toml.parent):
            raise CommandError(
                f"init writes pyproject.toml beside the ini file, not {toml}",
                hint="name a pyproject.toml (and an ini file) in one folder with -c",
            )
    folder = ini.parent if ini else toml.parent if toml else None
    return ini, folder


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
