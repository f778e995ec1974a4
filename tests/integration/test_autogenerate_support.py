"""Shared machinery of the autogenerate suites: projects whose env.py holds the models.

A project's env.py defines the models (``target_metadata``) and autogenerate's
settings, so changing the models is rewriting env.py. :func:`write_revision`
does in-process what ``amigrate revision --autogenerate`` does (compare,
render, write), for the suites that check many changes quickly; the CLI suite
runs the real command.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import amigrate
from amigrate.autogenerate import SchemaDiff, render_migration
from amigrate.autogenerate.api import options_for
from amigrate.autogenerate.writer import write_revision as write_file
from amigrate.config import Config
from amigrate.scripts.directory import ScriptDirectory
from amigrate.scripts.loader import load_env
from tests.helpers import Result, run_cli
from tests.projects import Project, make_project

RUFF = Path(sys.executable).parent / "ruff"

HEADER = """
import sqlalchemy as sa

metadata = sa.MetaData()
target_metadata = metadata
compare_server_default = True
"""

HOOKS = """
[post_write_hooks]
hooks = ruff_format
ruff_format.type = console_scripts
ruff_format.entrypoint = ruff
ruff_format.options = format --isolated REVISION_SCRIPT_FILENAME
"""


def models_project(root: Path, url: str, models: str, *, hooks: bool = False) -> Project:
    """A project at *root* on *url* whose env.py defines *models* (after :data:`HEADER`)."""
    project = make_project(root, url)
    set_models(project, models)
    if hooks:
        with project.ini.open("a", encoding="utf-8") as fh:
            fh.write(HOOKS)
    return project


def set_models(project: Project, models: str, header: str = HEADER) -> None:
    """Rewrite env.py with new models."""
    project.env(textwrap.dedent(header) + textwrap.dedent(models))


async def compare(config: Config) -> SchemaDiff:
    """The differences between the project's models and its database (at head)."""
    return await amigrate.autogenerate.compare(config)


async def write_revision(config: Config, message: str, *, rev_id: str) -> tuple[Path, SchemaDiff]:
    """Compare, render and write a revision, as ``revision --autogenerate`` does."""
    diff = await compare(config)
    options = options_for(load_env(config.script_location))
    rendered = render_migration(diff, batch=options.batch_for(diff.dialect))
    path = write_file(ScriptDirectory.from_config(config), message, {None: rendered}, rev_id=rev_id)
    return path, diff


def kinds(changes: Any) -> list[str]:
    """The sorted kinds of changes (from a SchemaDiff or ``--json`` output)."""
    return sorted(c["kind"] if isinstance(c, dict) else c.kind for c in changes)


def autogenerate(project: Project, message: str, *args: str) -> tuple[Result, dict[str, Any]]:
    """Run ``amigrate revision --autogenerate -m MESSAGE --json`` in the project."""
    result = run_cli("revision", "--autogenerate", "-m", message, "--json", *args, cwd=project.root)
    assert result.code == 0, result
    return result, json.loads(result.out)


def ruff(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ruff with its default settings in *cwd* (as in a project without ruff settings).

    The folder matters: ruff counts the packages it finds there as the project's
    own, which is how it sorts imports.
    """
    return subprocess.run(
        [str(RUFF), *map(str, args), "--isolated"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def assert_ruff_clean(path: Path) -> None:
    """The revision file passes ``ruff check`` and is left as it is by ``ruff format``."""
    root = path.parents[2]  # the project: versions/ is in migrations/
    checked = ruff("check", path, cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = ruff("format", "--check", path, cwd=root)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
