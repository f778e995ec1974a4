"""plan_upgrade / plan_downgrade on literal histories: steps, version rows, errors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from amigrate.errors import InvalidTarget, ResolutionError, UnknownRevision
from amigrate.revisions import (
    Plan,
    RevisionGraph,
    VersionChange,
    apply_changes,
    plan_downgrade,
    plan_upgrade,
)

from .histories import BRANCHED, DEPENDS, DIAMOND, LINEAR, OPEN_FORK, graph, rev

linear = graph(*LINEAR)
diamond = graph(*DIAMOND)
branched = graph(*BRANCHED)
depends = graph(*DEPENDS)


def writes(plan: Plan) -> list[str]:
    return [f"{s.direction} {s.revision}: {s.change}" for s in plan.steps]


def check(plan: Plan) -> None:
    assert apply_changes(plan.from_heads, plan.steps) == plan.to_heads


def test_upgrade_linear_from_base() -> None:
    plan = plan_upgrade(linear, (), "head")
    check(plan)
    assert writes(plan) == [
        "up a: insert a",
        "up b: update a -> b",
        "up c: update b -> c",
        "up d: update c -> d",
    ]
    assert (plan.direction, plan.from_heads, plan.to_heads) == ("up", (), ("d",))
    assert plan.revisions == ("a", "b", "c", "d")
    assert len(plan) == 4
    first = plan.steps[0]
    assert (first.from_revisions, first.to_revisions, first.is_stamp) == ((), ("a",), False)
    assert str(first) == "upgrade base -> a (insert a)"


@pytest.mark.parametrize(
    ("current", "target", "revisions"),
    [
        (("b",), "+1", ("c",)),
        (("b",), "+2", ("c", "d")),
        (("b",), "c", ("c",)),
        (("b",), "d-1", ("c",)),
        (("b",), "a", ()),
        (("d",), "head", ()),
        ((), "base", ()),
        ((), "+1", ("a",)),
        (("b", "b"), "heads", ("c", "d")),
    ],
)
def test_upgrade_linear(current: Sequence[str], target: str, revisions: tuple[str, ...]) -> None:
    plan = plan_upgrade(linear, current, target)
    check(plan)
    assert plan.revisions == revisions


def test_downgrade_linear() -> None:
    plan = plan_downgrade(linear, ["d"], "b")
    check(plan)
    assert writes(plan) == ["down d: update d -> c", "down c: update c -> b"]
    assert plan.to_heads == ("b",)
    assert plan.steps[0].from_revisions == ("d",)
    assert plan.steps[0].to_revisions == ("c",)
    assert str(plan.steps[0]) == "downgrade d -> c (update d -> c)"

    to_base = plan_downgrade(linear, ["d"], "base")
    assert to_base.revisions == ("d", "c", "b", "a")
    assert to_base.steps[-1].change == VersionChange("delete", ("a",), ())
    assert to_base.to_heads == ()
    assert plan_downgrade(linear, ["d"], "-2").revisions == ("d", "c")
    assert plan_downgrade(linear, ["d"], "d").revisions == ()
    assert plan_downgrade(linear, (), "base").revisions == ()


def test_upgrade_diamond_merges_in_declared_order() -> None:
    plan = plan_upgrade(diamond, (), "heads")
    check(plan)
    assert writes(plan) == [
        "up a: insert a",
        "up c1: update a -> c1",
        "up c2: update c1 -> c2",
        "up b1: insert b1",
        "up b2: update b1 -> b2",
        "up m: delete b2; update c2 -> m",
        "up n: update m -> n",
    ]
    merge = plan.steps[5]
    assert merge.change.kind == "merge"
    assert (merge.from_revisions, merge.to_revisions) == (("b2", "c2"), ("m",))


def test_downgrade_diamond_unmerges() -> None:
    plan = plan_downgrade(diamond, ["n"], "base")
    check(plan)
    assert writes(plan) == [
        "down n: update n -> m",
        "down m: insert b2; update m -> c2",
        "down b2: update b2 -> b1",
        "down b1: delete b1",
        "down c2: update c2 -> c1",
        "down c1: update c1 -> a",
        "down a: delete a",
    ]
    assert plan.steps[1].change.kind == "unmerge"
    partial = plan_downgrade(diamond, ["n"], "b1")
    assert partial.revisions == ("n", "m", "b2")
    assert partial.to_heads == ("b1", "c2")


def test_branches_with_labels() -> None:
    up = plan_upgrade(branched, (), "xb@head")
    assert up.revisions == ("base0", "r1", "x1", "x2")
    other = plan_upgrade(branched, up.to_heads, "heads")
    assert writes(other) == ["up y1: insert y1", "up y2: update y1 -> y2"]
    assert other.to_heads == ("x2", "y2")

    down = plan_downgrade(branched, ["x2", "y2"], "xb@r1")
    check(down)
    assert down.revisions == ("x2", "x1")
    # r1 needs no row of its own: y2 stands on it.
    assert writes(down)[-1] == "down x1: delete x1"
    assert down.to_heads == ("y2",)

    one = plan_downgrade(branched, ["x2", "y2"], "xb@-1")
    assert one.revisions == ("x2",)
    assert one.to_heads == ("x1", "y2")


def test_label_base_downgrades_the_whole_shared_base() -> None:
    # As in Alembic: the branch shares base0 with yb, so xb@base removes both.
    plan = plan_downgrade(branched, ["x2", "y2"], "xb@base")
    assert set(plan.revisions) == {"x2", "x1", "y2", "y1", "r1", "base0"}
    assert plan.to_heads == ()


def test_label_base_of_an_independent_root_keeps_the_other_root() -> None:
    two = graph(*LINEAR[:2], *(r for r in DEPENDS if r.revision in ("x", "y")))
    # x depends on b, which is on the other root; only y and x go.
    plan = plan_downgrade(two, ["y"], "x@base")
    assert plan.revisions == ("y", "x")
    assert plan.to_heads == ("b",)


def test_depends_on_upgrade_and_downgrade() -> None:
    up = plan_upgrade(depends, (), "y")
    check(up)
    assert writes(up) == [
        "up a: insert a",
        "up b: update a -> b",
        "up x: update b -> x",
        "up y: update x -> y",
    ]
    assert up.steps[2].from_revisions == ()  # depends_on is not logged as a parent
    down = plan_downgrade(depends, ["y"], "a")
    assert writes(down) == [
        "down y: update y -> x",
        "down x: update x -> b",
        "down b: update b -> a",
    ]
    assert plan_upgrade(depends, (), "b").to_heads == ("b",)
    assert plan_upgrade(depends, ["b"], "heads").revisions == ("x", "y")


def test_downgrade_of_a_merge_restores_both_parents() -> None:
    g = graph(*OPEN_FORK)
    plan = plan_upgrade(g, (), "heads")
    check(plan)
    assert plan.to_heads == ("e", "m")
    down = plan_downgrade(g, plan.to_heads, "c")
    check(down)
    # Only m is above c; d stays applied, so it gets its row back.
    assert writes(down) == ["down m: insert c; update m -> d"]
    assert down.to_heads == ("c", "d", "e")


def test_upgrade_refuses_minus_n() -> None:
    with pytest.raises(InvalidTarget, match="would move down") as info:
        plan_upgrade(linear, ["c"], "-1")
    assert info.value.hint is not None
    assert "downgrade -1" in info.value.hint


def test_downgrade_refuses_plus_n() -> None:
    with pytest.raises(InvalidTarget, match="would move up") as info:
        plan_downgrade(linear, ["b"], "+1")
    assert info.value.hint is not None
    assert "upgrade +1" in info.value.hint


def test_downgrade_to_a_revision_above_the_heads() -> None:
    with pytest.raises(ResolutionError, match="c: it is not below the current heads"):
        plan_downgrade(linear, ["b"], "c")


def test_downgrade_to_several_revisions() -> None:
    with pytest.raises(ResolutionError, match="names 2 revisions"):
        plan_downgrade(branched, ["x2", "y2"], "heads")


def test_unknown_current_head_suggests_purge() -> None:
    for plan in (plan_upgrade, plan_downgrade):
        with pytest.raises(UnknownRevision) as info:
            plan(linear, ["zz"], "head")
        assert "'zz'" in str(info.value)
        assert info.value.hint is not None
        assert "stamp --purge" in info.value.hint


def test_inconsistent_current_heads() -> None:
    with pytest.raises(ResolutionError, match="inconsistent: a is below") as info:
        plan_upgrade(linear, ["a", "c"], "head")
    assert info.value.hint is not None
    assert "stamp --purge" in info.value.hint


def test_overlapping_targets_are_reduced_to_the_topmost() -> None:
    # r@heads names h1 and h2, and h2 depends on h1.  Alembic refuses ("overlaps");
    # h1 is implied by h2, so the plan simply goes to h2.
    g = graph(rev("r"), rev("h1", "r"), rev("p", "r"), rev("h2", "p", deps="h1"))
    assert g.resolve("r@heads") == ("h1", "h2")
    plan = plan_upgrade(g, (), "r@heads")
    check(plan)
    assert set(plan.revisions) == {"r", "h1", "p", "h2"}
    assert plan.to_heads == ("h2",)


def test_plans_are_the_same_for_any_input_order() -> None:
    for history in (DIAMOND, BRANCHED, OPEN_FORK):
        a, b = RevisionGraph(history), RevisionGraph(reversed(history))
        assert plan_upgrade(a, (), "heads") == plan_upgrade(b, (), "heads")
        top = plan_upgrade(a, (), "heads").to_heads
        assert plan_downgrade(a, top, "base") == plan_downgrade(b, top, "base")


def test_downgrade_never_writes_a_row_below_another() -> None:
    # r3's parent r0 is below its dependency r1.  Undoing r3 while r5 stays up,
    # Alembic writes rows r0, r1 and r5: r0 below r1.  Only r1 and r5 stand.
    g = graph(
        rev("r0"),
        rev("r1", deps="r0"),
        rev("r3", "r0", deps="r1"),
        rev("r5"),
    )
    plan = plan_downgrade(g, ["r3", "r5"], "r0")
    check(plan)
    assert writes(plan) == ["down r3: update r3 -> r1"]
    assert plan.to_heads == ("r1", "r5")


def test_merge_that_names_a_revision_and_its_descendant() -> None:
    # Alembic fails with a bare KeyError: it deletes row a, which b replaced.
    g = graph(rev("a"), rev("b", "a"), rev("c"), rev("m", ("a", "b", "c")))
    plan = plan_upgrade(g, (), "heads")
    check(plan)
    assert writes(plan) == [
        "up c: insert c",
        "up a: insert a",
        "up b: update a -> b",
        "up m: delete b; update c -> m",
    ]
    down = plan_downgrade(g, plan.to_heads, "base")
    check(down)
    assert writes(down)[0] == "down m: insert b; update m -> c"


def test_downgrade_to_a_revision_applied_through_depends_on_is_nothing_to_do() -> None:
    """z1 is applied (w1 depends on it) and nothing above it by down_revision is: there is
    nothing to undo (it said z1 was not below the current heads)."""
    g = graph(rev("z1"), rev("w1", deps="z1"), rev("w2", "w1"))
    plan = plan_downgrade(g, ["w2"], "z1")
    assert plan.steps == ()
    assert plan.to_heads == ("w2",)


def test_the_other_direction_hint_keeps_the_branch() -> None:
    b = graph(*BRANCHED)
    with pytest.raises(InvalidTarget) as info:
        plan_upgrade(b, ["x2", "y2"], "xb@-1")
    assert info.value.hint == "use 'downgrade xb@-1' to go down, or 'xb@+1' to go up"
    with pytest.raises(InvalidTarget) as info:
        plan_downgrade(b, ["x2", "y2"], "xb@+1")
    assert info.value.hint == "use 'upgrade xb@+1' to go up, or 'xb@-1' to go down"
