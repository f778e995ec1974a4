"""RevisionGraph: validation, shape, labels, dependencies, lookups."""

from __future__ import annotations

import pytest

from amigrate.errors import (
    AmbiguousRevision,
    CycleDetected,
    DuplicateBranchLabel,
    DuplicateRevision,
    HistoryError,
    UnknownReference,
    UnknownRevision,
)
from amigrate.revisions import Revision, RevisionGraph, plan_downgrade, plan_upgrade

from .histories import BRANCHED, DEPENDS, DIAMOND, LABELLED_ROOTS, LINEAR, TWO_ROOTS, graph, rev

# -- shape ---------------------------------------------------------------------------


def test_linear_shape() -> None:
    g = graph(*LINEAR)
    assert len(g) == 4
    assert g.ids == ("a", "b", "c", "d")
    assert [r.revision for r in g] == ["a", "b", "c", "d"]
    assert g.heads == g.effective_heads == ("d",)
    assert g.bases == g.effective_bases == ("a",)
    assert g.branch_points == g.merge_points == ()
    assert g.children("b") == ("c",)
    assert g.parents("c") == ("b",)
    assert g.ancestors("c") == {"a", "b"}
    assert g.descendants("b") == {"c", "d"}
    assert g.is_head("d")
    assert not g.is_head("c")
    assert g.is_base("a")
    assert not g.is_base("b")
    assert g.is_ancestor("a", "d")
    assert not g.is_ancestor("d", "a")
    assert not g.is_ancestor("b", "b")


def test_container_protocol() -> None:
    g = graph(*LINEAR)
    assert g["b"].down_revisions == ("a",)
    assert "b" in g
    assert "zz" not in g
    assert LINEAR[1] in g
    assert rev("b", "zz") not in g
    assert g.get("zz") is None
    with pytest.raises(UnknownRevision, match="'zz'"):
        g["zz"]
    assert "4 revisions" in repr(g)


def test_empty_graph() -> None:
    g = RevisionGraph()
    assert len(g) == 0
    assert g.heads == g.bases == g.ids == ()
    assert g.resolve("head") == g.resolve("heads") == g.resolve("base") == ()


def test_diamond_shape() -> None:
    g = graph(*DIAMOND)
    assert g.heads == ("n",)
    assert g.branch_points == ("a",)
    assert g.merge_points == ("m",)
    assert g.is_branch_point("a")
    assert g.is_merge_point("m")
    assert g.children("a") == ("b1", "c1")
    assert g.parents("m") == ("b2", "c2")
    # Alembic's walk order: the branch named later in the merge is applied first.
    assert g.ids == ("a", "c1", "c2", "b1", "b2", "m", "n")


def test_iteration_order_does_not_depend_on_input_order() -> None:
    for history in (DIAMOND, BRANCHED, LABELLED_ROOTS):
        assert graph(*history).ids == graph(*reversed(history)).ids


def test_iteration_is_topological() -> None:
    for history in (DIAMOND, BRANCHED, LABELLED_ROOTS, DEPENDS, TWO_ROOTS):
        g = graph(*history)
        position = {rid: i for i, rid in enumerate(g.ids)}
        for r in g:
            for parent in g.parents(r.revision, include_dependencies=True):
                assert position[parent] < position[r.revision]


def test_several_roots() -> None:
    g = graph(*TWO_ROOTS)
    assert g.heads == ("a2", "b2")
    assert g.bases == ("a1", "b1")


# -- depends_on ------------------------------------------------------------------------


def test_depends_on_makes_heads_and_effective_heads_differ() -> None:
    g = graph(*DEPENDS)
    assert g.heads == ("b", "y")
    assert g.effective_heads == ("y",)
    assert g.bases == ("a", "x")
    assert g.effective_bases == ("a",)
    assert g.dependencies("x") == ("b",)
    assert g.children("b") == ()
    assert g.children("b", include_dependencies=True) == ("x",)
    assert g.parents("x") == ()
    assert g.parents("x", include_dependencies=True) == ("b",)
    assert g.is_head("b")
    assert not g.is_effective_head("b")
    assert g.ancestors("y") == {"a", "b", "x"}
    assert g.ancestors("y", include_dependencies=False) == {"x"}
    assert g.descendants("a") == {"b", "x", "y"}
    assert g.descendants("a", include_dependencies=False) == {"b"}


def test_depends_on_a_branch_label() -> None:
    g = graph(*LABELLED_ROOTS)
    assert g.dependencies("ac2") == ("n1",)
    assert g.labels == {"accounts": "ac1", "networking": "n1"}
    assert g.effective_heads == ("ac3", "n3")
    assert g.heads == ("ac3", "n3")


