"""Hypothesis strategies: random revision histories (DAGs) and reachable database states."""

from __future__ import annotations

from hypothesis import strategies as st

from amigrate.errors import AmigrateError
from amigrate.revisions import Revision, RevisionGraph, plan_upgrade


@st.composite
def histories(
    draw: st.DrawFn,
    *,
    max_size: int = 10,
    redundant_merges: bool = True,
    labels: bool = True,
) -> list[Revision]:
    """A valid history: each revision picks parents and at most one dependency among
    the revisions before it.  Ids start with a random letter so that id order and
    topological order disagree.  ``redundant_merges=False`` keeps the parents and
    the dependency of a revision unrelated to each other: Alembic fails with a
    KeyError on a merge of ``a`` and a descendant of ``a``, and can write a version
    row below another one when a dependency sits below a parent, so parity tests
    leave both out.
    """
    size = draw(st.integers(1, max_size))
    revisions: list[Revision] = []
    ids: list[str] = []
    below: dict[str, set[str]] = {}
    for index in range(size):
        rid = draw(st.sampled_from("abcdef")) + f"{index:02d}"
        count = min(draw(st.sampled_from([0, 1, 1, 1, 1, 2, 2, 3])), len(ids))
        parents = draw(
            st.lists(st.sampled_from(ids), min_size=count, max_size=count, unique=True)
            if ids and count
            else st.just([])
        )
        if not redundant_merges:
            parents = [p for p in parents if not any(p in below[q] for q in parents)]
        others = [i for i in ids if i not in parents]
        if not redundant_merges:
            others = [i for i in others if not any(i in below[p] or p in below[i] for p in parents)]
        deps = draw(st.sampled_from(others)) if others and draw(st.integers(0, 4)) == 0 else None
        label = f"L{index}" if labels and draw(st.integers(0, 6)) == 0 else None
        below[rid] = set(parents).union(*(below[p] for p in parents))
        if deps:
            below[rid] |= {deps} | below[deps]
        revisions.append(Revision.create(rid, parents, label, deps))
        ids.append(rid)
    return revisions


def reachable_states(graph: RevisionGraph, targets: list[str]) -> list[tuple[str, ...]]:
    """Version-table states reached by upgrading from base to each target (and on)."""
    states: list[tuple[str, ...]] = [()]
    for target in targets:
        try:
            heads = plan_upgrade(graph, states[-1], target).to_heads
        except AmigrateError:
            continue
        if heads not in states:
            states.append(heads)
    return states
