"""The ``amigrate`` group, its global options, and the one error boundary."""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext, redirect_stdout
from functools import partial
from typing import Any, NoReturn

import click

from amigrate._version import __version__
from amigrate.cli.output import print_results
from amigrate.cli.state import CliState, json_option
from amigrate.config import mask_url
from amigrate.errors import AmigrateError, AmigrateWarning

__all__ = ["cli", "main"]


class AmigrateGroup(click.Group):
    """A group that accepts underscore spellings (``list_templates``), commands in order."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name.replace("_", "-"))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd else name), cmd, rest

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def _parse_x(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected key=value, got {value!r}", ctx=ctx, param=param)
        parsed[key.strip()] = val
    return parsed


def _not_nan(param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value != value:  # (FloatRange lets NaN through)
        raise click.BadParameter("nan is not a number of seconds", param=param)
    return value


@click.group(cls=AmigrateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_files",
    multiple=True,
    metavar="FILE",
    help="Config file: amigrate.ini and/or pyproject.toml (may be given twice). "
    "Default: $AMIGRATE_CONFIG, ./amigrate.ini, ./pyproject.toml.",
)
@click.option("-n", "--name", default="amigrate", show_default=True, help="The ini section.")
@click.option(
    "-x",
    "x_args",
    multiple=True,
    callback=_parse_x,
    metavar="KEY=VALUE",
    help="A value for env.py and revisions (op.x_args); repeatable.",
)
@click.option("--url", help="Database URL (overrides $AMIGRATE_URL and sqlalchemy.url).")
@click.option(
    "-d",
    "--database",
    "databases",
    multiple=True,
    metavar="NAME",
    help="Only these databases of a multi-database project; repeatable.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    callback=lambda ctx, param, value: _not_nan(param, value),
    metavar="SECONDS",
    help="Give up waiting for another migrator's lock after this long (exit 4).",
)
@click.option("-q", "--quiet", "quiet", count=True, help="Less output.")
@click.option("-v", "--verbose", "verbose", count=True, help="More output (-vv: debug).")
@json_option
@click.option(
    "--debug", "--raiseerr", is_flag=True, help="Show tracebacks (--raiseerr: as Alembic says it)."
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    help="Show the version and exit.",
    callback=lambda ctx, _, value: _show_version(ctx) if value else None,
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_files: tuple[str, ...],
    name: str,
    x_args: dict[str, str],
    url: str | None,
    databases: tuple[str, ...],
    lock_timeout: float | None,
    quiet: int,
    verbose: int,
    json_output: bool,
    debug: bool,
) -> None:
    """amigrate: async-first schema migrations for SQLAlchemy."""
    state = ctx.ensure_object(CliState)
    state.config_files = config_files
    state.name = name
    state.x_args = x_args
    state.url = url
    state.databases = databases
    state.lock_timeout = lock_timeout
    state.verbosity = verbose - quiet
    state.json = json_output
    state.debug = debug


def _register_commands() -> None:
    from amigrate.cli import audit, check, init, inspect, migrate, revision, settings
    from amigrate.cli.repair import repair

    for command in (
        init.init,
        init.list_templates,
        revision.revision,
        revision.merge,
        migrate.upgrade,
        migrate.downgrade,
        migrate.current,
        migrate.stamp,
        migrate.ensure_version,
        check.check,
        audit.log,
        audit.validate,
        repair,
        inspect.heads,
        inspect.branches,
        inspect.history,
        inspect.show,
        inspect.edit,
        settings.show_config,
    ):
        cli.add_command(command)


_register_commands()
cli.result_callback()(print_results)  # --json: a command's result, once it has finished


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    if issubclass(category, AmigrateWarning):
        click.echo(f"warning: {mask_url(str(message))}", err=True)
    else:
        click.echo(warnings.formatwarning(message, category, filename, lineno, line), err=True)


def report_error(err: AmigrateError) -> None:
    """Print an amigrate error as ``error:`` and ``hint:`` lines on stderr."""
    click.echo(f"error: {mask_url(str(err))}", err=True)
    output = getattr(err, "output", "")
    if output:
        for line in output.splitlines()[-20:]:
            click.echo(f"  | {mask_url(line)}", err=True)
    if err.hint:
        click.echo(f"hint: {mask_url(err.hint)}", err=True)


def _name_too_long(exc: BaseException) -> AmigrateError | None:
    """SQLAlchemy's refusal of a name longer than the database allows (a long
    version_table, say), as the user's error it is."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.IdentifierError):
        return None
    from amigrate.errors import ConfigError

    return ConfigError(
        str(exc), hint="shorten the name (version_table, history_table, or one in a revision)"
    )


