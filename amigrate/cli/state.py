"""What the global options say, shared by every command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from amigrate.config import Config
    from amigrate.scripts.loader import EnvHooks

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["CliState", "json_option", "pass_state"]


@dataclass
class CliState:
    """The global options (``-c``, ``-n``, ``-x``, ``--url``, ...), and the config they load."""

    config_files: tuple[str, ...] = ()
    name: str = "amigrate"
    x_args: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    databases: tuple[str, ...] = ()
    lock_timeout: float | None = None
    verbosity: int = 0
    json: bool = False
    debug: bool = False
    #: The command line as given (before click parses it).
    argv: tuple[str, ...] = ()
    #: What the command printed as JSON, held until it finishes (see ``cli.output``).
    json_results: list[Any] = field(default_factory=list)
    _config: Config | None = None
    _env: EnvHooks | None = None

    def load_config(self) -> Config:
        """Load (once) the configuration the global options point to, and apply its logging."""
        if self._config is None:
            from amigrate.config import load_config

            self._config = load_config(
                *self.config_files, name=self.name, url=self.url, x_args=self.x_args
            )
            self.configure_logging(self._config)
        return self._config

    def env_hooks(self) -> EnvHooks:
        """env.py's hooks (imported once per command)."""
        if self._env is None:
            from amigrate.scripts.loader import load_env

            config = self.load_config()
            self._env = load_env(config.script_location, sys_path=config.prepend_sys_path)
        return self._env

    def configure_logging(self, config: Config | None) -> None:
        """Apply the ini file's logging sections, or a plain stderr handler.

        Only the CLI configures logging; the awaitable API never does, so an
        application's own logging survives a migration run.
        """
        if config is not None and config.has_logging_config and config.ini_path:
            # Not on the --help path: logging.config imports socketserver and pickle.
            import logging.config as logging_config

            from amigrate.errors import ConfigError

            try:
                logging_config.fileConfig(
                    config.ini_path,
                    defaults={"here": str(config.here), "__file__": str(config.ini_path)},
                    disable_existing_loggers=False,
                    encoding="utf-8-sig",
                )
            except Exception as exc:  # (fileConfig raises what it meets: KeyError, ...)
                raise ConfigError(
                    f"the logging sections of {config.ini_path} cannot be applied: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                    hint="fix [loggers], [handlers] and [formatters] (as Python's "
                    "logging.config.fileConfig reads them), or remove them",
                ) from exc
        else:
            logging.basicConfig(
                level=logging.WARNING, format="%(levelname)s [%(name)s] %(message)s"
            )
        if self.verbosity:
            levels = {-1: logging.ERROR, 1: logging.INFO, 2: logging.DEBUG}
            level = levels[max(-1, min(self.verbosity, 2))]
            logging.getLogger("amigrate").setLevel(level)

    @property
    def cwd(self) -> Path:
        """The folder commands resolve relative paths against."""
        return Path.cwd()


def pass_state(fn: F) -> F:
    """Decorate a command to receive the :class:`CliState` as its first argument."""
    return click.pass_obj(fn)  # type: ignore[return-value]


def _note_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    # As soon as it is parsed: a failure later in the command is reported as JSON too.
    state = ctx.find_object(CliState)
    if value and state is not None:
        state.json = True
    return value


#: ``--json``: the command prints one JSON document on stdout (see ``cli.output``).
json_option = click.option(
    "--json", "json_output", is_flag=True, callback=_note_json, help="Machine-readable output."
)