# -- branch labels ---------------------------------------------------------------------


def test_labels_apply_to_descendants_not_across_a_fork() -> None:
    g = graph(*BRANCHED)
    assert g.branch_labels_of("x1") == ("xb",)
    assert g.branch_labels_of("x2") == ("xb",)
    assert g.branch_labels_of("y2") == ("yb",)
    # r1 is the fork: Alembic's walk down to ancestors stops there.
    assert g.branch_labels_of("r1") == ()
    assert g.branch_labels_of("base0") == ()


def test_labels_reach_ancestors_down_a_straight_line() -> None:
    g = graph(rev("a"), rev("b", "a"), rev("c", "b", labels="lab"), rev("d", "c"))
    assert [g.branch_labels_of(r) for r in "abcd"] == [("lab",)] * 4


def test_labels_stop_at_a_branch_point_below() -> None:
    g = graph(rev("a"), rev("b", "a"), rev("c", "b", labels="lab"), rev("d", "c"), rev("e", "b"))
    assert [g.branch_labels_of(r) for r in "abcde"] == [(), (), ("lab",), ("lab",), ()]


def test_labels_do_not_reach_ancestors_when_the_labelled_line_forks() -> None:
    g = graph(rev("a"), rev("b", "a", labels="lab"), rev("c", "b"), rev("d", "b"))
    assert [g.branch_labels_of(r) for r in "abcd"] == [(), ("lab",), ("lab",), ("lab",)]


def test_a_dependent_makes_a_branch_point_for_labels() -> None:
    g = graph(rev("a"), rev("b", "a"), rev("c", "b", labels="lab"), rev("z", None, deps="b"))
    assert g.branch_labels_of("b") == ()
    assert g.branch_labels_of("c") == ("lab",)


def test_labels_merge_at_a_merge_point() -> None:
    g = graph(
        rev("a"),
        rev("b", "a", labels="left"),
        rev("c", "a", labels="right"),
        rev("m", ("b", "c")),
    )
    assert g.branch_labels_of("m") == ("left", "right")
    assert g.branch_labels_of("a") == ()


# -- lookups -----------------------------------------------------------------------------


def test_lookup_exact_label_and_prefix() -> None:
    g = graph(rev("abc1"), rev("abd2", "abc1", labels="feat"), rev("xyz9", "abd2"))
    assert g.lookup("abc1") == "abc1"
    assert g.lookup("feat") == "abd2"
    assert g.lookup("x") == "xyz9"
    assert g.lookup("abc") == "abc1"
    with pytest.raises(AmbiguousRevision) as info:
        g.lookup("ab")
    assert info.value.candidates == ("abc1", "abd2")
    assert "abc1, abd2" in str(info.value)
    with pytest.raises(UnknownRevision, match="'q'"):
        g.lookup("q")


def test_lookup_prefix_narrowed_by_branch() -> None:
    g = graph(rev("r0"), rev("aa1", "r0", labels="one"), rev("aa2", "r0", labels="two"))
    with pytest.raises(AmbiguousRevision):
        g.lookup("aa")
    assert g.lookup("aa", branch="two") == "aa2"


def test_sort_and_lineage() -> None:
    g = graph(*BRANCHED)
    # Alembic applies the branch of the first head (by id) last.
    assert g.ids == ("base0", "r1", "y1", "y2", "x1", "x2")
    assert g.sort(["x1", "y2", "base0"]) == ("base0", "y2", "x1")
    with pytest.raises(UnknownRevision):
        g.sort(["nope"])
    assert g.in_lineage("base0", "x2")
    assert g.in_lineage("x2", "r1")
    assert not g.in_lineage("x2", "y1")


def test_large_histories_build_without_recursion() -> None:
    # Speed is measured in bench/, not here; this only checks that nothing recurses
    # per revision or walks the history quadratically in a way that never ends.
    linear = [Revision("r00000")]
    linear += [Revision(f"r{i:05d}", (f"r{i - 1:05d}",)) for i in range(1, 5000)]
    g = RevisionGraph(linear)
    assert g.heads == ("r04999",)
    assert g.resolve("head-4999") == ("r00000",)
    assert len(plan_upgrade(g, (), "head")) == 5000

    branchy: list[Revision] = [Revision("b0000")]
    for i in range(1, 100):
        below = branchy[-1].revision
        left = [Revision(f"l{i:03d}00", (below,))]
        right = [Revision(f"r{i:03d}00", (below,))]
        for j in range(1, 24):
            left.append(Revision(f"l{i:03d}{j:02d}", (left[-1].revision,)))
            right.append(Revision(f"r{i:03d}{j:02d}", (right[-1].revision,)))
        merge = Revision(f"m{i:03d}", (left[-1].revision, right[-1].revision))
        branchy += [*left, *right, merge]
    g = RevisionGraph(branchy)
    up = plan_upgrade(g, (), "head")
    assert len(up) == len(g) > 4700
    assert len(plan_downgrade(g, up.to_heads, "base")) == len(g)


