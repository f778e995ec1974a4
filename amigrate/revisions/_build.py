"""Validate a set of revisions and derive the graph's tables.

The work is O(n log n) in the number of revisions, plus one upward sweep per
dependency that several revisions declare and one walk down per branch label:
nothing is quadratic in the size of the history the way Alembic's map is.

Kept apart from :mod:`amigrate.revisions.graph` so that the class there reads as
the queries it answers.  Every rule here follows Alembic's ``RevisionMap``; where
Alembic would warn and carry on (an unknown ``down_revision``) or fail with a bare
``KeyError``, this raises a :class:`~amigrate.errors.HistoryError` that names the
file.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from amigrate.errors import (
    CycleDetected,
    DuplicateBranchLabel,
    DuplicateRevision,
    HistoryError,
    UnknownReference,
)
from amigrate.revisions.revision import Revision
from amigrate.revisions.targets import KEYWORDS

__all__ = ["Tables", "build_tables"]

# Alembic refuses these in revision ids: they are target syntax (label@rev, rev+2, a:b).
_ILLEGAL_IN_ID = frozenset("@+-:")
_ILLEGAL_IN_LABEL = frozenset("@:+")
_BAD_ID = re.compile(r"[@+\-:\s]")


@dataclass(slots=True)
class Tables:
    """Everything :class:`RevisionGraph` derives from its revisions.

    ``deps`` holds ``depends_on`` resolved to revision ids (labels replaced by the
    revision that declares them); ``down`` is Alembic's "normalized down
    revisions": the ``down_revision`` values, then the dependencies that no
    ancestor already depends on.  ``parents`` is every edge (down revisions and
    dependencies), used for reachability; ``level`` the longest path to a base.
    """

    revisions: dict[str, Revision]
    topo: list[str]
    label_owner: dict[str, str]
    deps: dict[str, tuple[str, ...]]
    down: dict[str, tuple[str, ...]]
    parents: dict[str, tuple[str, ...]]
    children: dict[str, tuple[str, ...]]
    dependents: dict[str, tuple[str, ...]]
    level: dict[str, int]
    labels: dict[str, frozenset[str]]


def build_tables(revisions: Iterable[Revision]) -> Tables:
    """Check ``revisions`` and compute the graph's tables, or raise a HistoryError."""
    by_id = _collect(revisions)
    label_owner = _collect_labels(by_id)
    deps = _resolve_references(by_id, label_owner)
    parents = {rid: _dedupe(rev.down_revisions + deps[rid]) for rid, rev in by_id.items()}
    children_lists: dict[str, list[str]] = {rid: [] for rid in by_id}
    dependent_lists: dict[str, list[str]] = {rid: [] for rid in by_id}
    for rid in sorted(by_id):
        for parent in by_id[rid].down_revisions:
            children_lists[parent].append(rid)
        for dep in deps[rid]:
            dependent_lists[dep].append(rid)
    topo, level = _levels(by_id, parents)
    children = {rid: tuple(kids) for rid, kids in children_lists.items()}
    dependents = {rid: tuple(kids) for rid, kids in dependent_lists.items()}
    down = _normalize(by_id, deps, children)
    labels = _propagate_labels(by_id, topo, children, dependents)
    return Tables(
        revisions=by_id,
        topo=topo,
        label_owner=label_owner,
        deps=deps,
        down=down,
        parents=parents,
        children=children,
        dependents=dependents,
        level=level,
        labels=labels,
    )


def _collect(revisions: Iterable[Revision]) -> dict[str, Revision]:
    by_id: dict[str, Revision] = {}
    for rev in revisions:
        _check_revision(rev)
        seen = by_id.get(rev.revision)
        if seen is not None:
            raise DuplicateRevision(rev.revision, [_path(seen), _path(rev)])
        by_id[rev.revision] = rev
    return by_id


