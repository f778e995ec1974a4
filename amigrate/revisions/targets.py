"""Targets (``head``, ``ae10``, ``label@-2``, ...): parsed once into data, then resolved.

Grammar (no spaces)::

    target  :=  [branch "@"] anchor [("+" | "-") N]     N >= 1
             |  [branch "@"] ("+" | "-") N              relative to the current heads
    anchor  :=  "head" | "heads" | "base" | "current" | id | id prefix | branch label
    range   :=  [target] ":" [target]

``branch`` is a branch label or a revision (id or prefix); it narrows the anchor to
that branch's lineage (its ancestors and descendants).  Resolution follows
Alembic's ``RevisionMap`` rules, with clear errors where Alembic gives a bare
exception or a hash-order-dependent answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from amigrate.errors import (
    InvalidTarget,
    MultipleHeads,
    RelativeOutOfRange,
    ResolutionError,
    UnknownRevision,
)
from amigrate.revisions import _order

if TYPE_CHECKING:
    from amigrate.revisions.graph import RevisionGraph

__all__ = ["Target", "TargetKind", "parse_range", "parse_target"]

TargetKind = Literal["head", "heads", "base", "current", "revision"]
#: The words a target uses, so no revision id or branch label may be one of them.
KEYWORDS: frozenset[str] = frozenset({"head", "heads", "base", "current"})
_STEP = re.compile(r"([+-])(\d+)\Z")


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target.

    ``kind`` is the anchor: a keyword, or ``"revision"`` with ``ident`` holding the
    id, prefix or label as written.  ``branch`` is the text before ``@`` (None
    without one).  ``steps`` is the relative move (``+2`` -> 2, ``-1`` -> -1), or
    None for an absolute target; ``+N``/``-N`` on their own are ``kind="current"``.
    ``text`` is the target as the user wrote it, for messages; it does not take
    part in equality.
    """

    kind: TargetKind
    ident: str | None = None
    branch: str | None = None
    steps: int | None = None
    text: str = field(default="", compare=False)

    @property
    def is_relative(self) -> bool:
        """True for ``+N``, ``rev-N``, ``label@head-2`` and the like."""
        return self.steps is not None

    def __str__(self) -> str:
        if self.text:
            return self.text
        anchor = self.ident if self.kind == "revision" else self.kind
        if self.kind == "current" and self.steps is not None:
            anchor = ""
        branch = f"{self.branch}@" if self.branch else ""
        step = f"{self.steps:+d}" if self.steps is not None else ""
        return f"{branch}{anchor}{step}"


def parse_target(text: str | Target) -> Target:
    """Parse one target, or raise :class:`~amigrate.errors.InvalidTarget`.

    Surrounding whitespace is ignored.  A range (``a:b``) is not a target; use
    :func:`parse_range`.  A :class:`Target` is returned unchanged.
    """
    if isinstance(text, Target):
        return text
    raw = text.strip()
    if not raw:
        raise InvalidTarget("empty target", hint="try 'head', 'base' or a revision id")
    if any(ch.isspace() for ch in raw):
        raise InvalidTarget(f"target {raw!r} contains spaces")
    if ":" in raw:
        raise InvalidTarget(
            f"{raw!r} is a range, not a target",
            hint="ranges ('a:b') are for history and upgrade/downgrade --sql; "
            "name one revision here",
        )
    branch: str | None = None
    body = raw
    if "@" in raw:
        branch, _, body = raw.partition("@")
        if "@" in body:
            raise InvalidTarget(f"target {raw!r} has more than one '@'")
        if not branch or not body:
            raise InvalidTarget(
                f"target {raw!r} needs text on both sides of '@'",
                hint="e.g. 'mybranch@head', 'mybranch@+1'",
            )
        if branch in KEYWORDS:
            raise InvalidTarget(
                f"{branch!r} cannot name a branch in {raw!r}",
                hint="before '@' goes a branch label or a revision id",
            )
        _check_ident(branch, raw)
    steps: int | None = None
    anchor = body
    match = _STEP.search(body)
    if match:
        anchor = body[: match.start()]
        steps = int(match.group(2)) * (1 if match.group(1) == "+" else -1)
        if steps == 0:
            raise InvalidTarget(f"{raw!r} moves zero steps", hint="use a step of 1 or more")
    if not anchor:
        if steps is None:  # pragma: no cover - an empty body is rejected above
            raise InvalidTarget(f"target {raw!r} is empty")
        return Target("current", None, branch, steps, raw)
    _check_ident(anchor, raw)
    if anchor in KEYWORDS:
        kind: TargetKind = anchor  # type: ignore[assignment]  # checked just above
        return Target(kind, None, branch, steps, raw)
    return Target("revision", anchor, branch, steps, raw)


