"""The base of every operation, and small helpers the op modules share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

__all__ = ["MigrateOp", "names", "naming_convention", "new_metadata"]

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
