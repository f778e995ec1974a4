"""Literal histories shared by the revision tests (no files, no database)."""

from __future__ import annotations

from collections.abc import Sequence

from amigrate.revisions import Revision, RevisionGraph


def rev(
    revision: str,
    down: str | Sequence[str] | None = None,
    *,
    labels: str | Sequence[str] | None = None,
    deps: str | Sequence[str] | None = None,
) -> Revision:
    """A revision with its path set to ``<id>.py`` so messages can name it."""
    return Revision.create(revision, down, labels, deps, path=f"versions/{revision}.py")


def graph(*revisions: Revision) -> RevisionGraph:
    return RevisionGraph(revisions)


# a -> b -> c -> d
LINEAR = (rev("a"), rev("b", "a"), rev("c", "b"), rev("d", "c"))

# two independent roots: a1 -> a2 and b1 -> b2
TWO_ROOTS = (rev("a1"), rev("a2", "a1"), rev("b1"), rev("b2", "b1"))

# base -> r1, which forks into x1 -> x2 (label "xb") and y1 -> y2 (label "yb")
BRANCHED = (
    rev("base0"),
    rev("r1", "base0"),
    rev("x1", "r1", labels="xb"),
    rev("x2", "x1"),
    rev("y1", "r1", labels="yb"),
    rev("y2", "y1"),
)

# a forks into b1 -> b2 and c1 -> c2, merged by m, then n
DIAMOND = (
    rev("a"),
    rev("b1", "a"),
    rev("b2", "b1"),
    rev("c1", "a"),
    rev("c2", "c1"),
    rev("m", ("b2", "c2")),
    rev("n", "m"),
)

# a -> b; x is a second base that depends on b; y follows x
DEPENDS = (rev("a"), rev("b", "a"), rev("x", None, deps="b"), rev("y", "x"))

# Alembic's "multiple bases" tutorial: networking and accounts lines with labels;
# the second accounts revision depends on the networking line by label.
LABELLED_ROOTS = (
    rev("n1", labels="networking"),
    rev("n2", "n1"),
    rev("n3", "n2"),
    rev("ac1", labels="accounts"),
    rev("ac2", "ac1", deps="networking"),
    rev("ac3", "ac2"),
)

# a fork where one side is merged and the other stays open:
# a -> b -> (c -> m), (d -> m), (e)
OPEN_FORK = (
    rev("a"),
    rev("b", "a"),
    rev("c", "b"),
    rev("d", "b"),
    rev("e", "b"),
    rev("m", ("c", "d")),
)

# a merge whose parents sit on two independent roots, with a dependency above
ROOT_MERGE = (
    rev("p1"),
    rev("p2", "p1"),
    rev("q1"),
    rev("q2", "q1"),
    rev("mm", ("p2", "q2")),
    rev("z1", "mm"),
    rev("w1", "q1", deps="p1"),
)

ALL: dict[str, tuple[Revision, ...]] = {
    "linear": LINEAR,
    "two_roots": TWO_ROOTS,
    "branched": BRANCHED,
    "diamond": DIAMOND,
    "depends": DEPENDS,
    "labelled_roots": LABELLED_ROOTS,
    "open_fork": OPEN_FORK,
    "root_merge": ROOT_MERGE,
}