def parse_range(text: str) -> tuple[Target | None, Target | None]:
    """Parse ``lower:upper``; either side may be empty (None) and either may be ``current``.

    Resolve each end with :meth:`RevisionGraph.resolve` (``current`` needs the
    database's heads, so the caller does it when a database is at hand).  An
    empty lower end means base and an empty upper end means heads, as in
    Alembic's ``history -r``.
    """
    raw = text.strip()
    if raw.count(":") != 1:
        raise InvalidTarget(
            f"{raw!r} is not a range", hint="write 'lower:upper', ':upper' or 'lower:'"
        )
    lower, _, upper = raw.partition(":")
    return (parse_target(lower) if lower else None, parse_target(upper) if upper else None)


def _check_ident(part: str, raw: str) -> None:
    if part[0] in "+-" or "+" in part:
        raise InvalidTarget(
            f"cannot read {raw!r}",
            hint="relative targets look like '+2', '-1', 'ae10+2' or 'mybranch@head-1'",
        )


# -- resolution -------------------------------------------------------------------------


def resolve_target(
    graph: RevisionGraph, target: str | Target, current_heads: Sequence[str] = ()
) -> tuple[str, ...]:
    """Resolve ``target`` against ``graph``; see :meth:`RevisionGraph.resolve`."""
    t = parse_target(target)
    if t.steps is None:
        return absolute(graph, t, current_heads)
    found = walk_up(graph, t, current_heads) if t.steps > 0 else walk_down(graph, t, current_heads)
    return (found,) if found is not None else ()


def checked_heads(graph: RevisionGraph, heads: Sequence[str]) -> tuple[str, ...]:
    """The database's heads, deduplicated and sorted; unknown ids raise UnknownRevision."""
    unique = sorted(set(heads))
    for head in unique:
        if head not in graph:
            raise UnknownRevision(
                head,
                hint=f"the version table names {head!r}, which no revision file declares; "
                "restore that file, or run 'amigrate stamp --purge <revision>' to reset "
                "the version table",
            )
    return tuple(unique)


def branch_anchor(graph: RevisionGraph, branch: str) -> str:
    """The revision a branch part names: the label's declaring revision, or a revision."""
    try:
        return graph.lookup(branch)
    except UnknownRevision:
        raise UnknownRevision(
            branch,
            hint=f"no branch label or revision is called {branch!r}; "
            "'amigrate branches' lists the labels",
        ) from None


def absolute(graph: RevisionGraph, t: Target, current_heads: Sequence[str]) -> tuple[str, ...]:
    """Resolve the anchor of ``t``, ignoring ``t.steps``."""
    anchor = branch_anchor(graph, t.branch) if t.branch else None
    text = t.text or str(t)
    if t.kind == "base":
        return ()
    if t.kind == "current":
        current = checked_heads(graph, current_heads)
        return _within(graph, current, anchor)
    if t.kind == "heads":
        if anchor is None:
            return graph.effective_heads
        return _within(graph, graph.heads, anchor)
    if t.kind == "head":
        heads = _within(graph, graph.heads, anchor)
        if len(heads) > 1:
            hint = (
                f"the branch {t.branch!r} has several heads; name one, or use '{t.branch}@heads'"
                if t.branch
                else None
            )
            raise MultipleHeads(text, heads, hint=hint)
        return heads
    assert t.ident is not None
    try:
        rid = graph.lookup(t.ident, branch=anchor)
    except UnknownRevision as exc:
        if anchor is None:
            raise
        raise UnknownRevision(text, hint=exc.hint) from None  # named as written: label@prefix
    if anchor is not None and not graph.in_lineage(rid, anchor):
        raise ResolutionError(
            f"revision {rid} is not on branch {t.branch!r}",
            hint=f"drop '{t.branch}@', or name a revision on that branch",
        )
    return (rid,)


