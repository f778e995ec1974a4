"""The base of every operation, and small helpers the op modules share."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MigrateOp", "names"]


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