def _check_revision(rev: Revision) -> None:
    rid = rev.revision
    if _BAD_ID.search(rid) or not rid:
        bad = sorted(_ILLEGAL_IN_ID.intersection(rid))
        problem = f"has an id containing {' '.join(bad)}" if bad else "has an empty id or spaces"
        raise _history_error(rev, problem, "revision ids may not contain @ + - : or spaces")
    if rid in KEYWORDS:
        raise _history_error(rev, "has a reserved word as its id", _reserved_hint())
    if len(set(rev.down_revisions)) != len(rev.down_revisions):
        raise _history_error(
            rev,
            f"lists a down_revision twice: {rev.down_revisions!r}",
            "list each down revision once",
        )
    if rid in rev.down_revisions or rid in rev.depends_on:
        attribute = "down_revision" if rid in rev.down_revisions else "depends_on"
        err = CycleDetected([rid, rid], paths=_paths(rev))
        err.hint = f"revision {rid} names itself in {attribute}; point it at its parent"
        raise err
    for label in rev.branch_labels:
        if (
            label in KEYWORDS
            or _ILLEGAL_IN_LABEL.intersection(label)
            or any(ch.isspace() for ch in label)
        ):
            raise _history_error(
                rev,
                f"has branch label {label!r}, which cannot be used in a target",
                "branch labels may not contain @ : + or spaces, "
                f"and may not be {_reserved_hint(short=True)}",
            )


def _collect_labels(by_id: dict[str, Revision]) -> dict[str, str]:
    owner: dict[str, str] = {}
    for rid in sorted(by_id):
        rev = by_id[rid]
        for label in rev.branch_labels:
            if label in by_id:
                other = by_id[label]
                raise HistoryError(
                    f"revision {rev.where} has branch label {label!r}, which is the id of "
                    f"revision {other.where}",
                    paths=_paths(rev, other),
                    hint="rename the branch label; labels and revision ids share one namespace",
                )
            first = owner.get(label)
            if first is not None and first != rid:
                raise DuplicateBranchLabel(label, [first, rid], paths=_paths(by_id[first], rev))
            owner[label] = rid
    return owner