def _within(graph: RevisionGraph, revs: Sequence[str], anchor: str | None) -> tuple[str, ...]:
    if anchor is None:
        return tuple(revs)
    return tuple(rid for rid in revs if graph.in_lineage(rid, anchor))


def _one(graph: RevisionGraph, t: Target, current_heads: Sequence[str]) -> str | None:
    """The single revision a relative target starts from (None: below the bases)."""
    found = absolute(graph, t, current_heads)
    if len(found) > 1:
        raise MultipleHeads(
            t.text or str(t),
            found,
            hint="a relative step needs one starting revision; name it, e.g. '<id>+1' "
            "or '<branch label>@head-1'",
        )
    return found[0] if found else None


def walk_up(graph: RevisionGraph, t: Target, current_heads: Sequence[str]) -> str:
    """Resolve ``+N`` forms: N steps up along ``down_revision`` edges."""
    assert t.steps is not None
    assert t.steps > 0
    anchor = branch_anchor(graph, t.branch) if t.branch else None
    if t.kind == "current":
        start = _upgrade_start(graph, t, checked_heads(graph, current_heads), anchor)
    elif t.kind == "base":
        start = None
    else:
        start = _one(graph, t, current_heads)
    lineage = _lineage(graph, anchor) if anchor else None
    node = start
    for done in range(t.steps):
        options = graph.children(node) if node is not None else graph.bases
        if lineage is not None:
            options = tuple(rid for rid in options if rid in lineage)
        if not options:
            where = f"revision {node}" if node is not None else "base"
            raise RelativeOutOfRange(
                f"{t.text or t!s} goes {t.steps} up from {_start_name(start)}, but "
                f"{where} has nothing above it" + (f" on branch {t.branch!r}" if t.branch else ""),
                hint=f"the furthest up is {done} step{'s' if done != 1 else ''}"
                if done
                else "nothing is above it; use 'heads' to see the heads",
            )
        if len(options) > 1:
            where = f"revision {node}" if node is not None else "base"
            raise ResolutionError(
                f"{t.text or t!s} is ambiguous: the history branches at {where} into "
                f"{', '.join(options)}",
                hint="name the branch: '<branch label>@+N', or start from a revision "
                "on it: '<id>+N'",
            )
        node = options[0]
    assert node is not None
    return node


def _upgrade_start(
    graph: RevisionGraph, t: Target, current: tuple[str, ...], anchor: str | None
) -> str | None:
    # Alembic: start from the current head on the branch; if none is on it, from
    # the tips of the applied revisions that are on it; if none, from base.
    if not current:
        return None
    starts: Sequence[str] = current
    if anchor is not None:
        lineage = _lineage(graph, anchor)
        starts = [rid for rid in current if rid in lineage]
        if not starts:
            applied = _applied(graph, current)
            on_branch = {rid for rid in applied if rid in lineage}
            below = {d for rid in on_branch for d in graph._tables.down[rid]}
            starts = sorted(on_branch - below)
            if not starts:
                return None
    if len(starts) > 1:
        raise _several_current(t, starts, "+N")
    return starts[0]


def walk_down(graph: RevisionGraph, t: Target, current_heads: Sequence[str]) -> str | None:
    """Resolve ``-N`` forms: N steps down along ``down_revision`` edges; None is base."""
    return downgrade_start_and_walk(graph, t, current_heads)[1]


