"""``amigrate config``: the effective settings, with the password masked."""

from __future__ import annotations

import re
from typing import Any

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
    from amigrate.scripts.hooks import hook_specs

    config = state.load_config()
    url = config.url_or_none
    settings: dict[str, Any] = {
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
        "validate_on_upgrade": config.validate_on_upgrade,
        "file_template": config.file_template,
        "truncate_slug_length": config.truncate_slug_length,
        "timezone": config.timezone,
        "recursive_version_locations": config.recursive_version_locations,
        "prepend_sys_path": [str(p) for p in config.prepend_sys_path],
        "post_write_hooks": [f"{h.name} ({h.type}: {h.target})" for h in hook_specs(config)],
        "x_args": {key: _masked_x(key, value, mask_url) for key, value in config.x_args.items()},
    }
    databases = _databases(config, mask_url)
    if databases:
        settings["databases"] = databases
    if state.json:
        emit_json(settings)
        return
    width = max(map(len, settings))
    for key, value in settings.items():
        if isinstance(value, list):
            value = ", ".join(value) if value else "(none)"
        elif value is None:
            value = "(not set)"
        elif key == "databases":
            value = ", ".join(f"{name} {url}" for name, url in value.items())
        click.echo(f"{key:<{width}}  {value}")


#: Words in an ``-x`` key that say its value is a secret (``-x db_password=...``).
_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "credential")
#: ``password=...`` in a libpq connection string (``host=h password=...``).
_DSN_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|\S+)", re.I)


def _masked_x(key: str, value: str, mask_url: Any) -> str:
    """An ``-x`` value as ``config`` shows it: a secret's as ``***``, a URL's password masked."""
    if any(word in key.lower().replace("-", "_") for word in _SECRET_KEYS):
        return "***"
    return _DSN_PASSWORD.sub(r"\1***", str(mask_url(value)))


def _databases(config: Any, mask_url: Any) -> dict[str, str]:
    """A multidb project's databases (or the [targets]), each with its masked URL."""
    from amigrate.errors import AmigrateError
    from amigrate.fanout import configured_databases, configured_targets

    try:
        if config.get_list("databases"):
            targets = configured_databases(config)
        else:
            targets = configured_targets(config)
    except AmigrateError as exc:  # a ${VARIABLE} not set, say: shown, not fatal here
        return {"(error)": mask_url(str(exc))}
    return {t.name: mask_url(t.url) for t in targets}
