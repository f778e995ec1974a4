"""``validate``: do the applied revisions still match their files?

The history records the checksum of each revision file when it was applied.
A revision whose file changed since, a revision whose file is gone, and a head
in the database that no file declares are reported; a change of line endings,
a BOM or trailing blanks is not a change (see ``history.checksum``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from amigrate.revisions import RevisionGraph
from amigrate.runtime.history import HistoryEntry

__all__ = [
    "Problem",
    "ValidationReport",
    "applied_by_versions",
    "applied_checksums",
    "below_heads",
    "compare",
]


def applied_checksums(entries: Iterable[HistoryEntry]) -> dict[str, str | None]:
    """Revision -> recorded checksum, for the revisions the history says are applied.

    *entries* may come in any order; they are replayed oldest first. An upgrade
    or a stamp onto a revision applies it, a downgrade or a stamp away from it
    removes it, a repair records its file's checksum anew (``amigrate repair``);
    failed rows do not count.
    """
    applied: dict[str, str | None] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.status != "applied":
            continue
        onto = entry.revision in entry.to_revisions.split(",")
        if entry.direction in ("up", "repair") or (entry.direction == "stamp" and onto):
            applied[entry.revision] = entry.checksum
        else:
            applied.pop(entry.revision, None)
    return applied


def applied_by_versions(graph: RevisionGraph, heads: Iterable[str]) -> set[str]:
    """The revisions the version table says are applied: its heads and their ancestors."""
    applied: set[str] = set()
    for head in heads:
        if head in graph:
            applied |= graph.ancestors(head) | {head}
    return applied


def below_heads(
    applied: Mapping[str, str | None], graph: RevisionGraph, heads: Iterable[str]
) -> dict[str, str | None]:
    """Of *applied* (from :func:`applied_checksums`), what the version table's *heads* still
    have: a stamp, which records only where it went, may have left others behind (a3 after
    ``stamp a1``). A revision no file declares cannot be placed, and stays; so does
    everything while a head is one (what is below it is not known)."""
    heads = list(heads)
    if any(head not in graph for head in heads):
        return dict(applied)
    below = applied_by_versions(graph, heads)
    return {r: c for r, c in applied.items() if r in below or r not in graph}


@dataclass(frozen=True)
class Problem:
    """One finding: ``kind`` is ``changed``, ``missing`` or ``unknown_head``."""

    kind: str
    revision: str
    detail: str
    recorded: str | None = None
    current: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ValidationReport:
    """Everything ``validate`` found; empty when the database and the files agree."""

    problems: tuple[Problem, ...] = field(default_factory=tuple)
    checked: int = 0
    #: Applied revisions (by the version table) with no checksum recorded to compare:
    #: applied by Alembic, or by an amigrate older than its checksums.
    unchecked: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.problems

    def of_kind(self, kind: str) -> list[Problem]:
        """The problems of one kind."""
        return [p for p in self.problems if p.kind == kind]


def compare(
    applied: Mapping[str, str | None],
    files: Mapping[str, str],
    paths: Mapping[str, str],
    db_heads: Sequence[str],
    known: Collection[str] = (),
) -> ValidationReport:
    """Compare recorded checksums with the files' (*files*: revision -> checksum).

    *known*: every revision a file declares; a database head among them is not
    unknown, whether or not the history recorded it (a database Alembic migrated, or
    one stamped by an older amigrate's offline SQL, has heads but no history rows).
    """
    problems: list[Problem] = []
    checked = 0
    for revision, recorded in sorted(applied.items()):
        if revision not in files:
            problems.append(
                Problem("missing", revision, "applied, but no revision file declares it", recorded)
            )
            continue
        if recorded is None:
            continue  # applied before amigrate recorded checksums (e.g. by Alembic)
        checked += 1
        if files[revision] != recorded:
            problems.append(
                Problem(
                    "changed",
                    revision,
                    f"{paths[revision]} changed after it was applied",
                    recorded,
                    files[revision],
                )
            )
    for head in db_heads:
        if head not in files and head not in applied and head not in known:
            problems.append(
                Problem("unknown_head", head, "the version table names it; no revision file does")
            )
    return ValidationReport(tuple(problems), checked)
