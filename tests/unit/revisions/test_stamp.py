"""plan_stamp: version-table rewrites without running migrations."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from amigrate.errors import ResolutionError, UnknownRevision
from amigrate.revisions import Plan, Target, apply_changes, plan_stamp

from .histories import BRANCHED, DIAMOND, LINEAR, graph, rev

linear = graph(*LINEAR)
branched = graph(*BRANCHED)
diamond = graph(*DIAMOND)


def writes(plan: Plan) -> list[str]:
    return [f"{s.direction} {s.revision}: {s.change}" for s in plan.steps]


@pytest.mark.parametrize(
    ("current", "target", "expected", "heads"),
    [
        ((), "c", ["up c: insert c"], ("c",)),
        (("a",), "c", ["up c: update a -> c"], ("c",)),
        (("d",), "b", ["down b: update d -> b"], ("b",)),
        (("d",), "base", ["down d: delete d"], ()),
        (("c",), "c", [], ("c",)),
        ((), "heads", ["up d: insert d"], ("d",)),
        (("b",), "+1", ["up c: update b -> c"], ("c",)),
    ],
)
def test_stamp_linear(
    current: Sequence[str], target: str, expected: list[str], heads: tuple[str, ...]
) -> None:
    plan = plan_stamp(linear, current, target)
    assert writes(plan) == expected
    assert plan.to_heads == heads
    assert plan.direction == "stamp"
    assert all(step.is_stamp for step in plan.steps)
    assert apply_changes(plan.from_heads, plan.steps) == heads


def test_stamp_nothing_means_base() -> None:
    assert plan_stamp(linear, ["d"], []).to_heads == ()


def test_stamp_step_ends() -> None:
    plan = plan_stamp(branched, ["x2", "y2"], "r1")
    (step,) = plan.steps
    assert (step.from_revisions, step.to_revisions) == (("x2", "y2"), ("r1",))
    assert step.change.kind == "merge"
    assert str(step) == "stamp x2, y2 -> r1 (delete x2; update y2 -> r1)"
    assert plan.to_heads == ("r1",)


def test_stamp_one_branch_leaves_the_other() -> None:
    plan = plan_stamp(branched, ["x1", "y1"], "x2")
    assert writes(plan) == ["up x2: update x1 -> x2"]
    assert plan.to_heads == ("x2", "y1")


def test_stamp_several_targets_each_take_their_own_heads() -> None:
    plan = plan_stamp(branched, ["x1", "y1"], ["x2", "y2"])
    assert writes(plan) == ["up x2: update x1 -> x2", "up y2: update y1 -> y2"]
    # Alembic hands both heads to x2 (delete x1, update y1 -> x2), then inserts y2.
    assert plan.to_heads == ("x2", "y2")


def test_stamp_keeps_a_target_that_is_already_a_head() -> None:
    # Alembic deletes x1 here: it merges every head in any target's lineage.
    plan = plan_stamp(branched, ["x1", "y1"], ["x1", "y2"])
    assert writes(plan) == ["up y2: update y1 -> y2"]
    assert plan.to_heads == ("x1", "y2")


def test_stamp_heads_gives_the_heads() -> None:
    plan = plan_stamp(branched, ["x1", "y1"], "heads")
    assert plan.to_heads == branched.effective_heads


def test_stamp_both_sides_of_a_merge() -> None:
    # Alembic fails with a KeyError: both destinations try to move row n.
    plan = plan_stamp(diamond, ["n"], ["b1", "c1"])
    assert writes(plan) == ["down b1: update n -> b1", "up c1: insert c1"]
    assert plan.to_heads == ("b1", "c1")


def test_label_base_clears_only_that_branch() -> None:
    plan = plan_stamp(branched, ["x2", "y2"], "xb@base")
    assert writes(plan) == ["down x2: delete x2"]
    assert plan.to_heads == ("y2",)


def test_purge_starts_from_an_empty_table() -> None:
    plan = plan_stamp(linear, ["zz", "d"], Target("revision", "c"), purge=True)
    assert plan.purge
    assert plan.from_heads == ("d", "zz")
    assert writes(plan) == ["up c: insert c"]
    assert apply_changes((), plan.steps) == plan.to_heads == ("c",)


def test_unknown_row_without_purge() -> None:
    with pytest.raises(UnknownRevision) as info:
        plan_stamp(linear, ["zz"], "c")
    assert info.value.hint is not None
    assert "--purge" in info.value.hint


def test_overlapping_targets() -> None:
    with pytest.raises(ResolutionError, match="x1 is below x2") as info:
        plan_stamp(branched, (), ["x1", "x2"])
    assert info.value.hint is not None
    assert "stamp x2 alone" in info.value.hint


def test_base_with_other_targets() -> None:
    with pytest.raises(ResolutionError, match="'base' cannot be combined") as info:
        plan_stamp(branched, ["x1"], ["base", "x2"])
    assert info.value.hint is not None
    assert "--purge" in info.value.hint


def test_duplicate_targets_are_stamped_once() -> None:
    plan = plan_stamp(linear, (), ["c", "c"])
    assert writes(plan) == ["up c: insert c"]


def test_stamp_of_a_revision_applied_through_depends_on_changes_nothing() -> None:
    """z1 is applied because w1 depends on it: stamping z1 writes nothing (it replaced w2's
    row with z1, recording w1 and w2 as never applied)."""
    g = graph(rev("z1"), rev("w1", deps="z1"), rev("w2", "w1"))
    plan = plan_stamp(g, ["w2"], "z1")
    assert plan.steps == ()
    assert plan.to_heads == ("w2",)
    # Below a head by down_revision it is still a stamp downwards.
    assert plan_stamp(g, ["w2"], "w1").to_heads == ("w1",)
