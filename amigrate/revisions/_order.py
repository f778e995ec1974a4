"""Reachability and Alembic's step order, in (near) linear time.

Every revision has a *level*: the length of the longest path down to a base over
all edges (``down_revision`` and ``depends_on``).  A parent's level is always lower
than its child's, so a search for "is X below Y" never needs to leave the levels
between them; that bound keeps the searches local in long histories, where
Alembic walks the whole ancestry each time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["closure", "is_ancestor", "strictly_below", "walk_down"]


def closure(starts: Iterable[str], *edge_maps: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """``starts`` and everything reachable from them along any of ``edge_maps``."""
    seen = set(starts)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for edges in edge_maps:
            for nxt in edges[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return frozenset(seen)


def strictly_below(
    revisions: Iterable[str], parents: Mapping[str, Sequence[str]]
) -> frozenset[str]:
    """Everything below some of ``revisions``, not counting the revisions themselves
    (unless one is below another)."""
    return closure((p for rid in revisions for p in parents[rid]), parents)


def is_ancestor(
    lower: str,
    upper: str,
    parents: Mapping[str, Sequence[str]],
    level: Mapping[str, int],
) -> bool:
    """True when ``lower`` is ``upper`` or is reachable downwards from it."""
    if lower == upper:
        return True
    floor = level[lower]
    if level[upper] <= floor:
        return False
    stack = [upper]
    seen = {upper}
    while stack:
        node = stack.pop()
        for parent in parents[node]:
            if parent == lower:
                return True
            if parent not in seen and level[parent] > floor:
                seen.add(parent)
                stack.append(parent)
    return False


def walk_down(
    todo: Iterable[str],
    starts: Iterable[str],
    down: Mapping[str, Sequence[str]],
    parents: Mapping[str, Sequence[str]],
    level: Mapping[str, int],
) -> list[str]:
    """Order ``todo`` children-first, exactly as Alembic's ``_topological_sort`` does.

    ``starts`` are the revisions the walk begins from (the upgrade targets, or the
    current heads for a downgrade); they are taken in id order, where Alembic takes
    them in the order its files were read.  ``down`` gives each revision's
    normalized down revisions in declared order.  The walk follows one branch down
    until it reaches a revision that another open branch still has to pass through,
    then switches to the first such branch, as Alembic does.

    Alembic decides "another branch still has to pass through it" by recomputing
    whole ancestor sets; here a revision is blocked exactly when one of its
    children in ``todo`` has not been emitted yet, which is the same condition, and
    the branch to switch to is found with a level-bounded search.
    """
    remaining = set(todo)
    pending = dict.fromkeys(remaining, 0)
    for node in remaining:
        for parent in down[node]:
            if parent in pending:
                pending[parent] += 1

    open_heads = sorted(remaining.intersection(starts))
    in_open = set(open_heads)
    output: list[str] = []
    emit = output.append
    index = 0
    while open_heads:
        candidate = open_heads[index]
        if pending[candidate]:
            index = _first_head_above(candidate, open_heads, index, parents, level)
            continue
        emit(candidate)
        remaining.discard(candidate)
        in_open.discard(candidate)
        downs = down[candidate]
        if len(downs) == 1:  # the common case: one parent, no list building
            parent = downs[0]
            if parent in pending:
                pending[parent] -= 1
                if parent in remaining and parent not in in_open:
                    open_heads[index] = parent
                    in_open.add(parent)
                    continue
            del open_heads[index]
            index = max(index - 1, 0)
            continue
        for parent in downs:
            if parent in pending:
                pending[parent] -= 1
        added = [p for p in downs if p in remaining and p not in in_open]
        if not added:
            del open_heads[index]
            index = max(index - 1, 0)
        else:
            open_heads[index] = added[0]
            open_heads.extend(added[1:])
            in_open.update(added)
    if remaining:  # pragma: no cover - the todo sets the planner builds are closed
        raise AssertionError(f"unreachable revisions in walk: {sorted(remaining)}")
    return output


def _first_head_above(
    candidate: str,
    open_heads: Sequence[str],
    index: int,
    parents: Mapping[str, Sequence[str]],
    level: Mapping[str, int],
) -> int:
    for position, head in enumerate(open_heads):
        if position != index and is_ancestor(candidate, head, parents, level):
            return position
    raise AssertionError(  # pragma: no cover - a pending child is always below a head
        f"{candidate} has pending children but no open branch above it"
    )