def _resolve_references(
    by_id: dict[str, Revision], label_owner: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    deps: dict[str, tuple[str, ...]] = {}
    for rid in sorted(by_id):
        rev = by_id[rid]
        for down in rev.down_revisions:
            if down not in by_id:
                raise UnknownReference(rid, down, attribute="down_revision", path=rev.path)
        resolved: list[str] = []
        for dep in rev.depends_on:
            target = dep if dep in by_id else label_owner.get(dep)
            if target is None:
                raise UnknownReference(rid, dep, attribute="depends_on", path=rev.path)
            if target == rid:
                err = CycleDetected([rid, rid], paths=_paths(rev))
                err.hint = f"revision {rid} depends on its own branch label {dep!r}"
                raise err
            resolved.append(target)
        deps[rid] = _dedupe(tuple(resolved))
    return deps


def _levels(
    by_id: dict[str, Revision], parents: dict[str, tuple[str, ...]]
) -> tuple[list[str], dict[str, int]]:
    """Kahn's algorithm: a topological order and each revision's level, or the cycle."""
    missing = {rid: len(ps) for rid, ps in parents.items()}
    below: dict[str, list[str]] = {rid: [] for rid in by_id}
    for rid, ps in parents.items():
        for parent in ps:
            below[parent].append(rid)
    level = dict.fromkeys(by_id, 0)
    queue = deque(sorted(rid for rid, count in missing.items() if count == 0))
    topo: list[str] = []
    while queue:
        rid = queue.popleft()
        topo.append(rid)
        for child in below[rid]:
            level[child] = max(level[child], level[rid] + 1)
            missing[child] -= 1
            if missing[child] == 0:
                queue.append(child)
    if len(topo) != len(by_id):
        raise _cycle_error(by_id, parents, {rid for rid, count in missing.items() if count})
    return topo, level


def _cycle_error(
    by_id: dict[str, Revision], parents: dict[str, tuple[str, ...]], stuck: set[str]
) -> CycleDetected:
    # Every revision left over by Kahn's algorithm has a parent that is left over
    # too, so following those parents must come back to a revision already seen.
    node = min(stuck)
    path: list[str] = []
    position: dict[str, int] = {}
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = min(p for p in parents[node] if p in stuck)
    loop = [*path[position[node] :], node]
    via_depends = any(b not in by_id[a].down_revisions for a, b in itertools.pairwise(loop))
    err = CycleDetected(loop, paths=_paths(*(by_id[rid] for rid in loop[:-1])))
    if via_depends:
        err.hint = "one of these down_revision or depends_on values must point elsewhere"
    return err


def _normalize(
    by_id: dict[str, Revision],
    deps: dict[str, tuple[str, ...]],
    children: dict[str, tuple[str, ...]],
) -> dict[str, tuple[str, ...]]:
    """Drop each dependency that an ancestor (by down_revision) already declares.

    Alembic checks every ancestor of every revision that has dependencies, which is
    quadratic.  Here, for each dependency declared by two or more revisions, one
    sweep upwards from those revisions marks the ones that sit above another of
    them; only those lose it.
    """
    holders: dict[str, list[str]] = {}
    for rid, ds in deps.items():
        for dep in ds:
            holders.setdefault(dep, []).append(rid)
    inherited: dict[str, set[str]] = {}
    for dep, revs in holders.items():
        if len(revs) < 2:
            continue
        holding = set(revs)
        seen: set[str] = set()
        stack = [child for rid in revs for child in children[rid]]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in holding:
                inherited.setdefault(node, set()).add(dep)
            stack.extend(children[node])
    down: dict[str, tuple[str, ...]] = {}
    for rid, rev in by_id.items():
        if not deps[rid]:
            down[rid] = rev.down_revisions
            continue
        drop = inherited.get(rid, set())
        kept = tuple(dep for dep in deps[rid] if dep not in drop)
        down[rid] = _dedupe(rev.down_revisions + kept)
    return down


def _propagate_labels(
    by_id: dict[str, Revision],
    topo: list[str],
    children: dict[str, tuple[str, ...]],
    dependents: dict[str, tuple[str, ...]],
) -> dict[str, frozenset[str]]:
    """Give each label to its revision, every descendant, and ancestors when Alembic does.

    Alembic walks down from the last descendant of a labelled revision until it
    meets a branch point (counting ``depends_on`` children) or a merge point,
    labelling what it passes.  When every descendant has one child and none is a
    merge, that walk reaches the labelled revision and carries on into its
    ancestors; otherwise it stops among the descendants.  ``straight`` records
    exactly that condition, so the result matches Alembic without its walk.
    """

    def forks(rid: str) -> bool:
        kids, deps = children[rid], dependents[rid]
        return len(by_id[rid].down_revisions) > 1 or (
            len(kids) + len(deps) > 1 and len(set(kids).union(deps)) > 1
        )

    extra: dict[str, set[str]] = {}
    if any(rev.branch_labels for rev in by_id.values()):
        straight: dict[str, bool] = {}
        for rid in reversed(topo):
            kids = children[rid]
            straight[rid] = not forks(rid) and (not kids or straight[kids[0]])
        for rid in topo:
            rev = by_id[rid]
            if not rev.branch_labels or not straight[rid] or not rev.down_revisions:
                continue
            node = rev.down_revisions[0]
            while not forks(node):
                extra.setdefault(node, set()).update(rev.branch_labels)
                downs = by_id[node].down_revisions
                if not downs:
                    break
                node = downs[0]

    labels: dict[str, frozenset[str]] = {}
    empty: frozenset[str] = frozenset()
    for rid in topo:
        rev = by_id[rid]
        downs = rev.down_revisions
        added = extra.get(rid)
        if not rev.branch_labels and added is None and len(downs) < 2:
            # shared, not copied: keeps long histories linear
            labels[rid] = labels[downs[0]] if downs else empty
            continue
        own = set(rev.branch_labels).union(added or ())
        labels[rid] = frozenset(own.union(*(labels[p] for p in downs)))
    return labels


def _dedupe(items: tuple[str, ...]) -> tuple[str, ...]:
    return items if len(items) < 2 else tuple(dict.fromkeys(items))


def _path(rev: Revision) -> str:
    return rev.path or "<no path>"


def _paths(*revs: Revision) -> tuple[str, ...]:
    return tuple(rev.path for rev in revs if rev.path)


def _history_error(rev: Revision, problem: str, hint: str) -> HistoryError:
    return HistoryError(f"revision {rev.where} {problem}", paths=_paths(rev), hint=hint)


def _reserved_hint(*, short: bool = False) -> str:
    words = ", ".join(sorted(KEYWORDS))
    return words if short else f"{words} are target keywords; choose another id"
