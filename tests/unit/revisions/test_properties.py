"""Properties of plans on random histories: order, version rows, round trips, determinism."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from amigrate.errors import AmigrateError
from amigrate.revisions import (
    Plan,
    RevisionGraph,
    VersionTable,
    apply_changes,
    plan_downgrade,
    plan_stamp,
    plan_upgrade,
)

from .strategies import histories, reachable_states

SETTINGS = settings(max_examples=200, deadline=None, database=None)


def applied(graph: RevisionGraph, heads: Iterable[str]) -> set[str]:
    """Every revision a set of version rows stands for."""
    out: set[str] = set()
    for head in heads:
        out |= graph.ancestors(head) | {head}
    return out


def check_plan(graph: RevisionGraph, plan: Plan) -> None:
    """Parents before children (or the reverse), and after every step the version
    rows stand for exactly the revisions applied so far, none below another."""
    running = applied(graph, plan.from_heads)
    table = VersionTable(plan.from_heads)
    for step in plan.steps:
        rid = step.revision
        if plan.direction == "up":
            assert rid not in running
            assert set(graph.parents(rid, include_dependencies=True)) <= running
            running.add(rid)
        else:
            assert rid in running
            assert not graph.descendants(rid) & running
            running.remove(rid)
        table.apply(step.change)
        assert applied(graph, table.rows) == running, step
        for row in table.rows:
            assert not graph.descendants(row) & set(table.rows)
    assert table.rows == plan.to_heads == apply_changes(plan.from_heads, plan.steps)
    assert len(set(plan.revisions)) == len(plan.revisions)


def graph_below(graph: RevisionGraph, rows: Iterable[str], row: str) -> bool:
    """True when ``row`` is below another of ``rows``."""
    return any(graph.is_ancestor(row, other) for other in rows)


@SETTINGS
@given(data=st.data())
def test_upgrade_then_downgrade_returns_to_the_start(data: st.DataObject) -> None:
    g = RevisionGraph(data.draw(histories()))
    start_at = data.draw(st.sampled_from(g.ids))
    start = plan_upgrade(g, (), start_at)
    check_plan(g, start)
    assert start.to_heads == (start_at,)

    # Targets whose missing revisions all sit above the start: downgrading to the
    # start then removes exactly what the upgrade added.
    above = g.descendants(start_at, include_dependencies=False)
    have = applied(g, start.to_heads)
    targets = [t for t in g.ids if applied(g, [t]) - have <= above]
    target = data.draw(st.sampled_from(targets))
    up = plan_upgrade(g, start.to_heads, target)
    check_plan(g, up)
    down = plan_downgrade(g, up.to_heads, start_at)
    check_plan(g, down)
    assert down.to_heads == start.to_heads
    assert sorted(down.revisions) == sorted(up.revisions)

    to_base = plan_downgrade(g, up.to_heads, "base")
    check_plan(g, to_base)
    assert to_base.to_heads == ()
    assert set(to_base.revisions) == applied(g, up.to_heads)


@SETTINGS
@given(data=st.data())
def test_any_plan_is_valid_or_a_clear_error(data: st.DataObject) -> None:
    g = RevisionGraph(data.draw(histories()))
    states = reachable_states(g, data.draw(st.lists(st.sampled_from(g.ids), max_size=4)))
    current = data.draw(st.sampled_from(states))
    labels = [f"{label}@head" for label in g.labels] + [f"{label}@base" for label in g.labels]
    target = data.draw(
        st.sampled_from([*g.ids, "heads", "head", "base", "+1", "-1", "+2", *labels])
    )
    for plan in (plan_upgrade, plan_downgrade):
        try:
            result = plan(g, current, target)
        except AmigrateError:
            continue
        check_plan(g, result)
    for purge in (False, True):
        try:
            stamped = plan_stamp(g, current, target, purge=purge)
        except AmigrateError:
            continue
        start = () if purge else stamped.from_heads
        assert apply_changes(start, stamped.steps) == stamped.to_heads
        assert not any(graph_below(g, stamped.to_heads, row) for row in stamped.to_heads)
    # Alembic can lose heads here when the database has several (see test_stamp.py).
    assert plan_stamp(g, current, "heads").to_heads == g.effective_heads


@SETTINGS
@given(data=st.data())
def test_plans_do_not_depend_on_input_order(data: st.DataObject) -> None:
    revisions = data.draw(histories())
    shuffled = data.draw(st.permutations(revisions))
    a, b = RevisionGraph(revisions), RevisionGraph(shuffled)
    assert a.ids == b.ids
    assert a.heads == b.heads
    for rid in a.ids:
        assert a.branch_labels_of(rid) == b.branch_labels_of(rid)
    up = plan_upgrade(a, (), "heads")
    assert up == plan_upgrade(b, (), "heads")
    assert plan_downgrade(a, up.to_heads, "base") == plan_downgrade(b, up.to_heads, "base")
    # and upgrading everything applies every revision, in the graph's own order
    assert up.revisions == a.ids


@SETTINGS
@given(data=st.data())
def test_fully_applied_exactly_when_upgrade_heads_has_nothing_to_do(data: st.DataObject) -> None:
    """``current --check-heads`` and autogenerate's "at head" check: a database is at
    the heads when ``upgrade heads`` would do nothing — also where a head that another
    revision depends on has no row of its own."""
    graph = RevisionGraph(data.draw(histories()))
    targets = data.draw(st.lists(st.sampled_from(graph.ids), max_size=4))
    for state in [*reachable_states(graph, targets), plan_upgrade(graph, (), "heads").to_heads]:
        nothing_to_do = not plan_upgrade(graph, state, "heads").steps
        assert graph.is_fully_applied(state) == nothing_to_do, state
    assert not graph.is_fully_applied(("no-such-revision",))
