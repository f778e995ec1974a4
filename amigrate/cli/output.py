"""Printing: JSON for ``--json``, plain lines otherwise.

Under ``--json`` stdout holds one JSON document. A command's result is printed once
the command has finished. When it fails, the document gets an ``"error"`` key: a
result the command had produced before the failure (a check's findings, the
databases it could read) keeps its shape, with ``"error"`` added beside its own keys,
so a script reads a failed check as it reads a passed one; without such a result
the document is ``{"error": {...}}`` (``{"error": ..., "result": ...}`` where the
result is not an object or already has an ``error`` key). The human ``error:`` line
stays on stderr either way.

rich is imported only when a table is drawn, never on the ``--help`` path.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import click

from amigrate.cli.state import CliState
from amigrate.config import mask_url
from amigrate.errors import AmigrateError, MigrationError

__all__ = ["emit_json", "error_json", "finish_json", "print_results", "wants_json"]


def emit_json(data: Any) -> None:
    """Print *data* as indented JSON on stdout once the command has finished (at once
    outside a command)."""
    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(CliState) if ctx is not None else None
    if state is None:
        _print(data)
    else:
        state.json_results.append(data)


def print_results(*_: Any, **__: Any) -> None:
    """Print what the command emitted: the group's result callback (it runs only when the
    command succeeded)."""
    state = click.get_current_context().find_object(CliState)
    if state is not None:
        finish_json(state, None)


def finish_json(state: CliState, failure: dict[str, Any] | None) -> None:
    """Print the command's JSON: its results, or for *failure* (from :func:`error_json`)
    the results so far with an ``"error"`` key added (see the module's docstring)."""
    if failure is None:
        while state.json_results:
            _print(state.json_results.pop(0))
        return
    document: dict[str, Any] = {"error": failure}
    if state.json_results:
        results = state.json_results
        result = _plain(results[0] if len(results) == 1 else results)
        if isinstance(result, dict) and "error" not in result:
            document = {**result, "error": failure}
        else:
            document["result"] = result
    _print(document)


def wants_json(args: Sequence[str], group: click.Group) -> bool:
    """Whether the command line asks for ``--json`` (before a ``--``), for a usage error,
    which may come before the option is parsed: read as click reads it, so that the
    value of another option (``-m --json``) is not taken for it."""
    command: click.Command = group
    tokens = iter(args)
    for token in tokens:
        if token in ("--", "--json"):
            return token == "--json"
        if token.startswith("-") and not token.startswith("--") and len(token) > 2:
            # Clustered short options (-ir): a flag each, until one takes a value, which
            # is the rest of the token or the next one.
            for i, letter in enumerate(token[1:], start=2):
                option = _option(command, f"-{letter}")
                if option is None:
                    break
                if not option.is_flag and not option.count:
                    if i == len(token):
                        next(tokens, None)
                    break
            continue
        option = _option(command, token)
        if option is not None:
            for _ in range(option.nargs if not option.is_flag and not option.count else 0):
                next(tokens, None)
        elif isinstance(command, click.Group) and not token.startswith("-"):
            command = command.commands.get(token.replace("_", "-"), command)
    return False


def _option(command: click.Command, token: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and token in (*param.opts, *param.secondary_opts):
            return param
    return None


def error_json(
    exc: BaseException,
    exit_code: int,
    *,
    message: str | None = None,
    hint: str | None = None,
    unexpected: bool = False,
) -> dict[str, Any]:
    """*exc* as JSON: ``type``, ``message``, ``hint``, ``exit_code``, then what the
    error carries (a failed step, the steps applied, each database's outcome, ...).

    A click usage error (exit 2) is ``UsageError``, whichever kind it is. Passwords
    in URLs are masked.
    """
    fields = _error_fields(exc, message, hint)
    first = {key: fields.pop(key) for key in ("type", "message", "hint")}
    data = {**first, "exit_code": exit_code, **fields}
    if unexpected:
        data["unexpected"] = True
    plain: dict[str, Any] = _plain(data)
    return plain


def _error_fields(
    exc: BaseException, message: str | None = None, hint: str | None = None
) -> dict[str, Any]:
    kind = type(exc).__name__
    if isinstance(exc, AmigrateError):
        message, hint = exc.message, exc.hint
    elif isinstance(exc, click.ClickException):
        message = exc.format_message()
        if isinstance(exc, click.UsageError):
            kind = "UsageError"
            if exc.ctx is not None:
                hint = f"see '{exc.ctx.command_path} --help'"
    data: dict[str, Any] = {"type": kind, "message": message or str(exc), "hint": hint}
    if isinstance(exc, AmigrateError):
        for key, value in vars(exc).items():
            if key in ("message", "hint") or key.startswith("_"):
                continue
            if key == "results" and isinstance(exc, MigrationError):  # each database's outcome
                if value is not None:
                    data["databases"] = _databases(value)
                continue
            data[key] = value
    notes = getattr(exc, "__notes__", None)
    if notes:
        data["notes"] = list(notes)
    return data


def _databases(results: Any) -> list[dict[str, Any]]:
    """The summary table's rows, each with its error as ``failure`` (or null)."""
    from amigrate.cli.fanout import summary_rows

    rows = summary_rows(results)
    for row, result in zip(rows, results, strict=True):
        row["failure"] = None if result.error is None else _error_fields(result.error)
    return rows


def _plain(value: Any) -> Any:
    """*value* as JSON data (dataclasses as objects, tuples as lists), passwords masked."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return mask_url(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, BaseException):
        return _plain(_error_fields(value))
    return mask_url(str(value))


#: Where JSON documents go: the process's stdout as the command started (under --json,
#: sys.stdout is stderr while the command runs, so that what a revision prints cannot
#: break the document).
_document_stream: TextIO | None = None


def set_document_stream(stream: TextIO) -> None:
    global _document_stream
    _document_stream = stream


def _print(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str), file=_document_stream)
