"""The base of every operation, and small helpers the op modules share."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

__all__ = ["MigrateOp", "check_names", "names", "naming_convention", "new_metadata"]

_convention: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "amigrate_naming_convention", default=None
)


class MigrateOp:
    """Base of every operation.

    An operation is plain data: a frozen dataclass holding what the revision
    asked for, with the arguments a renderer needs. It is compiled per dialect by
    ``amigrate.dialects``, rendered offline by ``--sql``, and (later) emitted by
    autogenerate.
    """

    def reverse(self) -> MigrateOp:
        """The operation that undoes this one."""
        raise NotImplementedError(f"{type(self).__name__} cannot be reversed automatically")

    def describe(self) -> str:
        """A short description for messages: ``create_table('account')``."""
        return type(self).__name__


def names(columns: str | Iterable[str]) -> tuple[str, ...]:
    """Column names as a tuple, from one name or a sequence of them."""
    if isinstance(columns, str):
        return (columns,)
    return tuple(columns)


def new_metadata() -> sa.MetaData:
    """The ``MetaData`` of a table an operation builds: with the naming convention of
    env.py's ``target_metadata`` while revisions run (see :func:`naming_convention`), so
    that an unnamed constraint or index gets the name Alembic's ``op`` would give it."""
    convention = _convention.get()
    return sa.MetaData() if convention is None else sa.MetaData(naming_convention=convention)


@contextmanager
def naming_convention(convention: Mapping[str, Any] | None) -> Iterator[None]:
    """Build the tables of operations run in this block (this task) with *convention*."""
    token = _convention.set(convention)
    try:
        yield
    finally:
        _convention.reset(token)


_TEXT_FIELDS: dict[type, list[tuple[str, bool]]] = {}


def check_names(op: MigrateOp) -> None:
    """Refuse, when the revision calls it, an op whose name (or other text) is not text:
    ``create_sequence(sa.Sequence("s"))`` or ``create_table(some_table, ...)`` would
    otherwise create an object named after the repr of what was passed."""
    kind = type(op)
    fields = _TEXT_FIELDS.get(kind)
    if fields is None:
        fields = _TEXT_FIELDS[kind] = [
            (f.name, f.type == "str | None")
            for f in dataclasses.fields(kind)  # type: ignore[arg-type]
            if f.type in ("str", "str | None")
        ]
    for name, optional in fields:
        value = getattr(op, name)
        if not isinstance(value, str) and not (optional and value is None):
            method = type(op).__name__.removesuffix("Op")
            shown = repr(value)
            shown = shown[:60] + "..." if len(shown) > 60 else shown
            if not shown.startswith(type(value).__name__):
                shown = f"{type(value).__name__} {shown}"
            raise TypeError(f"{_snake(method)}(): {name} must be text (a name), not {shown}")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
