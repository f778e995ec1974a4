"""What a step does to the version table, and a simulation of that table.

The version table holds one row per current head.  Each step changes it with one
:class:`VersionChange`, which expands to the row writes Alembic's
``HeadMaintainer`` performs, in Alembic's order (:attr:`VersionChange.writes`).
The runtime executes those writes as SQL, one statement each, checking that each
statement touched exactly one row::

    insert   INSERT add[0]
    delete   DELETE remove[0]
    update   UPDATE remove[0] -> add[0]
    merge    DELETE remove[0], ..., remove[-2]; then UPDATE remove[-1] -> add[0]
    unmerge  INSERT add[0], ..., add[-2];        then UPDATE remove[0] -> add[-1]

(``UPDATE a -> b`` is ``UPDATE version SET version_num = b WHERE version_num = a``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from amigrate.errors import RevisionError

__all__ = [
    "ChangeKind",
    "VersionChange",
    "VersionTable",
    "VersionWrite",
    "WriteOp",
    "apply_changes",
]

ChangeKind = Literal["insert", "update", "delete", "merge", "unmerge"]
WriteOp = Literal["insert", "update", "delete"]


@dataclass(frozen=True, slots=True)
class VersionWrite:
    """One SQL statement on the version table.

    ``insert``: ``new`` is inserted (``old`` is None).  ``delete``: ``old`` is
    deleted (``new`` is None).  ``update``: the row ``old`` becomes ``new``.
    """

    op: WriteOp
    old: str | None
    new: str | None

    def __str__(self) -> str:
        if self.op == "insert":
            return f"insert {self.new}"
        if self.op == "delete":
            return f"delete {self.old}"
        return f"update {self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class VersionChange:
    """A step's effect on the version table: rows it removes and rows it adds.

    ``remove`` lists rows that are deleted or updated away from; ``add`` rows that
    are inserted or updated to.  Shapes, by ``kind``: ``insert`` ((), (new,));
    ``delete`` ((old,), ()); ``update`` ((old,), (new,)); ``merge`` (two or more
    removed, one added: all but the last removed row are deleted, the last is
    updated to the added one); ``unmerge`` (one removed, two or more added: all but
    the last added row are inserted, then the removed row is updated to the last).
    :attr:`writes` spells that out; see the module docstring for the SQL.
    """

    kind: ChangeKind
    remove: tuple[str, ...] = ()
    add: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        removed, added = len(self.remove), len(self.add)
        kind = self.kind
        if kind == "update":
            ok = removed == 1 and added == 1
        elif kind == "insert":
            ok = removed == 0 and added == 1
        elif kind == "delete":
            ok = removed == 1 and added == 0
        elif kind == "merge":
            ok = removed >= 2 and added == 1
        else:
            ok = kind == "unmerge" and removed == 1 and added >= 2
        if not ok:
            raise ValueError(f"malformed {kind} change: remove={self.remove} add={self.add}")

    @classmethod
    def of(cls, remove: Iterable[str], add: Iterable[str]) -> VersionChange:
        """The change that removes ``remove`` and adds ``add``, kind chosen from their sizes."""
        rm, ad = tuple(remove), tuple(add)
        kinds: dict[tuple[int, int], ChangeKind] = {
            (0, 1): "insert",
            (1, 0): "delete",
            (1, 1): "update",
        }
        kind = kinds.get((min(len(rm), 2), min(len(ad), 2)))
        if kind is None:
            kind = "merge" if len(ad) == 1 else "unmerge"
        return cls(kind, rm, ad)

    @property
    def writes(self) -> tuple[VersionWrite, ...]:
        """The statements to run, in order (Alembic's order)."""
        rm, ad = self.remove, self.add
        if self.kind == "insert":
            return (VersionWrite("insert", None, ad[0]),)
        if self.kind == "delete":
            return (VersionWrite("delete", rm[0], None),)
        if self.kind == "update":
            return (VersionWrite("update", rm[0], ad[0]),)
        if self.kind == "merge":
            deletes = tuple(VersionWrite("delete", old, None) for old in rm[:-1])
            return (*deletes, VersionWrite("update", rm[-1], ad[0]))
        inserts = tuple(VersionWrite("insert", None, new) for new in ad[:-1])
        return (*inserts, VersionWrite("update", rm[0], ad[-1]))

    def __str__(self) -> str:
        return "; ".join(str(write) for write in self.writes)


class _HasChange(Protocol):
    @property
    def change(self) -> VersionChange: ...


def apply_changes(
    heads: Iterable[str], steps: Iterable[_HasChange | VersionChange]
) -> tuple[str, ...]:
    """The version rows after applying ``steps`` (or bare changes) to ``heads``, sorted.

    Raises :class:`~amigrate.errors.RevisionError` when a write would not touch
    exactly one row (deleting or updating a missing row, inserting a present
    one): the steps were not planned for these heads.
    """
    table = VersionTable(heads)
    for step in steps:
        table.apply(step if isinstance(step, VersionChange) else step.change)
    return table.rows


class VersionTable:
    """An in-memory version table that refuses the writes the database would fail."""

    __slots__ = ("_rows",)

    def __init__(self, heads: Iterable[str] = ()) -> None:
        self._rows = set(heads)

    @property
    def rows(self) -> tuple[str, ...]:
        """The current rows, sorted."""
        return tuple(sorted(self._rows))

    def __contains__(self, revision: object) -> bool:
        return revision in self._rows

    def apply(self, change: VersionChange) -> None:
        """Run ``change``'s writes, or raise RevisionError before changing anything."""
        rows = self._rows
        if change.kind == "update":  # the common case, without building VersionWrites
            old, new = change.remove[0], change.add[0]
            if old in rows and (new not in rows or new == old):
                rows.remove(old)
                rows.add(new)
                return
        done: list[VersionWrite] = []
        try:
            for write in change.writes:
                if write.old is not None and write.old not in rows:
                    raise RevisionError(
                        f"the version table has no row {write.old!r} to {write.op} "
                        f"(rows: {', '.join(sorted(rows)) or 'none'})"
                    )
                if write.new is not None and write.new in rows and write.new != write.old:
                    raise RevisionError(f"the version table already has a row {write.new!r}")
                if write.old is not None:
                    rows.remove(write.old)
                if write.new is not None:
                    rows.add(write.new)
                done.append(write)
        except RevisionError:
            for write in reversed(done):
                if write.new is not None:
                    rows.discard(write.new)
                if write.old is not None:
                    rows.add(write.old)
            raise
