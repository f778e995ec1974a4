"""Alembic's own planner, driven without files or a database, for parity tests.

Builds Alembic's ``RevisionMap`` from the same :class:`Revision` objects amigrate
uses, asks ``ScriptDirectory`` for the steps of an upgrade, downgrade or stamp,
and runs them through Alembic's ``HeadMaintainer`` with the SQL replaced by a
recording of the version-table writes.  Alembic reads revisions in file order
and database rows in row order; the model feeds both sorted by id, which is the
stable order amigrate uses, so the two can be compared step for step.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from alembic.runtime.migration import HeadMaintainer, MigrationStep, RevisionStep, StampStep
from alembic.script.base import ScriptDirectory
from alembic.script.revision import Revision as AlembicRevision
from alembic.script.revision import RevisionMap

from amigrate.revisions import Plan, Revision, VersionTable

Write = tuple[str, ...]


class _Script(AlembicRevision):
    """An Alembic revision with the ``module``/``doc`` a migration step reads."""

    def __init__(self, rev: Revision) -> None:
        downs = rev.down_revisions
        super().__init__(
            rev.revision,
            downs[0] if len(downs) == 1 else (downs or None),
            dependencies=rev.depends_on or None,
            branch_labels=rev.branch_labels or None,
        )
        self.module = SimpleNamespace(upgrade=_noop, downgrade=_noop)
        self.doc = rev.message


def _noop() -> None:
    return None


class _Scripts(ScriptDirectory):
    """A ScriptDirectory over literal revisions: only the planning methods are used."""

    def __init__(self, revisions: Sequence[Revision]) -> None:
        scripts = [_Script(rev) for rev in sorted(revisions, key=lambda r: r.revision)]
        self.revision_map = RevisionMap(lambda: scripts)


@dataclass(frozen=True)
class AlembicStep:
    """One Alembic step: the revision(s), direction, writes, and whether its writes
    depend on set iteration order (so only the resulting heads can be compared)."""

    revision: str | tuple[tuple[str, ...], tuple[str, ...]]
    direction: str
    writes: tuple[Write, ...]
    heads_after: tuple[str, ...]
    hash_dependent: bool


@dataclass(frozen=True)
class AlembicRun:
    """The steps Alembic plans and the version rows it ends with."""

    steps: tuple[AlembicStep, ...]
    heads: tuple[str, ...]


class _Recorder(HeadMaintainer):
    """Alembic's HeadMaintainer rules, with each SQL statement recorded instead."""

    def __init__(self, heads: Sequence[str]) -> None:
        self.heads = set(heads)
        self.writes: list[Write] = []

    def _insert_version(self, version: str) -> None:
        assert version not in self.heads
        self.heads.add(version)
        self.writes.append(("insert", version))

    def _delete_version(self, version: str) -> None:
        self.heads.remove(version)
        self.writes.append(("delete", version))

    def _update_version(self, from_: str, to_: str) -> None:
        assert to_ not in self.heads
        self.heads.remove(from_)
        self.heads.add(to_)
        self.writes.append(("update", from_, to_))


def _hash_dependent(step: MigrationStep, heads: set[str]) -> bool:
    if not isinstance(step, RevisionStep):
        return False
    if step.is_upgrade:
        return bool(
            step.should_merge_branches(heads) and set(heads).difference(step.from_revisions)
        )
    return bool(step.should_unmerge_branches(heads) and len(step._unmerge_to_revisions(heads)) > 1)


class AlembicModel:
    """Alembic's answers for one history."""

    def __init__(self, revisions: Sequence[Revision]) -> None:
        self.scripts = _Scripts(revisions)
        self.map = self.scripts.revision_map

    def upgrade(self, heads: Sequence[str], target: str) -> AlembicRun:
        return self._run(heads, self.scripts._upgrade_revs(target, cast(Any, tuple(sorted(heads)))))

    def downgrade(self, heads: Sequence[str], target: str) -> AlembicRun:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "downgrade -1 from multiple heads"
            steps = self.scripts._downgrade_revs(target, cast(Any, tuple(sorted(heads))))
        return self._run(heads, steps)

    def stamp(self, heads: Sequence[str], targets: Sequence[str]) -> AlembicRun:
        steps = self.scripts._stamp_revs(tuple(targets), tuple(sorted(heads)))
        return self._run(heads, steps)

    def _run(
        self, heads: Sequence[str], steps: Sequence[RevisionStep] | Sequence[StampStep]
    ) -> AlembicRun:
        recorder = _Recorder(heads)
        out: list[AlembicStep] = []
        for step in steps:
            before = len(recorder.writes)
            hashy = _hash_dependent(step, set(recorder.heads))
            recorder.update_to_step(step)
            revision: str | tuple[tuple[str, ...], tuple[str, ...]]
            if isinstance(step, RevisionStep):
                revision = step.revision.revision
            else:
                revision = (tuple(step.from_), tuple(step.to_))
            out.append(
                AlembicStep(
                    revision=revision,
                    direction="up" if step.is_upgrade else "down",
                    writes=tuple(recorder.writes[before:]),
                    heads_after=tuple(sorted(recorder.heads)),
                    hash_dependent=hashy,
                )
            )
        return AlembicRun(tuple(out), tuple(sorted(recorder.heads)))


def our_writes(plan: Plan) -> list[tuple[Any, str, tuple[Write, ...]]]:
    """amigrate's plan in the shape of :class:`AlembicStep` (revision, direction, writes)."""
    out: list[tuple[Any, str, tuple[Write, ...]]] = []
    for step in plan.steps:
        writes = tuple(
            (w.op, *(v for v in (w.old, w.new) if v is not None)) for w in step.change.writes
        )
        revision: Any = (step.from_revisions, step.to_revisions) if step.is_stamp else step.revision
        out.append((revision, step.direction, writes))
    return out


def assert_parity(plan: Plan, theirs: AlembicRun) -> None:
    """amigrate's plan matches Alembic's: same steps in the same order, same writes.

    Where Alembic's writes for a step depend on set iteration order, the rows
    after that step are compared instead of the writes.
    """
    ours = our_writes(plan)
    assert [(r, d) for r, d, _ in ours] == [(s.revision, s.direction) for s in theirs.steps]
    table = VersionTable(() if plan.purge else plan.from_heads)
    for step, (_, _, writes), alembic in zip(plan.steps, ours, theirs.steps, strict=True):
        table.apply(step.change)
        if alembic.hash_dependent:
            assert table.rows == alembic.heads_after, step
        else:
            assert writes == alembic.writes, step
    assert plan.to_heads == theirs.heads