def _show_version(ctx: click.Context) -> None:
    if ctx.resilient_parsing:
        return
    from amigrate.cli.output import wants_json

    state = ctx.find_object(CliState)
    if state is not None and wants_json(state.argv, cli):
        state.json_results.append({"version": __version__})
    else:
        click.echo(f"amigrate, version {__version__}")
    ctx.exit()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the CLI and exit: 0 ok, 1 error, 2 usage, 3 a check failed, 4 lock timeout.

    Under ``--json`` a failure is also one ``{"error": ...}`` object on stdout (see
    :func:`~amigrate.cli.output.finish_json`), whatever the exit code.

    This is the process's entry point (it exits), so it may tune the process: a
    migration builds many long-lived objects (SQLAlchemy, every revision module) and
    little cyclic garbage, so the cycle collector runs less often than Python's
    default, and not at all on the way out (the process ends; its memory goes with it).
    """
    from amigrate.cli.output import error_json, finish_json, set_document_stream, wants_json

    gc.set_threshold(10_000, 50, 50)
    args = list(sys.argv[1:] if argv is None else argv)
    state = CliState(debug="--debug" in args or "--raiseerr" in args, argv=tuple(args))
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    failure: Callable[[], dict[str, Any]] | None = None  # the error as JSON, for --json
    # A usage error can come before --json was parsed: then the command line is read for
    # it. Otherwise the parsed option decides (a "-m --json" message asks for no JSON).
    unparsed = False
    # Under --json, stdout holds the document only: what a revision or env.py prints
    # goes to stderr meanwhile.
    set_document_stream(sys.stdout)
    # (--help's text is the command's output then)
    quiet = wants_json(args, cli) and not {"-h", "--help"} & set(args)
    own_output = redirect_stdout(sys.stderr) if quiet else nullcontext()
    try:
        with own_output:
            code = cli.main(args=args, prog_name="amigrate", standalone_mode=False, obj=state)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            click.echo("interrupted", err=True)
            code = 130
            failure = partial(error_json, exc.__cause__, code, message="interrupted")
        else:
            click.echo("aborted", err=True)
            code = 1
            failure = partial(error_json, exc, code, message="aborted")
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
        failure = partial(error_json, exc, code)
        unparsed = isinstance(exc, click.UsageError)
    except AmigrateError as exc:
        failure = partial(error_json, exc, exc.exit_code)
        if state.debug:
            raise
        report_error(exc)
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        click.echo("interrupted", err=True)
        code = 130
        failure = partial(error_json, exc, code, message="interrupted")
    except Exception as exc:
        from amigrate.runtime.connect_errors import database_error, is_database_error

        code = 1
        known = database_error(exc) if is_database_error(exc) else _name_too_long(exc)
        hint = "run again with --debug for the traceback, and report it"
        failure = partial(error_json, known or exc, code, hint=hint, unexpected=known is None)
        if state.debug:
            raise
        if known is not None:  # the database said no (a privilege, a missing schema)
            report_error(known)
        else:
            click.echo(f"error: unexpected {type(exc).__name__}: {mask_url(str(exc))}", err=True)
            click.echo(f"hint: {hint}", err=True)
    finally:
        warnings.showwarning = previous
        if state.json or state.json_results or (unparsed and wants_json(args, cli)):
            finish_json(state, None if failure is None else failure())
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)
