"""``amigrate config``: the effective settings, with the password masked."""

from __future__ import annotations

import click

from .output import emit_json
from .state import CliState, json_option, pass_state

__all__ = ["show_config"]


@click.command("config")
@json_option
@pass_state
def show_config(state: CliState, json_output: bool) -> None:
    """Show the settings in effect (files, script location, URL with the password masked)."""
    from amigrate.config import mask_url

    config = state.load_config()
    url = config.url_or_none
    settings = {
        "config_files": [str(p) for p in (config.ini_path, config.toml_path) if p],
        "section": config.section,
        "script_location": str(config.script_location),
        "version_locations": [str(p) for p in config.version_locations],
        "sqlalchemy.url": mask_url(url) if url else None,
        "version_table": config.version_table,
        "version_table_schema": config.version_table_schema,
        "history_table": config.history_table,
        "transaction_per_migration": config.transaction_per_migration,
        "lock_timeout": config.lock_timeout,
        "file_template": config.file_template,
        "x_args": config.x_args,
    }
    if state.json:
        emit_json(settings)
        return
    width = max(map(len, settings))
    for key, value in settings.items():
        if isinstance(value, list):
            value = ", ".join(value) if value else "(none)"
        elif value is None:
            value = "(not set)"
        click.echo(f"{key:<{width}}  {value}")