# -- validation --------------------------------------------------------------------------


def test_duplicate_revision_names_both_files() -> None:
    first = rev("a")
    second = Revision.create("a", None, path="versions/other.py")
    with pytest.raises(DuplicateRevision) as info:
        graph(first, second)
    assert info.value.paths == ("versions/a.py", "versions/other.py")
    assert "versions/a.py, versions/other.py" in str(info.value)
    assert info.value.hint


def test_unknown_down_revision() -> None:
    with pytest.raises(UnknownReference) as info:
        graph(rev("a"), rev("b", "zz"))
    err = info.value
    assert (err.revision, err.missing, err.attribute) == ("b", "zz", "down_revision")
    assert err.paths == ("versions/b.py",)
    assert "revision b (versions/b.py) has down_revision 'zz'" in str(err)


def test_unknown_depends_on() -> None:
    with pytest.raises(UnknownReference) as info:
        graph(rev("a"), rev("b", "a", deps="nolabel"))
    assert info.value.attribute == "depends_on"
    assert info.value.missing == "nolabel"


def test_cycle_is_listed_in_order() -> None:
    with pytest.raises(CycleDetected) as info:
        graph(rev("a", "c"), rev("b", "a"), rev("c", "b"))
    err = info.value
    assert err.cycle == ("a", "c", "b", "a")
    assert "a -> c -> b -> a" in str(err)
    assert set(err.paths) == {"versions/a.py", "versions/b.py", "versions/c.py"}


def test_cycle_hanging_off_a_valid_history() -> None:
    with pytest.raises(CycleDetected) as info:
        graph(rev("a"), rev("b", ("a", "d")), rev("c", "b"), rev("d", "c"))
    assert info.value.cycle == ("b", "d", "c", "b")


def test_self_loop() -> None:
    with pytest.raises(CycleDetected) as info:
        graph(rev("a", "a"))
    assert info.value.cycle == ("a", "a")
    assert info.value.hint is not None
    assert "itself" in info.value.hint


def test_cycle_through_depends_on() -> None:
    with pytest.raises(CycleDetected) as info:
        graph(rev("a", deps="b"), rev("b", "a"))
    assert info.value.hint is not None
    assert "depends_on" in info.value.hint


def test_depends_on_own_label_is_a_loop() -> None:
    with pytest.raises(CycleDetected):
        graph(rev("a", labels="mine", deps="mine"))


def test_duplicate_branch_label() -> None:
    with pytest.raises(DuplicateBranchLabel) as info:
        graph(rev("a", labels="x"), rev("b", "a", labels="x"))
    assert info.value.label == "x"
    assert info.value.revisions == ("a", "b")
    assert info.value.paths == ("versions/a.py", "versions/b.py")


def test_label_that_is_a_revision_id() -> None:
    with pytest.raises(HistoryError, match="branch label 'a'.*id of revision a"):
        graph(rev("a"), rev("b", "a", labels="a"))


@pytest.mark.parametrize("bad", ["a-b", "a+b", "a@b", "a:b", "a b", "head", "base"])
def test_bad_revision_ids(bad: str) -> None:
    with pytest.raises(HistoryError) as info:
        graph(rev(bad))
    assert info.value.paths == (f"versions/{bad}.py",)


@pytest.mark.parametrize("bad", ["x@y", "a:b", "c++", "heads", "two words"])
def test_bad_branch_labels(bad: str) -> None:
    with pytest.raises(HistoryError, match="branch label"):
        graph(rev("a", labels=bad))


def test_down_revision_listed_twice() -> None:
    with pytest.raises(HistoryError, match="twice"):
        graph(rev("a"), rev("b", ("a", "a")))


def test_duplicate_depends_on_is_harmless() -> None:
    g = graph(rev("a"), rev("b", "a", deps=("a", "a")))
    assert g.dependencies("b") == ("a",)
    assert g.parents("b", include_dependencies=True) == ("a",)
