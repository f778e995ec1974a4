"""``repair``: accept the files of applied revisions as they are now.

A revision that was edited on purpose after it was applied (a comment, a
reformat, a fix whose schema the database already has) is reported by
``validate`` as changed. ``repair`` writes one history row per such revision,
with direction ``repair`` and the file's checksum as it is now; ``validate``
replays the history, so the newest recorded checksum is the one it compares
with. Neither the schema nor the version table changes, and the history table
keeps its layout (the direction column holds any short word).

Before anything is written the request is checked as a whole: each revision
named must resolve to one whose file exists and that the database has applied
(its version table or its history says so). A database with a failure recorded
in the history is refused too: the failure says the database may be partly
changed by a revision the version table does not record, and only the user
knows where it really is. ``stamp`` (or ``--force``) is how amigrate is told
that, and it marks the failure resolved; a repair row written after the failure
would mark it resolved without anyone having said where the database is.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from amigrate.errors import CommandError, UnknownRevision
from amigrate.revisions import RevisionGraph
from amigrate.runtime.context import OnlineContext
from amigrate.runtime.direct import Write
from amigrate.runtime.history import HistoryTable, os_identity
from amigrate.runtime.validation import Problem, applied_by_versions, compare

__all__ = [
    "RepairResult",
    "Repaired",
    "choose_repairs",
    "named_revisions",
    "repair_message",
    "write_repairs",
]

log = logging.getLogger("amigrate.runtime")

#: The history rows ``repair`` writes have this direction.
REPAIR = "repair"


@dataclass(frozen=True)
class Repaired:
    """One revision whose file ``repair`` accepted: the checksum recorded before, and now."""

    revision: str
    path: str
    recorded: str | None
    checksum: str

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class RepairResult:
    """What ``repair`` recorded in one database.

    ``repaired``: the revisions whose file it accepted (one history row each, all
    written in one transaction under the migration lock). ``unchanged``: revisions
    named that already matched their files (no row). ``remaining``: what
    ``validate`` still reports and repair does not fix (an applied revision whose
    file is gone, a head no file declares). ``run_id`` is the rows' run id, None
    when nothing was written.
    """

    database: str
    repaired: tuple[Repaired, ...] = ()
    unchanged: tuple[str, ...] = ()
    remaining: tuple[Problem, ...] = ()
    run_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "database": self.database,
            "repaired": [r.as_dict() for r in self.repaired],
            "unchanged": list(self.unchanged),
            "remaining": [p.as_dict() for p in self.remaining],
            "run_id": self.run_id,
        }


def named_revisions(
    graph: RevisionGraph,
    requested: Sequence[str],
    heads: Sequence[str],
    recorded: Collection[str],
) -> tuple[str, ...]:
    """The revisions *requested* names (ids, prefixes, ``head``, ``current``, ...), in order.

    Each must have a file and be applied: below one of the database's *heads*, or
    applied according to the history (*recorded*). Raises a one-line error for
    the first that is not.
    """
    applied = applied_by_versions(graph, heads) | set(recorded)
    found: list[str] = []
    for target in requested:
        try:
            revisions = graph.resolve(target, heads)
        except UnknownRevision:
            gone = sorted(
                r for r in applied | set(heads) if r.startswith(target) and r not in graph
            )
            if gone:
                raise CommandError(
                    f"revision {gone[0]} is applied, but no revision file declares it",
                    hint="repair records the checksum of a revision's file: restore the file "
                    "first ('amigrate validate' lists what else is missing)",
                ) from None
            raise
        if not revisions:
            raise CommandError(
                f"{target!r} names no revision", hint="name applied revisions: ids or prefixes"
            )
        for revision in revisions:
            if revision not in applied:
                at = ", ".join(heads) or "<base>"
                raise CommandError(
                    f"revision {revision} is not applied to this database (it is at {at})",
                    hint="repair accepts the files of applied revisions only; "
                    "'amigrate upgrade' applies the others",
                )
            found.append(revision)
    return tuple(dict.fromkeys(found))


def choose_repairs(
    named: Sequence[str] | None,
    recorded: Mapping[str, str | None],
    files: Mapping[str, str],
    paths: Mapping[str, str],
    heads: Sequence[str],
    known: Collection[str],
) -> tuple[list[Repaired], list[str], list[Problem]]:
    """What to repair: the *named* revisions, or (None) every changed one.

    *recorded*: revision -> recorded checksum, as ``validate`` replays the history;
    *files*: revision -> the file's checksum now, for the recorded and named ones.
    Returns the revisions to record, the named ones that already match, and the
    problems ``validate`` would still report after the repair.
    """
    report = compare(recorded, files, paths, heads, known=known)
    if named is None:
        changed = report.of_kind("changed")
        chosen = [p.revision for p in changed]
    else:
        chosen = [r for r in named if recorded.get(r) != files[r]]
    repairs = [Repaired(r, paths[r], recorded.get(r), files[r]) for r in chosen]
    unchanged = [r for r in named or () if r not in chosen]
    remaining = [p for p in report.problems if not (p.kind == "changed" and p.revision in chosen)]
    return repairs, unchanged, remaining


def repair_message(repaired: Repaired) -> str:
    """The history row's message: what was accepted, and the checksum it replaces."""
    if repaired.recorded is None:
        return "accepted the file as it is now (no checksum was recorded)"
    return f"accepted the file as it is now (was {repaired.recorded[:15]})"


async def write_repairs(
    ctx: OnlineContext,
    history: HistoryTable,
    repairs: Sequence[Repaired],
    *,
    db_user: str | None,
    create: bool,
) -> str:
    """Write one history row per repaired revision, in one transaction; return their run id.

    With *create* the history table is created first, in a transaction of its own
    (a database Alembic migrated has none yet).
    """
    conn = ctx.connection
    if create:
        await ctx.begin()
        await history.create(conn)
        await ctx.commit()
    else:
        await history.ensure_charset(conn)
        await ctx.commit()
    run_id = uuid.uuid4().hex
    os_user = os_identity()
    writes = [
        Write(
            history.insert,
            history.row(
                run_id=run_id,
                revision=r.revision,
                direction=REPAIR,
                from_revisions=(r.revision,),
                to_revisions=(r.revision,),
                message=repair_message(r),
                checksum=r.checksum,
                duration=0.0,
                db_user=db_user,
                os_user=os_user,
            ),
            1,
        )
        for r in repairs
    ]
    await ctx.begin()
    await ctx.finish(writes, commit=True)
    for r in repairs:
        log.info("Repaired %s: %s", r.revision, repair_message(r))
    return run_id