def downgrade_start_and_walk(
    graph: RevisionGraph, t: Target, current_heads: Sequence[str]
) -> tuple[str | None, str | None]:
    """``-N`` as downgrade reads it: (the branch that narrows the downgrade, target).

    The branch is the revision the ``branch@`` part names or, for a bare ``-N``,
    the current head the walk starts from: Alembic narrows a downgrade to base to
    the bases under that revision.
    """
    assert t.steps is not None
    assert t.steps < 0
    text = t.text or str(t)
    anchor = branch_anchor(graph, t.branch) if t.branch else None
    if t.kind == "base":
        raise RelativeOutOfRange(f"{text} goes below base", hint="nothing is below base")
    if t.kind == "current":
        start = _downgrade_start(graph, t, checked_heads(graph, current_heads), anchor)
        if anchor is None:
            anchor = start
    else:
        found = _one(graph, t, current_heads)
        if found is None:
            raise RelativeOutOfRange(f"{text} goes below base", hint="the history is empty")
        start = found
    node: str | None = start
    for done in range(-t.steps):
        if node is None:
            raise RelativeOutOfRange(
                f"{text} goes {-t.steps} down from {start}, past base",
                hint=f"the furthest down is {done} step{'s' if done != 1 else ''} "
                f"('{with_steps(t, -done)}' reaches base)",
            )
        downs = graph[node].down_revisions
        if len(downs) > 1:
            left = -t.steps - done - 1  # steps still to go below the merge's parents
            sides = ", ".join(f"'{d}-{left}'" if left else f"'{d}'" for d in downs)
            raise ResolutionError(
                f"{text} is ambiguous: revision {node} merges {', '.join(downs)}",
                hint=f"name the side to stop on: {sides}",
            )
        node = downs[0] if downs else None
    return anchor, node


def _downgrade_start(
    graph: RevisionGraph, t: Target, current: tuple[str, ...], anchor: str | None
) -> str:
    text = t.text or str(t)
    if not current:
        raise RelativeOutOfRange(
            f"{text} counts down from the current heads, and nothing is applied",
            hint="the database is at base already",
        )
    if anchor is None:
        if len(current) > 1:
            raise _several_current(t, current, "-N")
        return current[0]
    lineage = _lineage(graph, anchor)
    starts = [rid for rid in current if rid in lineage]
    if not starts:
        # Alembic: the branch's head may be below a current head (a dependency of
        # it); look through everything applied for the branch's topmost revisions.
        applied = _applied(graph, current)
        kids = graph._tables.children
        tips = [rid for rid in applied if not any(k in applied for k in kids[rid])]
        starts = sorted(rid for rid in tips if rid in lineage)
    if not starts:
        raise ResolutionError(
            f"{text}: nothing on branch {t.branch!r} is applied",
            hint="the branch is at base already",
        )
    if len(starts) > 1:
        raise _several_current(t, starts, "-N")
    return starts[0]


def _lineage(graph: RevisionGraph, anchor: str) -> frozenset[str]:
    """The anchor with its ancestors and descendants, by ``down_revision`` only."""
    return (
        graph.ancestors(anchor, include_dependencies=False)
        | graph.descendants(anchor, include_dependencies=False)
        | {anchor}
    )


def _applied(graph: RevisionGraph, current: Sequence[str]) -> frozenset[str]:
    return _order.closure(current, graph._tables.parents)


def _several_current(t: Target, starts: Sequence[str], form: str) -> ResolutionError:
    on = f" on branch {t.branch!r}" if t.branch else ""
    return ResolutionError(
        f"{t.text or t!s} is ambiguous: the database has several current heads{on}: "
        f"{', '.join(starts)}",
        hint=f"start from one of them: '<id>{form}'"
        + ("" if t.branch else f" or '<branch label>@{form}'"),
    )


def _start_name(start: str | None) -> str:
    return start if start is not None else "base"


def with_steps(t: Target, steps: int) -> str:
    return str(Target(t.kind, t.ident, t.branch, steps))
